use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::init::{WEIGHT_INIT, batch_norm};
use crate::DcganConfig;
use crate::kernels::{batch_norm_leaky_relu, conv2d, leaky_relu};

const LEAK: f64 = 0.2;

/// One downsampling stage: stride-2 convolution, BatchNorm (absent on the first stage, as in
/// DCGAN), LeakyReLU 0.2.
#[derive(Module, Debug)]
pub struct DownBlock {
    conv: Conv2d,
    norm: Option<BatchNorm>,
}

impl DownBlock {
    /// `[n, c_in, h, w]` -> `[n, c_out, h/2, w/2]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = conv2d(&self.conv, x);
        match &self.norm {
            Some(layer) => batch_norm_leaky_relu(layer, x, LEAK),
            None => leaky_relu(x, LEAK),
        }
    }
}

/// Scores images `[n, 3, size, size]` with one logit each (`[n]`): positive means "real".
#[derive(Module, Debug)]
pub struct Discriminator {
    blocks: Vec<DownBlock>,
    output: Conv2d,
}

impl DcganConfig {
    /// Builds a freshly initialised discriminator. Panics on an invalid config.
    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        self.validate().expect("invalid DCGAN config");
        let stages = self.doublings() - usize::from(self.shallow_discriminator);
        let (padding, _) = self.stride2_padding();
        let k = self.kernel_size;
        let width = |stage: usize| self.discriminator_width << stage;

        let blocks = (0..stages)
            .map(|stage| {
                let c_in = if stage == 0 { 3 } else { width(stage - 1) };
                DownBlock {
                    conv: Conv2dConfig::new([c_in, width(stage)], [k, k])
                        .with_stride([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(
                            padding, padding, padding, padding,
                        ))
                        .with_bias(false)
                        .with_initializer(WEIGHT_INIT)
                        .init(device),
                    norm: (stage > 0).then(|| batch_norm(width(stage), device)),
                }
            })
            .collect();
        // The last map is 4x4 (8x8 when shallow); a kernel that covers it yields one logit.
        let side = self.image_size >> stages;
        Discriminator {
            blocks,
            output: Conv2dConfig::new([width(stages - 1), 1], [side, side])
                .with_bias(false)
                .with_initializer(WEIGHT_INIT)
                .init(device),
        }
    }
}

impl Discriminator {
    /// `[n, 3, size, size]` -> logits `[n]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let [n, _, _, _] = images.dims();
        // [n, 3, size, size] -> [n, d, size/2, size/2] -> ... -> [n, 8d, 4, 4]
        let features = self.blocks.iter().fold(images, |x, block| block.forward(x));
        // [n, 8d, 4, 4] -> [n, 1, 1, 1] -> [n]
        conv2d(&self.output, features).reshape([n])
    }
}
