//! `facegan train --model pix2pix`: sketch-to-face translation, trained on faces and their
//! sketches (see `facegan sketch`), with the same logs, samples, checkpoints and resume as the
//! DCGAN.

mod config;
mod data;
mod pix2pix;
mod run;

pub use config::{TranslateConfig, TranslateMode};
pub use data::{PairedSet, load_pairs};
pub use run::{
    PALETTE_FILE, TRANSLATE_LOG_HEADER, TranslateCheckpoint, load_translator, read_palette,
    train_translator,
};
