//! The `facegan` command line as a library, so integration tests drive the same code paths.
//!
//! Training: `run` is the one driver; `dcgan`, `resnet`, `pix2pix` and `cyclegan` are the models that
//! plug into it (`run::Trainable`); `train` is the command that picks one.

pub mod adversarial;
pub mod atomic_file;
pub mod augment;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod cyclegan;
pub mod data;
pub mod dcgan;
pub mod directions;
pub mod encoder;
pub mod export;
pub mod face_gan;
pub mod generate;
pub mod measure;
pub mod pix2pix;
pub mod prepare;
pub mod render;
pub mod resnet;
pub mod run;
pub mod sketch;
pub mod train;
pub mod translate;
