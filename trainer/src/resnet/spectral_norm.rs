//! Spectral normalisation (Miyato et al. 2018): every weight of the discriminator divided by
//! its largest singular value, so that each layer is at most 1-Lipschitz and D cannot grow
//! sharp enough to give the generator useless gradients.
//!
//! The singular value is tracked by power iteration with a persistent vector `u`: one step per
//! training forward, as the paper does. `u` is a running state (like BatchNorm's statistics):
//! saved in checkpoints, never trained, so a resumed run continues the same iteration.

use burn::module::{Module, Param, RunningState};
use burn::nn::Initializer;
use burn::tensor::{Device, Distribution, Tensor};
use facegan_model::kernels::conv2d_with;

/// A 2-D convolution (stride 1, "same" padding) with a spectrally normalised weight.
#[derive(Module, Debug)]
pub struct SnConv2d {
    /// `[c_out, c_in, k, k]`
    weight: Param<Tensor<4>>,
    /// `[c_out]`
    bias: Param<Tensor<1>>,
    /// Estimate of the weight matrix's leading left singular vector, `[c_out]`.
    u: RunningState<Tensor<1>>,
    padding: usize,
}

/// Keeps a norm of zero from dividing by zero.
const EPSILON: f32 = 1e-12;

impl SnConv2d {
    /// A `kernel` x `kernel` convolution from `c_in` to `c_out` channels with Glorot weights
    /// (SNGAN's), a zero bias and a random unit `u`.
    pub fn new(c_in: usize, c_out: usize, kernel: usize, device: &Device) -> Self {
        let fan_in = c_in * kernel * kernel;
        let fan_out = c_out * kernel * kernel;
        let weight = Initializer::XavierUniform { gain: 1.0 }.init_with(
            [c_out, c_in, kernel, kernel],
            Some(fan_in),
            Some(fan_out),
            device,
        );
        let u = unit(Tensor::random(
            [c_out],
            Distribution::Normal(0.0, 1.0),
            device,
        ));
        Self {
            weight,
            bias: Initializer::Zeros.init([c_out], device),
            u: RunningState::new(u),
            padding: kernel / 2,
        }
    }

    /// `[n, c_in, h, w]` -> `[n, c_out, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let padding = [self.padding, self.padding];
        conv2d_with(
            x,
            self.normalised_weight(),
            Some(self.bias.val()),
            [1, 1],
            padding,
        )
    }

    /// The weight over its estimated largest singular value, with the gradient flowing through
    /// the division (u and v are constants to it, as in the paper). Where the weight trains
    /// (an autodiff device, not a scoring copy) this first advances the power iteration.
    pub fn normalised_weight(&self) -> Tensor<4> {
        let weight = self.weight.val();
        let [c_out, c_in, kh, kw] = weight.dims();
        // [c_out, c_in * k * k]
        let matrix = weight.clone().reshape([c_out, c_in * kh * kw]);
        let fixed = matrix.clone().detach();
        let mut u = self.u.value_sync().reshape([1, c_out]);
        // v = W^T u / |W^T u|, as a row: [1, c_in k k]
        let v = unit_rows(u.clone().matmul(fixed.clone()));
        if weight.is_require_grad() {
            // u = W v / |W v|
            u = unit_rows(v.clone().matmul(fixed.transpose()));
            self.u.update(u.clone().reshape([c_out]));
            // Commits the update now, so a checkpoint written after this step holds it.
            let _ = self.u.value_sync();
        }
        // sigma = u^T W v: [1, c_out] x [c_out, ckk] x [ckk, 1]
        let sigma = u.matmul(matrix).matmul(v.transpose());
        weight / sigma.reshape([1, 1, 1, 1])
    }

    /// The current estimate of the largest singular value (no iteration step).
    pub fn sigma(&self) -> f32 {
        let weight = self.weight.val().detach();
        let [c_out, c_in, kh, kw] = weight.dims();
        let matrix = weight.reshape([c_out, c_in * kh * kw]);
        let u = self.u.value_sync().detach().reshape([1, c_out]);
        let v = unit_rows(u.clone().matmul(matrix.clone()));
        let sigma = u.matmul(matrix).matmul(v.transpose());
        sigma.into_data().try_to_vec::<f32>().expect("f32 weights")[0]
    }
}

