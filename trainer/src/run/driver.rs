use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use facegan_model::{Discriminator, Generator, SplitMix64, latent_batch};
use indicatif::{ProgressBar, ProgressStyle};

use super::average;
use super::checkpoint::{self, Checkpoint, CheckpointMeta};
use super::diversity::{self, COLLAPSE_RATIO, mean_pairwise_distance};
use super::log::{LOG_FILE, StepLog, StepRow};
use super::samples::{SAMPLE_SEEDS, render_faces, write_epoch_samples};
use super::snapshot;
use super::{LabelPolicy, TrainConfig, bce_with_logits};
use crate::atomic_file::write_atomically;
use crate::data::{ImageSet, Skipped, batch_tensor, load_folder};

/// How a call to [`train`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All epochs are done.
    Finished,
    /// The stop flag was raised; a checkpoint was written first.
    Interrupted,
}

#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub outcome: Outcome,
    pub epochs_done: usize,
    pub steps: u64,
}

/// What one optimisation step measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepStats {
    d_loss: f32,
    g_loss: f32,
    d_x: f32,
    d_g_z: f32,
}

/// Both networks, their optimisers and the run's random stream.
pub(crate) struct Gan {
    pub(crate) generator: Generator,
    /// The moving average of `generator` (off the autodiff device); `None` with `--ema-decay 0`.
    average: Option<Generator>,
    discriminator: Discriminator,
    generator_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
    rng: SplitMix64,
}

