//! The networks' convolutions. With the `fast-conv` feature (the trainer's native build), f32
//! tensors on Burn's flex CPU backend take facegan's whole-batch kernels (`flex.rs`, forward and
//! backward); every other device, dtype or convolution option takes Burn's own. The modules,
//! their records and the weight files are Burn's either way: only the arithmetic's path differs.

#[cfg(feature = "fast-conv")]
mod activation;
#[cfg(feature = "fast-conv")]
mod flex;
#[cfg(feature = "fast-conv")]
mod gemm;
#[cfg(feature = "fast-conv")]
pub mod patches;
#[cfg(feature = "fast-conv")]
mod products;

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;

#[cfg(feature = "fast-conv")]
static FAST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns facegan's flex convolutions on or off for the whole process (on by default where
/// built), so benchmarks and tests can run Burn's own beside them.
#[cfg(feature = "fast-conv")]
pub fn use_fast_convolutions(on: bool) {
    FAST.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Whether convolutions of f32 flex tensors take facegan's kernels.
#[cfg(feature = "fast-conv")]
pub fn fast_convolutions() -> bool {
    FAST.load(std::sync::atomic::Ordering::SeqCst)
}

/// Without the `fast-conv` feature every convolution is Burn's.
#[cfg(not(feature = "fast-conv"))]
pub fn fast_convolutions() -> bool {
    false
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "fast-conv")]
    if let Some(spec) = flex::conv2d_spec(conv, &x) {
        return flex::conv2d_tensor(x, conv.weight.val(), spec);
    }
    conv.forward(x)
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "fast-conv")]
    if let Some(spec) = flex::conv_transpose2d_spec(conv, &x) {
        return flex::conv_transpose2d_tensor(x, conv.weight.val(), spec);
    }
    conv.forward(x)
}

/// `leaky_relu(x, slope)`: one pass forward and one backward on flex (Burn's autodiff composes
/// it from three tensor ops).
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    #[cfg(feature = "fast-conv")]
    if flex::on_flex_any(&x) {
        return flex::leaky_relu_tensor(x, slope as f32);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}
