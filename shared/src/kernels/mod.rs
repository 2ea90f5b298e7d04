//! The networks' heavy layers: convolutions, BatchNorm, LeakyReLU and the 2x resolution
//! changes. With the `cpu-kernels`
//! feature (the trainer's native build), f32 tensors on Burn's flex CPU backend take facegan's
//! kernels (`flex.rs` registers them, forward and backward, through Burn's backend-extension
//! mechanism); every other device, dtype or layer option takes Burn's own, or, when
//! [`use_matmul_convolutions`] turns them on (for GPUs), the convolutions of `matmul_conv.rs`:
//! Burn tensor operations around matrix products. The modules, their
//! records and the weight files are Burn's either way: only the arithmetic's path differs.

#[cfg(feature = "cpu-kernels")]
mod activation;
#[cfg(feature = "cpu-kernels")]
mod batch_norm;
#[cfg(feature = "cpu-kernels")]
mod buffer;
#[cfg(feature = "cpu-kernels")]
mod flex;
#[cfg(feature = "cpu-kernels")]
mod gemm;
pub mod matmul_conv;
#[cfg(feature = "cpu-kernels")]
pub mod patches;
#[cfg(feature = "cpu-kernels")]
mod products;
#[cfg(feature = "cpu-kernels")]
mod resample;
#[cfg(feature = "cpu-kernels")]
mod stride_one;
#[cfg(feature = "cpu-kernels")]
mod winograd;

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

#[cfg(feature = "cpu-kernels")]
static WINOGRAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the Winograd path of the 3x3 convolutions (`winograd.rs`) on or off (on by default),
/// so the `winograd_layers` example can time it against the shifted products in one process.
#[cfg(feature = "cpu-kernels")]
pub fn use_winograd(on: bool) {
    WINOGRAD.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Whether the 3x3 convolutions may take the Winograd path.
#[cfg(feature = "cpu-kernels")]
fn winograd_allowed() -> bool {
    WINOGRAD.load(std::sync::atomic::Ordering::Relaxed)
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

static MATMUL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the matrix-product convolutions (`matmul_conv.rs`) on or off for the whole process:
/// off by default, they take every convolution that facegan's CPU kernels do not (a GPU's).
/// Whether they beat Burn's on a GPU is for `facegan bench --backend wgpu` to show.
pub fn use_matmul_convolutions(on: bool) {
    MATMUL.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Whether the matrix-product convolutions are on.
pub fn matmul_convolutions() -> bool {
    MATMUL.load(std::sync::atomic::Ordering::SeqCst)
}

/// Whether a convolution of `x` takes the matrix-product form: on, and not taken by facegan's
/// CPU kernels.
fn takes_matmul(x: &Tensor<4>) -> bool {
    matmul_convolutions() && !takes_fast_kernels(x)
}

/// The padding of `conv` when it is the same on both sides of each axis (facegan's kernels and
/// the matrix-product form take no other).
fn even_padding(conv: &Conv2d) -> Option<[usize; 2]> {
    use burn::nn::PaddingConfig2d;
    match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some([top, left])
        }
        PaddingConfig2d::Same => None,
    }
}

/// Whether `x` takes facegan's CPU kernels: an f32 tensor on flex, with the kernels on.
pub fn takes_fast_kernels<const D: usize>(x: &Tensor<D>) -> bool {
    #[cfg(feature = "cpu-kernels")]
    {
        flex::on_flex(x)
    }
    #[cfg(not(feature = "cpu-kernels"))]
    {
        let _ = x;
        false
    }
}

/// Runs `f`, a forward pass without autodiff, on a thread of the pool the CPU kernels run on
/// (rayon's), so that each kernel inside starts its parallel work at once where the calling
/// thread would hand it to the pool and sleep until it is done. At batch 1 a generator is 40
/// short kernels and those hand-overs showed: the ResNet generator took 4.8 ms from the main
/// thread and 4.0 ms from a pool thread (2 cores). Not for training steps: one that waits for
/// another replica inside the pool could hold the thread that replica needs.
pub fn on_kernel_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[cfg(feature = "cpu-kernels")]
    {
        // From outside the pool, `join` runs both closures on pool threads and returns.
        rayon::join(f, || ()).0
    }
    #[cfg(not(feature = "cpu-kernels"))]
    {
        f()
    }
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let Some(spec) = flex::conv2d_spec(conv, &x) {
        let y = flex::conv2d_tensor(x, conv.weight.val(), spec);
        return add_bias(y, conv.bias.as_ref().map(|b| b.val()));
    }
    if takes_matmul(&x)
        && conv.groups == 1
        && conv.dilation == [1, 1]
        && let Some(padding) = even_padding(conv)
    {
        let y = matmul_conv::conv2d(x, conv.weight.val(), conv.stride, padding);
        return add_bias(y, conv.bias.as_ref().map(|b| b.val()));
    }
    conv.forward(x)
}

