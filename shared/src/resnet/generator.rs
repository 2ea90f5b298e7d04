use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::ResnetConfig;
use crate::batch_moments::BatchMoments;
use crate::kernels::{add, batch_norm_relu, conv_transpose2d, conv2d, tanh, upsample};

/// A residual block of the generator: BatchNorm, ReLU, (doubling), 3x3 conv, BatchNorm, ReLU,
/// 3x3 conv, added to the (doubled, 1x1-convolved where the width changes) input.
#[derive(Module, Debug)]
pub struct UpBlock {
    pub(super) norm1: BatchNorm,
    pub(super) conv1: Conv2d,
    pub(super) norm2: BatchNorm,
    pub(super) conv2: Conv2d,
    pub(super) shortcut: Option<Conv2d>,
    upsample: bool,
}

impl UpBlock {
    fn new(c_in: usize, c_out: usize, upsample: bool, device: &Device) -> Self {
        Self {
            norm1: BatchNormConfig::new(c_in).init(device),
            conv1: conv3x3(c_in, c_out, false, device),
            norm2: BatchNormConfig::new(c_out).init(device),
            conv2: conv3x3(c_out, c_out, false, device),
            shortcut: (c_in != c_out).then(|| {
                Conv2dConfig::new([c_in, c_out], [1, 1])
                    .with_bias(false)
                    .init(device)
            }),
            upsample,
        }
    }

    /// `[n, c_in, h, w]` -> `[n, c_out, 2h, 2w]` (or `[n, c_out, h, w]` without doubling)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let double = |x: Tensor<4>| if self.upsample { upsample(x) } else { x };
        let h = self.second_norm_input(x.clone());
        let h = conv2d(&self.conv2, batch_norm_relu(&self.norm2, h));
        // A 1x1 convolution commutes with nearest doubling: run it on the small map.
        let skip = match &self.shortcut {
            Some(conv) => conv2d(conv, x),
            None => x,
        };
        add(h, double(skip))
    }

    /// What `norm2` normalises: `[n, c_in, h, w]` -> `[n, c_out, 2h, 2w]` (or `h, w`)
    fn second_norm_input(&self, x: Tensor<4>) -> Tensor<4> {
        let h = batch_norm_relu(&self.norm1, x);
        conv2d(&self.conv1, if self.upsample { upsample(h) } else { h })
    }
}

/// Weights start as Burn's (and PyTorch's) default uniform initialisation: BatchNorm follows
/// every hidden convolution, so their scale does not matter.
///
/// Maps a latent `[n, latent, 1, 1]` to images `[n, 3, size, size]` in [-1, 1]: a projection
/// to 4x4, one doubling residual block per resolution (and `depth - 1` more at each), then
/// BatchNorm, ReLU, a 3x3 convolution to RGB and Tanh.
#[derive(Module, Debug)]
pub struct ResnetGenerator {
    pub(super) project: ConvTranspose2d,
    pub(super) blocks: Vec<UpBlock>,
    pub(super) norm: BatchNorm,
    pub(super) output: Conv2d,
}

impl ResnetConfig {
    /// Builds a freshly initialised generator. Panics on an invalid config: call
    /// [`ResnetConfig::validate`] first where the config comes from a user.
    pub fn init_generator(&self, device: &Device) -> ResnetGenerator {
        self.validate().expect("invalid ResNet config");
        // A dense layer from z to a 4x4 map, as a transposed convolution of the 1x1 latent.
        let project =
            ConvTranspose2dConfig::new([self.latent_size, self.generator_channels(0)], [4, 4])
                .with_bias(false)
                .init(device);
        let mut blocks = Vec::new();
        let mut c_in = self.generator_channels(0);
        for stage in 0..self.doublings() {
            let c_out = self.generator_channels(stage);
            blocks.push(UpBlock::new(c_in, c_out, true, device));
            for _ in 1..self.depth {
                blocks.push(UpBlock::new(c_out, c_out, false, device));
            }
            c_in = c_out;
        }
        ResnetGenerator {
            project,
            blocks,
            norm: BatchNormConfig::new(c_in).init(device),
            output: conv3x3(c_in, 3, true, device),
        }
    }
}

