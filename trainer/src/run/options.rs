//! What the driver needs of every run, whatever the model: how long, in what batches, from
//! which seed, and how often to save. The defaults live here once: `--help`, `config.json` and
//! the code read them from [`RunOptions::default`].

use anyhow::ensure;
use serde::{Deserialize, Serialize};

use super::decay::LrDecay;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct RunOptions {
    /// Total number of epochs (a resumed run continues up to this number).
    #[arg(long, default_value_t = RunOptions::default().epochs)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = RunOptions::default().batch_size)]
    pub batch_size: usize,
    /// Seed for initialisation, shuffling, noise and labels.
    #[arg(long, default_value_t = RunOptions::default().seed)]
    pub seed: u64,
    /// Also write a checkpoint every N steps inside an epoch (0 = only at epoch ends).
    #[arg(long, default_value_t = RunOptions::default().checkpoint_every)]
    pub checkpoint_every: usize,
    /// Every N epochs, also keep the model as it stands (for the DCGAN, the generator that
    /// draws the samples) as `snapshots/epoch_NNN.fgw` (f16), for `facegan export` to average
    /// the last few (0 = never).
    #[arg(long, default_value_t = RunOptions::default().snapshot_every)]
    pub snapshot_every: usize,
    /// Stop (with a checkpoint) once the run has trained this many minutes in all, resumes
    /// included (0 = no limit): equal-time comparisons, or "train for the night". Running the
    /// same command with a higher limit continues.
    #[arg(long, default_value_t = RunOptions::default().minutes)]
    pub minutes: f64,
    /// Let every learning rate fall linearly from its value at step FROM to nothing at step
    /// TO, where the run ends with a checkpoint: a last stretch at shrinking steps that
    /// settles the generator before export. Steps count from the run's start, resumes
    /// included (a run's log.csv numbers them), so a run can be given its decay when resumed.
    #[arg(long, value_name = "FROM:TO")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_decay: Option<LrDecay>,
    /// Use at most this many images (0 = all), e.g. for a quick trial run.
    #[arg(long, default_value_t = RunOptions::default().max_images)]
    pub max_images: usize,
    /// Test hook: make the loss NaN at this global step to exercise the NaN guard.
    #[arg(long, hide = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inject_nan_at_step: Option<u64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            epochs: 25,
            batch_size: 64,
            seed: 42,
            checkpoint_every: 500,
            snapshot_every: 0,
            minutes: 0.0,
            lr_decay: None,
            max_images: 0,
            inject_nan_at_step: None,
        }
    }
}

impl RunOptions {
    /// The defaults with the given length and batch size.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        Self {
            epochs,
            batch_size,
            ..Self::default()
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.epochs >= 1, "--epochs must be at least 1");
        ensure!(self.batch_size >= 1, "--batch-size must be at least 1");
        ensure!(
            self.minutes >= 0.0 && self.minutes.is_finite(),
            "--minutes must be 0 (no limit) or a positive number, found {}",
            self.minutes
        );
        Ok(())
    }

    /// The factor on the learning rates at `step` (1-based): below 1 only inside `--lr-decay`.
    pub fn lr_scale(&self, step: u64) -> f64 {
        self.lr_decay.map_or(1.0, |decay| decay.scale(step))
    }
}
