//! Convolutions on Burn's flex CPU backend, registered through Burn's backend extension
//! mechanism: a forward for plain flex tensors and, for training, a forward with a
//! hand-written backward. Burn's generic backward runs each weight gradient as a convolution
//! over the batch, which flex maps onto thousands of very narrow matrix products; and flex's
//! own forward multiplies per image, a few pixels wide on small maps.
//!
//! Here the weight gradients, and every product whose grid is narrow (under 64 positions an
//! image: the generator's first stages, the discriminator's last), are `im2col`/`col2im` plus
//! one `float_matmul` with the whole batch along the matrices' long side; wider forwards and
//! data gradients stay with flex's per-image kernels, which keep one image in cache.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{Shape, TensorData};

use super::patches::{Patches, col2im, im2col};

/// A convolution's settings (no bias, no dilation, one group): what the kernels need beside
/// the tensors' shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    /// Extra rows and columns of a transposed convolution's output.
    pub padding_out: [usize; 2],
}

#[backend_extension(Flex, Autodiff)]
pub trait FastConv: Backend {
    /// `[n, c_in, h, w]` with weight `[c_out, c_in, k, k]` -> `[n, c_out, h', w']`
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: ConvSpec,
    ) -> FloatTensor<Self>;
    /// `[n, c_in, h, w]` with weight `[c_in, c_out, k, k]` -> `[n, c_out, h', w']`
    fn fast_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: ConvSpec,
    ) -> FloatTensor<Self>;
}

impl FastConv for Flex {
    fn fast_conv2d(x: FlexTensor, weight: FlexTensor, spec: ConvSpec) -> FlexTensor {
        conv2d(&x, &weight, spec)
    }

    fn fast_conv_transpose2d(x: FlexTensor, weight: FlexTensor, spec: ConvSpec) -> FlexTensor {
        conv_transpose2d(&x, &weight, spec)
    }
}

impl<C: CheckpointStrategy> FastConv for Autodiff<Flex, C> {
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: ConvSpec,
    ) -> FloatTensor<Self> {
        differentiable::<C>(Kind::Conv, x, weight, spec)
    }

    fn fast_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: ConvSpec,
    ) -> FloatTensor<Self> {
        differentiable::<C>(Kind::Transposed, x, weight, spec)
    }
}

/// Which of the two convolutions an operation is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Conv,
    Transposed,
}

impl Kind {
    fn forward(self, x: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> FlexTensor {
        match self {
            Self::Conv => conv2d(x, weight, spec),
            Self::Transposed => conv_transpose2d(x, weight, spec),
        }
    }

    fn input_grad(
        self,
        x: &FlexTensor,
        weight: &FlexTensor,
        grad: &FlexTensor,
        spec: ConvSpec,
    ) -> FlexTensor {
        match self {
            Self::Conv => conv2d_input_grad(grad, weight, dims4(x), spec),
            Self::Transposed => conv_transpose2d_input_grad(grad, weight, spec),
        }
    }

    fn weight_grad(
        self,
        x: &FlexTensor,
        weight: &FlexTensor,
        grad: &FlexTensor,
        spec: ConvSpec,
    ) -> FlexTensor {
        match self {
            Self::Conv => conv2d_weight_grad(x, grad, weight, spec),
            Self::Transposed => conv_transpose2d_weight_grad(x, grad, weight, spec),
        }
    }
}

/// The backward step of a convolution: gradients of the input and the weight, each only when
/// that parent is tracked (real images going into D are not).
#[derive(Debug)]
struct ConvBackward(Kind);

impl Backward<Flex, 2> for ConvBackward {
    type State = (FlexTensor, FlexTensor, ConvSpec);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [x_node, weight_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, spec) = ops.state;
        if let Some(node) = x_node {
            grads.register::<Flex>(node.id, self.0.input_grad(&x, &weight, &grad, spec));
        }
        if let Some(node) = weight_node {
            grads.register::<Flex>(node.id, self.0.weight_grad(&x, &weight, &grad, spec));
        }
    }
}

