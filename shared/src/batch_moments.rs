//! Per-channel population moments of a BatchNorm's input, gathered over many batches: what
//! "standing statistics" (Brock et al. 2019, BigGAN) put in place of the running averages a
//! generator kept during training. Both generators measure theirs with it
//! (`model/standing_statistics.rs`, `resnet/generator.rs`).

use burn::module::RunningState;
use burn::nn::BatchNorm;
use burn::tensor::{Tensor, TensorData};

/// Sums of values and squares per channel, in f64: the last layers see millions of values a
/// channel.
#[derive(Debug, Clone)]
pub struct BatchMoments {
    sum: Vec<f64>,
    sum_of_squares: Vec<f64>,
    count: usize,
}

impl BatchMoments {
    pub fn new(channels: usize) -> Self {
        Self {
            sum: vec![0.0; channels],
            sum_of_squares: vec![0.0; channels],
            count: 0,
        }
    }

    /// Adds a batch of activations `[n, c, h, w]`.
    pub fn add(&mut self, activation: Tensor<4>) {
        let [n, c, h, w] = activation.dims();
        assert_eq!(c, self.sum.len(), "channels of the activations");
        // [n, c, h, w] -> [c, n * h * w]
        let by_channel = activation.swap_dims(0, 1).reshape([c, n * h * w]);
        let batch_sum = by_channel.clone().sum_dim(1).into_data();
        let batch_squares = by_channel.square().sum_dim(1).into_data();
        for (total, value) in self.sum.iter_mut().zip(floats(batch_sum)) {
            *total += value;
        }
        for (total, value) in self.sum_of_squares.iter_mut().zip(floats(batch_squares)) {
            *total += value;
        }
        self.count += n * h * w;
    }

    /// Makes these moments `norm`'s inference statistics (biased variance, as BatchNorm's own
    /// batch statistics are). Panics when no values were added.
    pub fn set_on(&self, norm: &mut BatchNorm) {
        assert!(self.count > 0, "moments of no values");
        let count = self.count as f64;
        let mean: Vec<f32> = self.sum.iter().map(|s| (s / count) as f32).collect();
        let variance: Vec<f32> = self
            .sum
            .iter()
            .zip(&self.sum_of_squares)
            .map(|(s, q)| {
                let mean = s / count;
                (q / count - mean * mean).max(0.0) as f32
            })
            .collect();
        let channels = mean.len();
        let device = norm.gamma.device();
        norm.running_mean = RunningState::new(Tensor::from_data(
            TensorData::new(mean, [channels]),
            &device,
        ));
        norm.running_var = RunningState::new(Tensor::from_data(
            TensorData::new(variance, [channels]),
            &device,
        ));
    }
}

fn floats(data: TensorData) -> impl Iterator<Item = f64> {
    data.iter::<f32>()
        .map(f64::from)
        .collect::<Vec<_>>()
        .into_iter()
}

/// How far `normalised`, the inference output of `norm` over some batches (`[n, c, h, w]`,
/// before any activation), is from what the layer promises: per-channel mean `beta` and
/// standard deviation `|gamma|`. The worst channel's distance relative to `|gamma|`; zero
/// means the layer's statistics are the data's. Both generators' standing-statistics tests.
#[cfg(test)]
pub(crate) fn worst_normalisation_error(norm: &BatchNorm, normalised: Tensor<4>) -> f64 {
    let [n, c, h, w] = normalised.dims();
    let by_channel = normalised.swap_dims(0, 1).reshape([c, n * h * w]);
    let mean = by_channel.clone().mean_dim(1);
    let deviation = by_channel.sub(mean.clone()).square().mean_dim(1).sqrt();
    let values = |t: Tensor<2>| floats(t.into_data()).collect::<Vec<f64>>();
    let gamma = values(norm.gamma.val().reshape([c, 1]));
    let beta = values(norm.beta.val().reshape([c, 1]));
    let mut worst = 0.0f64;
    for (((m, d), g), b) in values(mean)
        .into_iter()
        .zip(values(deviation))
        .zip(gamma)
        .zip(beta)
    {
        let g = g.abs();
        worst = worst.max((m - b).abs() / g).max((d - g).abs() / g);
    }
    worst
}