impl ResnetGenerator {
    /// `[n, latent, 1, 1]` -> `[n, 3, size, size]`
    /// The projection and the first residual block: `[n, latent, 1, 1]` -> `[n, 8g, 8, 8]`.
    pub fn first_layer(&self, z: Tensor<4>) -> Tensor<4> {
        self.blocks[0].forward(conv_transpose2d(&self.project, z))
    }

    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        // [n, latent, 1, 1] -> [n, 8g, 4, 4]
        let x = conv_transpose2d(&self.project, z);
        // -> [n, 8g, 8, 8] -> [n, 4g, 16, 16] -> ... -> [n, g, size, size]
        let x = self.blocks.iter().fold(x, |x, block| block.forward(x));
        // -> [n, 3, size, size]
        tanh(conv2d(&self.output, batch_norm_relu(&self.norm, x)))
    }

    /// Replaces every BatchNorm's running mean and variance by the population statistics of
    /// its input over `latents` (each `[n, latent, 1, 1]`), layer by layer in forward order, so
    /// each layer is measured with the ones before it already normalised by theirs ("standing
    /// statistics", see [`crate::batch_moments`]). Panics when `latents` is empty.
    pub fn with_standing_statistics(mut self, latents: &[Tensor<4>]) -> Self {
        assert!(!latents.is_empty(), "standing statistics need latents");
        for index in 0..self.norm_count() {
            let mut moments = BatchMoments::new(self.norm(index).gamma.dims()[0]);
            for z in latents {
                moments.add(self.norm_input(z.clone(), index));
            }
            moments.set_on(self.norm_mut(index));
        }
        self
    }

    /// BatchNorm layers: two a block, then the one before the RGB convolution.
    fn norm_count(&self) -> usize {
        2 * self.blocks.len() + 1
    }

    /// BatchNorm `index` in forward order.
    fn norm(&self, index: usize) -> &BatchNorm {
        match self.blocks.get(index / 2) {
            Some(block) if index.is_multiple_of(2) => &block.norm1,
            Some(block) => &block.norm2,
            None => &self.norm,
        }
    }

    /// [`Self::norm`], to change.
    fn norm_mut(&mut self, index: usize) -> &mut BatchNorm {
        match self.blocks.get_mut(index / 2) {
            Some(block) if index.is_multiple_of(2) => &mut block.norm1,
            Some(block) => &mut block.norm2,
            None => &mut self.norm,
        }
    }

    /// The input of BatchNorm `index` (forward order) for latents `z` `[n, latent, 1, 1]`.
    fn norm_input(&self, z: Tensor<4>, index: usize) -> Tensor<4> {
        let mut x = conv_transpose2d(&self.project, z);
        for (i, block) in self.blocks.iter().enumerate() {
            if index == 2 * i {
                return x;
            }
            if index == 2 * i + 1 {
                return block.second_norm_input(x);
            }
            x = block.forward(x);
        }
        x
    }
}

fn conv3x3(c_in: usize, c_out: usize, bias: bool, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(bias)
        .init(device)
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;
    use crate::batch_moments::worst_normalisation_error;
    use crate::kernels::batch_norm;

    /// The worst normalisation error of any BatchNorm over `latents` (see
    /// [`worst_normalisation_error`]).
    fn worst_error(generator: &ResnetGenerator, latents: &[Tensor<4>]) -> f64 {
        (0..generator.norm_count())
            .map(|index| {
                let inputs: Vec<Tensor<4>> = latents
                    .iter()
                    .map(|z| generator.norm_input(z.clone(), index))
                    .collect();
                let norm = generator.norm(index);
                worst_normalisation_error(norm, batch_norm(norm, Tensor::cat(inputs, 0)))
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn standing_statistics_normalise_every_layer_exactly() {
        let device = Device::flex();
        device.seed(5);
        let config = ResnetConfig::new()
            .with_image_size(32)
            .with_generator_width(4)
            .with_latent_size(16)
            .with_depth(2);
        let generator = config.init_generator(&device);
        let latents: Vec<Tensor<4>> = (0..3)
            .map(|_| Tensor::random([32, 16, 1, 1], Distribution::Normal(0.0, 1.0), &device))
            .collect();

        // Fresh running statistics (mean 0, variance 1) are not the activations' own.
        let before = worst_error(&generator, &latents);
        let calibrated = generator.with_standing_statistics(&latents);
        let after = worst_error(&calibrated, &latents);
        println!("worst normalisation error: {before:.3} before, {after:.5} after");
        assert!(before > 0.2, "the test needs stale statistics ({before})");
        // Only BatchNorm's epsilon (1e-5) stands between them.
        assert!(after < 0.01, "{after}");
    }
}
