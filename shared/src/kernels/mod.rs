//! The networks' heavy layers: convolutions, BatchNorm and LeakyReLU. With the `cpu-kernels`
//! feature (the trainer's native build), f32 tensors on Burn's flex CPU backend take facegan's
//! kernels (`flex.rs` registers them, forward and backward, through Burn's backend-extension
//! mechanism); every other device, dtype or layer option takes Burn's own. The modules, their
//! records and the weight files are Burn's either way: only the arithmetic's path differs.

#[cfg(feature = "cpu-kernels")]
mod activation;
#[cfg(feature = "cpu-kernels")]
mod batch_norm;
#[cfg(feature = "cpu-kernels")]
mod flex;
#[cfg(feature = "cpu-kernels")]
mod gemm;
#[cfg(feature = "cpu-kernels")]
pub mod patches;
#[cfg(feature = "cpu-kernels")]
mod products;

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;

#[cfg(feature = "cpu-kernels")]
static FAST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns facegan's flex kernels on or off for the whole process (on by default where built),
/// so benchmarks and tests can run Burn's own beside them.
#[cfg(feature = "cpu-kernels")]
pub fn use_fast_kernels(on: bool) {
    FAST.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Whether f32 flex tensors take facegan's kernels.
#[cfg(feature = "cpu-kernels")]
pub fn fast_kernels() -> bool {
    FAST.load(std::sync::atomic::Ordering::SeqCst)
}

/// Without the `cpu-kernels` feature every layer is Burn's.
#[cfg(not(feature = "cpu-kernels"))]
pub fn fast_kernels() -> bool {
    false
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let Some(spec) = flex::conv2d_spec(conv, &x) {
        return flex::conv2d_tensor(x, conv.weight.val(), spec);
    }
    conv.forward(x)
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let Some(spec) = flex::conv_transpose2d_spec(conv, &x) {
        return flex::conv_transpose2d_tensor(x, conv.weight.val(), spec);
    }
    conv.forward(x)
}

/// `leaky_relu(x, slope)`: one pass forward and one backward on flex (Burn's autodiff composes
/// it from three tensor ops).
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        return flex::leaky_relu_tensor(x, slope as f32);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}

/// `norm.forward(x)`: on flex, facegan's one-pass kernels with Burn's semantics, in training
/// (an autodiff device, the layer's training flag on) and in inference without autodiff;
/// anywhere else Burn's own.
pub fn batch_norm(norm: &burn::nn::BatchNorm, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        match (x.device().is_autodiff(), norm.training.is_enabled()) {
            (true, true) => return flex::batch_norm_train(norm, x),
            (false, _) => return flex::batch_norm_inference(norm, x),
            // Running statistics with autodiff: Burn's (the fused backward assumes batch ones).
            (true, false) => {}
        }
    }
    norm.forward(x)
}
