//! The shape of a translation pair, shared by the trainer, the weight files and the page.

use burn::config::Config;

use crate::ConfigError;
use crate::config::{MAX_WIDTH, check_sizes};

/// Everything needed to rebuild a [`super::UNet`] and its [`super::PatchDiscriminator`].
#[derive(Config, Debug, PartialEq, Eq)]
pub struct TranslatorConfig {
    /// Side of the square images: 32, 64 or 128.
    #[config(default = 64)]
    pub image_size: usize,
    /// Channels of the input (1 for a sketch, 3 for a face).
    #[config(default = 1)]
    pub input_channels: usize,
    /// Channels of the output.
    #[config(default = 3)]
    pub output_channels: usize,
    /// Length of the colour code fed to every encoder stage: `CODE_SIZE` (27) for the
    /// sketch-to-face direction, 0 for a generator without one (CycleGAN's face-to-sketch).
    #[config(default = 27)]
    pub code_size: usize,
    /// Channels of the U-Net's first stage (doubled at each later stage up to `max_width`).
    #[config(default = 32)]
    pub width: usize,
    /// Widest stage of the U-Net: the inner stages cost the most parameters.
    #[config(default = 96)]
    pub max_width: usize,
    /// Channels of the discriminator's first stage.
    #[config(default = 32)]
    pub discriminator_width: usize,
    /// Stride-2 stages of the discriminator: 3 gives the 70x70 PatchGAN's receptive field on
    /// 256 px images, which at 64 px judges patches of about a quarter of the face.
    #[config(default = 3)]
    pub discriminator_stages: usize,
    /// The discriminator sees the input beside the image (pix2pix) or the image alone
    /// (CycleGAN).
    #[config(default = true)]
    pub conditional: bool,
}

impl TranslatorConfig {
    /// Checks the values the networks cannot be built from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if ![32, 64, 128].contains(&self.image_size) {
            return Err(ConfigError::ImageSize(self.image_size));
        }
        check_sizes(&[
            ("input channels", self.input_channels),
            ("output channels", self.output_channels),
            ("width", self.width),
            ("max width", self.max_width),
            ("discriminator width", self.discriminator_width),
            ("discriminator stages", self.discriminator_stages),
        ])?;
        // The code is concatenated as channels; a U-Net's stages stop at the 1x1 bottleneck.
        if self.code_size > MAX_WIDTH {
            return Err(ConfigError::TooLarge {
                name: "code size",
                max: MAX_WIDTH,
                found: self.code_size,
            });
        }
        Ok(())
    }

    /// Stride-2 stages of the U-Net: down to a 1x1 bottleneck.
    pub fn depth(&self) -> usize {
        self.image_size.trailing_zeros() as usize
    }

    /// Channels of U-Net encoder stage `stage` (0-based).
    pub fn stage_width(&self, stage: usize) -> usize {
        (self.width << stage.min(16)).min(self.max_width)
    }
}
