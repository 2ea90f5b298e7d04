//! Image-to-image translation for sketch-to-face: a U-Net generator that also takes a colour
//! code (so one sketch yields several colourings, see `colour_code.rs`) and a PatchGAN
//! discriminator, both with instance normalisation (pix2pix, Isola et al. 2017; CycleGAN, Zhu
//! et al. 2017).

mod colour_code;
mod config;
mod encoder;
mod patch_discriminator;
mod sketch_input;
mod unet;

pub use colour_code::{CODE_GRID, CODE_SIZE, colour_code, colour_code_bytes, palette_index};
pub use config::TranslatorConfig;
pub use encoder::{EncoderConfig, EncoderHeader, SketchEncoder};
pub use patch_discriminator::PatchDiscriminator;
pub use sketch_input::{block_average, grey_from_rgba, sketch_input};
pub use unet::UNet;
