//! `facegan bench --layers`: the DCGAN's convolutions one at a time at the bench's batch size,
//! on the chosen device, so that a GPU run says which layer and which pass holds a step back.
//! On an H200 (2026-12-04) a step cost no less time per image at batch 512 than at 64: the
//! signature of a kernel whose parallel work does not grow with the batch. Burn runs a
//! transposed convolution's weight gradient (its generic backward, which its GPU backend does
//! not replace) as a convolution of the output gradient with the input as the kernel: a tiny
//! output (`c_in x c_out x k x k`) summed over the batch and the whole map, so its work items
//! stay few however large the batch. Next to it this times two candidates that put the batch
//! into a product's parallel dimensions, and checks that all three agree. (The ResNet, with no
//! such layer but its projection, was as far from the peak, so every layer is timed.)

use std::time::Instant;

use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Gradients, Slice, Tensor};
use facegan_model::{ConvLayer, ConvModule};

use super::wait_for;
use crate::backend::GpuConvolutions;

/// Timed runs of each measurement (after one warm-up, which also takes the autotune).
const RUNS: usize = 5;

/// Prints, for every layer of `layers` at `batch` images: the forward, the forward with the
/// weight gradient, the forward with both gradients (milliseconds, and the forward's GFLOP/s),
/// with Burn's convolutions and with the matrix-product ones; for transposed layers also Burn's
/// weight gradient alone and the two candidates.
pub fn run(layers: &[ConvLayer], batch: usize, device: &Device) {
    println!(
        "{:22}{:>9}{:>9}{:>9}{:>9}  |{:>9}{:>9}{:>9}  |{:>9}{:>9}{:>9}{:>10}",
        "layer",
        "fwd ms",
        "+wgrad",
        "+both",
        "fwd GF/s",
        "matmul",
        "+wgrad",
        "+both",
        "Burn",
        "product",
        "grouped",
        "max diff",
    );
    for layer in layers {
        let name = format!(
            "{} {}->{} {}->{}",
            if layer.transposed { "G" } else { "D" },
            layer.c_in,
            layer.c_out,
            layer.side,
            layer.output_side()
        );
        GpuConvolutions::Burn.select();
        let passes = time_passes(layer, batch, device);
        GpuConvolutions::Matmul.select();
        let matmul = time_passes(layer, batch, device);
        GpuConvolutions::Burn.select();
        let flops = layer.flops() * batch as f64;
        print!(
            "{name:22}{:>9.2}{:>9.2}{:>9.2}{:>9.2}  |{:>9.2}{:>9.2}{:>9.2}",
            passes[0],
            passes[1],
            passes[2],
            flops / passes[0] / 1e6,
            matmul[0],
            matmul[1],
            matmul[2]
        );
        if layer.transposed {
            let [burn, product, grouped, diff] = time_weight_gradients(layer, batch, device);
            print!("  |{burn:>9.2}{product:>9.2}{grouped:>9.2}{diff:>10.1e}");
        }
        println!();
    }
    println!(
        "(ms at batch {batch}, median of {RUNS}; \"+wgrad\" is the forward and the weight \
         gradient with the input untracked, \"+both\" the input's gradient too; Burn's \
         convolutions, then the matrix-product ones (a GPU's; the CPU takes facegan's kernels \
         either way); right of the second bar, a transposed layer's weight gradient alone: Burn's way, one product, and the sum \
         of {} products of image groups, and their largest difference from Burn's relative to \
         its largest value)",
        groups_for(batch)
    );
}

/// `[forward, forward + weight gradient, forward + both gradients]` in ms.
fn time_passes(layer: &ConvLayer, batch: usize, device: &Device) -> [f64; 3] {
    let input = [batch, layer.c_in, layer.side, layer.side];
    let side = layer.output_side();
    let x = Tensor::<4>::random(input, Distribution::Normal(0.0, 1.0), device);
    let module = layer.module(device);
    let forward = median_ms(|run| {
        wait_for(module.forward(x.clone().add_scalar(run)).sum());
    });
    let train = device.clone().autodiff();
    let module = layer.module(&train);
    let x = Tensor::<4>::from_data(x.to_data(), &train);
    // A random upstream gradient: a constant one might be specialised.
    let upstream = Tensor::<4>::random(
        [batch, layer.c_out, side, side],
        Distribution::Normal(0.0, 1.0),
        &train,
    );
    let backward = |x: Tensor<4>, run: f32| {
        let grads = (module.forward(x.clone().add_scalar(run)) * upstream.clone())
            .sum()
            .backward();
        wait_for(weight_grad(&module, &grads).sum());
        if let Some(grad) = x.grad(&grads) {
            wait_for(grad.sum());
        }
    };
    let weight = median_ms(|run| backward(x.clone(), run));
    let both = median_ms(|run| backward(x.clone().require_grad(), run));
    [forward, weight, both]
}

