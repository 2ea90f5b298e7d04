//! `facegan train --model pix2pix|cyclegan`: sketch-to-face translation, trained on faces and
//! their sketches (see `facegan sketch`; paired by name for pix2pix, unpaired for CycleGAN),
//! with the same logs, samples, checkpoints and resume as the DCGAN.

pub mod apply;
mod config;
mod cyclegan;
mod data;
pub mod evaluate;
mod pix2pix;
mod pool;
mod run;
mod translator;

pub use config::{TranslateConfig, TranslateMode};
pub use data::{TranslationSet, load_pairs, load_unpaired};
pub use run::{
    PALETTE_FILE, TRANSLATE_LOG_HEADER, TranslateCheckpoint, load_translator, read_palette,
    train_translator,
};
