//! What the two translators (pix2pix, CycleGAN) share as models of the training driver: their
//! log columns, data loading, the palette of colour codes, sample images and the way export
//! finds the sketch-to-face U-Net in a run's checkpoint.

use std::path::Path;

use anyhow::Context;
use burn::tensor::{Device, Tensor};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::colour_code_bytes;
use facegan_model::weights::{Precision, save_translator_as};
use facegan_model::{TranslatorConfig, UNet};
use serde::{Deserialize, Serialize};

use super::data::{PairingReport, TranslationSet, load_pairs, load_unpaired};
use super::{TranslateConfig, TranslateMode};
use crate::adversarial::read_scalars;
use crate::atomic_file::write_atomically;
use crate::data::{ImageSet, report_skipped};
use crate::run::{RunConfig, RunOptions, checkpoint, load_module};

/// The colour codes a translator's seeds pick from, written when a run starts.
pub const PALETTE_FILE: &str = "palette.json";
/// Entries of the palette: enough for variety, small in the weights file (27 bytes each).
const PALETTE_ENTRIES: usize = 256;
/// The checkpoint section of the sketch-to-face U-Net, in both translators' runs.
pub const SKETCH_TO_FACE: &str = "sketch_to_face";

/// What one translator step measured: its columns of `log.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TranslationLosses {
    pub d_loss: f32,
    /// The generators' adversarial loss alone.
    pub g_adversarial: f32,
    /// L1 to the target (pix2pix) or of the cycles (CycleGAN), in [-1, 1] units.
    pub l1: f32,
    pub d_real: f32,
    pub d_fake: f32,
}

impl TranslationLosses {
    /// The figures of one step, read back from the device together (see `read_scalars`):
    /// `[d_loss, g_adversarial, l1, d_real, d_fake]`.
    pub fn read(values: [Tensor<1>; 5]) -> Self {
        let [d_loss, g_adversarial, l1, d_real, d_fake] = read_scalars(values);
        Self {
            d_loss,
            g_adversarial,
            l1,
            d_real,
            d_fake,
        }
    }

    pub fn summary(&self) -> Vec<(&'static str, f32)> {
        vec![
            ("d_loss", self.d_loss),
            ("g_adv", self.g_adversarial),
            ("L1", self.l1),
            ("D(real)", self.d_real),
            ("D(fake)", self.d_fake),
        ]
    }
}

impl RunConfig for TranslateConfig {
    type Architecture = TranslatorConfig;
    type Data = TranslationSet;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> TranslatorConfig {
        self.model.clone()
    }

    /// The training pairs (pix2pix) or the two folders (CycleGAN), reported on.
    fn load_data(&self) -> anyhow::Result<TranslationSet> {
        self.validate()?;
        let load = match self.mode {
            TranslateMode::Pix2Pix => load_pairs,
            TranslateMode::CycleGan => load_unpaired,
        };
        let (pairs, report) = load(
            &self.sketches,
            &self.faces,
            self.model.image_size,
            self.run.max_images,
        )?;
        describe_pairing(&pairs, &report);
        Ok(pairs)
    }

    fn data_len(pairs: &TranslationSet) -> usize {
        pairs.len()
    }

    /// The palette export puts in the weights, written once per run.
    fn start_run(&self, pairs: &TranslationSet, run_dir: &Path) -> anyhow::Result<()> {
        write_palette(run_dir, &pairs.faces)
    }
}

/// Logs how many pairs (or images) a set has and what was left out, naming skipped files.
pub(crate) fn describe_pairing(pairs: &TranslationSet, report: &PairingReport) {
    log::info!("{} sketch/face pairs", pairs.len());
    if report.unmatched_sketches + report.unmatched_faces > 0 {
        log::warn!(
            "left out {} sketches without a face of the same name and {} faces without a sketch",
            report.unmatched_sketches,
            report.unmatched_faces
        );
    }
    report_skipped(&report.skipped, pairs.len());
}

/// The colour codes of faces spread evenly over a set: the colourings seeds pick from.
pub fn palette_of(faces: &ImageSet) -> Vec<Vec<u8>> {
    let step = (faces.len() / PALETTE_ENTRIES).max(1);
    (0..faces.len())
        .step_by(step)
        .take(PALETTE_ENTRIES)
        .map(|index| colour_code_bytes(faces.image(index), faces.size).to_vec())
        .collect()
}

/// Writes the palette once per run (a resumed run keeps the one it started with).
pub fn write_palette(run_dir: &Path, faces: &ImageSet) -> anyhow::Result<()> {
    let path = run_dir.join(PALETTE_FILE);
    if path.exists() {
        return Ok(());
    }
    write_atomically(&path, serde_json::to_string(&palette_of(faces))?)
}

/// The palette a translation run wrote when it started.
pub fn read_palette(run_dir: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let path = run_dir.join(PALETTE_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}, which the run writes when it starts",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a palette", path.display()))
}

/// The sketch-to-face U-Net as an f16 `.fgw` with the set's palette (a snapshot).
pub fn snapshot(unet: &UNet, config: &TranslateConfig, pairs: &TranslationSet) -> Vec<u8> {
    save_translator_as(
        unet,
        &config.model,
        palette_of(&pairs.faces),
        Precision::Half,
    )
}

/// RGB8 images of a `[n, 1 or 3, size, size]` tensor in [-1, 1].
pub fn rgb(images: Tensor<4>, size: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let images = if images.dims()[1] == 1 {
        images.repeat_dim(1, 3)
    } else {
        images
    };
    let values = images
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| anyhow::anyhow!("cannot read generated images: {error:?}"))?;
    Ok(nchw_to_rgb8(&values, size))
}

/// The sketch-to-face generator of the newest checkpoint in `run_dir`, if it is a translation
/// run (`None` for a run of another model).
pub fn load_translator(
    run_dir: &Path,
    device: &Device,
) -> anyhow::Result<Option<(UNet, TranslatorConfig)>> {
    let Some((mut saved, path)) = checkpoint::load_latest(run_dir)? else {
        return Ok(None);
    };
    if !["pix2pix", "cyclegan"].contains(&saved.meta.kind.as_str()) {
        return Ok(None);
    }
    let config: TranslatorConfig = serde_json::from_value(saved.meta.architecture)
        .with_context(|| format!("{} has an unreadable architecture", path.display()))?;
    let unet = load_module(
        config.init_unet(device),
        saved.sections.take(SKETCH_TO_FACE)?,
    )
    .with_context(|| format!("cannot load the U-Net of {}", path.display()))?;
    Ok(Some((unet, config)))
}
