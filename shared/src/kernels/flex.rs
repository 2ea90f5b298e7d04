//! facegan's kernels on Burn's flex CPU backend, registered through Burn's backend extension
//! mechanism: each op has a forward for plain flex tensors and, for training, a forward with a
//! hand-written backward step. Convolutions and their gradients are the three products of
//! `products.rs` (Burn's generic backward ran each weight gradient as thousands of very narrow
//! products); LeakyReLU and BatchNorm are one pass each way (Burn's autodiff composes them from
//! many tensor ops). A batch of one image takes a product that spreads it over the cores
//! (convolutions) or flex's own forward, which does (transposed convolutions).

use burn::backend::AutodiffBackend;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ConvTransposeOptions, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{Shape, TensorData};

use super::activation::{leaky_relu, leaky_relu_grad};
use super::batch_norm;
use super::buffer;
use super::patches::Patches;
use super::products::{patch_product, scatter_product, single_patch_product, weight_product};
use super::resample::{double, halve};
use super::stride_one::{Taps, shifted_product, shifted_weight_product};
use super::winograd::{self, winograd_product};

/// Which 2x resolution change [`FastKernels::fast_resample`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    /// 2x2 average pooling.
    Halve,
    /// Nearest-neighbour doubling.
    Double,
}

impl Resample {
    /// `[n, c, h, w]` values to the changed resolution; the gradient of each direction is the
    /// other one, scaled.
    fn apply(self, x: &FlexTensor, gradient: bool) -> FlexTensor {
        let [n, c, h, w] = dims4(x);
        let x = values(x);
        match (self, gradient) {
            (Self::Halve, false) => tensor(halve(&x, h, w, 0.25), [n, c, h / 2, w / 2]),
            (Self::Halve, true) => tensor(halve(&x, h, w, 1.0), [n, c, h / 2, w / 2]),
            (Self::Double, false) => tensor(double(&x, h, w, 1.0), [n, c, 2 * h, 2 * w]),
            (Self::Double, true) => tensor(double(&x, h, w, 0.25), [n, c, 2 * h, 2 * w]),
        }
    }

    fn adjoint(self) -> Self {
        match self {
            Self::Halve => Self::Double,
            Self::Double => Self::Halve,
        }
    }
}

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
pub trait FastKernels: Backend {
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
    /// `x` where `x >= 0`, `slope * x` elsewhere. Burn's autodiff runs LeakyReLU as three
    /// tensor ops forward and more backward; this is one pass each way.
    fn fast_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
    /// `tanh(x)`: one parallel pass each way (flex's runs on one thread; the generators'
    /// output, 786,432 values at batch 64, took milliseconds).
    fn fast_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `[n, c, h, w]` halved by 2x2 averages or doubled by copies.
    fn fast_resample(x: FloatTensor<Self>, change: Resample) -> FloatTensor<Self>;
    /// Per-channel mean and biased variance of `[n, c, h, w]` over the batch and the plane:
    /// `[2, c]`, never tracked.
    fn fast_batch_statistics(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// BatchNorm of `x` `[n, c, h, w]` with `stats`, followed by LeakyReLU of slope
    /// `activation` when given (ReLU at 0), in one pass. In training `stats` are `x`'s own batch
    /// statistics (from `fast_batch_statistics`): the backward treats them as functions of
    /// `x`, as training-mode BatchNorm does.
    fn fast_batch_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f32,
        activation: Option<f32>,
    ) -> FloatTensor<Self>;
    /// `a + b` of two tensors of one shape (the residual networks' skip connections): one
    /// parallel pass, in place when it can be (flex's add runs on one thread).
    fn fast_add(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FastKernels for Flex {
    fn fast_batch_statistics(x: FlexTensor) -> FlexTensor {
        let layout = planes(&x);
        tensor(
            batch_norm::statistics(&values(&x), layout),
            [2, layout.channels],
        )
    }

    fn fast_batch_norm(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        stats: FlexTensor,
        epsilon: f32,
        activation: Option<f32>,
    ) -> FlexTensor {
        normalize([x, gamma, beta, stats], epsilon, activation)
    }

    fn fast_add(a: FlexTensor, b: FlexTensor) -> FlexTensor {
        assert_eq!(a.layout().shape(), b.layout().shape(), "fast_add: shapes");
        if a.is_unique() {
            zip_map(a, &values(&b), |a, b| a + b)
        } else {
            zip_map(b, &values(&a), |b, a| a + b)
        }
    }

    fn fast_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        Activation::LeakyRelu(slope).forward(x)
    }

    fn fast_tanh(x: FlexTensor) -> FlexTensor {
        Activation::Tanh.forward(x)
    }

    fn fast_resample(x: FlexTensor, change: Resample) -> FlexTensor {
        change.apply(&x, false)
    }

    fn fast_conv2d(x: FlexTensor, weight: FlexTensor, spec: ConvSpec) -> FlexTensor {
        conv2d(&x, &weight, spec)
    }

    fn fast_conv_transpose2d(x: FlexTensor, weight: FlexTensor, spec: ConvSpec) -> FlexTensor {
        conv_transpose2d(&x, &weight, spec)
    }
}

impl<C: CheckpointStrategy> FastKernels for Autodiff<Flex, C> {
    fn fast_batch_statistics(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(Flex::fast_batch_statistics(x.into_primitive()))
    }

