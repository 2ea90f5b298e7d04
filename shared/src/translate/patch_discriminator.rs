use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{InstanceNorm, InstanceNormConfig, PaddingConfig2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};

use super::TranslatorConfig;
use crate::model::WEIGHT_INIT;

#[derive(Module, Debug)]
struct Stage {
    conv: Conv2d,
    norm: Option<InstanceNorm>,
}

/// PatchGAN: a fully convolutional discriminator whose output is a map of real/fake logits,
/// one per overlapping patch, so it judges local texture and leaves global structure to the
/// L1 or cycle loss. Conditional (pix2pix) when the input image is joined to the judged one.
#[derive(Module, Debug)]
pub struct PatchDiscriminator {
    stages: Vec<Stage>,
    output: Conv2d,
}

fn conv(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_initializer(WEIGHT_INIT)
        .init(device)
}

impl TranslatorConfig {
    /// Channels the discriminator reads: the judged image, plus the input when conditional.
    pub fn discriminator_input_channels(&self) -> usize {
        self.output_channels
            + if self.conditional {
                self.input_channels
            } else {
                0
            }
    }

    /// Builds a freshly initialised PatchGAN discriminator.
    pub fn init_patch_discriminator(&self, device: &Device) -> PatchDiscriminator {
        self.validate().expect("invalid translator config");
        let width = |stage: usize| self.discriminator_width << stage.min(3);
        let mut stages = Vec::new();
        let mut channels = self.discriminator_input_channels();
        for stage in 0..self.discriminator_stages {
            stages.push(Stage {
                conv: conv(channels, width(stage), 2, device),
                norm: (stage > 0).then(|| InstanceNormConfig::new(width(stage)).init(device)),
            });
            channels = width(stage);
        }
        // One stride-1 stage, then the logit map (as in pix2pix's 70x70 PatchGAN).
        let last = self.discriminator_stages;
        stages.push(Stage {
            conv: conv(channels, width(last), 1, device),
            norm: Some(InstanceNormConfig::new(width(last)).init(device)),
        });
        PatchDiscriminator {
            stages,
            output: conv(width(last), 1, 1, device),
        }
    }
}

impl PatchDiscriminator {
    /// `[n, c, s, s]` -> `[n, 1, p, p]` logits, one per patch
    pub fn forward(&self, images: Tensor<4>) -> Tensor<4> {
        // [n, c, s, s] -> [n, d, s/2, s/2] -> ... -> [n, 8d, s/2^k - 1, ...]
        let hidden = self.stages.iter().fold(images, |x, stage| {
            let y = stage.conv.forward(x);
            let y = match &stage.norm {
                Some(norm) => norm.forward(y),
                None => y,
            };
            leaky_relu(y, 0.2)
        });
        // -> [n, 1, p, p]
        self.output.forward(hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_a_map_of_patch_logits() {
        let device = Device::flex();
        let config = TranslatorConfig::new().with_discriminator_width(8);
        let discriminator = config.init_patch_discriminator(&device);
        let pair = Tensor::<4>::zeros([2, 4, 64, 64], &device);
        let [n, c, h, w] = discriminator.forward(pair).dims();
        assert_eq!((n, c), (2, 1));
        assert!((4..=8).contains(&h) && h == w, "patch map {h}x{w}");
    }
}
