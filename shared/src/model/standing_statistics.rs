//! "Standing statistics" (Brock et al. 2019, BigGAN): BatchNorm statistics measured on the
//! final weights instead of the running averages kept during training.
//!
//! The running averages trail the weights by the momentum's window, and a moving average of the
//! generator's weights (what the trainer ships) averages them with the weights, although the mean
//! of the statistics is not the statistics of the mean weights. Either way the inference
//! normalisation is slightly off, which shows as washed-out or over-saturated faces. Measuring
//! each layer's mean and variance over many latents, with the layers before it already
//! normalised by their measured statistics, gives the population statistics of these weights.

use burn::tensor::Tensor;

use super::Generator;
use crate::batch_moments::BatchMoments;
use crate::kernels::conv_transpose2d;

impl Generator {
    /// Replaces every BatchNorm's running mean and variance by the population statistics of the
    /// generator's activations over `latents` (each `[n, latent, 1, 1]`), layer by layer.
    /// Panics when `latents` is empty.
    pub fn with_standing_statistics(mut self, latents: &[Tensor<4>]) -> Self {
        assert!(!latents.is_empty(), "standing statistics need latents");
        for index in 0..self.blocks.len() {
            let mut moments = BatchMoments::new(self.blocks[index].norm.gamma.dims()[0]);
            for z in latents {
                // [n, latent, 1, 1] -> ... -> input of block `index`
                let input = self.blocks[..index]
                    .iter()
                    .fold(z.clone(), |x, block| block.forward(x));
                moments.add(conv_transpose2d(&self.blocks[index].conv, input));
            }
            moments.set_on(&mut self.blocks[index].norm);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use crate::DcganConfig;
    use crate::batch_moments::worst_normalisation_error;

    use super::*;

    /// The worst normalisation error of any BatchNorm over `latents` (see
    /// [`worst_normalisation_error`]).
    fn worst_error(generator: &Generator, latents: &[Tensor<4>]) -> f64 {
        let mut inputs: Vec<Tensor<4>> = latents.to_vec();
        let mut worst = 0.0f64;
        for block in &generator.blocks {
            let normalised: Vec<Tensor<4>> = inputs
                .iter()
                .map(|x| block.norm.forward(conv_transpose2d(&block.conv, x.clone())))
                .collect();
            worst = worst.max(worst_normalisation_error(
                &block.norm,
                Tensor::cat(normalised, 0),
            ));
            inputs = inputs.into_iter().map(|x| block.forward(x)).collect();
        }
        worst
    }

    #[test]
    fn standing_statistics_normalise_every_layer_exactly() {
        let device = Device::flex();
        device.seed(3);
        let config = DcganConfig::new()
            .with_image_size(32)
            .with_generator_width(8)
            .with_latent_size(16);
        let generator = config.init_generator(&device);
        let latents: Vec<Tensor<4>> = (0..4)
            .map(|_| Tensor::random([64, 16, 1, 1], Distribution::Normal(0.0, 1.0), &device))
            .collect();

        // Fresh running statistics (mean 0, variance 1) are far from the real ones: the
        // convolutions' N(0, 0.02) weights give tiny activations.
        let before = worst_error(&generator, &latents);
        let calibrated = generator.with_standing_statistics(&latents);
        let after = worst_error(&calibrated, &latents);
        println!("worst normalisation error: {before:.3} before, {after:.5} after");
        assert!(before > 0.5, "the test needs stale statistics ({before})");
        // Only BatchNorm's epsilon (1e-5) against variances of ~1e-2 stands between them.
        assert!(after < 0.01, "{after}");
    }
}
