//! The architecture of a ResNet GAN pair, shared by the trainer, the weight files and the page.

use burn::config::Config;

use crate::ConfigError;
use crate::config::check_sizes;

/// Everything needed to rebuild the ResNet generator and discriminator with the same shapes.
///
/// The defaults are sized for 2-core CPU training: the generator costs about what the DCGAN's
/// does per image (0.22 against 0.21 GFLOP at 64 px), with a seventh of its weights.
#[derive(Config, Debug, PartialEq, Eq)]
pub struct ResnetConfig {
    /// Side of the square RGB images: 32, 64 or 128.
    #[config(default = 64)]
    pub image_size: usize,
    /// Length of the latent vector `z`.
    #[config(default = 128)]
    pub latent_size: usize,
    /// Channels of the generator's last block (doubled at each earlier block, from 4x4).
    #[config(default = 16)]
    pub generator_width: usize,
    /// Channels of the discriminator's first block (doubled at each later block, to 4x4).
    #[config(default = 32)]
    pub discriminator_width: usize,
    /// Residual blocks per resolution, in both networks (the first of each changes it).
    #[config(default = 1)]
    pub depth: usize,
}

/// The most residual blocks per resolution a config may ask for.
pub const MAX_DEPTH: usize = 8;

impl ResnetConfig {
    /// Checks the values the networks cannot be built from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if ![32, 64, 128].contains(&self.image_size) {
            return Err(ConfigError::ImageSize(self.image_size));
        }
        check_sizes(&[
            ("latent size", self.latent_size),
            ("generator width", self.generator_width),
            ("discriminator width", self.discriminator_width),
            ("depth", self.depth),
        ])?;
        if self.depth > MAX_DEPTH {
            return Err(ConfigError::TooLarge {
                name: "depth",
                max: MAX_DEPTH,
                found: self.depth,
            });
        }
        // The widest layer is the first (generator) or last (discriminator): 2^(stages-1) x.
        check_sizes(&[
            (
                "generator width at 4x4",
                self.generator_width << (self.doublings() - 1),
            ),
            (
                "discriminator width at 4x4",
                self.discriminator_width << (self.doublings() - 1),
            ),
        ])
    }

    /// Whether a generator built from `other` has this config's generator.
    pub fn same_generator(&self, other: &ResnetConfig) -> bool {
        self.image_size == other.image_size
            && self.latent_size == other.latent_size
            && self.generator_width == other.generator_width
            && self.depth == other.depth
    }

    /// Number of resolution doublings from 4x4: log2(image_size / 4).
    pub fn doublings(&self) -> usize {
        (self.image_size / 4).trailing_zeros() as usize
    }

    /// Output channels of the generator's up-sampling stage `stage` (0-based, 4x4 -> 8x8 first);
    /// the 4x4 projection has stage 0's width.
    pub fn generator_channels(&self, stage: usize) -> usize {
        self.generator_width << (self.doublings() - 1 - stage)
    }

    /// Output channels of the discriminator's down-sampling stage `stage` (0-based, from the
    /// full image first).
    pub fn discriminator_channels(&self, stage: usize) -> usize {
        self.discriminator_width << stage
    }

    /// Floating-point operations (two per multiply-add) of the generator's convolutions for
    /// one image.
    pub fn generator_flops(&self) -> f64 {
        let conv = |c_in: usize, c_out: usize, side: usize, k: usize| {
            2.0 * (c_in * c_out * side * side * k * k) as f64
        };
        let mut flops = conv(self.latent_size, self.generator_channels(0), 4, 1);
        let mut c_in = self.generator_channels(0);
        for stage in 0..self.doublings() {
            let c_out = self.generator_channels(stage);
            let side = 8 << stage;
            for block in 0..self.depth {
                let from = if block == 0 { c_in } else { c_out };
                flops += conv(from, c_out, side, 3) + conv(c_out, c_out, side, 3);
                // The shortcut's 1x1 runs before the doubling (it commutes with it).
                if from != c_out {
                    flops += conv(from, c_out, side / 2, 1);
                }
            }
            c_in = c_out;
        }
        flops + conv(c_in, 3, self.image_size, 3)
    }

    /// Floating-point operations of the discriminator's convolutions for one image.
    pub fn discriminator_flops(&self) -> f64 {
        let conv = |c_in: usize, c_out: usize, side: usize, k: usize| {
            2.0 * (c_in * c_out * side * side * k * k) as f64
        };
        let mut flops = 0.0;
        let mut c_in = 3;
        for stage in 0..self.doublings() {
            let c_out = self.discriminator_channels(stage);
            let side = self.image_size >> stage;
            for block in 0..self.depth {
                // The first block of a stage convolves once at the stage's input side, halves,
                // and convolves again.
                let from = if block == 0 { c_in } else { c_out };
                let at = if block == 0 { side } else { side / 2 };
                flops += conv(from, c_out, at, 3) + conv(c_out, c_out, side / 2, 3);
                if block == 0 {
                    flops += conv(from, c_out, side / 2, 1);
                }
            }
            c_in = c_out;
        }
        flops + 2.0 * c_in as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unsupported_sizes() {
        assert_eq!(
            ResnetConfig::new().with_image_size(48).validate(),
            Err(ConfigError::ImageSize(48))
        );
        assert_eq!(
            ResnetConfig::new().with_depth(0).validate(),
            Err(ConfigError::Zero { name: "depth" })
        );
        assert!(ResnetConfig::new().validate().is_ok());
        assert!(ResnetConfig::new().with_image_size(128).validate().is_ok());
    }

    #[test]
    fn widths_double_towards_the_small_maps() {
        let config = ResnetConfig::new();
        let g: Vec<usize> = (0..4).map(|s| config.generator_channels(s)).collect();
        assert_eq!(g, vec![128, 64, 32, 16]);
        let d: Vec<usize> = (0..4).map(|s| config.discriminator_channels(s)).collect();
        assert_eq!(d, vec![32, 64, 128, 256]);
    }

    #[test]
    fn discriminator_flops_match_a_hand_count_at_64_px() {
        // Blocks (in -> out from side): 3->32 from 64, 32->64 from 32, 64->128 from 16,
        // 128->256 from 8: a 3x3 conv at the side, a 3x3 conv and a 1x1 shortcut at half of it;
        // 256 -> 1 score.
        let block =
            |i: f64, o: f64, s: f64| 9.0 * i * o * s * s + (9.0 * o * o + i * o) * s * s / 4.0;
        let multiply_adds = block(3.0, 32.0, 64.0)
            + block(32.0, 64.0, 32.0)
            + block(64.0, 128.0, 16.0)
            + block(128.0, 256.0, 8.0)
            + 256.0;
        assert_eq!(
            ResnetConfig::new().discriminator_flops(),
            2.0 * multiply_adds
        );
    }

    #[test]
    fn generator_flops_match_a_hand_count_at_64_px() {
        // z -> 128 on 4x4; blocks (in -> out at side): 128->128 at 8, 128->64 at 16,
        // 64->32 at 32, 32->16 at 64, each two 3x3 convs and, where the width changes, a 1x1
        // shortcut; 16 -> 3 at 64.
        let block = |i: f64, o: f64, s: f64| 9.0 * (i * o + o * o) * s * s + i * o * s * s / 4.0;
        let multiply_adds = 128.0 * 128.0 * 16.0
            + 9.0 * 2.0 * 128.0 * 128.0 * 64.0
            + block(128.0, 64.0, 16.0)
            + block(64.0, 32.0, 32.0)
            + block(32.0, 16.0, 64.0)
            + 9.0 * 16.0 * 3.0 * 4096.0;
        assert_eq!(ResnetConfig::new().generator_flops(), 2.0 * multiply_adds);
    }
}
