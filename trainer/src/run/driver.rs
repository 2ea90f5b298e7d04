//! The epoch and batch loop every model runs in.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::tensor::Device;
use facegan_model::SplitMix64;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;

use super::checkpoint::{self, Checkpoint, RunState};
use super::log::{LOG_FILE, Position, StepLog};
use super::replicas::Replicas;
use super::report::{self, Plots, Status};
use super::samples::{SAMPLES_DIR, SNAPSHOT_DIR, write_epoch_samples, write_snapshot};
use super::{RunConfig, Trainable};
use crate::atomic_file::{remove_leftovers, write_atomically};

/// How a call to [`train`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All epochs are done.
    Finished,
    /// The stop flag was raised; a checkpoint was written first.
    Interrupted,
    /// The run reached `--minutes` of training; a checkpoint was written first.
    TimeUp,
}

#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub outcome: Outcome,
    pub epochs_done: usize,
    pub steps: u64,
}

const CONFIG_FILE: &str = "config.json";

/// Trains (or resumes) the run of model `M` in `run_dir` on `device` until all epochs are
/// done or `stop` is raised.
pub fn train<M: Trainable>(
    config: &M::Config,
    run_dir: &Path,
    device: &Device,
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    train_on::<M>(config, run_dir, std::slice::from_ref(device), stop)
}

