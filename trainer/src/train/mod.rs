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

pub use config::{LabelConfig, TrainConfig};
pub use diversity::{DIVERSITY_FILE, mean_pairwise_distance};
pub use labels::LabelPolicy;
pub use log::{LOG_FILE, StepRow, read_log};
pub use loop_::{Outcome, TrainSummary, train};
pub(crate) use loop_::{fresh, latent_tensor};
pub use loss::bce_with_logits;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::backend;
use crate::cli::TrainArgs;

/// Entry point of `facegan train`: Ctrl-C asks the loop to checkpoint and stop.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let config = TrainConfig::from_args(args)?;
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
    let summary = train(&config, &args.out, &selected.device, &stop)?;
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