/// Trains (or resumes) the run in `run_dir` on `device` until all epochs are done or `stop`
/// is raised.
pub fn train(
    config: &TrainConfig,
    run_dir: &Path,
    device: &Device,
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    config.validate()?;
    std::fs::create_dir_all(run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let (images, skipped) = load_folder(&config.data, config.model.image_size, config.max_images)?;
    report_skipped(&skipped, images.len());
    ensure!(
        images.len() >= config.batch_size,
        "--batch-size {} is larger than the data set: {} usable images in {}",
        config.batch_size,
        images.len(),
        config.data.display()
    );
    let batches = images.len() / config.batch_size;

    let train_device = device.clone().autodiff();
    let (mut gan, mut meta) = match checkpoint::load_latest(run_dir)? {
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
        None => fresh(config, &train_device)?,
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
    write_config(config, run_dir)?;
    let mut step_log = StepLog::open(&run_dir.join(LOG_FILE), meta.step)?;
    let labels = LabelPolicy::new(config.labels.clone());
    let size = config.model.image_size;
    let sample_device = device.clone().without_autodiff();
    let sample_seeds: Vec<u64> = SAMPLE_SEEDS.collect();
    let sample_z = latent_tensor(&sample_seeds, config.model.latent_size, &sample_device);
    // The spread of real images, the yardstick of the samples' diversity.
    let real_spread = {
        let count = images.len().min(sample_seeds.len());
        let real: Vec<Vec<u8>> = (0..count).map(|i| images.image(i).to_vec()).collect();
        mean_pairwise_distance(&real)
    };

    let progress = step_progress_bar();
    let started = Instant::now();
    let elapsed_before = meta.elapsed_s;
    let plain_lines = progress.is_hidden();
    for epoch in meta.epoch..config.epochs {
        let order = epoch_order(config.seed, epoch, images.len());
        let first_batch = if epoch == meta.epoch { meta.batch } else { 0 };
        progress.set_length(batches as u64);
        progress.set_position(first_batch as u64);
        progress.set_prefix(format!("epoch {}/{}", epoch + 1, config.epochs));
        for batch in first_batch..batches {
            let indices = &order[batch * config.batch_size..(batch + 1) * config.batch_size];
            let nan_now = config.inject_nan_at_step == Some(meta.step + 1);
            let stats = gan.step(
                config,
                &labels,
                &images,
                indices,
                epoch,
                &train_device,
                nan_now,
            );
            meta.step += 1;
            gan.update_average(config.ema_decay, meta.step);
            meta.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            let row = StepRow {
                step: meta.step,
                epoch: epoch + 1,
                batch: batch + 1,
                batches,
                elapsed_s: meta.elapsed_s,
                d_loss: stats.d_loss,
                g_loss: stats.g_loss,
                d_x: stats.d_x,
                d_g_z: stats.d_g_z,
            };
            if ![stats.d_loss, stats.g_loss]
                .iter()
                .all(|loss| loss.is_finite())
            {
                progress.abandon();
                bail!(
                    "training diverged at epoch {}, batch {}/{} (step {}): d_loss = {}, g_loss = {}. \
                     Stopped without saving; the last good checkpoint in {} is intact. \
                     Try lower learning rates or label smoothing.",
                    row.epoch,
                    row.batch,
                    batches,
                    row.step,
                    stats.d_loss,
                    stats.g_loss,
                    run_dir.display()
                );
            }
            step_log.write(&row)?;
            let line = format!(
                "d_loss {:.4} g_loss {:.4} D(x) {:.3} D(G(z)) {:.3}",
                stats.d_loss, stats.g_loss, stats.d_x, stats.d_g_z
            );
            if plain_lines {
                log::info!(
                    "epoch {}/{} batch {}/{} [{:.0}s] {line}",
                    row.epoch,
                    config.epochs,
                    row.batch,
                    batches,
                    row.elapsed_s
                );
            }
            progress.set_message(line);
            progress.inc(1);

            meta.epoch = epoch;
            meta.batch = batch + 1;
            meta.rng_state = gan.rng.state;
            if stop.load(Ordering::SeqCst) {
                save_checkpoint(run_dir, &gan, &meta)?;
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
                save_checkpoint(run_dir, &gan, &meta)?;
            }
        }
        let faces = render_faces(gan.sample_generator(), sample_z.clone(), size)?;
        write_epoch_samples(&faces, size, 8, run_dir, epoch + 1)?;
        let spread = mean_pairwise_distance(&faces);
        let ratio = diversity::record(run_dir, epoch + 1, spread, real_spread)?;
        if ratio < COLLAPSE_RATIO {
            log::warn!(
                "epoch {}: the samples' diversity is {ratio:.2} of the real images' (below {COLLAPSE_RATIO}): \
                 possible mode collapse; look at samples/epoch_{:03}.png",
                epoch + 1,
                epoch + 1
            );
        }
        if config.snapshot_every > 0 && (epoch + 1).is_multiple_of(config.snapshot_every) {
            let path = snapshot::write(run_dir, epoch + 1, gan.sample_generator(), &config.model)?;
            log::info!(
                "epoch {}: kept the generator as {}",
                epoch + 1,
                path.display()
            );
        }
        meta.epoch = epoch + 1;
        meta.batch = 0;
        meta.rng_state = gan.rng.state;
        save_checkpoint(run_dir, &gan, &meta)?;
        progress.println(format!(
            "epoch {}/{} done at step {} ({:.0}s): samples/epoch_{:03}.png, diversity {:.2} of real",
            epoch + 1,
            config.epochs,
            meta.step,
            meta.elapsed_s,
            epoch + 1,
            ratio
        ));
    }
    progress.finish_and_clear();
    Ok(TrainSummary {
        outcome: Outcome::Finished,
        epochs_done: config.epochs,
        steps: meta.step,
    })
}

impl Gan {
    /// The generator that draws samples: the average when the run keeps one.
    pub(crate) fn sample_generator(&self) -> &Generator {
        self.average.as_ref().unwrap_or(&self.generator)
    }

    fn update_average(&mut self, decay: f64, step: u64) {
        if let Some(previous) = self.average.take() {
            let blended = average::blend(previous, &self.generator, average::decay_at(decay, step));
            self.average = Some(blended);
        }
    }

    /// One discriminator update followed by `generator_steps` generator updates.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn step(
        &mut self,
        config: &TrainConfig,
        labels: &LabelPolicy,
        images: &ImageSet,
        indices: &[usize],
        epoch: usize,
        device: &Device,
        inject_nan: bool,
    ) -> StepStats {
        let n = indices.len();
        let latent = config.model.latent_size;
        let flips: Vec<bool> = (0..n).map(|_| self.rng.chance(0.5)).collect();
        let real = batch_tensor(images, indices, &flips, device);

        // Discriminator: real images towards "real", detached fakes towards "fake".
        let z = self.noise(n, latent, device);
        let fake = self.generator.forward(z);
        let real_logits = self.discriminator.forward(real);
        let fake_logits = self.discriminator.forward(fake.clone().detach());
        let real_targets = labels.discriminator_targets(&mut self.rng, n, true, epoch);
        let fake_targets = labels.discriminator_targets(&mut self.rng, n, false, epoch);
        let mut d_loss = bce_with_logits(real_logits.clone(), vector(real_targets, device))
            + bce_with_logits(fake_logits.clone(), vector(fake_targets, device));
        if inject_nan {
            d_loss = d_loss.add_scalar(f32::NAN);
        }
        let d_x = sigmoid(real_logits).mean().into_scalar::<f32>();
        let d_g_z = sigmoid(fake_logits).mean().into_scalar::<f32>();
        let d_loss_value = d_loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
        self.discriminator = self.discriminator_optimizer.step(
            config.discriminator_lr,
            self.discriminator.clone(),
            grads,
        );

        // Generator: fakes scored by the updated discriminator, pushed towards "real".
        let mut g_loss_value = 0.0;
        let mut fake = Some(fake);
        for _ in 0..config.generator_steps {
            let images = match fake.take() {
                Some(first) => first,
                None => {
                    let z = self.noise(n, latent, device);
                    self.generator.forward(z)
                }
            };
            let logits = self.discriminator.forward(images);
            let targets = Tensor::full([n], labels.generator_target(), device);
            let g_loss = bce_with_logits(logits, targets);
            g_loss_value = g_loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(g_loss.backward(), &self.generator);
            self.generator =
                self.generator_optimizer
                    .step(config.generator_lr, self.generator.clone(), grads);
        }
        StepStats {
            d_loss: d_loss_value,
            g_loss: g_loss_value,
            d_x,
            d_g_z,
        }
    }

    /// `[n, latent, 1, 1]` standard normal noise from the run's own stream.
    fn noise(&mut self, n: usize, latent: usize, device: &Device) -> Tensor<4> {
        let values: Vec<f32> = (0..n * latent).map(|_| self.rng.normal()).collect();
        Tensor::from_data(TensorData::new(values, [n, latent, 1, 1]), device)
    }
}

fn adam(config: &TrainConfig) -> ModuleOptimizer {
    super::config::adam(config.beta1, config.beta2)
}

pub(crate) fn fresh(
    config: &TrainConfig,
    device: &Device,
) -> anyhow::Result<(Gan, CheckpointMeta)> {
    device.seed(config.seed);
    let generator = match &config.init_generator {
        Some(path) => generator_from_file(config, path, device)?,
        None => config.model.init_generator(device),
    };
    let gan = Gan {
        average: (config.ema_decay > 0.0).then(|| generator.valid()),
        generator,
        discriminator: config.model.init_discriminator(device),
        generator_optimizer: adam(config),
        discriminator_optimizer: adam(config),
        rng: SplitMix64::new(config.seed ^ 0xFACE_6A11),
    };
    let meta = CheckpointMeta {
        epoch: 0,
        batch: 0,
        step: 0,
        rng_state: gan.rng.state,
        elapsed_s: 0.0,
        model: config.model.clone(),
    };
    Ok((gan, meta))
}

/// The generator of an exported weights file, made trainable on `device` (`--init-generator`).
fn generator_from_file(
    config: &TrainConfig,
    path: &Path,
    device: &Device,
) -> anyhow::Result<Generator> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let inner = device.clone().without_autodiff();
    let loaded = facegan_model::weights::load_generator_expecting(&bytes, &config.model, &inner)
        .with_context(|| format!("--init-generator {}", path.display()))?;
    log::info!("generator starts from {}", path.display());
    // Through a record, like a resume, so that the parameters are tracked for training.
    Ok(config
        .model
        .init_generator(device)
        .try_load_record(loaded.into_record())?)
}

