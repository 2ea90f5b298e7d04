//! The epoch and batch loop every model runs in.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow, ensure};
use burn::tensor::Device;
use facegan_model::SplitMix64;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;

use super::checkpoint::{self, Checkpoint, RunState};
use super::log::{LOG_FILE, Position, StepLog};
use super::replicas::Replicas;
use super::report::{self, Plots, Status};
use super::samples::{SAMPLES_DIR, SNAPSHOT_DIR, write_epoch_samples, write_snapshot};
use super::{DataOf, RunConfig, RunOptions, Trainable};
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
    /// The run reached the last step of `--lr-decay`; a checkpoint was written first.
    Decayed,
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
    if let Some(decay) = options.lr_decay.filter(|decay| state.step >= decay.to) {
        log::info!(
            "{} already ended its --lr-decay {decay} at step {}; give a later TO to train further",
            run_dir.display(),
            state.step
        );
        return Ok(TrainSummary {
            outcome: Outcome::Decayed,
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
    let step_log = StepLog::open(&run_dir.join(LOG_FILE), state.step)?;
    let rng = SplitMix64::new(state.rng_state);
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
        let progress = step_progress_bar();
        let epochs = Epochs::<M> {
            config,
            data: &data,
            run_dir,
            options: &options,
            items,
            batches,
            train_device: &train_device,
            sample_device: &sample_device,
            learning_rates,
            stop,
            replicas: &replicas,
            step_log,
            rng,
            plain_lines: progress.is_hidden(),
            progress,
            report_budget: ReportBudget::default(),
            started: Instant::now(),
            elapsed_before: state.elapsed_s,
        };
        epochs.run(&mut model, &mut state)
    })
}

/// The epoch and batch loop of one [`train_on`] call, and what it carries between steps.
struct Epochs<'a, M: Trainable> {
    config: &'a M::Config,
    data: &'a DataOf<M>,
    run_dir: &'a Path,
    options: &'a RunOptions,
    /// Items in an epoch, and whole batches of them.
    items: usize,
    batches: usize,
    train_device: &'a Device,
    sample_device: &'a Device,
    learning_rates: Vec<(&'static str, f64)>,
    stop: &'a AtomicBool,
    replicas: &'a Replicas,
    step_log: StepLog,
    rng: SplitMix64,
    progress: ProgressBar,
    /// The bar is hidden (output not a terminal): log lines say what it would show.
    plain_lines: bool,
    report_budget: ReportBudget,
    started: Instant,
    /// Training seconds of the run before this call (a resumed run's clock goes on).
    elapsed_before: f64,
}

