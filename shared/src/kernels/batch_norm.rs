//! Training-mode BatchNorm on NCHW slices, for the flex backward step in `flex.rs`. Burn's
//! default runs it as a dozen tensor ops, each a pass over the activations plus the transposes
//! `swap_dims` forces; here the statistics are one read, the normalisation one read and write,
//! the backward two reads and a write. The activation after it (ReLU, LeakyReLU) rides along
//! in the same passes, where on its own it was one more pass each way.

use rayon::prelude::*;

use super::activation::{leaky_relu, leaky_relu_grad};
use super::buffer::zeros;

/// How an NCHW tensor is laid out: `batch` images of `channels` planes of `plane` values.
#[derive(Debug, Clone, Copy)]
pub struct Planes {
    pub batch: usize,
    pub channels: usize,
    pub plane: usize,
}

/// Values a parallel task should at least cover: below that rayon's overhead shows (a
/// generator at batch 1 has 512 planes of 16 values).
const TASK: usize = 1 << 14;

impl Planes {
    fn count(&self) -> f64 {
        (self.batch * self.plane) as f64
    }

    /// Planes (or channels) a task should at least take.
    fn min_planes(&self, plane: usize) -> usize {
        (TASK / plane.max(1)).max(1)
    }

    /// Channel `c`'s planes, one per image.
    fn of<'a>(&self, values: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> {
        let (plane, channels) = (self.plane, self.channels);
        (0..self.batch).map(move |n| &values[(n * channels + c) * plane..][..plane])
    }
}

/// Each channel's mean and biased variance over the batch and the plane (sums in f64, so the
/// statistics of 100,000 values keep f32 precision), as `[means..., variances...]`.
pub fn statistics(x: &[f32], layout: Planes) -> Vec<f32> {
    let (means, variances): (Vec<f32>, Vec<f32>) = (0..layout.channels)
        .into_par_iter()
        .with_min_len(layout.min_planes(layout.batch * layout.plane))
        .map(|c| {
            let sum: f64 = layout
                .of(x, c)
                .map(|plane| plane.iter().map(|&v| v as f64).sum::<f64>())
                .sum();
            let mean = sum / layout.count();
            let squares: f64 = layout
                .of(x, c)
                .map(|plane| {
                    plane
                        .iter()
                        .map(|&v| (v as f64 - mean).powi(2))
                        .sum::<f64>()
                })
                .sum();
            (mean as f32, (squares / layout.count()) as f32)
        })
        .unzip();
    [means, variances].concat()
}

/// The affine map `v * scale + shift` that BatchNorm applies to channel `c`: one formula for
/// the forward and the backward, so that both see the same outputs (and the activation the
/// same signs).
#[inline]
fn affine(c: usize, gamma: &[f32], beta: &[f32], stats: &[f32], epsilon: f32) -> (f32, f32) {
    let (means, variances) = stats.split_at(gamma.len());
    let scale = gamma[c] / (variances[c] + epsilon).sqrt();
    (scale, beta[c] - means[c] * scale)
}

/// `(x - mean) / sqrt(var + epsilon) * gamma + beta`, channel by channel, followed by
/// LeakyReLU of slope `activation` when given (ReLU at 0): one pass where two were.
pub fn normalize(
    x: &[f32],
    layout: Planes,
    gamma: &[f32],
    beta: &[f32],
    stats: &[f32],
    epsilon: f32,
    activation: Option<f32>,
) -> Vec<f32> {
    let mut out = zeros(x.len());
    out.par_chunks_mut(layout.plane)
        .zip(x.par_chunks(layout.plane))
        .enumerate()
        .with_min_len(layout.min_planes(layout.plane))
        .for_each(|(index, (out, x))| {
            let c = index % layout.channels;
            let (scale, shift) = affine(c, gamma, beta, stats, epsilon);
            match activation {
                Some(slope) => {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = leaky_relu(v * scale + shift, slope);
                    }
                }
                None => {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = v * scale + shift;
                    }
                }
            }
        });
    out
}

/// Gradients of [`normalize`] with batch statistics (the statistics depend on `x` too) with
/// respect to `x`, `gamma` and `beta`, given the output's gradient `grad`, which is overwritten
/// by `x`'s gradient (it is read only at the same index, after the sums): returns `gamma`'s and
/// `beta`'s. With an `activation`, `grad` is the activation's output gradient: each pass
/// recomputes the normalised value to take the activation's slope, rather than store it.
#[allow(clippy::too_many_arguments)] // the forward's inputs, as `normalize` takes them
pub fn normalize_grad(
    x: &[f32],
    grad: &mut [f32],
    layout: Planes,
    gamma: &[f32],
    beta: &[f32],
    stats: &[f32],
    epsilon: f32,
    activation: Option<f32>,
) -> (Vec<f32>, Vec<f32>) {
    let means = &stats[..layout.channels];
    let inv_std: Vec<f32> = stats[layout.channels..]
        .iter()
        .map(|&v| 1.0 / (v + epsilon).sqrt())
        .collect();
    // The gradient reaching BatchNorm's output at input value `v` of channel `c`.
    let through = |c: usize| {
        let (scale, shift) = affine(c, gamma, beta, stats, epsilon);
        move |g: f32, v: f32| match activation {
            Some(slope) => leaky_relu_grad(g, v * scale + shift, slope),
            None => g,
        }
    };
    // Per channel: the sum of the gradient (beta's gradient) and of the gradient times the
    // normalised input (gamma's gradient).
    let (beta_grad, gamma_grad): (Vec<f32>, Vec<f32>) = (0..layout.channels)
        .into_par_iter()
        .with_min_len(layout.min_planes(layout.batch * layout.plane))
        .map(|c| {
            let through = through(c);
            let (mut sum, mut dot) = (0.0f64, 0.0f64);
            for (x, g) in layout.of(x, c).zip(layout.of(&*grad, c)) {
                for (&v, &g) in x.iter().zip(g) {
                    let g = through(g, v);
                    sum += g as f64;
                    dot += g as f64 * (v - means[c]) as f64;
                }
            }
            (sum as f32, (dot * inv_std[c] as f64) as f32)
        })
        .unzip();
    let count = layout.count() as f32;
    grad.par_chunks_mut(layout.plane)
        .zip(x.par_chunks(layout.plane))
        .enumerate()
        .with_min_len(layout.min_planes(layout.plane))
        .for_each(|(index, (g, x))| {
            let c = index % layout.channels;
            let through = through(c);
            // dx = gamma / std * (g - mean(g) - xhat * mean(g * xhat))
            let scale = gamma[c] * inv_std[c];
            let mean_grad = beta_grad[c] / count;
            let projection = gamma_grad[c] / count * inv_std[c];
            for (g, &v) in g.iter_mut().zip(x) {
                *g = scale * (through(*g, v) - mean_grad - (v - means[c]) * projection);
            }
        });
    (gamma_grad, beta_grad)
}
