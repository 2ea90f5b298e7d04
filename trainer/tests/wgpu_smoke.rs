//! The wgpu path: the generator gives the same images on wgpu as on the CPU, and the
//! matrix-product convolutions agree with Burn's. On machines without any Vulkan/Metal/DX12
//! adapter (not even Mesa's lavapipe) each test skips, saying so.

use burn::tensor::{Device, Tensor};
use facegan_model::{DcganConfig, load_face_generator, save_generator};
use facegan_trainer::backend::{BackendChoice, Selected, select};
use facegan_trainer::generate::faces_for_seeds;

/// The wgpu device, or `None` after saying why `test` skips.
fn wgpu_or_skip(test: &str) -> Option<Selected> {
    match select(BackendChoice::Wgpu) {
        Ok(selected) => Some(selected),
        Err(error) => {
            println!("SKIPPED {test}: {error:#} (install mesa-vulkan-drivers)");
            None
        }
    }
}

#[test]
fn generator_on_wgpu_matches_the_cpu() {
    let Some(selected) = wgpu_or_skip("generator_on_wgpu_matches_the_cpu") else {
        return;
    };
    println!("wgpu adapter: {}", selected.name);
    let config = DcganConfig::new()
        .with_image_size(32)
        .with_latent_size(16)
        .with_generator_width(8);
    let cpu = Device::flex();
    cpu.seed(3);
    let generator = config.init_generator(&cpu);
    // The same weights on both devices, moved through the web file format.
    let bytes = save_generator(&generator, &config);
    let (on_cpu, config) = load_face_generator(&bytes, &cpu).unwrap();
    let (on_gpu, _) = load_face_generator(&bytes, &selected.device).unwrap();

    let seeds = [1, 2, 3, 4];
    let a = faces_for_seeds(&on_cpu, &config, &seeds, &cpu).unwrap();
    let b = faces_for_seeds(&on_gpu, &config, &seeds, &selected.device).unwrap();
    let worst = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (i32::from(*x) - i32::from(*y)).abs())
        .max()
        .unwrap();
    println!("wgpu vs cpu: worst pixel difference {worst}/255");
    assert!(worst <= 1, "wgpu and cpu disagree by {worst}/255");
    let distinct = a.windows(2).all(|pair| pair[0] != pair[1]);
    assert!(distinct, "different seeds gave identical faces");
}

/// Output and the gradients of input and weight of `run` on `device` (autodiff), under a
/// fixed uneven weighting of the outputs.
fn conv_and_gradients(
    device: &Device,
    x: &burn::tensor::TensorData,
    weight: &burn::tensor::TensorData,
    run: impl Fn(Tensor<4>, Tensor<4>) -> Tensor<4>,
) -> [Vec<f32>; 3] {
    let device = device.clone().autodiff();
    let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
    let weight = Tensor::<4>::from_data(weight.clone(), &device).require_grad();
    let y = run(x.clone(), weight.clone());
    let dims = y.dims();
    let count = dims.iter().product::<usize>();
    let mix: Vec<f32> = (0..count).map(|i| (i as f32 * 0.7).sin()).collect();
    let mix = Tensor::<4>::from_data(burn::tensor::TensorData::new(mix, dims), &device);
    let grads = (y.clone() * mix).sum().backward();
    let values = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    [
        values(y.without_autodiff()),
        values(x.grad(&grads).unwrap()),
        values(weight.grad(&grads).unwrap()),
    ]
}

/// The matrix-product convolutions meant for GPUs (`matmul_conv.rs`), run on wgpu, against
/// Burn's own on the CPU: outputs and both gradients, for a strided, a 3x3 and a transposed
/// convolution of the networks' kinds.
#[test]
fn matmul_convolutions_on_wgpu_match_burn_on_the_cpu() {
    use burn::tensor::module::{conv_transpose2d, conv2d};
    use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
    use facegan_model::kernels::matmul_conv;
    let Some(selected) = wgpu_or_skip("matmul_convolutions_on_wgpu_match_burn_on_the_cpu") else {
        return;
    };
    let random = |shape: [usize; 4], seed: u64| {
        let device = Device::flex();
        device.seed(seed);
        Tensor::<4>::random(shape, burn::tensor::Distribution::Normal(0.0, 1.0), &device)
            .into_data()
    };
    // (name, x, weight, stride, padding, transposed)
    let cases = [
        ("D 4x4 stride 2", [3, 5, 16, 16], [7, 5, 4, 4], 2, 1, false),
        ("ResNet 3x3", [2, 6, 9, 9], [4, 6, 3, 3], 1, 1, false),
        ("G 4x4 stride 2", [3, 6, 5, 5], [6, 4, 4, 4], 2, 1, true),
        ("G projection", [2, 8, 1, 1], [8, 5, 4, 4], 1, 0, true),
    ];
    for (i, (name, x_shape, w_shape, stride, padding, transposed)) in cases.into_iter().enumerate()
    {
        let x = random(x_shape, i as u64);
        let weight = random(w_shape, 10 + i as u64);
        let [s, p] = [[stride; 2], [padding; 2]];
        let (ours, reference) = if transposed {
            let options = ConvTransposeOptions::new(s, p, [0, 0], [1, 1], 1);
            (
                conv_and_gradients(&selected.device, &x, &weight, |x, w| {
                    matmul_conv::conv_transpose2d(x, w, s, p, [0, 0])
                }),
                conv_and_gradients(&Device::flex(), &x, &weight, |x, w| {
                    conv_transpose2d(x, w, None, options.clone())
                }),
            )
        } else {
            let options = ConvOptions::new(s, p, [1, 1], 1);
            (
                conv_and_gradients(&selected.device, &x, &weight, |x, w| {
                    matmul_conv::conv2d(x, w, s, p)
                }),
                conv_and_gradients(&Device::flex(), &x, &weight, |x, w| {
                    conv2d(x, w, None, options.clone())
                }),
            )
        };
        for (what, (a, b)) in ["output", "input gradient", "weight gradient"]
            .iter()
            .zip(ours.iter().zip(&reference))
        {
            let scale = b.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            let gap = a.iter().zip(b).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
            println!("{name}: {what} relative gap {gap:.1e}");
            assert!(gap < 1e-4, "{name}: {what} differs by {gap:.1e} (relative)");
        }
    }
}