/// The convolution `kind` of autodiff tensors, recording its backward step when tracked.
fn differentiable<C: CheckpointStrategy>(
    kind: Kind,
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    spec: ConvSpec,
) -> FloatTensor<Autodiff<Flex, C>> {
    match ConvBackward(kind)
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (x, weight) = (x.into_primitive(), weight.into_primitive());
            let output = kind.forward(&x, &weight, spec);
            prep.finish((x, weight, spec), output)
        }
        OpsKind::UnTracked(prep) => {
            prep.finish(kind.forward(x.primitive(), weight.primitive(), spec))
        }
    }
}

fn dims4(tensor: &FlexTensor) -> [usize; 4] {
    let shape = tensor.layout().shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// The values of a tensor in row-major order (a copy only when it is not contiguous).
fn values(tensor: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(
            tensor
                .to_contiguous()
                .as_slice::<f32>()
                .expect("contiguous")
                .to_vec(),
        ),
    }
}

fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

fn matmul(lhs: FlexTensor, rhs: FlexTensor) -> FlexTensor {
    <Flex as FloatTensorOps<Flex>>::float_matmul(lhs, rhs)
}

/// `[n, c, h, w]` -> `[c, n * h * w]`: channels as rows, the batch along the columns.
fn channels_first(images: &FlexTensor) -> FlexTensor {
    let [n, c, h, w] = dims4(images);
    images
        .reshape(Shape::from([n, c, h * w]))
        .transpose(0, 1)
        .to_contiguous()
        .reshape(Shape::from([c, n * h * w]))
}

/// `[c, n * h * w]` -> `[n, c, h, w]`
fn batch_first(matrix: &FlexTensor, [n, c, h, w]: [usize; 4]) -> FlexTensor {
    matrix
        .reshape(Shape::from([c, n, h * w]))
        .transpose(0, 1)
        .to_contiguous()
        .reshape(Shape::from([n, c, h, w]))
}

/// The patches a convolution of `weight` ([c_out, c_in, k, k]) takes from `x`'s shape.
fn conv2d_patches([n, c, h, w]: [usize; 4], weight: &FlexTensor, spec: ConvSpec) -> Patches {
    let [_, _, kh, kw] = dims4(weight);
    let grid = |axis: usize, size: usize, k: usize| {
        (size + 2 * spec.padding[axis] - k) / spec.stride[axis] + 1
    };
    Patches {
        batch: n,
        channels: c,
        height: h,
        width: w,
        kernel: [kh, kw],
        stride: spec.stride,
        padding: spec.padding,
        grid: [grid(0, h, kh), grid(1, w, kw)],
    }
}

/// A transposed convolution is the input gradient of a convolution from its output to its
/// input: the patches are those of its output, on the grid of its input.
fn conv_transpose2d_patches(
    [n, _, h, w]: [usize; 4],
    weight: &FlexTensor,
    spec: ConvSpec,
) -> Patches {
    let [_, c_out, kh, kw] = dims4(weight);
    let side = |axis: usize, size: usize, k: usize| {
        (size - 1) * spec.stride[axis] + k + spec.padding_out[axis] - 2 * spec.padding[axis]
    };
    Patches {
        batch: n,
        channels: c_out,
        height: side(0, h, kh),
        width: side(1, w, kw),
        kernel: [kh, kw],
        stride: spec.stride,
        padding: spec.padding,
        grid: [h, w],
    }
}

/// The weight as a matrix: `[first dimension, the rest]`.
fn weight_matrix(weight: &FlexTensor) -> FlexTensor {
    let [a, b, kh, kw] = dims4(weight);
    weight.reshape(Shape::from([a, b * kh * kw]))
}