    fn fast_batch_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f32,
        activation: Option<f32>,
    ) -> FloatTensor<Self> {
        let stats = stats.into_primitive();
        match BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let [x, gamma, beta] = [x, gamma, beta].map(|t| t.into_primitive());
                let output = Flex::fast_batch_norm(
                    x.clone(),
                    gamma.clone(),
                    beta.clone(),
                    stats.clone(),
                    epsilon,
                    activation,
                );
                let state = BatchNormState {
                    x,
                    gamma,
                    beta,
                    stats,
                    epsilon,
                    activation,
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fast_batch_norm(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                stats,
                epsilon,
                activation,
            )),
        }
    }

    fn fast_add(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        AddBackward
            .prepare::<C>([a.node(), b.node()])
            // As the activations: compute-bound needs no recomputation step.
            .compute_bound()
            .stateless(Flex::fast_add(a.into_primitive(), b.into_primitive()))
    }

    fn fast_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        differentiable_activation::<C>(Activation::LeakyRelu(slope), x)
    }

    fn fast_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        differentiable_activation::<C>(Activation::Tanh, x)
    }

    fn fast_resample(x: FloatTensor<Self>, change: Resample) -> FloatTensor<Self> {
        ResampleBackward(change)
            .prepare::<C>([x.node()])
            // As the activations: compute-bound needs no recomputation step (see there).
            .compute_bound()
            .stateless(change.apply(&x.into_primitive(), false))
    }

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

/// A sum's backward step: the output gradient to both parents.
#[derive(Debug)]
struct AddBackward;

impl Backward<Flex, 2> for AddBackward {
    type State = ();

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<Flex>(&ops.node);
        match ops.parents {
            [Some(a), Some(b)] => {
                grads.register::<Flex>(a.id, grad.clone());
                grads.register::<Flex>(b.id, grad);
            }
            [Some(only), None] | [None, Some(only)] => grads.register::<Flex>(only.id, grad),
            [None, None] => {}
        }
    }
}

/// An element-wise activation run as one parallel pass each way.
#[derive(Debug, Clone, Copy)]
enum Activation {
    /// LeakyReLU of this slope (ReLU at 0).
    LeakyRelu(f32),
    Tanh,
}

impl Activation {
    fn forward(self, x: FlexTensor) -> FlexTensor {
        match self {
            Self::LeakyRelu(slope) => map(x, |v| leaky_relu(v, slope)),
            Self::Tanh => map(x, f32::tanh),
        }
    }

    /// Whether the backward step reads the output (tanh) rather than the input (LeakyReLU).
    fn saves_output(self) -> bool {
        matches!(self, Self::Tanh)
    }