fn resume(
    config: &TrainConfig,
    saved: Checkpoint,
    device: &Device,
) -> anyhow::Result<(Gan, CheckpointMeta)> {
    ensure!(
        saved.meta.model == config.model,
        "the run was trained with {:?}, but this command asks for {:?}; use the same architecture \
         flags or another --out",
        saved.meta.model,
        config.model
    );
    let record = |bytes: Vec<u8>| ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes));
    let generator = config
        .model
        .init_generator(device)
        .try_load_record(record(saved.generator)?)?;
    let discriminator = config
        .model
        .init_discriminator(device)
        .try_load_record(record(saved.discriminator)?)?;
    // A run saved without an average (or by an older version) starts one from its generator.
    let average = if config.ema_decay == 0.0 {
        None
    } else if saved.generator_average.is_empty() {
        Some(generator.valid())
    } else {
        let inner = device.clone().without_autodiff();
        Some(
            config
                .model
                .init_generator(&inner)
                .try_load_record(record(saved.generator_average)?)?,
        )
    };
    let generator_optimizer =
        adam(config).from_bytes(Bytes::from_bytes_vec(saved.generator_optimizer))?;
    let discriminator_optimizer =
        adam(config).from_bytes(Bytes::from_bytes_vec(saved.discriminator_optimizer))?;
    let gan = Gan {
        generator,
        average,
        discriminator,
        generator_optimizer,
        discriminator_optimizer,
        rng: SplitMix64::new(saved.meta.rng_state),
    };
    Ok((gan, saved.meta))
}

