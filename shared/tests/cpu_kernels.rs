//! facegan's flex convolutions against Burn's own: outputs and the gradients of input and
//! weight agree for every stride, padding and kernel the networks use (and a few they do not),
//! at odd batch sizes and channel counts, with the input tracked or not. The shapes cover
//! facegan's paths: chunks of several images (small grids), one image a chunk (large grids),
//! the stride-1 whole-plane copy of 3x3 convolutions, stride-1 convolutions as shifted products
//! (large grids), and a batch of one (the cores sharing one image's patch matrix or padded
//! copy; flex's own forward for a transposed convolution). The matrix-product convolutions
//! meant for GPUs (`matmul_conv.rs`) are checked against Burn's on the same shapes.
#![cfg(feature = "cpu-kernels")]

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use facegan_model::kernels::{conv_transpose2d, conv2d, use_fast_kernels, use_matmul_convolutions};

/// The largest difference between two tensors, relative to the reference's largest value.
fn relative_gap(ours: Tensor<4>, reference: Tensor<4>) -> f32 {
    let scale = reference.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (ours - reference).abs().max().into_scalar::<f32>() / scale
}

/// Which convolutions a run takes.
#[derive(Debug, Clone, Copy)]
enum Kernels {
    Burn,
    /// facegan's flex kernels.
    Flex,
    /// The matrix-product form (`matmul_conv.rs`), here on flex.
    Matmul,
}

impl Kernels {
    /// Switches the process to these kernels.
    fn select(self) {
        use_fast_kernels(matches!(self, Self::Flex));
        use_matmul_convolutions(matches!(self, Self::Matmul));
    }
}

/// Output, input gradient and weight gradient of `run` with `kernels`.
fn outputs_and_gradients(
    kernels: Kernels,
    x: &Tensor<4>,
    weight: &Tensor<4>,
    track_input: bool,
    run: &dyn Fn(Tensor<4>, Tensor<4>) -> Tensor<4>,
) -> (Tensor<4>, Option<Tensor<4>>, Tensor<4>) {
    kernels.select();
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(x.to_data(), &device);
    let x = if track_input { x.require_grad() } else { x };
    let weight = Tensor::<4>::from_data(weight.to_data(), &device).require_grad();
    let y = run(x.clone(), weight.clone());
    // A fixed, uneven weighting of the outputs, so every output's gradient matters.
    let [n, c, h, w] = y.dims();
    let values: Vec<f32> = (0..n * c * h * w).map(|i| (i as f32).sin()).collect();
    let mix = Tensor::<4>::from_data(TensorData::new(values, [n, c, h, w]), &device);
    let grads = (y.clone() * mix).sum().backward();
    let x_grad = x.grad(&grads).map(|g| g.without_autodiff());
    let w_grad = weight
        .grad(&grads)
        .expect("the weight is tracked")
        .without_autodiff();
    Kernels::Flex.select();
    (y.without_autodiff(), x_grad, w_grad)
}

/// The kernels are switched process-wide: the tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test's turn with the process-wide kernel switch, until the guard drops.
fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check(
    name: &str,
    x: Tensor<4>,
    weight: Tensor<4>,
    run: &dyn Fn(Tensor<4>, Tensor<4>) -> Tensor<4>,
) {
    let _turn = take_turn();
    for (kernels, track_input) in [
        (Kernels::Flex, true),
        (Kernels::Flex, false),
        (Kernels::Matmul, true),
    ] {
        let (y, dx, dw) = outputs_and_gradients(kernels, &x, &weight, track_input, run);
        let (y_ref, dx_ref, dw_ref) =
            outputs_and_gradients(Kernels::Burn, &x, &weight, track_input, run);
        assert_eq!(y.dims(), y_ref.dims(), "{name}: output shape");
        let gaps = [
            relative_gap(y, y_ref),
            relative_gap(dw, dw_ref),
            match (dx, dx_ref) {
                (Some(dx), Some(dx_ref)) => relative_gap(dx, dx_ref),
                (None, None) => 0.0,
                _ => panic!("{name}: input gradient present on one side only"),
            },
        ];
        println!(
            "{name} {kernels:?} (input tracked: {track_input}): output {:.1e}, weight grad {:.1e}, input grad {:.1e}",
            gaps[0], gaps[1], gaps[2]
        );
        assert!(
            gaps.iter().all(|&gap| gap < 1e-4),
            "{name} {kernels:?}: {gaps:?}"
        );
    }
}