    /// The input gradient from the output gradient `grad` and the saved tensor.
    fn backward(self, grad: FlexTensor, saved: &[f32]) -> FlexTensor {
        match self {
            Self::LeakyRelu(slope) => zip_map(grad, saved, |g, x| leaky_relu_grad(g, x, slope)),
            Self::Tanh => zip_map(grad, saved, |g, y| g * (1.0 - y * y)),
        }
    }
}

/// An activation's backward step; its state is the tensor [`Activation::backward`] reads.
#[derive(Debug)]
struct ActivationBackward(Activation);

impl Backward<Flex, 1> for ActivationBackward {
    type State = FlexTensor;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let grad = grads.consume::<Flex>(&ops.node);
        let grad = self.0.backward(grad, &values(&ops.state));
        grads.register::<Flex>(node.id, grad);
    }
}

/// A resolution change's backward step: the other change, scaled (needs no state).
#[derive(Debug)]
struct ResampleBackward(Resample);

impl Backward<Flex, 1> for ResampleBackward {
    type State = ();

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [Some(node)] = ops.parents else {
            return;
        };
        let grad = grads.consume::<Flex>(&ops.node);
        grads.register::<Flex>(node.id, self.0.adjoint().apply(&grad, true));
    }
}

/// What training-mode BatchNorm's backward step needs of its forward.
#[derive(Debug, Clone)]
struct BatchNormState {
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    stats: FlexTensor,
    epsilon: f32,
    activation: Option<f32>,
}

/// Training-mode BatchNorm's backward step (through its activation, if any): gradients of the
/// input, gamma and beta.
#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    type State = BatchNormState;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [x_node, gamma_node, beta_node] = ops.parents;
        let mut grad = grads.consume::<Flex>(&ops.node);
        let BatchNormState {
            x,
            gamma,
            beta,
            stats,
            epsilon,
            activation,
        } = ops.state;
        let layout = planes(&x);
        let mut owned = Vec::new();
        // x's gradient overwrites the output's, in place when the buffer is the step's alone.
        let x_grad = match writable(&mut grad) {
            Some(values) => values,
            None => {
                owned = values(&grad).into_owned();
                &mut owned
            }
        };
        let (gamma_grad, beta_grad) = batch_norm::normalize_grad(
            &values(&x),
            x_grad,
            layout,
            &values(&gamma),
            &values(&beta),
            &values(&stats),
            epsilon,
            activation,
        );
        if let Some(node) = x_node {
            let x_grad = if owned.is_empty() {
                grad
            } else {
                tensor(owned, x.layout().shape().clone())
            };
            grads.register::<Flex>(node.id, x_grad);
        }
        if let Some(node) = gamma_node {
            grads.register::<Flex>(node.id, tensor(gamma_grad, [layout.channels]));
        }
        if let Some(node) = beta_node {
            grads.register::<Flex>(node.id, tensor(beta_grad, [layout.channels]));
        }
    }
}

/// BatchNorm of `x` with `gamma`, `beta` and `stats` (`[2, c]`: means, variances), then
/// LeakyReLU of slope `activation` when given.
fn normalize(
    [x, gamma, beta, stats]: [FlexTensor; 4],
    epsilon: f32,
    activation: Option<f32>,
) -> FlexTensor {
    let layout = planes(&x);
    let values = batch_norm::normalize(
        &values(&x),
        layout,
        &values(&gamma),
        &values(&beta),
        &values(&stats),
        epsilon,
        activation,
    );
    tensor(values, x.layout().shape().clone())
}

/// The NCHW layout of `x`.
fn planes(x: &FlexTensor) -> batch_norm::Planes {
    let [n, c, h, w] = dims4(x);
    batch_norm::Planes {
        batch: n,
        channels: c,
        plane: h * w,
    }
}

