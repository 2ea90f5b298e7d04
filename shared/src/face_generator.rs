//! Whichever generator a weights file holds: the DCGAN or the ResNet. Everything that only
//! draws faces (`facegan generate`, the page) works through these two enums, so a new
//! architecture needs no change there.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::{DcganConfig, Generator, ResnetConfig, ResnetGenerator};

/// A face generator of either architecture.
// A program holds one or two of these: the variants' sizes (hundreds of bytes of handles) do
// not matter, and Burn's module derive wants the networks inline.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum FaceGenerator {
    Dcgan(Generator),
    Resnet(ResnetGenerator),
}

impl FaceGenerator {
    /// `[n, latent, 1, 1]` -> `[n, 3, size, size]` in [-1, 1]
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        let forward = |z| match self {
            Self::Dcgan(generator) => generator.forward(z),
            Self::Resnet(generator) => generator.forward(z),
        };
        if crate::kernels::takes_fast_kernels(&z) && !z.device().is_autodiff() {
            // CPU inference: on the kernels' own threads.
            crate::kernels::on_kernel_threads(|| forward(z))
        } else {
            forward(z)
        }
    }

    /// The first block's activations, `[n, latent, 1, 1]` -> `[n, c, 4, 4]` (DCGAN) or
    /// `[n, c, 8, 8]` (ResNet): where GANSpace looks for the main ways faces vary.
    pub fn first_layer(&self, z: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Dcgan(generator) => generator.first_layer(z),
            Self::Resnet(generator) => generator.first_layer(z),
        }
    }
}

impl From<Generator> for FaceGenerator {
    fn from(generator: Generator) -> Self {
        Self::Dcgan(generator)
    }
}

impl From<ResnetGenerator> for FaceGenerator {
    fn from(generator: ResnetGenerator) -> Self {
        Self::Resnet(generator)
    }
}

/// The architecture and config of a [`FaceGenerator`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GeneratorConfig {
    Dcgan(DcganConfig),
    Resnet(ResnetConfig),
}

impl GeneratorConfig {
    pub fn latent_size(&self) -> usize {
        match self {
            Self::Dcgan(config) => config.latent_size,
            Self::Resnet(config) => config.latent_size,
        }
    }

    pub fn image_size(&self) -> usize {
        match self {
            Self::Dcgan(config) => config.image_size,
            Self::Resnet(config) => config.image_size,
        }
    }

    /// The architecture in words, for people: "DCGAN generator, width 64".
    pub fn describe(&self) -> String {
        match self {
            Self::Dcgan(config) => format!("DCGAN generator, width {}", config.generator_width),
            Self::Resnet(config) => format!(
                "ResNet generator, width {}, depth {}",
                config.generator_width, config.depth
            ),
        }
    }

    /// Whether a generator built from `other` has this config's generator (the
    /// discriminator's fields may differ).
    pub fn same_generator(&self, other: &GeneratorConfig) -> bool {
        match (self, other) {
            (Self::Dcgan(a), Self::Dcgan(b)) => a.same_generator(b),
            (Self::Resnet(a), Self::Resnet(b)) => a.same_generator(b),
            _ => false,
        }
    }

    /// A freshly initialised generator of this architecture.
    pub fn init(&self, device: &Device) -> FaceGenerator {
        match self {
            Self::Dcgan(config) => config.init_generator(device).into(),
            Self::Resnet(config) => config.init_generator(device).into(),
        }
    }
}

impl From<DcganConfig> for GeneratorConfig {
    fn from(config: DcganConfig) -> Self {
        Self::Dcgan(config)
    }
}

impl From<ResnetConfig> for GeneratorConfig {
    fn from(config: ResnetConfig) -> Self {
        Self::Resnet(config)
    }
}