/// Whether a product over one image's grid positions is too narrow for gemm's fast
/// kernels, so the whole batch goes in one product. Wider ones stay per image (Burn's own),
/// where one image's data stays in cache: on 2 cores `facegan bench` measured 64 as the best
/// bound (1.13x Burn's training throughput), against 1.0x with none whole-batch but the weight
/// gradients and 0.9x with every product whole-batch. The shapes of batch 1 (the page, `facegan
/// generate` one face at a time) are as narrow either way.
fn too_narrow(p: &Patches) -> bool {
    p.batch > 1 && p.grid[0] * p.grid[1] < 64
}

fn options(spec: ConvSpec) -> ConvOptions<2> {
    ConvOptions::new(spec.stride, spec.padding, [1, 1], 1)
}

fn transpose_options(spec: ConvSpec) -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new(spec.stride, spec.padding, spec.padding_out, [1, 1], 1)
}

fn conv2d(x: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> FlexTensor {
    let p = conv2d_patches(dims4(x), weight, spec);
    if !too_narrow(&p) {
        return Flex::conv2d(x.clone(), weight.clone(), None, options(spec));
    }
    let c_out = dims4(weight)[0];
    // [c_out, K] x [K, N] -> [c_out, N]
    let columns = tensor(im2col(&values(x), &p), [p.rows(), p.columns()]);
    let output = matmul(weight_matrix(weight), columns);
    batch_first(&output, [p.batch, c_out, p.grid[0], p.grid[1]])
}

fn conv2d_input_grad(
    grad: &FlexTensor,
    weight: &FlexTensor,
    x_dims: [usize; 4],
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv2d_patches(x_dims, weight, spec);
    // The data gradient is a transposed convolution over the output grid.
    if !too_narrow(&p) && spec_fits_transpose(&p, x_dims) {
        let transposed = ConvSpec {
            padding_out: [
                x_dims[2] - output_side(&p, 0),
                x_dims[3] - output_side(&p, 1),
            ],
            ..spec
        };
        return Flex::conv_transpose2d(
            grad.clone(),
            weight.clone(),
            None,
            transpose_options(transposed),
        );
    }
    // [K, c_out] x [c_out, N] -> [K, N], summed back into images
    let columns = matmul(weight_matrix(weight).transpose(0, 1), channels_first(grad));
    tensor(col2im(&values(&columns), &p), x_dims)
}

fn conv2d_weight_grad(
    x: &FlexTensor,
    grad: &FlexTensor,
    weight: &FlexTensor,
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv2d_patches(dims4(x), weight, spec);
    let columns = tensor(im2col(&values(x), &p), [p.rows(), p.columns()]);
    // [c_out, N] x [N, K] -> [c_out, K]
    let grad = matmul(channels_first(grad), columns.transpose(0, 1));
    grad.reshape(Shape::from(dims4(weight)))
}

fn conv_transpose2d(x: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> FlexTensor {
    let p = conv_transpose2d_patches(dims4(x), weight, spec);
    if !too_narrow(&p) {
        return Flex::conv_transpose2d(x.clone(), weight.clone(), None, transpose_options(spec));
    }
    // [K, c_in] x [c_in, N] -> [K, N], summed into the output images
    let columns = matmul(weight_matrix(weight).transpose(0, 1), channels_first(x));
    tensor(
        col2im(&values(&columns), &p),
        [p.batch, p.channels, p.height, p.width],
    )
}

fn conv_transpose2d_input_grad(
    grad: &FlexTensor,
    weight: &FlexTensor,
    spec: ConvSpec,
) -> FlexTensor {
    let [n, _, _, _] = dims4(grad);
    let [c_in, _, _, _] = dims4(weight);
    let (h, w) = input_side(grad, weight, spec);
    let p = conv_transpose2d_patches([n, c_in, h, w], weight, spec);
    // The data gradient is a convolution over the input grid.
    if !too_narrow(&p) {
        return Flex::conv2d(grad.clone(), weight.clone(), None, options(spec));
    }
    // [c_in, K] x [K, N] -> [c_in, N]
    let columns = tensor(im2col(&values(grad), &p), [p.rows(), p.columns()]);
    batch_first(&matmul(weight_matrix(weight), columns), [n, c_in, h, w])
}

fn conv_transpose2d_weight_grad(
    x: &FlexTensor,
    grad: &FlexTensor,
    weight: &FlexTensor,
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv_transpose2d_patches(dims4(x), weight, spec);
    let columns = tensor(im2col(&values(grad), &p), [p.rows(), p.columns()]);
    // [c_in, N] x [N, K] -> [c_in, K]
    matmul(channels_first(x), columns.transpose(0, 1)).reshape(Shape::from(dims4(weight)))
}

/// The side a transposed convolution without output padding gives on `p`'s grid.
fn output_side(p: &Patches, axis: usize) -> usize {
    (p.grid[axis] - 1) * p.stride[axis] + p.kernel[axis] - 2 * p.padding[axis]
}

/// Whether the image side can be reached from the grid with an output padding below the
/// stride (the only kind a transposed convolution takes).
fn spec_fits_transpose(p: &Patches, [_, _, h, w]: [usize; 4]) -> bool {
    (0..2).all(|axis| {
        let side = if axis == 0 { h } else { w };
        let base = output_side(p, axis);
        side >= base && side - base < p.stride[axis]
    })
}

/// The input side of a transposed convolution whose output gradient is `grad`.
fn input_side(grad: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> (usize, usize) {
    let [_, _, oh, ow] = dims4(grad);
    let [_, _, kh, kw] = dims4(weight);
    let side = |axis: usize, out: usize, k: usize| {
        (out + 2 * spec.padding[axis] - k - spec.padding_out[axis]) / spec.stride[axis] + 1
    };
    (side(0, oh, kh), side(1, ow, kw))
}

/// Whether `x` is an f32 tensor on the flex CPU backend (with or without autodiff), where the
/// extension is registered; on any other device it would panic.
fn on_flex(x: &burn::tensor::Tensor<4>) -> bool {
    let device = x.device().without_autodiff();
    super::fast_convolutions()
        && x.dtype() == burn::tensor::DType::F32
        && matches!(device.as_dispatch(), burn::backend::DispatchDevice::Flex(_))
}

/// The settings of `conv` when the whole-batch kernels can run it on `x`.
pub(super) fn conv2d_spec(
    conv: &burn::nn::conv::Conv2d,
    x: &burn::tensor::Tensor<4>,
) -> Option<ConvSpec> {
    use burn::nn::PaddingConfig2d;
    // "Same" padding may be uneven: left to Burn.
    let (top, left, bottom, right) = match conv.padding {
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        PaddingConfig2d::Explicit(top, left, bottom, right) => (top, left, bottom, right),
        PaddingConfig2d::Same => return None,
    };
    let plain = conv.bias.is_none() && conv.groups == 1 && conv.dilation == [1, 1];
    (plain && top == bottom && left == right && on_flex(x)).then_some(ConvSpec {
        stride: conv.stride,
        padding: [top, left],
        padding_out: [0, 0],
    })
}

/// The settings of `conv` when the whole-batch kernels can run it on `x`.
pub(super) fn conv_transpose2d_spec(
    conv: &burn::nn::conv::ConvTranspose2d,
    x: &burn::tensor::Tensor<4>,
) -> Option<ConvSpec> {
    let plain = conv.bias.is_none() && conv.groups == 1 && conv.dilation == [1, 1];
    (plain && on_flex(x)).then_some(ConvSpec {
        stride: conv.stride,
        padding: conv.padding,
        padding_out: conv.padding_out,
    })
}

pub(super) fn conv2d_tensor(
    x: burn::tensor::Tensor<4>,
    weight: burn::tensor::Tensor<4>,
    spec: ConvSpec,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastConv>::fast_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        spec,
    ))
}

pub(super) fn conv_transpose2d_tensor(
    x: burn::tensor::Tensor<4>,
    weight: burn::tensor::Tensor<4>,
    spec: ConvSpec,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastConv>::fast_conv_transpose2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        spec,
    ))
}