/// The activation `op` of an autodiff tensor, recording its backward step when tracked.
fn differentiable_activation<C: CheckpointStrategy>(
    op: Activation,
    x: FloatTensor<Autodiff<Flex, C>>,
) -> FloatTensor<Autodiff<Flex, C>> {
    // Marked compute-bound so the saved tensor is kept as state: a memory-bound op would need
    // a recomputation step for Burn's gradient checkpointing, which facegan does not use.
    match ActivationBackward(op)
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let x = x.into_primitive();
            if op.saves_output() {
                let output = op.forward(x);
                prep.finish(output.clone(), output)
            } else {
                let output = op.forward(x.clone());
                prep.finish(x, output)
            }
        }
        OpsKind::UnTracked(prep) => prep.finish(op.forward(x.into_primitive())),
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

/// The values of `x` to overwrite in place: when `x` is the only owner of a buffer holding
/// exactly its values in order (a gradient handed to its backward step usually is).
fn writable(x: &mut FlexTensor) -> Option<&mut [f32]> {
    let len = x.layout().num_elements();
    let whole = x.layout().contiguous_offsets() == Some((0, len));
    let values = x.try_storage_mut::<f32>().filter(|_| whole)?;
    (values.len() == len).then_some(values)
}

/// `f(v)` of every value `v` of `x`, in parallel; in place when `x` is [`writable`].
fn map(mut x: FlexTensor, f: impl Fn(f32) -> f32 + Sync) -> FlexTensor {
    if let Some(values) = writable(&mut x) {
        buffer::apply(values, f);
        return x;
    }
    let shape = x.layout().shape().clone();
    tensor(buffer::map(&values(&x), f), shape)
}