fn unit(x: Tensor<1>) -> Tensor<1> {
    let norm = x.clone().powi_scalar(2).sum().sqrt().add_scalar(EPSILON);
    x / norm
}

/// Each row of `[1, m]` over its norm.
fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .sqrt()
        .add_scalar(EPSILON);
    x / norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// The largest singular value of a `rows x cols` matrix, from the eigenvalues of `A^T A`
    /// by many power steps in f64: computed directly, independent of the layer's code.
    fn largest_singular_value(values: &[f32], rows: usize, cols: usize) -> f64 {
        let a = |r: usize, c: usize| f64::from(values[r * cols + c]);
        let mut v = vec![1.0f64; cols];
        let mut eigen = 0.0;
        for _ in 0..2000 {
            let av: Vec<f64> = (0..rows)
                .map(|r| (0..cols).map(|c| a(r, c) * v[c]).sum())
                .collect();
            let atav: Vec<f64> = (0..cols)
                .map(|c| (0..rows).map(|r| a(r, c) * av[r]).sum())
                .collect();
            eigen = atav.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = atav.iter().map(|x| x / eigen).collect();
        }
        eigen.sqrt()
    }

    fn weights_of(layer: &SnConv2d) -> (Vec<f32>, usize, usize) {
        let weight = layer.weight.val();
        let [c_out, c_in, kh, kw] = weight.dims();
        let values = weight.into_data().try_to_vec::<f32>().unwrap();
        (values, c_out, c_in * kh * kw)
    }

    #[test]
    fn the_power_iteration_finds_the_largest_singular_value() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let layer = SnConv2d::new(6, 10, 3, &device);
        let (values, rows, cols) = weights_of(&layer);
        let exact = largest_singular_value(&values, rows, cols);
        let first = layer.sigma();
        for _ in 0..100 {
            let _ = layer.normalised_weight();
        }
        let converged = layer.sigma();
        assert!(
            (f64::from(converged) - exact).abs() < 1e-3 * exact,
            "sigma {converged} after 100 steps, exact {exact} (first estimate {first})"
        );
        // The normalised weight then has a largest singular value of 1.
        let normalised = layer
            .normalised_weight()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let unit = largest_singular_value(&normalised, rows, cols);
        assert!(
            (unit - 1.0).abs() < 1e-3,
            "normalised weight's sigma {unit}"
        );
    }

    #[test]
    fn only_a_training_forward_advances_the_iteration() {
        let device = Device::flex().autodiff();
        device.seed(6);
        let layer = SnConv2d::new(3, 4, 3, &device);
        let x = Tensor::<4>::ones([1, 3, 5, 5], &device);
        let u = || {
            layer
                .u
                .value_sync()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let start = u();
        let _ = layer.forward(x.clone());
        let stepped = u();
        assert_ne!(start, stepped, "a training forward moves u");
        let scorer = crate::adversarial::scoring_copy(&layer);
        let _ = scorer.forward(x);
        assert_eq!(stepped, u(), "a scoring copy's forward leaves u alone");
    }

    #[test]
    fn the_vector_survives_a_checkpoint() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let layer = SnConv2d::new(3, 4, 3, &device);
        for _ in 0..3 {
            let _ = layer.normalised_weight();
        }
        let bytes = crate::run::module_bytes(&layer).unwrap();
        device.seed(8);
        let fresh = SnConv2d::new(3, 4, 3, &device);
        let loaded = crate::run::load_module(fresh, bytes).unwrap();
        let u = |l: &SnConv2d| l.u.value_sync().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(u(&layer), u(&loaded));
        let data = TensorData::new(vec![0.5f32; 75], [1, 3, 5, 5]);
        let x = Tensor::<4>::from_data(data, &device);
        assert_eq!(
            layer
                .forward(x.clone())
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            loaded.forward(x).into_data().try_to_vec::<f32>().unwrap()
        );
    }
}
