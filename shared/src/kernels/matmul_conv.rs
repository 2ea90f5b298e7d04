//! Convolutions as Burn tensor operations around one matrix product per image, for GPUs.
//!
//! Why: Burn 0.22's CubeCL backends, compiled to WGSL, run a convolution's forward with
//! `conv_direct` (the implicit-GEMM candidates of its autotune need tensor-core instructions
//! WGSL lacks), a strided convolution's input gradient with an NCHW transposed kernel
//! (tracel-ai/burn#5759), and a transposed convolution's weight gradient as a convolution whose
//! parallel work does not grow with the batch; on an H200 a DCGAN step reached 3.6% of the f32
//! peak. Here a convolution is its patches (strided slices of the input, stacked) times the
//! kernel, a product per image that Burn's tuned matrix kernels run, and autodiff makes both
//! gradients products too: the weight's one per image, summed over the batch. A transposed
//! convolution is the same product on its sub-pixel form (one small convolution giving every
//! output phase as channels, then interleaved). Taken when [`super::use_matmul_convolutions`] is
//! on; `facegan bench --backend wgpu` times it against Burn's in the same run.

use burn::tensor::ops::PadMode;
use burn::tensor::{Slice, Tensor};

/// `x` `[n, c_in, h, w]` with `weight` `[c_out, c_in, kh, kw]`, zero padding `padding` on both
/// sides of each axis -> `[n, c_out, h', w']`
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [c_out, _, kh, kw] = weight.dims();
    let out = [
        (h + 2 * padding[0] - kh) / stride[0] + 1,
        (w + 2 * padding[1] - kw) / stride[1] + 1,
    ];
    // [n, c_in kh kw, h' w']
    let patches = patches(x, [kh, kw], stride, padding, out);
    // [1, c_out, c_in kh kw] x [n, c_in kh kw, h' w'] -> [n, c_out, h' w']
    weight
        .reshape([1, c_out, c_in * kh * kw])
        .matmul(patches)
        .reshape([n, c_out, out[0], out[1]])
}

/// The patch matrix of `x` `[n, c, h, w]` for a `kernel` at `stride` over the zero-padded
/// input: `[n, c kh kw, h' w']`, rows ordered as a `[c_out, c, kh, kw]` kernel's columns. One
/// strided slice per kernel tap, so the backward is slices added back, not a scatter.
fn patches(
    x: Tensor<4>,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    out: [usize; 2],
) -> Tensor<3> {
    let [n, c, _, _] = x.dims();
    let x = if padding == [0, 0] {
        x
    } else {
        x.pad(
            [(padding[0], padding[0]), (padding[1], padding[1])],
            PadMode::Constant(0.0),
        )
    };
    let axis = |tap: usize, axis: usize| {
        let end = tap + stride[axis] * (out[axis] - 1) + 1;
        Slice::new(tap as isize, Some(end as isize), stride[axis] as isize)
    };
    let mut taps = Vec::with_capacity(kernel[0] * kernel[1]);
    for i in 0..kernel[0] {
        for j in 0..kernel[1] {
            // [n, c, h', w']
            taps.push(
                x.clone()
                    .slice([Slice::full(), Slice::full(), axis(i, 0), axis(j, 1)]),
            );
        }
    }
    // [n, c, kh kw, h', w'] -> [n, c kh kw, h' w']
    Tensor::<4>::stack::<5>(taps, 2).reshape([n, c * kernel[0] * kernel[1], out[0] * out[1]])
}

/// Whether [`conv_transpose2d`] computes this transposed convolution: its padded output must
/// hold the output padding (`padding_out <= padding` does, as in every facegan network).
pub fn transposed_fits(
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    padding_out: [usize; 2],
) -> bool {
    (0..2).all(|axis| {
        let whole = kernel[axis].div_ceil(stride[axis]) * stride[axis];
        padding_out[axis] <= padding[axis] + whole - kernel[axis]
    })
}

/// `x` `[n, c_in, h, w]` with `weight` `[c_in, c_out, kh, kw]` (Burn's layout for a transposed
/// convolution) -> `[n, c_out, h', w']`, `h' = (h - 1) stride + kh - 2 padding + padding_out`.
///
/// Output row `stride q + a` (phase `a`) gathers input rows `q - u` through kernel taps
/// `a + stride u`, `u < m = kh / stride` (the kernel zero-padded to a multiple of the
/// stride): a stride-1 `m x m` convolution of the input padded by `m - 1`, one per phase. All
/// `stride^2` phases are one convolution with `stride^2 c_out` output channels, interleaved
/// afterwards; the padding then crops the interleaved result.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: [usize; 2],
    padding: [usize; 2],
    padding_out: [usize; 2],
) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [_, c_out, kh, kw] = weight.dims();
    let [sh, sw] = stride;
    let [mh, mw] = [kh.div_ceil(sh), kw.div_ceil(sw)];
    // [c_in, c_out, mh sh, mw sw], the added taps zero.
    let weight = if mh * sh == kh && mw * sw == kw {
        weight
    } else {
        weight.pad(
            [(0, mh * sh - kh), (0, mw * sw - kw)],
            PadMode::Constant(0.0),
        )
    };
    // Flipped, tap t' = m sh - 1 - t = stride u' + (stride - 1 - a), u' = m - 1 - u: split each
    // axis into [u', stride - 1 - a] and put the phases first.
    // [c_in, c_out, mh, sh, mw, sw] -> [sh, sw, c_out, c_in, mh, mw] -> [sh sw c_out, c_in, mh, mw]
    let phases_kernel = weight
        .flip([2, 3])
        .reshape([c_in, c_out, mh, sh, mw, sw])
        .permute([3, 5, 1, 0, 2, 4])
        .flip([0, 1])
        .reshape([sh * sw * c_out, c_in, mh, mw]);
    // [n, sh sw c_out, qh, qw], qh = h + mh - 1
    let phases = conv2d(x, phases_kernel, [1, 1], [mh - 1, mw - 1]);
    let [qh, qw] = [h + mh - 1, w + mw - 1];
    // [n, sh, sw, c_out, qh, qw] -> [n, c_out, qh, sh, qw, sw] -> [n, c_out, sh qh, sw qw]
    let interleaved = phases
        .reshape([n, sh, sw, c_out, qh, qw])
        .permute([0, 3, 4, 1, 5, 2])
        .reshape([n, c_out, sh * qh, sw * qw]);
    let out_h = (h - 1) * sh + kh - 2 * padding[0] + padding_out[0];
    let out_w = (w - 1) * sw + kw - 2 * padding[1] + padding_out[1];
    interleaved.slice([
        0..n,
        0..c_out,
        padding[0]..padding[0] + out_h,
        padding[1]..padding[1] + out_w,
    ])
}