/// `f(v, o)` of every value `v` of `x` and `o` of `other` (as long, in row-major order), in
/// parallel; in place when `x` is [`writable`].
fn zip_map(mut x: FlexTensor, other: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> FlexTensor {
    if let Some(values) = writable(&mut x) {
        buffer::zip_apply(values, other, f);
        return x;
    }
    let shape = x.layout().shape().clone();
    tensor(buffer::zip_map(&values(&x), other, f), shape)
}

fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
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

/// Whether a convolution cut as `p` runs as shifted products (`stride_one.rs`) rather than
/// through a patch matrix: stride 1 on maps of 32x32 and up, at least 8 channels deep (each
/// product's inner size). `conv_layers resnet` at batch 64 (2 cores): the ResNet GAN's 64x64
/// layers 1.3-1.8x faster each way, 32x32 1.1-1.3x; 16x16 +-10%, 8x8 up to 1.4x slower (the
/// thrown-away positions add 56% to the work there), 3 channels 1.2x slower.
fn shifts_pay(p: &Patches) -> bool {
    // The input gradient pads by `kernel - 1 - padding`: wider padding stays with im2col.
    let padding_fits = p.padding[0] < p.kernel[0] && p.padding[1] < p.kernel[1];
    p.stride == [1, 1] && p.grid[0] * p.grid[1] >= 32 * 32 && p.channels >= 8 && padding_fits
}

/// Whether a convolution cut as `p` into `c_out` channels runs by Winograd (`winograd.rs`):
/// 3x3 at stride 1 on grids of 16x16 to 32x32, at least 32 channels in and out, several
/// images. `winograd_layers` at batch 64 (2 cores), every layer forced through Winograd
/// (2026-12-04, transforms along the rows): those layers 1.15-1.35x faster than the shifted
/// products or patch matrices; 8x8 grids 0.85-0.98x (the patch matrix is as good there),
/// 64x64 grids of 16-32 channels 0.88-1.11x (the transforms cost about what the products save).
fn winograd_pays(p: &Patches, c_out: usize) -> bool {
    if !super::winograd_allowed() {
        return false;
    }
    let positions = p.grid[0] * p.grid[1];
    winograd::fits(p)
        && p.batch > 1
        && (16 * 16..=32 * 32).contains(&positions)
        && p.channels >= 32
        && c_out >= 32
}

fn conv2d(x: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> FlexTensor {
    let p = conv2d_patches(dims4(x), weight, spec);
    let c_out = dims4(weight)[0];
    if winograd_pays(&p, c_out) {
        let taps = Taps::Forward(&values(weight), dims4(weight));
        return tensor(
            winograd_product(&values(x), &p, taps),
            [p.batch, c_out, p.grid[0], p.grid[1]],
        );
    }
    if shifts_pay(&p) {
        let taps = Taps::Forward(&values(weight), dims4(weight));
        return tensor(
            shifted_product(&values(x), &p, taps),
            [p.batch, c_out, p.grid[0], p.grid[1]],
        );
    }
    let output = if p.batch == 1 {
        single_patch_product(&values(x), &p, &values(weight), c_out)
    } else {
        patch_product(&values(x), &p, &values(weight), c_out)
    };
    tensor(output, [p.batch, c_out, p.grid[0], p.grid[1]])
}

fn conv2d_input_grad(
    grad: &FlexTensor,
    weight: &FlexTensor,
    x_dims: [usize; 4],
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv2d_patches(x_dims, weight, spec);
    let c_out = dims4(weight)[0];
    let [kh, kw] = p.kernel;
    if p.stride == [1, 1] && p.padding[0] < kh && p.padding[1] < kw {
        // The input gradient of a stride-1 convolution is one of the output gradient, with
        // the complementary padding and the adjoint weights.
        let adjoint = Patches {
            channels: c_out,
            height: p.grid[0],
            width: p.grid[1],
            padding: [kh - 1 - p.padding[0], kw - 1 - p.padding[1]],
            grid: [p.height, p.width],
            ..p
        };
        let taps = Taps::Adjoint(&values(weight), dims4(weight));
        if winograd_pays(&adjoint, p.channels) {
            return tensor(winograd_product(&values(grad), &adjoint, taps), x_dims);
        }
        if shifts_pay(&p) {
            return tensor(shifted_product(&values(grad), &adjoint, taps), x_dims);
        }
    }
    tensor(
        scatter_product(&values(grad), c_out, &values(weight), &p),
        x_dims,
    )
}

fn conv2d_weight_grad(
    x: &FlexTensor,
    grad: &FlexTensor,
    weight: &FlexTensor,
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv2d_patches(dims4(x), weight, spec);
    let c_out = dims4(weight)[0];
    if shifts_pay(&p) {
        return tensor(
            shifted_weight_product(&values(grad), c_out, &values(x), &p),
            dims4(weight),
        );
    }
    tensor(
        weight_product(&values(grad), c_out, &values(x), &p),
        dims4(weight),
    )
}

fn conv_transpose2d(x: &FlexTensor, weight: &FlexTensor, spec: ConvSpec) -> FlexTensor {
    let p = conv_transpose2d_patches(dims4(x), weight, spec);
    if p.batch < 2 {
        return Flex::conv_transpose2d(x.clone(), weight.clone(), None, transpose_options(spec));
    }
    let c_in = dims4(weight)[0];
    tensor(
        scatter_product(&values(x), c_in, &values(weight), &p),
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
    tensor(
        patch_product(&values(grad), &p, &values(weight), c_in),
        [n, c_in, h, w],
    )
}

fn conv_transpose2d_weight_grad(
    x: &FlexTensor,
    grad: &FlexTensor,
    weight: &FlexTensor,
    spec: ConvSpec,
) -> FlexTensor {
    let p = conv_transpose2d_patches(dims4(x), weight, spec);
    let c_in = dims4(weight)[0];
    tensor(
        weight_product(&values(x), c_in, &values(grad), &p),
        dims4(weight),
    )
}

/// One image's transposed convolution is Burn's: facegan's products run one image per core,
/// and flex's own kernels spread a single image over the cores (the DCGAN generator at batch 1).
fn transpose_options(spec: ConvSpec) -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new(spec.stride, spec.padding, spec.padding_out, [1, 1], 1)
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
/// extension is registered (on any other device it would panic), with facegan's kernels on.
pub(super) fn on_flex<const D: usize>(x: &burn::tensor::Tensor<D>) -> bool {
    let device = x.device().without_autodiff();
    super::fast_kernels()
        && x.dtype() == burn::tensor::DType::F32
        && matches!(device.as_dispatch(), burn::backend::DispatchDevice::Flex(_))
}

/// The settings of `conv` when facegan's kernels can run it on `x`.
pub(super) fn conv2d_spec(
    conv: &burn::nn::conv::Conv2d,
    x: &burn::tensor::Tensor<4>,
) -> Option<ConvSpec> {
    // "Same" padding may be uneven: left to Burn.
    let padding = super::even_padding(conv)?;
    let plain = conv.groups == 1 && conv.dilation == [1, 1];
    (plain && on_flex(x)).then_some(ConvSpec {
        stride: conv.stride,
        padding,
        padding_out: [0, 0],
    })
}

/// The settings of `conv` when facegan's kernels can run it on `x`.
pub(super) fn conv_transpose2d_spec(
    conv: &burn::nn::conv::ConvTranspose2d,
    x: &burn::tensor::Tensor<4>,
) -> Option<ConvSpec> {
    let plain = conv.groups == 1 && conv.dilation == [1, 1];
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
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_conv2d(
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
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_conv_transpose2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        spec,
    ))
}

pub(super) fn resample_tensor(
    x: burn::tensor::Tensor<4>,
    change: Resample,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_resample(
        x.into_dispatch(),
        change,
    ))
}

pub(super) fn tanh_tensor<const D: usize>(x: burn::tensor::Tensor<D>) -> burn::tensor::Tensor<D> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_tanh(x.into_dispatch()))
}