fn random(shape: [usize; 4], seed: u64) -> Tensor<4> {
    let device = Device::flex();
    device.seed(seed);
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device)
}

/// (batch, c_in, c_out, side, kernel, stride, padding)
type Convolution = (usize, usize, usize, usize, usize, usize, usize);

const CONVOLUTIONS: [Convolution; 23] = [
    (3, 3, 8, 16, 4, 2, 1),   // the discriminator's first stage, odd batch
    (2, 5, 7, 8, 4, 2, 1),    // odd channels
    (2, 4, 6, 9, 5, 2, 2),    // kernel 5, odd side
    (3, 8, 1, 4, 4, 1, 0),    // the output layer: a 4x4 map to one logit
    (37, 12, 3, 4, 4, 1, 0),  // whole-image patches over the cores, odd batch
    (4, 3, 5, 5, 5, 2, 0),    // a kernel the image's size at stride 2: still one patch
    (2, 3, 4, 6, 3, 1, 1),    // stride 1, "same" padding
    (64, 16, 32, 8, 4, 2, 1), // a training batch
    (37, 6, 10, 8, 4, 2, 1),  // 4x4 grids: chunks of many images, the last one short
    (5, 4, 6, 46, 4, 2, 1),   // a 23x23 grid: one image a chunk
    (3, 40, 8, 32, 4, 2, 1),  // input gradient of 40 channels: blocks of 16, the last short
    (1, 5, 3, 8, 4, 2, 1),    // one image, too few output channels to split
    (1, 16, 20, 16, 3, 1, 1), // one image, output channels split over the cores
    (3, 4, 6, 12, 3, 1, 1),   // 3x3 stride 1 over several images: whole-plane copies
    // Stride 1 on grids of 32x32 and up with 8+ channels: shifted products, no patch matrix.
    (3, 8, 12, 32, 3, 1, 1), // the ResNet GAN's 3x3, odd batch
    (1, 9, 20, 32, 3, 1, 1), // one image, output channels split over the cores
    (2, 16, 8, 32, 1, 1, 0), // a 1x1 shortcut
    (2, 8, 5, 34, 3, 1, 0),  // no padding: a 32x32 grid of a 34x34 image
    (2, 8, 3, 33, 5, 1, 2),  // kernel 5, odd side
    (2, 8, 4, 32, 1, 1, 1),  // padding wider than the kernel: stays with im2col
    // 3x3 stride 1 on grids of 16x16 to 32x32 with 32+ channels: Winograd's F(2x2, 3x3).
    (3, 32, 40, 16, 3, 1, 1), // the ResNet GAN's middle stages, odd batch
    (2, 33, 32, 21, 3, 1, 1), // odd side and channels: the last 2x2 blocks cut short
    (2, 32, 32, 19, 3, 1, 0), // no padding (a 17x17 grid), so the input gradient pads by 2
];

#[test]
fn conv2d_matches_burn_in_value_and_gradients() {
    for (i, &(n, c_in, c_out, side, k, stride, padding)) in CONVOLUTIONS.iter().enumerate() {
        let conv = Conv2dConfig::new([c_in, c_out], [k, k])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(false)
            .init(&Device::flex());
        let run = move |x: Tensor<4>, weight: Tensor<4>| {
            let mut conv = conv.clone();
            conv.weight = Param::from_tensor(weight);
            conv2d(&conv, x)
        };
        let x = random([n, c_in, side, side], i as u64);
        let weight = random([c_out, c_in, k, k], 100 + i as u64);
        check(&format!("conv2d #{i}"), x, weight, &run);
    }
}

/// (batch, c_in, c_out, side, kernel, stride, padding, padding_out)
type Transposed = (usize, usize, usize, usize, usize, usize, usize, usize);

