use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::ResnetConfig;
use crate::kernels::{add, batch_norm_relu, conv_transpose2d, conv2d, tanh, upsample};

/// A residual block of the generator: BatchNorm, ReLU, (doubling), 3x3 conv, BatchNorm, ReLU,
/// 3x3 conv, added to the (doubled, 1x1-convolved where the width changes) input.
#[derive(Module, Debug)]
pub struct UpBlock {
    norm1: BatchNorm,
    conv1: Conv2d,
    norm2: BatchNorm,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
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
        let h = double(batch_norm_relu(&self.norm1, x.clone()));
        let h = conv2d(&self.conv1, h);
        let h = conv2d(&self.conv2, batch_norm_relu(&self.norm2, h));
        // A 1x1 convolution commutes with nearest doubling: run it on the small map.
        let skip = match &self.shortcut {
            Some(conv) => conv2d(conv, x),
            None => x,
        };
        add(h, double(skip))
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
    project: ConvTranspose2d,
    blocks: Vec<UpBlock>,
    norm: BatchNorm,
    output: Conv2d,
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
}

fn conv3x3(c_in: usize, c_out: usize, bias: bool, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(bias)
        .init(device)
}