fn save_checkpoint(run_dir: &Path, gan: &Gan, meta: &CheckpointMeta) -> anyhow::Result<()> {
    let bytes =
        |record: ModuleRecord| -> anyhow::Result<Vec<u8>> { Ok(record.into_bytes()?.to_vec()) };
    let checkpoint = Checkpoint {
        meta: meta.clone(),
        generator: bytes(gan.generator.clone().into_record())?,
        discriminator: bytes(gan.discriminator.clone().into_record())?,
        generator_optimizer: gan.generator_optimizer.into_bytes()?.to_vec(),
        discriminator_optimizer: gan.discriminator_optimizer.into_bytes()?.to_vec(),
        generator_average: match &gan.average {
            Some(average) => bytes(average.clone().into_record())?,
            None => Vec::new(),
        },
    };
    checkpoint::save(run_dir, &checkpoint)
        .with_context(|| format!("cannot write a checkpoint in {}", run_dir.display()))
}

fn write_config(config: &TrainConfig, run_dir: &Path) -> anyhow::Result<()> {
    write_atomically(
        &run_dir.join("config.json"),
        serde_json::to_string_pretty(config)?,
    )
}

/// The visiting order of an epoch depends only on (seed, epoch), so a resumed run sees the
/// same batches it would have seen without stopping.
pub(crate) fn epoch_order(seed: u64, epoch: usize, len: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut rng = SplitMix64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch as u64);
    rng.shuffle(&mut order);
    order
}

pub(crate) fn latent_tensor(seeds: &[u64], latent: usize, device: &Device) -> Tensor<4> {
    let values = latent_batch(seeds, latent);
    Tensor::from_data(TensorData::new(values, [seeds.len(), latent, 1, 1]), device)
}

fn vector(values: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

pub(crate) fn step_progress_bar() -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template"),
    )
}