const TRANSPOSED: [Transposed; 11] = [
    (3, 10, 16, 1, 4, 1, 0, 0),  // the generator's projection: 1x1 -> 4x4
    (37, 7, 9, 1, 3, 2, 0, 0),   // a projection over the cores, odd batch and kernel
    (2, 8, 5, 4, 4, 2, 1, 0),    // a stride-2 stage, odd channels
    (2, 6, 3, 5, 5, 2, 2, 1),    // kernel 5 with an output padding
    (2, 4, 4, 3, 3, 1, 1, 0),    // stride 1
    (64, 32, 16, 8, 4, 2, 1, 0), // a training batch
    (37, 6, 5, 4, 4, 2, 1, 0),   // 4x4 grids: chunks of many images, the last one short
    (3, 4, 3, 23, 4, 2, 1, 0),   // a 23x23 grid: one image a chunk
    (3, 4, 3, 17, 4, 2, 1, 0),   // a 17x17 grid: two images a chunk, the last one short
    (1, 6, 4, 4, 4, 2, 1, 0),    // one image: flex's forward, facegan's gradients
    (3, 8, 40, 16, 4, 2, 1, 0),  // 40 output channels: blocks of 16, the last one short
];

#[test]
fn conv_transpose2d_matches_burn_in_value_and_gradients() {
    for (i, &(n, c_in, c_out, side, k, stride, padding, padding_out)) in
        TRANSPOSED.iter().enumerate()
    {
        let conv = ConvTranspose2dConfig::new([c_in, c_out], [k, k])
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_padding_out([padding_out, padding_out])
            .with_bias(false)
            .init(&Device::flex());
        let run = move |x: Tensor<4>, weight: Tensor<4>| {
            let mut conv = conv.clone();
            conv.weight = Param::from_tensor(weight);
            conv_transpose2d(&conv, x)
        };
        let x = random([n, c_in, side, side], 200 + i as u64);
        let weight = random([c_in, c_out, k, k], 300 + i as u64);
        check(&format!("conv_transpose2d #{i}"), x, weight, &run);
    }
}

/// Output, input gradient and the gradient of a tensor added to the output, of an
/// element-wise `op` on `data` under a weighted sum, with facegan's kernels on or off. The
/// added tensor shares the output's gradient buffer, which the backward step must therefore
/// not overwrite.
fn activation_run(
    op: &dyn Fn(Tensor<4>) -> Tensor<4>,
    data: &TensorData,
    weights: &TensorData,
    fast: bool,
) -> [TensorData; 3] {
    use_fast_kernels(fast);
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(data.clone(), &device).require_grad();
    let weights = Tensor::<4>::from_data(weights.clone(), &device);
    let side = Tensor::<4>::zeros(data.shape().clone(), &device).require_grad();
    let y = op(x.clone());
    let grads = ((y.clone() + side.clone()) * weights).sum().backward();
    let grad = x.grad(&grads).expect("tracked").into_data();
    let side_grad = side.grad(&grads).expect("tracked").into_data();
    use_fast_kernels(true);
    [y.without_autodiff().into_data(), grad, side_grad]
}

/// `count` values of `f(i)`.
fn values_of(count: usize, f: impl Fn(f32) -> f32) -> Vec<f32> {
    (0..count).map(|i| f(i as f32)).collect()
}

#[test]
fn leaky_relu_matches_burn_in_value_and_gradient() {
    let _turn = take_turn();
    let leaky = |x| facegan_model::kernels::leaky_relu(x, 0.2);
    // A small tensor, and one that the cores split into several tasks.
    for shape in [[3, 5, 7, 11], [2, 8, 64, 80]] {
        let count: usize = shape.iter().product();
        // Values on both sides of zero, and zero itself (where both take the positive branch).
        let mut values = values_of(count, |i| (i * 0.37).sin());
        values[4] = 0.0;
        let data = TensorData::new(values, shape);
        let weights = TensorData::new(values_of(count, |i| (i * 0.11).cos()), shape);
        let ours = activation_run(&leaky, &data, &weights, true);
        let burn = activation_run(&leaky, &data, &weights, false);
        assert_eq!(ours, burn, "output, gradient, side gradient {shape:?}");
    }
}

