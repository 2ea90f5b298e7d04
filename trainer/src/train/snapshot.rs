//! Generator snapshots kept during a run, for averaging afterwards (`facegan export A B C`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use facegan_model::weights::{Precision, save_generator_as};
use facegan_model::{DcganConfig, Generator};

use crate::atomic_file::write_atomically;

/// Folder of a run that holds the snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// Writes `generator` as `RUN_DIR/snapshots/epoch_NNN.fgw` (f16: near-lossless, so averaging
/// several adds no quantisation noise) and returns the path.
pub fn write(
    run_dir: &Path,
    epoch: usize,
    generator: &Generator,
    model: &DcganConfig,
) -> anyhow::Result<PathBuf> {
    let dir = run_dir.join(SNAPSHOT_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("epoch_{epoch:03}.fgw"));
    write_atomically(&path, save_generator_as(generator, model, Precision::Half))?;
    Ok(path)
}
