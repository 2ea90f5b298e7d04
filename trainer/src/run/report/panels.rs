//! `plots.json`: which columns of a run's files are plotted together, and against what guide
//! lines. The driver writes it when a run starts, from what the model declares
//! ([`crate::run::Trainable::panels`]) and its own columns, so the report draws every model's
//! runs without code of its own per model.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;
use crate::run::LOG_FILE;

pub const PLOTS_FILE: &str = "plots.json";
/// Written by `scripts/fid-over-time.sh`: one row an epoch, `epoch,fid,faces`.
pub const FID_FILE: &str = "fid.csv";
/// A column of `log.csv` the report derives: images per second of training, from the
/// `elapsed_s` of successive steps and the batch size.
pub const IMAGES_PER_SECOND: &str = "images_per_s";

/// One plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub title: String,
    /// `log.csv` (a row a step), or a file of a row an epoch with an `epoch` column (for
    /// example `diversity.csv`).
    #[serde(default = "log_file")]
    pub file: String,
    pub columns: Vec<String>,
    /// Horizontal lines to read the curves against, such as the collapse warning.
    #[serde(default)]
    pub guides: Vec<Guide>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guide {
    pub value: f64,
    pub label: String,
}

fn log_file() -> String {
    LOG_FILE.to_owned()
}

impl Panel {
    /// Columns of `log.csv`, one point a step.
    pub fn steps(title: &str, columns: &[&str]) -> Self {
        Self::of_file(title, LOG_FILE, columns)
    }

    /// Columns of `file`, one point an epoch.
    pub fn epochs(title: &str, file: &str, columns: &[&str]) -> Self {
        Self::of_file(title, file, columns)
    }

    fn of_file(title: &str, file: &str, columns: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            file: file.to_owned(),
            columns: columns.iter().map(|&column| column.to_owned()).collect(),
            guides: Vec::new(),
        }
    }

    /// Images per second of training, derived from `log.csv`.
    pub fn speed() -> Self {
        Self::steps("Images per second", &[IMAGES_PER_SECOND])
    }

    /// FID over time, from `fid.csv`.
    pub fn fid() -> Self {
        Self::epochs("FID (scripts/fid-over-time.sh)", FID_FILE, &["fid"])
    }

    /// The same with a guide line at `value`.
    pub fn guide(mut self, value: f64, label: &str) -> Self {
        self.guides.push(Guide {
            value,
            label: label.to_owned(),
        });
        self
    }

    /// Whether the points are steps (smoothed, a raw point a step) rather than epochs.
    pub fn per_step(&self) -> bool {
        self.file == LOG_FILE
    }
}

/// The contents of `plots.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plots {
    /// The model's name, as in checkpoints ("dcgan").
    pub kind: String,
    /// Images a step, for [`IMAGES_PER_SECOND`].
    pub batch_size: usize,
    pub panels: Vec<Panel>,
}

impl Plots {
    /// The panels of a run of `kind`: the model's own, then the driver's (learning rates,
    /// speed, FID).
    pub fn new(
        kind: &str,
        batch_size: usize,
        model_panels: Vec<Panel>,
        learning_rates: &[&str],
    ) -> Self {
        let mut panels = model_panels;
        if !learning_rates.is_empty() {
            panels.push(Panel::steps("Learning rates", learning_rates));
        }
        panels.push(Panel::speed());
        panels.push(Panel::fid());
        Self {
            kind: kind.to_owned(),
            batch_size,
            panels,
        }
    }

    pub fn write(&self, run_dir: &Path) -> anyhow::Result<()> {
        write_atomically(
            &run_dir.join(PLOTS_FILE),
            serde_json::to_string_pretty(self)?,
        )
    }

    /// A run's `plots.json`; `None` for runs from before it existed.
    pub fn read(run_dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = run_dir.join(PLOTS_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let plots = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a facegan plots file", path.display()))?;
        Ok(Some(plots))
    }
}
