//! DiffAugment (Zhao et al., 2020): the same kinds of random, differentiable changes applied to
//! real and generated images every time the discriminator sees them, in the generator's step
//! too, so D cannot memorise a small data set and G still gets gradients through the change.
//! Each call draws fresh parameters per image from the run's random stream (a resumed run
//! draws the same ones).

use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::SplitMix64;
use serde::{Deserialize, Serialize};

/// One augmentation policy of `--augment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Brightness (+-0.5), saturation (x0 to x2) and contrast (x0.5 to x1.5) per image.
    Color,
    /// A shift of up to 1/8 of the image side in each direction, zeros shifted in.
    Translation,
    /// A square of half the image side, anywhere (partly outside), set to zero.
    Cutout,
}

/// The policies a run applies, in the order given.
pub fn augment(x: Tensor<4>, policies: &[Policy], rng: &mut SplitMix64) -> Tensor<4> {
    policies.iter().fold(x, |x, policy| policy.apply(x, rng))
}

impl Policy {
    /// `[n, c, h, w]` -> `[n, c, h, w]`
    fn apply(self, x: Tensor<4>, rng: &mut SplitMix64) -> Tensor<4> {
        match self {
            Self::Color => color(x, rng),
            Self::Translation => translation(x, rng, 0.125),
            Self::Cutout => cutout(x, rng, 0.5),
        }
    }
}

/// `[n, 1, 1, 1]` uniform factors in `[low, high)`, one per image.
fn per_image(rng: &mut SplitMix64, n: usize, low: f64, high: f64, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..n).map(|_| rng.uniform(low, high) as f32).collect();
    Tensor::from_data(TensorData::new(values, [n, 1, 1, 1]), device)
}

/// `ratio` of an image side, in whole pixels.
fn part_of(side: usize, ratio: f64) -> usize {
    (side as f64 * ratio).round() as usize
}

fn color(x: Tensor<4>, rng: &mut SplitMix64) -> Tensor<4> {
    let [n, _, _, _] = x.dims();
    let device = x.device();
    let x = x + per_image(rng, n, -0.5, 0.5, &device);
    let mean = x.clone().mean_dim(1);
    let x = (x - mean.clone()) * per_image(rng, n, 0.0, 2.0, &device) + mean;
    let mean = x.clone().mean_dim(1).mean_dim(2).mean_dim(3);
    (x - mean.clone()) * per_image(rng, n, 0.5, 1.5, &device) + mean
}

fn translation(x: Tensor<4>, rng: &mut SplitMix64, ratio: f64) -> Tensor<4> {
    let [n, _, h, w] = x.dims();
    let [reach_y, reach_x] = [h, w].map(|side| part_of(side, ratio));
    if reach_y == 0 && reach_x == 0 {
        return x;
    }
    let padded = x.pad((reach_x, reach_x, reach_y, reach_y), PadMode::Constant(0.0));
    // Image i shows the padded window whose corner is shifted by up to `reach` either way.
    let shifted = (0..n)
        .map(|i| {
            let top = rng.below(2 * reach_y + 1);
            let left = rng.below(2 * reach_x + 1);
            padded
                .clone()
                .slice([i..i + 1, 0..padded.dims()[1], top..top + h, left..left + w])
        })
        .collect();
    Tensor::cat(shifted, 0)
}

fn cutout(x: Tensor<4>, rng: &mut SplitMix64, ratio: f64) -> Tensor<4> {
    let [n, _, h, w] = x.dims();
    let [side_y, side_x] = [h, w].map(|side| part_of(side, ratio));
    let mut mask = vec![1.0f32; n * h * w];
    for image in mask.chunks_exact_mut(h * w) {
        // The square's centre anywhere in the image: up to half of it may fall outside.
        let (cy, cx) = (rng.below(h), rng.below(w));
        let rows = cy.saturating_sub(side_y / 2)..(cy + side_y.div_ceil(2)).min(h);
        let cols = cx.saturating_sub(side_x / 2)..(cx + side_x.div_ceil(2)).min(w);
        for y in rows {
            image[y * w..][cols.clone()].fill(0.0);
        }
    }
    let mask = Tensor::<4>::from_data(TensorData::new(mask, [n, 1, h, w]), &x.device());
    x * mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(device: &Device) -> Tensor<4> {
        let values: Vec<f32> = (0..2 * 3 * 16 * 16)
            .map(|i| (i % 97) as f32 / 97.0)
            .collect();
        Tensor::from_data(TensorData::new(values, [2, 3, 16, 16]), device)
    }

    fn values(x: Tensor<4>) -> Vec<f32> {
        x.into_data().try_into_vec::<f32>().expect("f32")
    }

    #[test]
    fn translation_moves_every_pixel_by_one_shift_per_image_and_fills_zeros() {
        let device = Device::flex();
        let x = ramp(&device);
        let original = values(x.clone());
        let shifted = values(translation(x, &mut SplitMix64::new(3), 0.125));
        for image in 0..2 {
            let plane = |v: &[f32], c: usize, y: isize, x: isize| -> f32 {
                if (0..16).contains(&y) && (0..16).contains(&x) {
                    v[((image * 3 + c) * 16 + y as usize) * 16 + x as usize]
                } else {
                    0.0
                }
            };
            // Find the shift that explains the image, then check it explains every pixel.
            let found = (-2..=2)
                .flat_map(|dy| (-2..=2).map(move |dx| (dy, dx)))
                .find(|&(dy, dx)| {
                    (0..3).all(|c| {
                        (0..16).all(|y| {
                            (0..16).all(|x| {
                                plane(&shifted, c, y, x) == plane(&original, c, y + dy, x + dx)
                            })
                        })
                    })
                });
            assert!(
                found.is_some(),
                "image {image} is not a shift of at most 2 pixels"
            );
        }
    }

    #[test]
    fn cutout_zeros_one_square_of_half_the_side_at_most() {
        let device = Device::flex();
        let x = Tensor::<4>::ones([4, 3, 16, 16], &device);
        let out = values(cutout(x, &mut SplitMix64::new(5), 0.5));
        for image in out.chunks_exact(3 * 256) {
            let zeros = image[..256].iter().filter(|&&v| v == 0.0).count();
            assert!((1..=64).contains(&zeros), "{zeros} pixels cut");
            // Every channel is cut alike.
            assert_eq!(image[..256], image[256..512]);
        }
    }

    #[test]
    fn color_keeps_shapes_and_passes_gradients_and_draws_are_reproducible() {
        let device = Device::flex().autodiff();
        let x = ramp(&device).require_grad();
        let policies = [Policy::Color, Policy::Translation, Policy::Cutout];
        let a = augment(x.clone(), &policies, &mut SplitMix64::new(9));
        let b = augment(x.clone(), &policies, &mut SplitMix64::new(9));
        assert_eq!(a.dims(), [2, 3, 16, 16]);
        assert_eq!(
            a.to_data(),
            b.to_data(),
            "the same stream gives the same images"
        );
        let grads = a.sum().backward();
        let grad = values(x.grad(&grads).expect("tracked").without_autodiff());
        assert!(grad.iter().any(|&g| g != 0.0), "gradients reach the input");
    }
}