pub(crate) fn report_skipped(skipped: &[Skipped], used: usize) {
    if skipped.is_empty() {
        return;
    }
    log::warn!(
        "skipped {} of {} image files that could not be decoded:",
        skipped.len(),
        skipped.len() + used
    );
    for skip in skipped {
        log::warn!("  {}: {}", skip.path.display(), skip.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn outputs(generator: &Generator, device: &Device) -> Vec<f32> {
        let z = latent_tensor(&[1, 2, 3], 100, device);
        generator
            .valid()
            .forward(z)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    /// A DCGAN small enough to train a step in a unit test.
    fn tiny_model() -> facegan_model::DcganConfig {
        facegan_model::DcganConfig::new()
            .with_image_size(32)
            .with_generator_width(8)
            .with_discriminator_width(8)
    }

    fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn a_checkpoint_carries_the_generator_average_across_a_resume() {
        let device = Device::flex();
        let train_device = device.clone().autodiff();
        let model = tiny_model();
        let config = TrainConfig::new(PathBuf::from("unused"), model.clone(), 1, 4);
        let (mut gan, meta) = fresh(&config, &train_device).unwrap();
        // An average far from the generator: a generator of another seed.
        device.seed(7);
        gan.average = Some(model.init_generator(&device));
        let before = outputs(gan.sample_generator(), &device);
        let generator = outputs(&gan.generator, &device);

        let dir = tempfile::tempdir().unwrap();
        save_checkpoint(dir.path(), &gan, &meta).unwrap();
        let (saved, _) = checkpoint::load_latest(dir.path()).unwrap().unwrap();
        let (resumed, _) = resume(&config, saved, &train_device).unwrap();
        let after = outputs(resumed.sample_generator(), &device);

        // Untrained faces are nearly flat (outputs ~1e-4), so compare against that scale.
        let apart = largest_difference(&before, &generator);
        let drift = largest_difference(&before, &after);
        assert!(apart > 1e-5, "the test needs distinct generators ({apart})");
        assert!(
            drift < apart / 1000.0,
            "the average was not restored: {drift} vs {apart}"
        );
    }

    #[test]
    fn a_run_can_start_from_exported_weights_and_trains_them() {
        let device = Device::flex();
        let train_device = device.clone().autodiff();
        let model = tiny_model();
        device.seed(11);
        let exported = model.init_generator(&device);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.fgw");
        std::fs::write(&file, facegan_model::save_generator(&exported, &model)).unwrap();

        let mut config = TrainConfig::new(PathBuf::from("unused"), model.clone(), 1, 4);
        config.init_generator = Some(file.clone());
        let (mut gan, _) = fresh(&config, &train_device).unwrap();
        let wanted = outputs(&exported, &device);
        let started = outputs(&gan.generator, &device);
        let apart = largest_difference(&wanted, &started);
        assert!(
            apart < 1e-6,
            "the generator did not start from the file ({apart})"
        );

        // Its parameters are trainable: one step changes its faces.
        let images = ImageSet {
            size: 32,
            pixels: vec![200; 4 * 32 * 32 * 3],
        };
        let labels = LabelPolicy::new(config.labels.clone());
        gan.step(
            &config,
            &labels,
            &images,
            &[0, 1, 2, 3],
            0,
            &train_device,
            false,
        );
        let trained = outputs(&gan.generator, &device);
        assert_ne!(
            trained, started,
            "a training step left the loaded generator unchanged"
        );

        // Another discriminator is fine: the file holds only the generator.
        let mut other_critic = config.clone();
        other_critic.model = model
            .clone()
            .with_discriminator_width(model.discriminator_width * 2);
        assert!(
            fresh(&other_critic, &train_device).is_ok(),
            "a discriminator of another width refused the generator"
        );

        // Another generator is refused, naming the file.
        let mut wider = config.clone();
        wider.model = model.with_generator_width(16);
        let Err(error) = fresh(&wider, &train_device) else {
            panic!("a generator of another width was accepted");
        };
        let error = format!("{error:#}");
        assert!(error.contains("g.fgw"), "{error}");
    }
}