/// The gradient of `module`'s kernel in `grads`.
fn weight_grad(module: &ConvModule, grads: &Gradients) -> Tensor<4> {
    module
        .weight()
        .grad(grads)
        .expect("the weight is trainable")
}

/// Image groups of the grouped candidate: enough products to fill a GPU at small layers, each
/// over several images.
fn groups_for(batch: usize) -> usize {
    (1..=batch.min(32))
        .rev()
        .find(|g| batch.is_multiple_of(*g))
        .unwrap_or(1)
}

/// A transposed layer's weight gradient three ways on the same tensors:
/// `[Burn's way ms, one product ms, grouped products ms, largest difference from Burn's]`.
fn time_weight_gradients(layer: &ConvLayer, batch: usize, device: &Device) -> [f64; 4] {
    let side = layer.output_side();
    let normal = Distribution::Normal(0.0, 1.0);
    let x = Tensor::<4>::random([batch, layer.c_in, layer.side, layer.side], normal, device);
    let dy = Tensor::<4>::random([batch, layer.c_out, side, side], normal, device);
    let groups = groups_for(batch);
    let reference = weight_grad_as_convolution(x.clone(), dy.clone(), layer);
    let burn = median_ms(|run| {
        wait_for(weight_grad_as_convolution(x.clone().add_scalar(run), dy.clone(), layer).sum());
    });
    let product = median_ms(|run| {
        wait_for(weight_grad_by_products(x.clone().add_scalar(run), dy.clone(), layer, 1).sum());
    });
    let grouped = median_ms(|run| {
        wait_for(
            weight_grad_by_products(x.clone().add_scalar(run), dy.clone(), layer, groups).sum(),
        );
    });
    let scale = reference
        .clone()
        .abs()
        .max()
        .into_scalar::<f32>()
        .max(1e-12);
    let diff = [1, groups]
        .into_iter()
        .map(|g| {
            let ours = weight_grad_by_products(x.clone(), dy.clone(), layer, g);
            (ours - reference.clone()).abs().max().into_scalar::<f32>() / scale
        })
        .fold(0.0f32, f32::max);
    [burn, product, grouped, f64::from(diff)]
}

/// A transposed convolution's weight gradient as Burn's generic backward computes it: the
/// output gradient, batch and channels swapped, convolved with the input as the kernel (the
/// forward's stride as dilation).
/// `x` `[n, c_in, h, w]`, `dy` `[n, c_out, h', w']` -> `[c_in, c_out, k, k]`
fn weight_grad_as_convolution(x: Tensor<4>, dy: Tensor<4>, layer: &ConvLayer) -> Tensor<4> {
    let k = layer.kernel;
    let options = ConvOptions::new([1, 1], [layer.padding; 2], [layer.stride; 2], 1);
    // [c_out, n, h', w'] * [c_in, n, h, w] -> [c_out, c_in, k', k'] (k' >= k)
    let swapped =
        burn::tensor::module::conv2d(dy.swap_dims(0, 1), x.swap_dims(0, 1), None, options);
    swapped
        .swap_dims(0, 1)
        .slice([0..layer.c_in, 0..layer.c_out, 0..k, 0..k])
}

