//! A mode-collapse check: how different the fixed-noise samples are from each other, relative
//! to how different real images are.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;

pub const DIVERSITY_FILE: &str = "diversity.csv";
/// Below this fraction of the real images' spread, the samples are probably collapsing.
pub const COLLAPSE_RATIO: f64 = 0.35;

/// Mean L2 distance between all pairs of equally sized RGB8 images, per pixel value in [0, 1]
/// (0 when all are identical).
pub fn mean_pairwise_distance(images: &[Vec<u8>]) -> f64 {
    let mut total = 0.0;
    let mut pairs = 0usize;
    for (i, a) in images.iter().enumerate() {
        for b in &images[i + 1..] {
            let squared: f64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
                .sum();
            total += (squared / a.len() as f64).sqrt() / 255.0;
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        total / pairs as f64
    }
}

/// One row of `diversity.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiversityRow {
    pub epoch: usize,
    /// Mean pairwise distance of the fixed-noise samples.
    pub samples: f64,
    /// The same of as many real images.
    pub real: f64,
    /// `samples / real`: below [`COLLAPSE_RATIO`] the samples are probably collapsing.
    pub ratio: f64,
}

/// Records one epoch's figure in `diversity.csv`, dropping rows of later epochs left by a run
/// that resumed from an earlier checkpoint, and returns the samples' spread relative to the
/// real images'.
pub fn record(run_dir: &Path, epoch: usize, samples: f64, real: f64) -> anyhow::Result<f64> {
    let ratio = samples / real.max(1e-9);
    let path = run_dir.join(DIVERSITY_FILE);
    let mut rows: Vec<DiversityRow> = match csv::Reader::from_path(&path) {
        Ok(mut reader) => reader
            .deserialize()
            .filter_map(Result::ok)
            .filter(|row: &DiversityRow| row.epoch < epoch)
            .collect(),
        Err(_) => Vec::new(),
    };
    rows.push(DiversityRow {
        epoch,
        samples,
        real,
        ratio,
    });
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        writer.serialize(row)?;
    }
    write_atomically(&path, writer.into_inner()?)?;
    Ok(ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_have_no_spread() {
        assert_eq!(
            mean_pairwise_distance(&[vec![7u8; 12], vec![7u8; 12], vec![7u8; 12]]),
            0.0
        );
    }

    #[test]
    fn black_and_white_are_one_apart() {
        let spread = mean_pairwise_distance(&[vec![0u8; 12], vec![255u8; 12]]);
        assert!((spread - 1.0).abs() < 1e-12);
        // Three images, pairs (0,255)=1, (0,0)=0, (255,0)=1: mean 2/3.
        let spread = mean_pairwise_distance(&[vec![0u8; 3], vec![255u8; 3], vec![0u8; 3]]);
        assert!((spread - 2.0 / 3.0).abs() < 1e-12);
    }
}