/// A convolution with a weight made in the forward pass (a spectrally normalised one, say):
/// `x` `[n, c_in, h, w]`, `weight` `[c_out, c_in, k, k]`, `bias` `[c_out]` -> `[n, c_out, h', w']`
pub fn conv2d_with(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        let spec = flex::ConvSpec {
            stride,
            padding,
            padding_out: [0, 0],
        };
        return add_bias(flex::conv2d_tensor(x, weight, spec), bias);
    }
    if takes_matmul(&x) {
        return add_bias(matmul_conv::conv2d(x, weight, stride, padding), bias);
    }
    let options = burn::tensor::ops::ConvOptions::new(stride, padding, [1, 1], 1);
    burn::tensor::module::conv2d(x, weight, bias, options)
}

/// `conv.forward(x)`: `[n, c_in, h, w]` -> `[n, c_out, h', w']`
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let Some(spec) = flex::conv_transpose2d_spec(conv, &x) {
        let y = flex::conv_transpose2d_tensor(x, conv.weight.val(), spec);
        return add_bias(y, conv.bias.as_ref().map(|b| b.val()));
    }
    if takes_matmul(&x)
        && conv.groups == 1
        && conv.dilation == [1, 1]
        && matmul_conv::transposed_fits(
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.padding_out,
        )
    {
        let y = matmul_conv::conv_transpose2d(
            x,
            conv.weight.val(),
            conv.stride,
            conv.padding,
            conv.padding_out,
        );
        return add_bias(y, conv.bias.as_ref().map(|b| b.val()));
    }
    conv.forward(x)
}

/// `y + bias` per channel: `[n, c, h, w]` + `[c]`. facegan's kernels compute the product
/// alone; a broadcast add is as fast as folding it in.
fn add_bias(y: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    match bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.reshape([1, channels, 1, 1])
        }
        None => y,
    }
}

/// 2x2 average pooling: `[n, c, h, w]` -> `[n, c, h/2, w/2]` (even `h` and `w`).
pub fn downsample(x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        return flex::resample_tensor(x, flex::Resample::Halve);
    }
    let options = burn::tensor::ops::AvgPoolOptions::new([2, 2]);
    burn::tensor::module::avg_pool2d(x, options)
}

/// Nearest-neighbour doubling: `[n, c, h, w]` -> `[n, c, 2h, 2w]`, each value copied into a
/// 2x2 block.
pub fn upsample(x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        return flex::resample_tensor(x, flex::Resample::Double);
    }
    // A broadcast of a view: [n, c, h, 1, w, 1] -> [n, c, h, 2, w, 2] -> [n, c, 2h, 2w]
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, 2, w, 2])
        .reshape([n, c, 2 * h, 2 * w])
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

/// `relu(norm.forward(x))`: [`batch_norm_leaky_relu`] at slope 0.
pub fn batch_norm_relu(norm: &burn::nn::BatchNorm, x: Tensor<4>) -> Tensor<4> {
    batch_norm_leaky_relu(norm, x, 0.0)
}

/// `leaky_relu(norm.forward(x), slope)`: on flex BatchNorm and the activation share their
/// passes, one each way in training and one in inference, where they made two each way.
pub fn batch_norm_leaky_relu(norm: &burn::nn::BatchNorm, x: Tensor<4>, slope: f64) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if takes_flex_batch_norm(norm, &x) {
        return flex_batch_norm(norm, x, Some(slope as f32));
    }
    leaky_relu(batch_norm(norm, x), slope)
}

/// `a + b` for tensors of one shape (skip connections): one parallel pass each way on flex.
pub fn add(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&a) && a.dims() == b.dims() {
        return flex::add_tensor(a, b);
    }
    a + b
}

/// `relu(x)`, as LeakyReLU of slope 0 (one pass each way on the CPU; Burn's ReLU is flex's
/// single-threaded pass forward and a masked select backward).
pub fn relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    leaky_relu(x, 0.0)
}

/// `tanh(x)`: one parallel pass forward and one backward on flex (flex's runs on one thread).
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "cpu-kernels")]
    if flex::on_flex(&x) {
        return flex::tanh_tensor(x);
    }
    burn::tensor::activation::tanh(x)
}

/// `norm.forward(x)`: on flex, facegan's one-pass kernels with Burn's semantics, in training
/// (an autodiff device, the layer's training flag on) and in inference without autodiff;
/// anywhere else Burn's own.
pub fn batch_norm(norm: &burn::nn::BatchNorm, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if takes_flex_batch_norm(norm, &x) {
        return flex_batch_norm(norm, x, None);
    }
    norm.forward(x)
}

/// Whether `x` takes facegan's BatchNorm kernels: on flex, and not running statistics with
/// autodiff (the fused backward assumes batch statistics).
#[cfg(feature = "cpu-kernels")]
fn takes_flex_batch_norm(norm: &burn::nn::BatchNorm, x: &Tensor<4>) -> bool {
    flex::on_flex(x) && (norm.training.is_enabled() || !x.device().is_autodiff())
}

/// facegan's BatchNorm of `x` (batch statistics with autodiff, running ones without), then
/// LeakyReLU of slope `activation` when given.
#[cfg(feature = "cpu-kernels")]
fn flex_batch_norm(norm: &burn::nn::BatchNorm, x: Tensor<4>, activation: Option<f32>) -> Tensor<4> {
    if x.device().is_autodiff() {
        flex::batch_norm_train(norm, x, activation)
    } else {
        flex::batch_norm_inference(norm, x, activation)
    }
}
