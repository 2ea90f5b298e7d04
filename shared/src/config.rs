//! The architecture of a DCGAN pair, shared by the trainer, the weight files and the page.

use burn::config::Config;

use crate::conv_layer::ConvLayer;

/// Everything needed to rebuild the generator and discriminator with the same shapes.
#[derive(Config, Debug, PartialEq, Eq)]
pub struct DcganConfig {
    /// Side of the square RGB images: 32, 64 or 128.
    #[config(default = 64)]
    pub image_size: usize,
    /// Length of the latent vector `z`.
    #[config(default = 100)]
    pub latent_size: usize,
    /// Channels of the generator's last hidden layer (doubled at each earlier stage).
    #[config(default = 64)]
    pub generator_width: usize,
    /// Channels of the discriminator's first layer (doubled at each later stage).
    #[config(default = 64)]
    pub discriminator_width: usize,
    /// Kernel of the stride-2 (transposed) convolutions: 4 (DCGAN) or 5 (Simpsons-faces DCGAN).
    #[config(default = 4)]
    pub kernel_size: usize,
    /// Drop the discriminator's last stride-2 stage, as the danbooru DCGAN did to keep D
    /// from overpowering G.
    #[config(default = false)]
    pub shallow_discriminator: bool,
}

/// A config that cannot describe a working network.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("image size must be 32, 64 or 128, found {0}")]
    ImageSize(usize),
    #[error("kernel size must be 4 or 5, found {0}")]
    KernelSize(usize),
    #[error("{name} must be at least 1, found 0")]
    Zero { name: &'static str },
    /// A bound far above any useful network, so a damaged file cannot ask for gigabytes.
    #[error("{name} must be at most {max}, found {found}")]
    TooLarge {
        name: &'static str,
        max: usize,
        found: usize,
    },
}

/// The largest width, latent or channel count a config may ask for.
pub const MAX_WIDTH: usize = 4096;

