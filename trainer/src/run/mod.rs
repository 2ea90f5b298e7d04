//! The one training driver. Every trainable model (the DCGAN, pix2pix, CycleGAN, and any new
//! one) implements [`Trainable`]: its step, its log row, its sample grid and its named
//! checkpoint sections. [`train`] does the rest for all of them: the epoch and batch loop,
//! deterministic resume, the NaN guard, Ctrl-C, checkpoints, `log.csv`, the progress bar,
//! sample grids, the progress GIF, snapshots, `config.json`, and the run's report
//! (`report.html`, refreshed at every epoch end).

pub mod checkpoint;
mod decay;
mod driver;
mod legacy;
mod log;
mod options;
mod replicas;
pub mod report;
mod samples;

use std::fmt::Debug;
use std::path::Path;

use burn::tensor::Device;
use facegan_model::SplitMix64;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use checkpoint::{Checkpoint, CheckpointError, RunState, Sections};
pub use decay::LrDecay;
pub use driver::{Outcome, TrainSummary, epoch_order, read_config, train, train_on};
pub use log::{LOG_FILE, LoggedStep, Position, StepLog, read_log, read_log_rows};
pub use options::RunOptions;
pub use replicas::{descend, optimizer_step};
pub use report::Panel;
pub use samples::{SampleGrid, write_epoch_samples};

/// One batch handed to [`Trainable::step`].
pub struct Batch<'a> {
    /// 0-based epoch and batch within it.
    pub epoch: usize,
    pub number: usize,
    /// This step's number in the whole run (1-based, continues across resumes).
    pub step: u64,
    /// The items of the data set in this batch, in the epoch's shuffled order.
    pub indices: &'a [usize],
    /// The run's random stream (noise, flips, pools); saved in every checkpoint.
    pub rng: &'a mut SplitMix64,
    /// Test hook: make this step's loss NaN to exercise the guard.
    pub inject_nan: bool,
}

/// What the driver needs of a model's configuration: the run options, the architecture a
/// resumed run must match, and the training set. Models that share a configuration (pix2pix
/// and CycleGAN) share this too.
pub trait RunConfig: Serialize + Debug {
    /// The networks' shapes: a resumed run must ask for the same.
    type Architecture: Serialize + DeserializeOwned + PartialEq + Debug;
    /// The training set, loaded once per run (shared by the replicas of a data-parallel run).
    type Data: Sync;

    fn run(&self) -> &RunOptions;
    fn architecture(&self) -> Self::Architecture;
    /// Loads (and reports on) the training set.
    fn load_data(&self) -> anyhow::Result<Self::Data>;
    /// Items in an epoch: batches are drawn from `0..len` in a shuffled order.
    fn data_len(data: &Self::Data) -> usize;
    /// Work when a run starts or resumes, before its first step (for example files the export
    /// reads later).
    fn start_run(&self, _data: &Self::Data, _run_dir: &Path) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The training set of model `M`.
pub type DataOf<M> = <<M as Trainable>::Config as RunConfig>::Data;

/// A model the driver can train. A new model is a type implementing this, in a folder of its
/// own; it never needs a loop.
pub trait Trainable: Sized {
    /// The model's name in checkpoints ("dcgan"); a run of another kind is refused.
    const KIND: &'static str;
    /// Everything the run was asked for; saved as `config.json`.
    type Config: RunConfig + Sync;
    /// What one step measured: the model's columns of `log.csv`.
    type Losses: Serialize;

    /// New networks and optimisers on `device` (an autodiff device).
    fn fresh(config: &Self::Config, device: &Device) -> anyhow::Result<Self>;
    /// One optimisation step.
    fn step(
        &mut self,
        config: &Self::Config,
        data: &DataOf<Self>,
        batch: Batch,
        device: &Device,
    ) -> Self::Losses;
    /// The losses as (name, value): the progress line, and the NaN guard's check.
    fn summary(losses: &Self::Losses) -> Vec<(&'static str, f32)>;
    /// The learning rates of the next step by name: `log.csv` columns after the losses (a
    /// resumed run may be given other rates, and a schedule would change them).
    fn learning_rates(config: &Self::Config) -> Vec<(&'static str, f64)>;
    /// How the report plots the model's columns of `log.csv` (and per-epoch files of its own,
    /// such as `diversity.csv`); the driver adds learning rates, speed and FID.
    fn panels(config: &Self::Config) -> Vec<Panel>;
    /// The epoch's sample grid (`device` is the inference device).
    fn samples(
        &self,
        config: &Self::Config,
        data: &DataOf<Self>,
        device: &Device,
    ) -> anyhow::Result<SampleGrid>;
    /// Work of the model's own at an epoch end (`epoch` 1-based), after the grid is written;
    /// returns a note for the epoch's line.
    fn end_epoch(
        &mut self,
        _config: &Self::Config,
        _data: &DataOf<Self>,
        _run_dir: &Path,
        _epoch: usize,
        _grid: &SampleGrid,
    ) -> anyhow::Result<String> {
        Ok(String::new())
    }
    /// The bytes of an exported weights file of the model as it stands, kept every
    /// `--snapshot-every` epochs; `None` when the model has no export.
    fn snapshot(&self, _config: &Self::Config, _data: &DataOf<Self>) -> Option<Vec<u8>> {
        None
    }
    /// The checkpoint sections: every network, optimiser and buffer, by name.
    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>>;
    /// The model from the sections [`Trainable::save`] wrote.
    fn load(
        config: &Self::Config,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self>;
}

/// The bytes of a module's record, for a checkpoint section.
pub fn module_bytes<M: burn::module::Module>(module: &M) -> anyhow::Result<Vec<u8>> {
    Ok(module.clone().into_record().into_bytes()?.to_vec())
}

/// The bytes of an optimiser's state, for a checkpoint section.
pub fn optimizer_bytes(optimizer: &burn::optim::ModuleOptimizer) -> anyhow::Result<Vec<u8>> {
    Ok(optimizer.into_bytes()?.to_vec())
}

/// A module of `template`'s shape with the weights of a checkpoint section.
pub fn load_module<M: burn::module::Module>(template: M, bytes: Vec<u8>) -> anyhow::Result<M> {
    let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))?;
    Ok(template.try_load_record(record)?)
}