pub(super) fn leaky_relu_tensor<const D: usize>(
    x: burn::tensor::Tensor<D>,
    slope: f32,
) -> burn::tensor::Tensor<D> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_leaky_relu(
        x.into_dispatch(),
        slope,
    ))
}

/// Training-mode BatchNorm of `x` on flex: Burn's semantics (batch statistics, biased variance
/// for both the normalisation and the running variance, `momentum` weighting the new batch),
/// in facegan's kernels, followed by LeakyReLU of slope `activation` when given.
pub(super) fn batch_norm_train(
    norm: &burn::nn::BatchNorm,
    x: burn::tensor::Tensor<4>,
    activation: Option<f32>,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    use burn::tensor::Tensor;
    let stats = Tensor::<2>::from_dispatch(<Dispatch as FastKernels>::fast_batch_statistics(
        x.clone().into_dispatch(),
    ));
    let output = Tensor::<4>::from_dispatch(<Dispatch as FastKernels>::fast_batch_norm(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.beta.val().into_dispatch(),
        stats.clone().into_dispatch(),
        norm.epsilon as f32,
        activation,
    ));
    let [mean, variance] = [0, 1].map(|row| stats.clone().narrow(0, row, 1).flatten::<1>(0, 1));
    let momentum = norm.momentum;
    for (state, batch) in [(&norm.running_mean, mean), (&norm.running_var, variance)] {
        let running = state.value_sync().to_device(&batch.device());
        state.update(
            running
                .mul_scalar(1.0 - momentum)
                .add(batch.mul_scalar(momentum))
                .detach(),
        );
    }
    output
}

pub(super) fn add_tensor(
    a: burn::tensor::Tensor<4>,
    b: burn::tensor::Tensor<4>,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    burn::tensor::Tensor::from_dispatch(<Dispatch as FastKernels>::fast_add(
        a.into_dispatch(),
        b.into_dispatch(),
    ))
}

/// Inference-mode BatchNorm of `x` (a tensor without autodiff) on flex, followed by LeakyReLU
/// of slope `activation` when given: the running statistics in one pass, where Burn's default
/// makes five.
pub(super) fn batch_norm_inference(
    norm: &burn::nn::BatchNorm,
    x: burn::tensor::Tensor<4>,
    activation: Option<f32>,
) -> burn::tensor::Tensor<4> {
    use burn::backend::Dispatch;
    use burn::tensor::Tensor;
    let device = x.device();
    let stats = Tensor::cat(
        vec![
            norm.running_mean.value().to_device(&device),
            norm.running_var.value().to_device(&device),
        ],
        0,
    );
    Tensor::<4>::from_dispatch(<Dispatch as FastKernels>::fast_batch_norm(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.beta.val().into_dispatch(),
        stats.into_dispatch(),
        norm.epsilon as f32,
        activation,
    ))
}