/// The same gradient as products that run over the batch: each input pixel meets the
/// `c_out x k x k` patch of the output gradient it was spread over (a strided slice per kernel
/// tap), and `dW = x [c_in, n h w] x patches [n h w, c_out k k]`, summed over `groups` products
/// of `n / groups` images each. `x` `[n, c_in, h, w]`, `dy` `[n, c_out, h', w']` ->
/// `[c_in, c_out, k, k]`
fn weight_grad_by_products(
    x: Tensor<4>,
    dy: Tensor<4>,
    layer: &ConvLayer,
    groups: usize,
) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [_, c_out, side, _] = dy.dims();
    let (k, s, p) = (layer.kernel, layer.stride, layer.padding);
    assert!(
        n.is_multiple_of(groups),
        "{groups} groups do not divide a batch of {n}"
    );
    // Rows the taps reach: input row i meets output rows i s - p .. i s - p + k.
    let reach = (h - 1) * s + k;
    let after = (reach - p).saturating_sub(side); // 0 when padding_out covers the end
    let dy = dy
        .pad(
            (p, after, p, after),
            burn::tensor::ops::PadMode::Constant(0.0),
        )
        .slice([0..n, 0..c_out, 0..reach, 0..reach]);
    let range = |tap: usize| {
        Slice::new(
            tap as isize,
            Some((tap + (h - 1) * s + 1) as isize),
            s as isize,
        )
    };
    let mut taps = Vec::with_capacity(k * k);
    for row in 0..k {
        for column in 0..k {
            let all = |len: usize| Slice::new(0, Some(len as isize), 1);
            taps.push(
                dy.clone()
                    .slice([all(n), all(c_out), range(row), range(column)]),
            );
        }
    }
    let per_group = n / groups;
    // [n, c_out, k k, h, w] -> [groups, n / groups, c_out k k, h w] -> [groups, n / groups h w, c_out k k]
    let patches = Tensor::<4>::stack::<5>(taps, 2)
        .reshape([groups, per_group, c_out * k * k, h * w])
        .permute([0, 1, 3, 2])
        .reshape([groups, per_group * h * w, c_out * k * k]);
    // [n, c_in, h, w] -> [groups, c_in, n / groups h w]
    let x = x
        .reshape([groups, per_group, c_in, h * w])
        .permute([0, 2, 1, 3])
        .reshape([groups, c_in, per_group * h * w]);
    // [groups, c_in, c_out k k] -> [c_in, c_out, k, k]
    x.matmul(patches).sum_dim(0).reshape([c_in, c_out, k, k])
}

/// Median milliseconds of `RUNS` calls of `f`, after one warm-up. `f` is given the run's number
/// to make its input differ from run to run.
fn median_ms(mut f: impl FnMut(f32)) -> f64 {
    f(0.0);
    let mut times: Vec<f64> = (1..=RUNS)
        .map(|run| {
            let start = Instant::now();
            f(run as f32);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use facegan_model::DcganConfig;

    /// Both candidates against Burn's autodiff on every transposed layer shape of the DCGAN
    /// (kernel 4 and 5), at small widths and an odd batch.
    #[test]
    fn products_give_the_transposed_convolutions_weight_gradient() {
        let device = Device::flex();
        for kernel in [4, 5] {
            let config = DcganConfig::new()
                .with_image_size(32)
                .with_kernel_size(kernel)
                .with_latent_size(6)
                .with_generator_width(4)
                .with_discriminator_width(4);
            for layer in config.conv_layers().iter().filter(|l| l.transposed) {
                let batch = 3;
                let train = device.clone().autodiff();
                let module = layer.module(&train);
                let normal = Distribution::Normal(0.0, 1.0);
                let x = Tensor::<4>::random(
                    [batch, layer.c_in, layer.side, layer.side],
                    normal,
                    &train,
                );
                let side = layer.output_side();
                let dy = Tensor::<4>::random([batch, layer.c_out, side, side], normal, &train);
                let grads = (module.forward(x.clone()) * dy.clone()).sum().backward();
                let expected = weight_grad(&module, &grads).into_data();
                for groups in [1, 3] {
                    let ours = weight_grad_by_products(
                        x.clone().inner(),
                        dy.clone().inner(),
                        layer,
                        groups,
                    );
                    ours.into_data().assert_approx_eq::<f32>(
                        &expected,
                        burn::tensor::Tolerance::rel_abs(1e-4, 1e-4),
                    );
                }
                let burn = weight_grad_as_convolution(x.inner(), dy.inner(), layer);
                burn.into_data().assert_approx_eq::<f32>(
                    &expected,
                    burn::tensor::Tolerance::rel_abs(1e-4, 1e-4),
                );
            }
        }
    }
}
