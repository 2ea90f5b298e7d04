//! The curves of a panel: a run's column as (x, y) points on the chosen axis, derived columns
//! (images per second), per-epoch figures placed where their epoch ended, and the smoothing.

use serde::Serialize;

use super::panels::{IMAGES_PER_SECOND, Panel};
use super::records::RunRecord;

/// Most raw points a curve keeps (a point a step); longer runs keep every k-th step, and the
/// smoothing still sees all of them.
pub const MAX_POINTS: usize = 20_000;
/// A step curve is smoothed over about this fraction of its points (a centred moving mean).
const SMOOTHING_SHARE: usize = 50;

/// What the horizontal axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum XAxis {
    /// Training steps.
    #[default]
    Step,
    /// Images the discriminator has seen (steps x batch size): runs of other batch sizes.
    Images,
    /// Minutes of training (resumes included): equal-time comparisons.
    Minutes,
}

impl XAxis {
    pub fn label(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Images => "images seen",
            Self::Minutes => "minutes of training",
        }
    }
}

/// One curve as plotted and as embedded in the report's data.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub run: String,
    pub column: String,
    /// A point a step (smoothed, raw points faint) or an epoch (points joined).
    pub per_step: bool,
    /// Every `stride`-th point is kept (1 unless the run is longer than [`MAX_POINTS`]).
    pub stride: usize,
    /// Points in the centred moving mean of `smoothed` (1: not smoothed).
    pub window: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// The moving mean at each kept point.
    pub smoothed: Vec<f64>,
}

/// The curves of `panel` for `run`, one per column that has points.
pub fn panel_series(run: &RunRecord, panel: &Panel, axis: XAxis) -> Vec<Series> {
    panel
        .columns
        .iter()
        .filter_map(|column| {
            let by_step = if panel.per_step() {
                step_values(run, column)
            } else {
                epoch_values(run, &panel.file, column)
            };
            let points: Vec<(f64, f64)> = by_step
                .into_iter()
                .filter_map(|(step, value)| Some((x_of(run, step, axis)?, value)))
                .collect();
            (!points.is_empty()).then(|| series(run, column, panel.per_step(), &points))
        })
        .collect()
}

fn series(run: &RunRecord, column: &str, per_step: bool, points: &[(f64, f64)]) -> Series {
    let values: Vec<f64> = points.iter().map(|point| point.1).collect();
    let window = if per_step {
        smoothing_window(points.len())
    } else {
        1
    };
    let smoothed = moving_mean(&values, window);
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let kept = (0..points.len()).step_by(stride);
    Series {
        run: run.name.clone(),
        column: column.to_owned(),
        per_step,
        stride,
        window,
        x: kept.clone().map(|i| points[i].0).collect(),
        y: kept.clone().map(|i| points[i].1).collect(),
        smoothed: kept.map(|i| smoothed[i]).collect(),
    }
}

/// (step, value) of a `log.csv` column, or of the derived images per second.
fn step_values(run: &RunRecord, column: &str) -> Vec<(u64, f64)> {
    if column == IMAGES_PER_SECOND {
        images_per_second(run)
    } else {
        run.log.values(column)
    }
}

/// Images per second of each step whose previous step is logged too (the first step of a run
/// counts from the start), from the steps' training clocks.
pub fn images_per_second(run: &RunRecord) -> Vec<(u64, f64)> {
    let batch = run.plots.batch_size as f64;
    if batch == 0.0 {
        return Vec::new();
    }
    let clock = run.log.values("elapsed_s");
    let first = clock
        .first()
        .filter(|(step, _)| *step == 1)
        .map(|&(step, seconds)| (step, 0.0, seconds));
    first
        .into_iter()
        .chain(
            clock
                .windows(2)
                .filter(|pair| pair[1].0 == pair[0].0 + 1)
                .map(|pair| (pair[1].0, pair[0].1, pair[1].1)),
        )
        .filter(|(_, before, after)| after > before)
        .map(|(step, before, after)| (step, batch / (after - before)))
        .collect()
}

/// (step at the epoch's end, value) of a per-epoch file's column. Epochs the log no longer
/// reaches are placed at `epoch x batches`.
fn epoch_values(run: &RunRecord, file: &str, column: &str) -> Vec<(u64, f64)> {
    let Some(table) = run.epoch_tables.get(file) else {
        return Vec::new();
    };
    let ends = run.epoch_ends();
    let batches = run.log.column("batches").and_then(|index| {
        run.log
            .rows
            .last()
            .and_then(|row| row.1[index])
            .map(|value| value as u64)
    });
    table
        .values(column)
        .into_iter()
        .filter_map(|(epoch, value)| {
            let step = ends.get(&epoch).copied().or(batches.map(|b| b * epoch))?;
            Some((step, value))
        })
        .collect()
}

fn x_of(run: &RunRecord, step: u64, axis: XAxis) -> Option<f64> {
    match axis {
        XAxis::Step => Some(step as f64),
        XAxis::Images => Some(step as f64 * run.plots.batch_size as f64),
        XAxis::Minutes => run.elapsed_at(step).map(|seconds| seconds / 60.0),
    }
}

/// An odd window of about 1/[`SMOOTHING_SHARE`] of the points.
pub fn smoothing_window(points: usize) -> usize {
    (points / SMOOTHING_SHARE) | 1
}

/// The centred moving mean over `window` points (fewer at the ends, where the window is cut).
pub fn moving_mean(values: &[f64], window: usize) -> Vec<f64> {
    let half = window / 2;
    let mut prefix = Vec::with_capacity(values.len() + 1);
    prefix.push(0.0);
    for value in values {
        prefix.push(prefix.last().unwrap() + value);
    }
    (0..values.len())
        .map(|i| {
            let start = i.saturating_sub(half);
            let end = (i + half + 1).min(values.len());
            (prefix[end] - prefix[start]) / (end - start) as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moving_mean_is_centred_and_cut_at_the_ends() {
        let mean = moving_mean(&[0.0, 3.0, 6.0, 9.0, 12.0], 3);
        assert_eq!(mean, [1.5, 3.0, 6.0, 9.0, 10.5]);
        assert_eq!(moving_mean(&[4.0, 8.0], 1), [4.0, 8.0]);
        assert_eq!(smoothing_window(40), 1);
        assert_eq!(smoothing_window(1000), 21);
    }
}
