//! The translation training loop: epochs over the pairs, a log line and a `log.csv` row per
//! step, an input | output | target grid per epoch, checkpoints and exact resume.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::colour_code_bytes;
use facegan_model::{TranslatorConfig, UNet};
use serde::{Deserialize, Serialize};

use super::data::PairingReport;
use super::data::{TranslationSet, load_unpaired};
use super::translator::{BatchIndices, Translator};
use super::{TranslateConfig, TranslateMode, load_pairs};
use crate::atomic_file::write_atomically;
use crate::checkpoint::{self as file, CheckpointError, parse_header};
use crate::train::samples::write_epoch_samples;
use crate::train::{
    LOG_FILE, Outcome, StepLog, TrainSummary, epoch_order, report_skipped, step_progress_bar,
};

pub const TRANSLATE_LOG_HEADER: &str =
    "step,epoch,batch,batches,elapsed_s,d_loss,g_adversarial,l1,d_real,d_fake";
/// Pairs shown in each epoch's sample grid (the first ones in name order).
const SAMPLE_PAIRS: usize = 8;
/// The colour codes a translator's seeds pick from, written when a run starts.
pub const PALETTE_FILE: &str = "palette.json";
/// Entries of the palette: enough for variety, small in the weights file (27 bytes each).
const PALETTE_ENTRIES: usize = 256;

/// Where a translation run stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslateMeta {
    pub mode: TranslateMode,
    pub epoch: usize,
    pub batch: usize,
    pub step: u64,
    /// State of the run's random stream (CycleGAN's image pools).
    #[serde(default)]
    pub rng_state: u64,
    pub elapsed_s: f64,
    pub model: TranslatorConfig,
}

/// A translation checkpoint: the header, then the model's sections (see
/// [`Translator::sections`]; the first is always the sketch-to-face U-Net).
#[derive(Debug, Clone)]
pub struct TranslateCheckpoint {
    pub meta: TranslateMeta,
    pub sections: Vec<Vec<u8>>,
}

impl TranslateCheckpoint {
    fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("meta serialises");
        let mut sections: Vec<&[u8]> = vec![&meta];
        sections.extend(self.sections.iter().map(Vec::as_slice));
        file::encode(&sections)
    }

    fn from_sections(sections: Vec<Vec<u8>>, path: &Path) -> Result<Self, CheckpointError> {
        let Some(header) = sections.first() else {
            // A framed file of no sections at all: refused, not indexed.
            return Err(CheckpointError::Sections {
                path: path.to_path_buf(),
                expected: 1,
                found: 0,
            });
        };
        let meta: TranslateMeta = parse_header(header, path)?;
        file::expect_sections(&sections, 1 + Translator::section_count(meta.mode), path)?;
        Ok(Self {
            meta,
            sections: sections.into_iter().skip(1).collect(),
        })
    }
}

/// The sketch-to-face generator of the newest checkpoint in `run_dir`, if it is a translation
/// run (`None` for a DCGAN run).
pub fn load_translator(
    run_dir: &Path,
    device: &Device,
) -> anyhow::Result<Option<(UNet, TranslatorConfig)>> {
    let loaded = file::load_latest(run_dir, |sections, path| {
        // A DCGAN checkpoint's header has no `mode`: not ours, not an error.
        let ours = sections
            .first()
            .is_some_and(|header| parse_header::<TranslateMeta>(header, path).is_ok());
        if ours {
            TranslateCheckpoint::from_sections(sections, path).map(Some)
        } else {
            Ok(None)
        }
    })?;
    let Some((Some(saved), path)) = loaded else {
        return Ok(None);
    };
    let config = saved.meta.model;
    let first = saved.sections.into_iter().next().unwrap_or_default();
    let generator = config
        .init_unet(device)
        .try_load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(first))?)
        .with_context(|| format!("cannot load the U-Net of {}", path.display()))?;
    Ok(Some((generator, config)))
}

