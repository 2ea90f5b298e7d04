//! The DCGAN pair (Radford et al. 2015): transposed-convolution generator, strided-convolution
//! discriminator, BatchNorm, LeakyReLU 0.2, Tanh output, N(0, 0.02) initialisation.

mod discriminator;
mod generator;
mod init;
mod standing_statistics;

pub(crate) use init::WEIGHT_INIT;

pub use discriminator::Discriminator;
pub use generator::Generator;