#[test]
fn tanh_matches_burn_in_value_and_gradient() {
    let _turn = take_turn();
    let tanh = |x| facegan_model::kernels::tanh(x);
    for shape in [[3, 5, 7, 11], [2, 3, 128, 128]] {
        let count: usize = shape.iter().product();
        let data = TensorData::new(values_of(count, |i| (i * 0.37).sin() * 3.0), shape);
        let weights = TensorData::new(values_of(count, |i| (i * 0.11).cos()), shape);
        let [y, grad, side_grad] = activation_run(&tanh, &data, &weights, true);
        let [y_ref, grad_ref, side_grad_ref] = activation_run(&tanh, &data, &weights, false);
        let tolerance = burn::tensor::Tolerance::absolute(1e-6);
        y.assert_approx_eq::<f32>(&y_ref, tolerance);
        grad.assert_approx_eq::<f32>(&grad_ref, tolerance);
        assert_eq!(side_grad, side_grad_ref, "{shape:?}");
    }
}

#[test]
fn a_sum_matches_burn_in_value_and_gradients() {
    let _turn = take_turn();
    let device = Device::flex().autodiff();
    for shape in [[3, 5, 7, 11], [2, 16, 64, 64]] {
        let a = random(shape, 11).to_data();
        let b = random(shape, 12).to_data();
        let weights = Tensor::<4>::from_data(random(shape, 13).to_data(), &device);
        let run = |fast: bool| {
            use_fast_kernels(fast);
            let a = Tensor::<4>::from_data(a.clone(), &device).require_grad();
            let b = Tensor::<4>::from_data(b.clone(), &device).require_grad();
            // `a` is used again after the sum, so its buffer is shared.
            let y = facegan_model::kernels::add(a.clone(), b.clone());
            let grads = ((y.clone() * weights.clone()).sum() + a.clone().sum()).backward();
            let grad_a = a.grad(&grads).expect("tracked").into_data();
            let grad_b = b.grad(&grads).expect("tracked").into_data();
            use_fast_kernels(true);
            (
                y.without_autodiff().into_data(),
                grad_a,
                grad_b,
                a.into_data(),
            )
        };
        let (y, grad_a, grad_b, a_after) = run(true);
        let (y_ref, grad_a_ref, grad_b_ref, _) = run(false);
        assert_eq!(y, y_ref, "{shape:?}");
        assert_eq!(grad_a, grad_a_ref, "{shape:?}");
        assert_eq!(grad_b, grad_b_ref, "{shape:?}");
        assert_eq!(a_after, a, "the sum must not overwrite a shared input");
        // Without autodiff the first operand's buffer is its own: the sum is written there.
        let in_place = facegan_model::kernels::add(random(shape, 11), random(shape, 12));
        assert_eq!(in_place.into_data(), y, "{shape:?} in place");
    }
}

#[test]
fn batch_norm_then_relu_in_one_pass_matches_burn() {
    let _turn = take_turn();
    let device = Device::flex();
    let channels = 6;
    let mut norm = burn::nn::BatchNormConfig::new(channels).init(&device);
    let per_channel = |f: fn(f32) -> f32| {
        let values: Vec<f32> = (0..channels).map(|c| f(c as f32)).collect();
        Tensor::<1>::from_data(TensorData::new(values, [channels]), &device)
    };
    norm.gamma = Param::from_tensor(per_channel(|c| 0.5 + 0.3 * c));
    norm.beta = Param::from_tensor(per_channel(|c| 0.1 * c - 0.2));
    norm.running_mean = burn::module::RunningState::new(per_channel(|c| 0.2 * c - 0.5));
    norm.running_var = burn::module::RunningState::new(per_channel(|c| 0.5 + c));
    let x = random([3, channels, 5, 4], 22);
    use_fast_kernels(true);
    let ours = facegan_model::kernels::batch_norm_relu(&norm, x.clone());
    use_fast_kernels(false);
    let reference = burn::tensor::activation::relu(norm.forward(x));
    use_fast_kernels(true);
    let gap = relative_gap(ours, reference);
    println!("batch norm + relu, inference: {gap:.1e}");
    assert!(gap < 1e-5, "{gap}");
}

