use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::{ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::{Device, Tensor};

use super::init::{WEIGHT_INIT, batch_norm};
use crate::DcganConfig;
use crate::kernels::{batch_norm_relu, conv_transpose2d, tanh};

/// One upsampling stage: transposed convolution, BatchNorm, ReLU.
#[derive(Module, Debug)]
pub struct UpBlock {
    pub(super) conv: ConvTranspose2d,
    pub(super) norm: BatchNorm,
}

impl UpBlock {
    /// `[n, c_in, h, w]` -> `[n, c_out, h', w']`
    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm_relu(&self.norm, conv_transpose2d(&self.conv, x))
    }
}

/// Maps a latent `[n, latent, 1, 1]` to images `[n, 3, size, size]` in [-1, 1].
///
/// The first stage projects `z` to a 4x4 map with a 4x4 kernel whatever `kernel_size` is (a
/// dense projection in disguise, as the Simpsons DCGAN's dense layer); every later stage doubles
/// the side with a stride-2 transposed convolution of `kernel_size`.
#[derive(Module, Debug)]
pub struct Generator {
    pub(super) blocks: Vec<UpBlock>,
    output: ConvTranspose2d,
}

impl DcganConfig {
    /// Builds a freshly initialised generator. Panics on an invalid config: call
    /// [`DcganConfig::validate`] first where the config comes from a user.
    pub fn init_generator(&self, device: &Device) -> Generator {
        self.validate().expect("invalid DCGAN config");
        let stages = self.doublings();
        let width = |stage: usize| self.generator_width << (stages - 1 - stage);
        let (padding, padding_out) = self.stride2_padding();
        let k = self.kernel_size;
        let up = |c_in: usize, c_out: usize| {
            ConvTranspose2dConfig::new([c_in, c_out], [k, k])
                .with_stride([2, 2])
                .with_padding([padding, padding])
                .with_padding_out([padding_out, padding_out])
                .with_bias(false)
                .with_initializer(WEIGHT_INIT)
                .init(device)
        };

        let project = ConvTranspose2dConfig::new([self.latent_size, width(0)], [4, 4])
            .with_bias(false)
            .with_initializer(WEIGHT_INIT)
            .init(device);
        let mut blocks = vec![UpBlock {
            conv: project,
            norm: batch_norm(width(0), device),
        }];
        for stage in 1..stages {
            blocks.push(UpBlock {
                conv: up(width(stage - 1), width(stage)),
                norm: batch_norm(width(stage), device),
            });
        }
        Generator {
            blocks,
            output: up(width(stages - 1), 3),
        }
    }
}

impl Generator {
    /// The projection block alone: `[n, latent, 1, 1]` -> `[n, 8g, 4, 4]` after BatchNorm
    /// and ReLU.
    pub fn first_layer(&self, z: Tensor<4>) -> Tensor<4> {
        self.blocks[0].forward(z)
    }

    /// `[n, latent, 1, 1]` -> `[n, 3, size, size]`
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        // [n, latent, 1, 1] -> [n, 8g, 4, 4] -> [n, 4g, 8, 8] -> ... -> [n, g, size/2, size/2]
        let hidden = self.blocks.iter().fold(z, |x, block| block.forward(x));
        // [n, g, size/2, size/2] -> [n, 3, size, size]
        tanh(conv_transpose2d(&self.output, hidden))
    }
}
