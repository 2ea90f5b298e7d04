//! The translation training loop: epochs over the pairs, a log line and a `log.csv` row per
//! step, an input | output | target grid per epoch, checkpoints and exact resume.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::colour_code_bytes;
use facegan_model::{TranslatorConfig, UNet};
use serde::{Deserialize, Serialize};

use super::data::PairingReport;
use super::pix2pix::{Pix2Pix, adam};
use super::{PairedSet, TranslateConfig, TranslateMode, load_pairs};
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
    pub elapsed_s: f64,
    pub model: TranslatorConfig,
}

/// A pix2pix checkpoint: header, U-Net, PatchGAN, their Adam states.
#[derive(Debug, Clone)]
pub struct TranslateCheckpoint {
    pub meta: TranslateMeta,
    pub generator: Vec<u8>,
    pub discriminator: Vec<u8>,
    pub generator_optimizer: Vec<u8>,
    pub discriminator_optimizer: Vec<u8>,
}

impl TranslateCheckpoint {
    fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("meta serialises");
        file::encode(&[
            &meta,
            &self.generator,
            &self.discriminator,
            &self.generator_optimizer,
            &self.discriminator_optimizer,
        ])
    }

    fn from_sections(sections: Vec<Vec<u8>>, path: &Path) -> Result<Self, CheckpointError> {
        file::expect_sections(&sections, 5, path)?;
        let mut sections = sections.into_iter();
        let mut next = || sections.next().unwrap_or_default();
        let meta: TranslateMeta = parse_header(&next(), path)?;
        Ok(Self {
            meta,
            generator: next(),
            discriminator: next(),
            generator_optimizer: next(),
            discriminator_optimizer: next(),
        })
    }
}

fn record(bytes: Vec<u8>) -> anyhow::Result<ModuleRecord> {
    Ok(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))?)
}

/// The sketch-to-face generator of the newest checkpoint in `run_dir`, if it is a translation
/// run (`None` for a DCGAN run).
pub fn load_translator(
    run_dir: &Path,
    device: &Device,
) -> anyhow::Result<Option<(UNet, TranslatorConfig)>> {
    let Some((saved, path)) = file::load_latest(run_dir, |sections, path| {
        // A DCGAN checkpoint's header has no `mode`: not ours, not an error.
        let header: Result<TranslateMeta, _> = parse_header(&sections[0], path);
        match header {
            Ok(_) => TranslateCheckpoint::from_sections(sections, path).map(Some),
            Err(_) => Ok(None),
        }
    })?
    else {
        return Ok(None);
    };
    let Some(saved) = saved else {
        return Ok(None);
    };
    let config = saved.meta.model;
    let generator = config
        .init_unet(device)
        .try_load_record(record(saved.generator)?)
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
    let (pairs, report) = load_pairs(
        &config.sketches,
        &config.faces,
        config.model.image_size,
        config.max_images,
    )?;
    describe_pairing(&pairs, &report);
    ensure!(
        pairs.len() >= config.batch_size,
        "--batch-size {} is larger than the {} pairs of {} and {}",
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
                Pix2Pix::fresh(config, &train_device),
                TranslateMeta {
                    mode: config.mode,
                    epoch: 0,
                    batch: 0,
                    step: 0,
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
        let order = epoch_order(config.seed, epoch, pairs.len());
        let first_batch = if epoch == meta.epoch { meta.batch } else { 0 };
        progress.set_length(batches as u64);
        progress.set_position(first_batch as u64);
        progress.set_prefix(format!("epoch {}/{}", epoch + 1, config.epochs));
        for batch in first_batch..batches {
            let indices = &order[batch * config.batch_size..(batch + 1) * config.batch_size];
            let stats = model.step(
                config,
                pairs.sketch_batch(indices, &train_device),
                pairs.face_batch(indices, &train_device),
                pairs.code_batch(indices, &train_device),
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
        let tiles = sample_tiles(&model.generator, &pairs, &sample_indices, device)?;
        write_epoch_samples(&tiles, config.model.image_size, 3, run_dir, epoch + 1)?;
        meta.epoch = epoch + 1;
        meta.batch = 0;
        save(run_dir, &model, &meta)?;
        progress.println(format!(
            "epoch {}/{} done at step {} ({:.0}s): samples/epoch_{:03}.png (sketch | output | target)",
            epoch + 1,
            config.epochs,
            meta.step,
            meta.elapsed_s,
            epoch + 1
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
fn write_palette(run_dir: &Path, pairs: &PairedSet) -> anyhow::Result<()> {
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
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_string(&palette)?)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))
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

fn describe_pairing(pairs: &PairedSet, report: &PairingReport) {
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

/// For each sample pair: the sketch (as grey RGB), the output for the target's colour code,
/// and the target.
fn sample_tiles(
    generator: &UNet,
    pairs: &PairedSet,
    indices: &[usize],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let device = device.clone().without_autodiff();
    let generator = generator.valid();
    let sketches = pairs.sketch_batch(indices, &device);
    let outputs = generator.forward(sketches, pairs.code_batch(indices, &device));
    let values = outputs
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| anyhow::anyhow!("cannot read generated faces: {error:?}"))?;
    let outputs = nchw_to_rgb8(&values, pairs.faces.size);
    let mut tiles = Vec::with_capacity(indices.len() * 3);
    for (&index, output) in indices.iter().zip(outputs) {
        tiles.push(pairs.sketches.image(index).to_vec());
        tiles.push(output);
        tiles.push(pairs.faces.image(index).to_vec());
    }
    Ok(tiles)
}

fn resume(
    config: &TranslateConfig,
    saved: TranslateCheckpoint,
    device: &Device,
) -> anyhow::Result<(Pix2Pix, TranslateMeta)> {
    ensure!(
        saved.meta.model == config.model && saved.meta.mode == config.mode,
        "the run was trained as {:?} with {:?}, but this command asks for {:?} with {:?}; use \
         the same flags or another --out",
        saved.meta.mode,
        saved.meta.model,
        config.mode,
        config.model
    );
    let model = Pix2Pix {
        generator: config
            .model
            .init_unet(device)
            .try_load_record(record(saved.generator)?)?,
        discriminator: config
            .model
            .init_patch_discriminator(device)
            .try_load_record(record(saved.discriminator)?)?,
        generator_optimizer: adam(config)
            .from_bytes(Bytes::from_bytes_vec(saved.generator_optimizer))?,
        discriminator_optimizer: adam(config)
            .from_bytes(Bytes::from_bytes_vec(saved.discriminator_optimizer))?,
    };
    Ok((model, saved.meta))
}

fn save(run_dir: &Path, model: &Pix2Pix, meta: &TranslateMeta) -> anyhow::Result<()> {
    let bytes =
        |record: ModuleRecord| -> anyhow::Result<Vec<u8>> { Ok(record.into_bytes()?.to_vec()) };
    let checkpoint = TranslateCheckpoint {
        meta: meta.clone(),
        generator: bytes(model.generator.clone().into_record())?,
        discriminator: bytes(model.discriminator.clone().into_record())?,
        generator_optimizer: model.generator_optimizer.into_bytes()?.to_vec(),
        discriminator_optimizer: model.discriminator_optimizer.into_bytes()?.to_vec(),
    };
    file::save(run_dir, &checkpoint.to_bytes())
        .with_context(|| format!("cannot write a checkpoint in {}", run_dir.display()))
}