/// The gradient of a tensor added to the output, the output, gradients (input, gamma, beta)
/// and updated running statistics of a training-mode BatchNorm, followed by LeakyReLU of slope
/// `activation` when given, with facegan's kernels (BatchNorm and activation fused) or Burn's.
fn batch_norm_run(
    fast: bool,
    x: &TensorData,
    mix: &TensorData,
    activation: Option<f64>,
) -> [TensorData; 7] {
    use_fast_kernels(fast);
    let device = Device::flex().autodiff();
    let channels = x.shape()[1];
    let mut norm = burn::nn::BatchNormConfig::new(channels).init(&device);
    // Non-trivial affine parameters, so their gradients and effect are checked.
    let gamma: Vec<f32> = (0..channels).map(|c| 0.5 + c as f32 * 0.3).collect();
    let beta: Vec<f32> = (0..channels).map(|c| c as f32 * 0.1 - 0.2).collect();
    norm.gamma = Param::from_tensor(Tensor::from_data(
        TensorData::new(gamma, [channels]),
        &device,
    ));
    norm.beta = Param::from_tensor(Tensor::from_data(
        TensorData::new(beta, [channels]),
        &device,
    ));
    let input = Tensor::<4>::from_data(x.clone(), &device).require_grad();
    let y = match activation {
        None => facegan_model::kernels::batch_norm(&norm, input.clone()),
        Some(slope) => facegan_model::kernels::batch_norm_leaky_relu(&norm, input.clone(), slope),
    };
    let mix = Tensor::<4>::from_data(mix.clone(), &device);
    // `side` shares the output's gradient buffer, which the backward step must not overwrite.
    let side = Tensor::<4>::zeros(y.dims(), &device).require_grad();
    let grads = ((y.clone() + side.clone()) * mix).sum().backward();
    let grad_of = |t: Tensor<1>| t.grad(&grads).expect("tracked").into_data();
    let out = [
        side.grad(&grads).expect("tracked").into_data(),
        y.without_autodiff().into_data(),
        input.grad(&grads).expect("tracked").into_data(),
        grad_of(norm.gamma.val()),
        grad_of(norm.beta.val()),
        norm.running_mean.value_sync().into_data(),
        norm.running_var.value_sync().into_data(),
    ];
    use_fast_kernels(true);
    out
}

#[test]
fn batch_norm_matches_burn_in_value_gradients_and_running_statistics() {
    let _turn = take_turn();
    let shapes = [[5, 3, 4, 6], [64, 8, 4, 4], [3, 4, 2, 1]];
    // Alone, then fused with the generators' ReLU and the DCGAN critic's LeakyReLU.
    let cases = [None, Some(0.0), Some(0.2)]
        .into_iter()
        .flat_map(|activation| shapes.map(|shape| (activation, shape)));
    for (i, (activation, shape)) in cases.enumerate() {
        let count: usize = shape.iter().product();
        // An offset and a spread per channel, as activations have.
        let x: Vec<f32> = (0..count)
            .map(|j| 3.0 + (j as f32 * 0.7).sin() * (1.0 + (j / 7 % 5) as f32))
            .collect();
        let mix: Vec<f32> = (0..count).map(|j| (j as f32 * 0.13).cos()).collect();
        let (x, mix) = (TensorData::new(x, shape), TensorData::new(mix, shape));
        let ours = batch_norm_run(true, &x, &mix, activation);
        let reference = batch_norm_run(false, &x, &mix, activation);
        let names = [
            "side grad",
            "output",
            "input grad",
            "gamma grad",
            "beta grad",
            "running mean",
            "running var",
        ];
        for ((name, a), b) in names.iter().zip(ours).zip(reference) {
            let (a, b) = (
                a.try_into_vec::<f32>().expect("f32"),
                b.try_into_vec::<f32>().expect("f32"),
            );
            let scale = b.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            let gap = a
                .iter()
                .zip(&b)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
                / scale;
            println!(
                "batch norm #{i} (activation {activation:?}) {name}: {gap:.1e} (first value {})",
                b[0]
            );
            assert!(gap < 1e-4, "batch norm #{i} {name}: relative gap {gap}");
        }
    }
}

