//! The ResNet generator (Miyato et al. 2018, "Spectral Normalization for GANs", the 64 px
//! SNGAN layout, made narrow for 2-core training): residual up-sampling blocks of 3x3
//! convolutions with BatchNorm and ReLU, a Tanh out. Its discriminator lives in the trainer
//! (`trainer/src/resnet/`): the page never runs it.

mod config;
mod generator;
mod widen;

pub use config::ResnetConfig;
pub use generator::{ResnetGenerator, UpBlock};
