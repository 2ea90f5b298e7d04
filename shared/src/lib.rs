//! facegan's model crate: the DCGAN and ResNet networks, their configs, the compact `.fgw` weight file and
//! the seeded latent sampler. It builds for native targets and for `wasm32-unknown-unknown`, so
//! the trainer and the web page run exactly the same generator.

pub mod attributes;
pub mod batch_moments;
pub mod config;
pub mod conv_layer;
pub mod directions;
pub mod face_generator;
pub mod fingerprint;
pub mod image;
pub mod kernels;
pub mod latent;
pub mod model;
pub mod resnet;
pub mod translate;
pub mod weights;

pub use config::{ConfigError, DcganConfig};
pub use conv_layer::{ConvLayer, ConvModule};
pub use face_generator::{FaceGenerator, GeneratorConfig};
pub use latent::{SplitMix64, latent_batch, latent_for_seed, slerp, variation};
pub use model::{Discriminator, Generator};
pub use resnet::{ResnetConfig, ResnetGenerator};
pub use translate::{PatchDiscriminator, TranslatorConfig, UNet};
pub use weights::{WeightsError, load_face_generator, load_generator, save_generator};