#[test]
fn batch_norm_matches_burn_in_inference() {
    let _turn = take_turn();
    let device = Device::flex();
    let channels = 6;
    let mut norm = burn::nn::BatchNormConfig::new(channels).init(&device);
    let per_channel = |f: fn(f32) -> f32| {
        let values: Vec<f32> = (0..channels).map(|c| f(c as f32)).collect();
        Tensor::<1>::from_data(TensorData::new(values, [channels]), &device)
    };
    norm.gamma = Param::from_tensor(per_channel(|c| 0.5 + 0.3 * c));
    norm.beta = Param::from_tensor(per_channel(|c| 0.1 * c - 0.2));
    norm.running_mean = burn::module::RunningState::new(per_channel(|c| c - 2.0));
    norm.running_var = burn::module::RunningState::new(per_channel(|c| 0.5 + c));
    let x = random([3, channels, 5, 4], 400);
    use_fast_kernels(true);
    let ours = facegan_model::kernels::batch_norm(&norm, x.clone());
    use_fast_kernels(false);
    let reference = facegan_model::kernels::batch_norm(&norm, x);
    use_fast_kernels(true);
    let gap = relative_gap(ours, reference);
    println!("batch norm, inference: {gap:.1e}");
    assert!(gap < 1e-5, "{gap}");
}

/// Output and input gradient of a resolution change, with facegan's kernels or Burn's.
fn resample_run(fast: bool, x: &TensorData, double: bool) -> (TensorData, TensorData) {
    use_fast_kernels(fast);
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
    let y = if double {
        facegan_model::kernels::upsample(x.clone())
    } else {
        facegan_model::kernels::downsample(x.clone())
    };
    let [n, c, h, w] = y.dims();
    let values: Vec<f32> = (0..n * c * h * w).map(|i| (i as f32 * 0.7).sin()).collect();
    let mix = Tensor::<4>::from_data(TensorData::new(values, [n, c, h, w]), &device);
    let grads = (y.clone() * mix).sum().backward();
    let grad = x.grad(&grads).expect("tracked").into_data();
    use_fast_kernels(true);
    (y.into_data(), grad)
}

#[test]
fn resolution_changes_match_burn_in_value_and_gradient() {
    let _turn = take_turn();
    // A small tensor, and one whose planes the cores split into several tasks.
    for shape in [[3, 5, 6, 8], [2, 40, 32, 32]] {
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count).map(|i| (i as f32 * 0.37).cos()).collect();
        let x = TensorData::new(values, shape);
        for double in [false, true] {
            let (y, grad) = resample_run(true, &x, double);
            let (y_ref, grad_ref) = resample_run(false, &x, double);
            y.assert_approx_eq::<f32>(&y_ref, burn::tensor::Tolerance::absolute(1e-6));
            grad.assert_approx_eq::<f32>(&grad_ref, burn::tensor::Tolerance::absolute(1e-6));
        }
    }
    // By hand: doubling copies each value into a 2x2 block, halving averages it back.
    let x = TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let (up, _) = resample_run(true, &x, true);
    #[rustfmt::skip]
    let expected = vec![
        1.0, 1.0, 2.0, 2.0,
        1.0, 1.0, 2.0, 2.0,
        3.0, 3.0, 4.0, 4.0,
        3.0, 3.0, 4.0, 4.0,
    ];
    assert_eq!(up.try_to_vec::<f32>().unwrap(), expected);
    let (down, _) = resample_run(true, &up, false);
    assert_eq!(down.try_to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
}

/// A convolution with a bias (the ResNet's RGB output and critic layers): facegan's kernels add
/// it after the product; the output and the bias gradient match Burn's.
#[test]
fn a_convolution_with_a_bias_matches_burn() {
    let _turn = take_turn();
    let x = random([4, 3, 9, 9], 41).into_data();
    let conv = Conv2dConfig::new([3, 5], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&Device::flex().autodiff());
    let run = |fast: bool| {
        use_fast_kernels(fast);
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::from_data(x.clone(), &device);
        let y = conv2d(&conv, x);
        let grads = y.clone().powi_scalar(2).sum().backward();
        let bias = conv.bias.as_ref().unwrap().val();
        let bias_grad = bias.grad(&grads).expect("tracked").into_data();
        use_fast_kernels(true);
        (y.into_data(), bias_grad)
    };
    let (y, bias_grad) = run(true);
    let (y_ref, bias_grad_ref) = run(false);
    y.assert_approx_eq::<f32>(&y_ref, burn::tensor::Tolerance::absolute(1e-5));
    bias_grad.assert_approx_eq::<f32>(&bias_grad_ref, burn::tensor::Tolerance::relative(1e-4));
}