/// Trains (or resumes) the translation run in `run_dir` until all epochs are done or `stop`
/// is raised.
pub fn train_translator(
    config: &TranslateConfig,
    run_dir: &Path,
    device: &Device,
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    config.validate()?;
    std::fs::create_dir_all(run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let load = match config.mode {
        TranslateMode::Pix2Pix => load_pairs,
        TranslateMode::CycleGan => load_unpaired,
    };
    let (pairs, report) = load(
        &config.sketches,
        &config.faces,
        config.model.image_size,
        config.max_images,
    )?;
    describe_pairing(&pairs, &report);
    ensure!(
        pairs.len() >= config.batch_size,
        "--batch-size {} is larger than the {} images per epoch of {} and {}",
        config.batch_size,
        pairs.len(),
        config.sketches.display(),
        config.faces.display()
    );
    let batches = pairs.len() / config.batch_size;
    let train_device = device.clone().autodiff();

    let (mut model, mut meta) =
        match file::load_latest(run_dir, TranslateCheckpoint::from_sections)? {
            Some((saved, path)) => {
                let resumed = resume(config, saved, &train_device)
                    .with_context(|| format!("cannot resume from {}", path.display()))?;
                log::info!(
                    "resuming {} at epoch {}, batch {}/{} (step {})",
                    run_dir.display(),
                    resumed.1.epoch + 1,
                    resumed.1.batch,
                    batches,
                    resumed.1.step
                );
                resumed
            }
            None => (
                Translator::fresh(config, &train_device),
                TranslateMeta {
                    mode: config.mode,
                    epoch: 0,
                    batch: 0,
                    step: 0,
                    rng_state: 0,
                    elapsed_s: 0.0,
                    model: config.model.clone(),
                },
            ),
        };
    if meta.epoch >= config.epochs {
        log::info!(
            "{} already has {} epochs; raise --epochs to train further",
            run_dir.display(),
            meta.epoch
        );
        return Ok(TrainSummary {
            outcome: Outcome::Finished,
            epochs_done: meta.epoch,
            steps: meta.step,
        });
    }
    write_palette(run_dir, &pairs)?;
    let config_path = run_dir.join("config.json");
    std::fs::write(&config_path, serde_json::to_string_pretty(config)?)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let mut step_log =
        StepLog::open_with_header(&run_dir.join(LOG_FILE), TRANSLATE_LOG_HEADER, meta.step)?;
    let sample_indices: Vec<usize> = (0..pairs.len().min(SAMPLE_PAIRS)).collect();

    let progress = step_progress_bar();
    let plain_lines = progress.is_hidden();
    let started = Instant::now();
    let elapsed_before = meta.elapsed_s;
    for epoch in meta.epoch..config.epochs {
        let orders = EpochOrders::new(config.seed, epoch, &pairs);
        let first_batch = if epoch == meta.epoch { meta.batch } else { 0 };
        progress.set_length(batches as u64);
        progress.set_position(first_batch as u64);
        progress.set_prefix(format!("epoch {}/{}", epoch + 1, config.epochs));
        for batch in first_batch..batches {
            let stats = model.step(
                config,
                &pairs,
                &orders.batch(batch, config.batch_size),
                &train_device,
                config.inject_nan_at_step == Some(meta.step + 1),
            );
            meta.step += 1;
            meta.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            if ![stats.d_loss, stats.g_adversarial, stats.l1]
                .iter()
                .all(|loss| loss.is_finite())
            {
                progress.abandon();
                bail!(
                    "training diverged at epoch {}, batch {}/{} (step {}): d_loss = {}, \
                     g_adversarial = {}, l1 = {}. Stopped without saving; the last good \
                     checkpoint in {} is intact. Try lower learning rates.",
                    epoch + 1,
                    batch + 1,
                    batches,
                    meta.step,
                    stats.d_loss,
                    stats.g_adversarial,
                    stats.l1,
                    run_dir.display()
                );
            }
            step_log.write_line(&format!(
                "{},{},{},{},{:.3},{:.5},{:.5},{:.5},{:.4},{:.4}",
                meta.step,
                epoch + 1,
                batch + 1,
                batches,
                meta.elapsed_s,
                stats.d_loss,
                stats.g_adversarial,
                stats.l1,
                stats.d_real,
                stats.d_fake
            ))?;
            let line = format!(
                "d_loss {:.4} g_adv {:.4} L1 {:.4} D(real) {:.3} D(fake) {:.3}",
                stats.d_loss, stats.g_adversarial, stats.l1, stats.d_real, stats.d_fake
            );
            if plain_lines {
                log::info!(
                    "epoch {}/{} batch {}/{} [{:.0}s] {line}",
                    epoch + 1,
                    config.epochs,
                    batch + 1,
                    batches,
                    meta.elapsed_s
                );
            }
            progress.set_message(line);
            progress.inc(1);
            meta.epoch = epoch;
            meta.batch = batch + 1;
            meta.rng_state = model.rng_state();
            if stop.load(Ordering::SeqCst) {
                save(run_dir, &model, &meta)?;
                progress.abandon();
                return Ok(TrainSummary {
                    outcome: Outcome::Interrupted,
                    epochs_done: epoch,
                    steps: meta.step,
                });
            }
            if config.checkpoint_every > 0
                && meta.step.is_multiple_of(config.checkpoint_every as u64)
            {
                save(run_dir, &model, &meta)?;
            }
        }
        let (tiles, columns) = sample_tiles(&model, &pairs, &sample_indices, device)?;
        write_epoch_samples(&tiles, config.model.image_size, columns, run_dir, epoch + 1)?;
        meta.epoch = epoch + 1;
        meta.batch = 0;
        save(run_dir, &model, &meta)?;
        progress.println(format!(
            "epoch {}/{} done at step {} ({:.0}s): samples/epoch_{:03}.png ({})",
            epoch + 1,
            config.epochs,
            meta.step,
            meta.elapsed_s,
            epoch + 1,
            match config.mode {
                TranslateMode::Pix2Pix => "sketch | output | target",
                TranslateMode::CycleGan =>
                    "sketch | face | sketch again || face | sketch | face again",
            }
        ));
    }
    progress.finish_and_clear();
    Ok(TrainSummary {
        outcome: Outcome::Finished,
        epochs_done: config.epochs,
        steps: meta.step,
    })
}

/// Writes the colour codes of faces spread evenly over the set, once per run.
fn write_palette(run_dir: &Path, pairs: &TranslationSet) -> anyhow::Result<()> {
    let path = run_dir.join(PALETTE_FILE);
    if path.exists() {
        return Ok(());
    }
    let step = (pairs.len() / PALETTE_ENTRIES).max(1);
    let palette: Vec<Vec<u8>> = (0..pairs.len())
        .step_by(step)
        .take(PALETTE_ENTRIES)
        .map(|index| colour_code_bytes(pairs.faces.image(index), pairs.faces.size).to_vec())
        .collect();
    write_atomically(&path, serde_json::to_string(&palette)?)
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

/// The sample grid's tiles and columns. pix2pix, per pair: the sketch (as grey RGB), the
/// output for the target's colour code, the target. CycleGAN, per row: a sketch, its face
/// (coloured with the code of the face in the same row), the sketch drawn back from that face;
/// then a face, its sketch, the face drawn back from that sketch. A collapsing face-to-sketch
/// direction shows as blank middle tiles on the right.
fn sample_tiles(
    model: &Translator,
    pairs: &TranslationSet,
    indices: &[usize],
    device: &Device,
) -> anyhow::Result<(Vec<Vec<u8>>, usize)> {
    let device = device.clone().without_autodiff();
    let size = pairs.faces.size;
    let rgb = |images: Tensor<4>| -> anyhow::Result<Vec<Vec<u8>>> {
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
    };
    let to_face = model.sketch_to_face().valid();
    let sketches = pairs.sketch_batch(indices, &device);
    let codes = pairs.code_batch(indices, &device);
    let faces = to_face.forward(sketches.clone(), codes.clone());
    let Some(to_sketch) = model.face_to_sketch().map(Module::valid) else {
        let mut tiles = Vec::with_capacity(indices.len() * 3);
        for (&index, output) in indices.iter().zip(rgb(faces)?) {
            tiles.push(pairs.sketches.image(index).to_vec());
            tiles.push(output);
            tiles.push(pairs.faces.image(index).to_vec());
        }
        return Ok((tiles, 3));
    };
    let sketched_back = to_sketch.forward_plain(faces.clone());
    let real_faces = pairs.face_batch(indices, &device);
    let drawn = to_sketch.forward_plain(real_faces);
    let faced_back = to_face.forward(drawn.clone(), codes);
    let columns = [
        rgb(sketches)?,
        rgb(faces)?,
        rgb(sketched_back)?,
        indices
            .iter()
            .map(|&i| pairs.faces.image(i).to_vec())
            .collect(),
        rgb(drawn)?,
        rgb(faced_back)?,
    ];
    let mut tiles = Vec::with_capacity(indices.len() * 6);
    for row in 0..indices.len() {
        tiles.extend(columns.iter().map(|column| column[row].clone()));
    }
    Ok((tiles, 6))
}

/// The image order of one epoch: shuffled sketches, and the faces in the same order when
/// paired or in their own when not; CycleGAN's sketches take the colour codes of a third
/// shuffle of the faces.
struct EpochOrders {
    sketches: Vec<usize>,
    faces: Vec<usize>,
    codes: Vec<usize>,
}

impl EpochOrders {
    fn new(seed: u64, epoch: usize, data: &TranslationSet) -> Self {
        let sketches = epoch_order(seed, epoch, data.sketches.len());
        if data.is_paired() {
            return Self {
                faces: sketches.clone(),
                codes: sketches.clone(),
                sketches,
            };
        }
        Self {
            sketches,
            faces: epoch_order(seed ^ 0xFACE, epoch, data.faces.len()),
            codes: epoch_order(seed ^ 0xC0DE, epoch, data.faces.len()),
        }
    }

    fn batch(&self, batch: usize, size: usize) -> BatchIndices<'_> {
        let range = batch * size..(batch + 1) * size;
        BatchIndices {
            sketches: &self.sketches[range.clone()],
            faces: &self.faces[range.clone()],
            codes: &self.codes[range],
        }
    }
}

fn resume(
    config: &TranslateConfig,
    saved: TranslateCheckpoint,
    device: &Device,
) -> anyhow::Result<(Translator, TranslateMeta)> {
    ensure!(
        saved.meta.model == config.model && saved.meta.mode == config.mode,
        "the run was trained as {:?} with {:?}, but this command asks for {:?} with {:?}; use \
         the same flags or another --out",
        saved.meta.mode,
        saved.meta.model,
        config.mode,
        config.model
    );
    let model = Translator::from_sections(config, saved.sections, saved.meta.rng_state, device)?;
    Ok((model, saved.meta))
}

fn save(run_dir: &Path, model: &Translator, meta: &TranslateMeta) -> anyhow::Result<()> {
    let checkpoint = TranslateCheckpoint {
        meta: meta.clone(),
        sections: model.sections()?,
    };
    file::save(run_dir, &checkpoint.to_bytes())
        .with_context(|| format!("cannot write a checkpoint in {}", run_dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_without_sections_is_refused_not_indexed() {
        let error = TranslateCheckpoint::from_sections(Vec::new(), Path::new("run/checkpoint.fgc"))
            .unwrap_err();
        assert!(
            matches!(
                error,
                CheckpointError::Sections {
                    expected: 1,
                    found: 0,
                    ..
                }
            ),
            "{error}"
        );
    }
}
