//! Sketch-to-face translation: what pix2pix and CycleGAN share (their configuration, paired and
//! unpaired data, palette, log columns), and the commands that use their exported weights
//! (`facegan translate`, `facegan evaluate`). The models themselves are `crate::pix2pix` and
//! `crate::cyclegan`.

pub mod apply;
mod config;
mod data;
pub mod evaluate;
mod training;

pub use config::{TranslateConfig, TranslateMode, TranslationFlags};
pub use data::{PairingReport, TranslationSet, load_pairs, load_unpaired};
pub(crate) use training::describe_pairing;
pub use training::{
    PALETTE_FILE, SKETCH_TO_FACE, TranslationLosses, load_translator, palette_of, read_palette,
    rgb, snapshot, write_palette,
};