impl<M: Trainable> Epochs<'_, M> {
    /// Trains from where `state` stands to the last epoch, or until time is up or the stop
    /// flag is raised (a checkpoint is written first).
    fn run(mut self, model: &mut M, state: &mut RunState) -> anyhow::Result<TrainSummary> {
        let epochs = self.options.epochs;
        for epoch in state.epoch..epochs {
            let order = epoch_order(self.options.seed, epoch, self.items);
            let first_batch = if epoch == state.epoch { state.batch } else { 0 };
            self.progress.set_length(self.batches as u64);
            self.progress.set_position(first_batch as u64);
            self.progress
                .set_prefix(format!("epoch {}/{epochs}", epoch + 1));
            for number in first_batch..self.batches {
                let size = self.options.batch_size;
                let indices = &order[number * size..(number + 1) * size];
                if let Some(stopped) = self.step(model, state, (epoch, number), indices)? {
                    return Ok(stopped);
                }
            }
            self.end_epoch(model, state, epoch)?;
        }
        self.progress.finish_and_clear();
        Ok(TrainSummary {
            outcome: Outcome::Finished,
            epochs_done: epochs,
            steps: state.step,
        })
    }

    /// Batch `number` of `epoch`: the step, its log row and line, the NaN guard, and the
    /// checkpoints due after it. Returns the summary when the run stops after this step.
    fn step(
        &mut self,
        model: &mut M,
        state: &mut RunState,
        (epoch, number): (usize, usize),
        indices: &[usize],
    ) -> anyhow::Result<Option<TrainSummary>> {
        let losses = self.replicas.step(
            model,
            self.config,
            self.data,
            (epoch, number, state.step + 1),
            indices,
            &mut self.rng,
            self.options.inject_nan_at_step == Some(state.step + 1),
            self.train_device,
        )?;
        state.step += 1;
        state.elapsed_s = self.elapsed_before + self.started.elapsed().as_secs_f64();
        let position = Position {
            step: state.step,
            epoch: epoch + 1,
            batch: number + 1,
            batches: self.batches,
            elapsed_s: state.elapsed_s,
        };
        let summary = M::summary(&losses);
        let line = summary
            .iter()
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect::<Vec<_>>()
            .join(" ");
        if summary.iter().any(|(_, value)| !value.is_finite()) {
            return Err(self.diverged(&position, &line));
        }
        let scale = self.options.lr_scale(state.step);
        let rates: Vec<(&'static str, f64)> = self
            .learning_rates
            .iter()
            .map(|&(name, rate)| (name, rate * scale))
            .collect();
        self.step_log.write(&position, &losses, &rates)?;
        if self.plain_lines {
            log::info!(
                "epoch {}/{} batch {}/{} [{:.0}s] {line}",
                position.epoch,
                self.options.epochs,
                position.batch,
                self.batches,
                position.elapsed_s
            );
        }
        self.progress.set_message(line);
        self.progress.inc(1);

        state.epoch = epoch;
        state.batch = number + 1;
        state.rng_state = self.rng.state;
        let minutes = self.options.minutes;
        let end = if minutes > 0.0 && state.elapsed_s >= minutes * 60.0 {
            Some(Outcome::TimeUp)
        } else if self
            .options
            .lr_decay
            .is_some_and(|decay| state.step >= decay.to)
        {
            Some(Outcome::Decayed)
        } else if self.stop.load(Ordering::SeqCst) {
            Some(Outcome::Interrupted)
        } else {
            None
        };
        if let Some(outcome) = end {
            return self.stopped(model, state, epoch, outcome).map(Some);
        }
        let every = self.options.checkpoint_every;
        if every > 0 && state.step.is_multiple_of(every as u64) {
            save(self.run_dir, model, state)?;
        }
        Ok(None)
    }

    /// A non-finite loss: nothing is saved, so the last checkpoint stays the last good one.
    fn diverged(&self, position: &Position, line: &str) -> anyhow::Error {
        self.progress.abandon();
        let diverged = format!(
            "training diverged at epoch {}, batch {}/{} (step {}): {line}. Stopped without \
             saving; the last good checkpoint in {} is intact. Try lower learning rates or \
             label smoothing.",
            position.epoch,
            position.batch,
            self.batches,
            position.step,
            self.run_dir.display()
        );
        refresh_report(self.run_dir, Status::Ended(format!("Stopped: {diverged}")));
        anyhow!(diverged)
    }

    /// Time is up, the decay is over or the stop flag was raised (`outcome` says which): a
    /// checkpoint, then the summary.
    fn stopped(
        &self,
        model: &M,
        state: &RunState,
        epoch: usize,
        outcome: Outcome,
    ) -> anyhow::Result<TrainSummary> {
        save(self.run_dir, model, state)?;
        self.progress.abandon();
        let ended = match (outcome, self.options.lr_decay) {
            (Outcome::TimeUp, _) => format!(
                "Training reached --minutes {} at step {} and saved a checkpoint: the same \
                 command resumes it.",
                self.options.minutes, state.step
            ),
            (Outcome::Decayed, Some(decay)) => format!(
                "Training ended its --lr-decay {decay} at step {} and saved a checkpoint: ready \
                 for `facegan export`.",
                state.step
            ),
            _ => format!(
                "Training was interrupted at step {} and saved a checkpoint: the same command \
                 resumes it.",
                state.step
            ),
        };
        refresh_report(self.run_dir, Status::Ended(ended));
        Ok(TrainSummary {
            outcome,
            epochs_done: epoch,
            steps: state.step,
        })
    }

    /// The end of `epoch` (0-based): the sample grid, the model's own work, a snapshot when
    /// due, the checkpoint, and the report when its time budget allows.
    fn end_epoch(
        &mut self,
        model: &mut M,
        state: &mut RunState,
        epoch: usize,
    ) -> anyhow::Result<()> {
        let (config, data, run_dir) = (self.config, self.data, self.run_dir);
        let grid = model.samples(config, data, self.sample_device)?;
        write_epoch_samples(&grid, run_dir, epoch + 1)?;
        let mut note = model.end_epoch(config, data, run_dir, epoch + 1, &grid)?;
        let every = self.options.snapshot_every;
        let snapshot_due = every > 0 && (epoch + 1).is_multiple_of(every);
        if snapshot_due && let Some(bytes) = model.snapshot(config, data) {
            let path = write_snapshot(run_dir, epoch + 1, &bytes)?;
            note.push_str(&format!(", kept {}", path.display()));
        }
        state.epoch = epoch + 1;
        state.batch = 0;
        save(run_dir, model, state)?;
        let epochs = self.options.epochs;
        let last_epoch = epoch + 1 == epochs;
        if last_epoch || self.report_budget.allows() {
            let status = if last_epoch {
                Status::Ended(format!(
                    "Training finished: {epochs} epochs, {} steps.",
                    state.step
                ))
            } else {
                Status::Training
            };
            if let Some(seconds) = refresh_report(run_dir, status) {
                self.report_budget.spent(seconds);
                note.push_str(&format!(", report.html ({seconds:.2}s)"));
            }
        }
        let line = format!(
            "epoch {}/{epochs} done at step {} ({:.0}s): samples/epoch_{:03}.png{note}",
            epoch + 1,
            state.step,
            state.elapsed_s,
            epoch + 1,
        );
        // A hidden bar prints nothing: the log says it instead.
        if self.plain_lines {
            log::info!("{line}");
        } else {
            self.progress.println(line);
        }
        Ok(())
    }
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
