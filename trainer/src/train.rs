//! `facegan train`: the DCGAN training loop with its logs, samples and checkpoints.

mod average;
pub mod checkpoint;
mod config;
mod diversity;
mod labels;
mod log;
mod loop_;
mod loss;
pub mod samples;
pub mod snapshot;

pub(crate) use average::blend;
pub use config::{LabelConfig, TrainConfig};
pub(crate) use config::{adam, check_learning_rates};
pub use diversity::{DIVERSITY_FILE, mean_pairwise_distance};
pub use labels::LabelPolicy;
pub use log::{LOG_FILE, StepLog, StepRow, read_log, read_log_rows};
pub use loop_::{Outcome, TrainSummary, train};
pub(crate) use loop_::{epoch_order, fresh, latent_tensor, report_skipped, step_progress_bar};
pub use loss::bce_with_logits;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::backend;
use crate::cli::{TrainArgs, TrainModel};
use crate::translate::{TranslateConfig, TranslateMode, train_translator};

/// What `facegan train` was asked to train.
enum Job {
    Faces(TrainConfig),
    Translation(TranslateConfig),
}

/// Entry point of `facegan train`: Ctrl-C asks the loop to checkpoint and stop.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    // Configs are checked before any backend starts, so a bad flag fails fast.
    let job = match args.model {
        TrainModel::Dcgan => Job::Faces(TrainConfig::from_args(args)?),
        TrainModel::Pix2pix => {
            Job::Translation(TranslateConfig::from_args(args, TranslateMode::Pix2Pix)?)
        }
        TrainModel::Cyclegan => {
            Job::Translation(TranslateConfig::from_args(args, TranslateMode::CycleGan)?)
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C means "now": the last checkpoint on disk is still whole.
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: writing a checkpoint, then stopping (Ctrl-C again to quit now)");
    })?;
    let selected = backend::select(args.backend)?;
    ::log::info!("backend: {}", selected.name);
    let summary = match job {
        Job::Faces(config) => train(&config, &args.out, &selected.device, &stop)?,
        Job::Translation(config) => train_translator(&config, &args.out, &selected.device, &stop)?,
    };
    match summary.outcome {
        Outcome::Finished => ::log::info!(
            "finished {} epochs ({} steps); run `facegan export {}` for the web weights",
            summary.epochs_done,
            summary.steps,
            args.out.display()
        ),
        Outcome::Interrupted => ::log::info!(
            "stopped after step {}; run the same command again to resume",
            summary.steps
        ),
    }
    Ok(())
}