/// [`train`] on several devices at once (data-parallel, see `replicas.rs`): each device takes
/// its share of every batch; the first one is the main replica, which logs, draws the samples
/// and writes the checkpoints.
pub fn train_on<M: Trainable>(
    config: &M::Config,
    run_dir: &Path,
    devices: &[Device],
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    let device = devices.first().context("no device to train on")?;
    let options = config.run().clone();
    options.validate()?;
    std::fs::create_dir_all(run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    // Half-written files of an interrupted run (a checkpoint can be tens of MB each).
    let mut leftovers = remove_leftovers(run_dir)?;
    for sub in [SAMPLES_DIR, SNAPSHOT_DIR] {
        if run_dir.join(sub).is_dir() {
            leftovers += remove_leftovers(&run_dir.join(sub))?;
        }
    }
    if leftovers > 0 {
        log::info!(
            "removed {leftovers} half-written file(s) an interrupted run left in {}",
            run_dir.display()
        );
    }
    let data = config.load_data()?;
    let items = M::Config::data_len(&data);
    ensure!(
        items >= options.batch_size,
        "--batch-size {} is larger than the data set: {items} usable images per epoch",
        options.batch_size,
    );
    let batches = items / options.batch_size;

    let train_device = device.clone().autodiff();
    let (mut model, mut state) = match checkpoint::load_latest(run_dir)? {
        Some((saved, path)) => {
            let resumed = resume::<M>(config, saved, &train_device)
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
        None => (M::fresh(config, &train_device)?, fresh_state::<M>(config)?),
    };
    if state.epoch >= options.epochs {
        log::info!(
            "{} already has {} epochs; raise --epochs to train further",
            run_dir.display(),
            state.epoch
        );
        return Ok(TrainSummary {
            outcome: Outcome::Finished,
            epochs_done: state.epoch,
            steps: state.step,
        });
    }
    config.start_run(&data, run_dir)?;
    write_atomically(
        &run_dir.join(CONFIG_FILE),
        serde_json::to_string_pretty(config)?,
    )?;
    let learning_rates = M::learning_rates(config);
    let rate_names: Vec<&str> = learning_rates.iter().map(|(name, _)| *name).collect();
    Plots::new(M::KIND, options.batch_size, M::panels(config), &rate_names).write(run_dir)?;
    let mut step_log = StepLog::open(&run_dir.join(LOG_FILE), state.step)?;
    let mut rng = SplitMix64::new(state.rng_state);
    let sample_device = device.clone().without_autodiff();
    // The replicas' threads (none on one device) live as long as the loop.
    std::thread::scope(|scope| -> anyhow::Result<TrainSummary> {
        let replicas =
            Replicas::start::<M>(scope, config, &data, devices, &model, options.batch_size)?;
        if devices.len() > 1 {
            log::info!(
                "data-parallel on {} devices: {} images of every batch each",
                devices.len(),
                replicas
                    .shares()
                    .iter()
                    .map(|share| share.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" + ")
            );
        }

        let mut report_budget = ReportBudget::default();
        let progress = step_progress_bar();
        let plain_lines = progress.is_hidden();
        let started = Instant::now();
        let elapsed_before = state.elapsed_s;
        for epoch in state.epoch..options.epochs {
            let order = epoch_order(options.seed, epoch, items);
            let first_batch = if epoch == state.epoch { state.batch } else { 0 };
            progress.set_length(batches as u64);
            progress.set_position(first_batch as u64);
            progress.set_prefix(format!("epoch {}/{}", epoch + 1, options.epochs));
            for number in first_batch..batches {
                let indices =
                    &order[number * options.batch_size..(number + 1) * options.batch_size];
                let losses = replicas.step(
                    &mut model,
                    config,
                    &data,
                    (epoch, number, state.step + 1),
                    indices,
                    &mut rng,
                    options.inject_nan_at_step == Some(state.step + 1),
                    &train_device,
                )?;
                state.step += 1;
                state.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
                let position = Position {
                    step: state.step,
                    epoch: epoch + 1,
                    batch: number + 1,
                    batches,
                    elapsed_s: state.elapsed_s,
                };
                let summary = M::summary(&losses);
                let line = summary
                    .iter()
                    .map(|(name, value)| format!("{name} {value:.4}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                if summary.iter().any(|(_, value)| !value.is_finite()) {
                    progress.abandon();
                    let diverged = format!(
                        "training diverged at epoch {}, batch {}/{} (step {}): {line}. Stopped \
                     without saving; the last good checkpoint in {} is intact. Try lower \
                     learning rates or label smoothing.",
                        position.epoch,
                        position.batch,
                        batches,
                        position.step,
                        run_dir.display()
                    );
                    refresh_report(run_dir, Status::Ended(format!("Stopped: {diverged}")));
                    bail!(diverged);
                }
                step_log.write(&position, &losses, &learning_rates)?;
                if plain_lines {
                    log::info!(
                        "epoch {}/{} batch {}/{batches} [{:.0}s] {line}",
                        position.epoch,
                        options.epochs,
                        position.batch,
                        position.elapsed_s
                    );
                }
                progress.set_message(line);
                progress.inc(1);

                state.epoch = epoch;
                state.batch = number + 1;
                state.rng_state = rng.state;
                let time_up = options.minutes > 0.0 && state.elapsed_s >= options.minutes * 60.0;
                if time_up || stop.load(Ordering::SeqCst) {
                    save(run_dir, &model, &state)?;
                    progress.abandon();
                    let how = if time_up {
                        format!("reached --minutes {}", options.minutes)
                    } else {
                        "was interrupted".to_owned()
                    };
                    refresh_report(
                        run_dir,
                        Status::Ended(format!(
                            "Training {how} at step {} and saved a checkpoint: the same command \
                         resumes it.",
                            state.step
                        )),
                    );
                    return Ok(TrainSummary {
                        outcome: if time_up {
                            Outcome::TimeUp
                        } else {
                            Outcome::Interrupted
                        },
                        epochs_done: epoch,
                        steps: state.step,
                    });
                }
                if options.checkpoint_every > 0
                    && state.step.is_multiple_of(options.checkpoint_every as u64)
                {
                    save(run_dir, &model, &state)?;
                }
            }
            let grid = model.samples(config, &data, &sample_device)?;
            write_epoch_samples(&grid, run_dir, epoch + 1)?;
            let mut note = model.end_epoch(config, &data, run_dir, epoch + 1, &grid)?;
            let snapshot_due =
                options.snapshot_every > 0 && (epoch + 1).is_multiple_of(options.snapshot_every);
            if snapshot_due && let Some(bytes) = model.snapshot(config, &data) {
                let path = write_snapshot(run_dir, epoch + 1, &bytes)?;
                note.push_str(&format!(", kept {}", path.display()));
            }
            state.epoch = epoch + 1;
            state.batch = 0;
            save(run_dir, &model, &state)?;
            let last_epoch = epoch + 1 == options.epochs;
            if last_epoch || report_budget.allows() {
                let status = if last_epoch {
                    Status::Ended(format!(
                        "Training finished: {} epochs, {} steps.",
                        options.epochs, state.step
                    ))
                } else {
                    Status::Training
                };
                if let Some(seconds) = refresh_report(run_dir, status) {
                    report_budget.spent(seconds);
                    note.push_str(&format!(", report.html ({seconds:.2}s)"));
                }
            }
            let line = format!(
                "epoch {}/{} done at step {} ({:.0}s): samples/epoch_{:03}.png{note}",
                epoch + 1,
                options.epochs,
                state.step,
                state.elapsed_s,
                epoch + 1,
            );
            // A hidden bar (output not a terminal) prints nothing: the log says it instead.
            if plain_lines {
                log::info!("{line}");
            } else {
                progress.println(line);
            }
        }
        progress.finish_and_clear();
        Ok(TrainSummary {
            outcome: Outcome::Finished,
            epochs_done: options.epochs,
            steps: state.step,
        })
    })
}

/// Most of the wall-clock time epoch-end reports may take (a long log on a fast GPU makes
/// short epochs and a report of tenths of a second).
const REPORT_SHARE: f64 = 0.02;

/// Spaces the epoch-end reports so that they take at most [`REPORT_SHARE`] of the time: the
/// next comes once the last one's cost is that small a part of the time since.
#[derive(Default)]
struct ReportBudget {
    last: Option<(Instant, f64)>,
}

impl ReportBudget {
    fn allows(&self) -> bool {
        self.last
            .is_none_or(|(when, seconds)| when.elapsed().as_secs_f64() * REPORT_SHARE >= seconds)
    }

    fn spent(&mut self, seconds: f64) {
        self.last = Some((Instant::now(), seconds));
    }
}

/// Rewrites the run's `report.html`; returns the seconds it took. A report that cannot be
/// written is a warning: it never stops training.
fn refresh_report(run_dir: &Path, status: Status) -> Option<f64> {
    let started = Instant::now();
    match report::refresh(run_dir, status) {
        Ok(_) => Some(started.elapsed().as_secs_f64()),
        Err(error) => {
            log::warn!("could not refresh the run's report: {error:#}");
            None
        }
    }
}

/// The state of a run that has not taken a step. The random stream is seeded from the run's
/// seed (the constant keeps the streams of runs before the driver).
fn fresh_state<M: Trainable>(config: &M::Config) -> anyhow::Result<RunState> {
    Ok(RunState {
        kind: M::KIND.to_owned(),
        epoch: 0,
        batch: 0,
        step: 0,
        rng_state: config.run().seed ^ 0xFACE_6A11,
        elapsed_s: 0.0,
        architecture: serde_json::to_value(config.architecture())?,
    })
}

fn resume<M: Trainable>(
    config: &M::Config,
    mut saved: Checkpoint,
    device: &Device,
) -> anyhow::Result<(M, RunState)> {
    ensure!(
        saved.meta.kind == M::KIND,
        "the run folder holds a {} run, but this command trains {}; use --model {} or another \
         --out",
        saved.meta.kind,
        M::KIND,
        saved.meta.kind
    );
    let wanted = config.architecture();
    let found: <M::Config as RunConfig>::Architecture =
        serde_json::from_value(saved.meta.architecture.clone()).with_context(|| {
            format!(
                "the checkpoint's architecture is not a {} architecture",
                M::KIND
            )
        })?;
    ensure!(
        found == wanted,
        "the run was trained with {found:?}, but this command asks for {wanted:?}; use the same \
         architecture flags or another --out"
    );
    let model = M::load(config, &mut saved.sections, device)?;
    Ok((model, saved.meta))
}

fn save<M: Trainable>(run_dir: &Path, model: &M, state: &RunState) -> anyhow::Result<()> {
    let sections = model.save()?;
    let named: Vec<(&str, &[u8])> = sections
        .iter()
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .collect();
    checkpoint::save(run_dir, &checkpoint::encode(state, &named))
        .with_context(|| format!("cannot write a checkpoint in {}", run_dir.display()))
}

/// A run's saved `config.json`, read back as `C`; errors name the file.
pub fn read_config<C: DeserializeOwned>(run_dir: &Path) -> anyhow::Result<C> {
    let path = run_dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a facegan run configuration", path.display()))
}

/// The visiting order of an epoch depends only on (seed, epoch), so a resumed run sees the
/// same batches it would have seen without stopping.
pub fn epoch_order(seed: u64, epoch: usize, len: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut rng = SplitMix64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch as u64);
    rng.shuffle(&mut order);
    order
}

fn step_progress_bar() -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template"),
    )
}