/// Refuses zero and absurdly large sizes.
pub(crate) fn check_sizes(sizes: &[(&'static str, usize)]) -> Result<(), ConfigError> {
    for &(name, value) in sizes {
        if value == 0 {
            return Err(ConfigError::Zero { name });
        }
        if value > MAX_WIDTH {
            return Err(ConfigError::TooLarge {
                name,
                max: MAX_WIDTH,
                found: value,
            });
        }
    }
    Ok(())
}

impl DcganConfig {
    /// Checks the values the networks cannot be built from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if ![32, 64, 128].contains(&self.image_size) {
            return Err(ConfigError::ImageSize(self.image_size));
        }
        if ![4, 5].contains(&self.kernel_size) {
            return Err(ConfigError::KernelSize(self.kernel_size));
        }
        check_sizes(&[
            ("latent size", self.latent_size),
            ("generator width", self.generator_width),
            ("discriminator width", self.discriminator_width),
        ])
    }

    /// Whether a generator built from `other` has this config's generator: the discriminator's
    /// fields do not shape it, so a generator can be trained on beside another discriminator.
    pub fn same_generator(&self, other: &DcganConfig) -> bool {
        self.image_size == other.image_size
            && self.latent_size == other.latent_size
            && self.generator_width == other.generator_width
            && self.kernel_size == other.kernel_size
    }

    /// Number of times the generator doubles its 4x4 seed map: log2(image_size / 4).
    pub fn doublings(&self) -> usize {
        (self.image_size / 4).trailing_zeros() as usize
    }

    /// Floating-point operations (two per multiply-add) of the generator's convolutions for one
    /// image: a transposed convolution does `c_in x c_out x k x k` per input pixel.
    pub fn generator_flops(&self) -> f64 {
        let stages = self.doublings();
        let width = |stage: usize| self.generator_width << (stages - 1 - stage);
        let k2 = (self.kernel_size * self.kernel_size) as f64;
        let mut flops = 2.0 * (self.latent_size * width(0) * 16) as f64;
        for stage in 1..stages {
            let side = 4usize << (stage - 1);
            flops += 2.0 * (width(stage - 1) * width(stage) * side * side) as f64 * k2;
        }
        let side = self.image_size / 2;
        flops + 2.0 * (width(stages - 1) * 3 * side * side) as f64 * k2
    }

    /// Floating-point operations of the discriminator's convolutions for one image: a
    /// convolution does `c_in x c_out x k x k` per output pixel.
    pub fn discriminator_flops(&self) -> f64 {
        let stages = self.doublings() - usize::from(self.shallow_discriminator);
        let width = |stage: usize| self.discriminator_width << stage;
        let k2 = (self.kernel_size * self.kernel_size) as f64;
        let mut flops = 0.0;
        for stage in 0..stages {
            let c_in = if stage == 0 { 3 } else { width(stage - 1) };
            let side = self.image_size >> (stage + 1);
            flops += 2.0 * (c_in * width(stage) * side * side) as f64 * k2;
        }
        let side = self.image_size >> stages;
        flops + 2.0 * (width(stages - 1) * side * side) as f64
    }

    /// The convolutions of both networks in order, generator first: what per-layer timings
    /// (`facegan bench --layers`, the `conv_layers` example) walk through.
    pub fn conv_layers(&self) -> Vec<ConvLayer> {
        let stages = self.doublings();
        let k = self.kernel_size;
        let (padding, padding_out) = self.stride2_padding();
        let g_width = |stage: usize| self.generator_width << (stages - 1 - stage);
        let d_stages = stages - usize::from(self.shallow_discriminator);
        let d_width = |stage: usize| self.discriminator_width << stage;
        let stride2 = |transposed, c_in, c_out, side| ConvLayer {
            transposed,
            c_in,
            c_out,
            side,
            kernel: k,
            stride: 2,
            padding,
            padding_out: if transposed { padding_out } else { 0 },
        };
        let mut layers = vec![ConvLayer {
            transposed: true,
            c_in: self.latent_size,
            c_out: g_width(0),
            side: 1,
            kernel: 4,
            stride: 1,
            padding: 0,
            padding_out: 0,
        }];
        for stage in 1..stages {
            layers.push(stride2(
                true,
                g_width(stage - 1),
                g_width(stage),
                4 << (stage - 1),
            ));
        }
        layers.push(stride2(true, g_width(stages - 1), 3, self.image_size / 2));
        for stage in 0..d_stages {
            let c_in = if stage == 0 { 3 } else { d_width(stage - 1) };
            layers.push(stride2(
                false,
                c_in,
                d_width(stage),
                self.image_size >> stage,
            ));
        }
        let side = self.image_size >> d_stages;
        layers.push(ConvLayer {
            transposed: false,
            c_in: d_width(d_stages - 1),
            c_out: 1,
            side,
            kernel: side,
            stride: 1,
            padding: 0,
            padding_out: 0,
        });
        layers
    }

    /// Padding and output padding that make a stride-2 (transposed) convolution exactly halve
    /// (double) the spatial size for this kernel.
    pub fn stride2_padding(&self) -> (usize, usize) {
        match self.kernel_size {
            // (i-1)*2 - 2*1 + 4 = 2i
            4 => (1, 0),
            // (i-1)*2 - 2*2 + 5 + 1 = 2i
            _ => (2, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unsupported_sizes() {
        assert_eq!(
            DcganConfig::new().with_image_size(48).validate(),
            Err(ConfigError::ImageSize(48))
        );
        assert_eq!(
            DcganConfig::new().with_kernel_size(3).validate(),
            Err(ConfigError::KernelSize(3))
        );
        assert!(DcganConfig::new().validate().is_ok());
    }

    #[test]
    fn flops_match_a_hand_count_of_dcgan_64() {
        let config = DcganConfig::new();
        // G: 100 -> 512 on 4x4, three 4x4-kernel doublings of 2^25 multiply-adds each
        // (512x256 on 4x4, 256x128 on 8x8, 128x64 on 16x16), 64 -> 3 on 32x32.
        let g = 2.0
            * (100.0 * 512.0 * 16.0
                + 3.0 * 512.0 * 256.0 * 16.0 * 16.0
                + 64.0 * 3.0 * 16.0 * 1024.0);
        assert_eq!(config.generator_flops(), g);
        // D: 3 -> 64 onto 32x32, three stages of the same 2^25, 512 -> 1 over the 4x4 map.
        let d =
            2.0 * (3.0 * 64.0 * 16.0 * 1024.0 + 3.0 * 64.0 * 128.0 * 16.0 * 256.0 + 512.0 * 16.0);
        assert_eq!(config.discriminator_flops(), d);
    }

    #[test]
    fn the_layer_list_is_the_networks_flops_and_chains_its_sides() {
        for config in [
            DcganConfig::new(),
            DcganConfig::new().with_image_size(32).with_kernel_size(5),
            DcganConfig::new()
                .with_image_size(128)
                .with_shallow_discriminator(true),
        ] {
            let layers = config.conv_layers();
            let total: f64 = layers.iter().map(ConvLayer::flops).sum();
            let expected = config.generator_flops() + config.discriminator_flops();
            assert!((total - expected).abs() < 1e-6 * expected, "{config:?}");
            let (generator, discriminator) = layers.split_at(config.doublings() + 1);
            assert_eq!(generator.last().unwrap().output_side(), config.image_size);
            assert_eq!(discriminator[0].side, config.image_size);
            for pair in generator.windows(2).chain(discriminator.windows(2)) {
                assert_eq!(pair[0].output_side(), pair[1].side, "{config:?}");
                assert_eq!(pair[0].c_out, pair[1].c_in, "{config:?}");
            }
            assert_eq!(discriminator.last().unwrap().output_side(), 1);
        }
    }

    #[test]
    fn doublings_match_image_size() {
        for (size, doublings) in [(32, 3), (64, 4), (128, 5)] {
            assert_eq!(
                DcganConfig::new().with_image_size(size).doublings(),
                doublings
            );
        }
    }
}
