//! What every run writes at an epoch end: the sample grid `samples/epoch_NNN.png`, the
//! progress GIF of all grids so far, and snapshots of the model.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::atomic_file::write_atomically;
use crate::render::{grid, save_png_atomically, write_gif};

const PROGRESS_GIF: &str = "progress.gif";
/// Folder of a run that holds the epochs' sample grids.
pub const SAMPLES_DIR: &str = "samples";
/// Folder of a run that holds the snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";
/// Largest side of a progress-GIF frame; bigger grids are halved to keep the GIF small.
const GIF_MAX_SIDE: u32 = 300;
/// Most epochs a progress GIF shows (spread evenly, first and last included), so a long run's
/// GIF stays under a megabyte.
const GIF_MAX_FRAMES: usize = 12;

/// An epoch's sample images (RGB8 squares of side `size`), in rows of `columns`.
#[derive(Debug, Clone)]
pub struct SampleGrid {
    pub tiles: Vec<Vec<u8>>,
    pub size: usize,
    pub columns: usize,
}

/// Writes `samples/epoch_NNN.png` (`epoch` 1-based) and refreshes `progress.gif` from all
/// sample grids written so far.
pub fn write_epoch_samples(
    samples: &SampleGrid,
    run_dir: &Path,
    epoch: usize,
) -> anyhow::Result<()> {
    let folder = run_dir.join(SAMPLES_DIR);
    std::fs::create_dir_all(&folder)?;
    let picture = grid(&samples.tiles, samples.size, samples.columns);
    save_png_atomically(&picture, &folder.join(format!("epoch_{epoch:03}.png")))?;

    let mut frames = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&folder)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().is_some_and(|name| {
                name.to_string_lossy().starts_with("epoch_")
                    && path.extension().is_some_and(|e| e == "png")
            })
        })
        .collect();
    paths.sort();
    for path in spread_evenly(&paths, GIF_MAX_FRAMES) {
        let frame = image::open(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .to_rgb8();
        let frame = if frame.width() > GIF_MAX_SIDE {
            image::imageops::resize(
                &frame,
                frame.width() / 2,
                frame.height() / 2,
                image::imageops::FilterType::Triangle,
            )
        } else {
            frame
        };
        frames.push(frame);
    }
    write_gif(&frames, &run_dir.join(PROGRESS_GIF), 400)
}

/// Writes an exported weights file as `RUN_DIR/snapshots/epoch_NNN.fgw` and returns the path.
pub fn write_snapshot(run_dir: &Path, epoch: usize, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let dir = run_dir.join(SNAPSHOT_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("epoch_{epoch:03}.fgw"));
    write_atomically(&path, bytes)?;
    Ok(path)
}

/// The epochs a progress GIF or a report's timeline shows: all of them up to `most`, else that
/// many spread evenly from the first to the last.
pub fn spread_evenly<T>(all: &[T], most: usize) -> Vec<&T> {
    if all.len() <= most {
        return all.iter().collect();
    }
    if most < 2 {
        return all.last().into_iter().take(most).collect();
    }
    (0..most)
        .map(|i| &all[i * (all.len() - 1) / (most - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_show_evenly_spread_epochs_first_and_last_included() {
        let few: Vec<u32> = (1..=5).collect();
        assert_eq!(spread_evenly(&few, GIF_MAX_FRAMES).len(), 5);
        let many: Vec<u32> = (1..=40).collect();
        let shown: Vec<u32> = spread_evenly(&many, GIF_MAX_FRAMES)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(shown.len(), GIF_MAX_FRAMES);
        assert_eq!((shown[0], shown[GIF_MAX_FRAMES - 1]), (1, 40));
        assert!(shown.windows(2).all(|w| w[0] < w[1]));
    }
}
