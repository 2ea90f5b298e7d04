//! The options of `facegan prepare` and `facegan detect`.

use std::path::PathBuf;

use clap::Args;

use super::{Augment, DetectOptions};

#[derive(Debug, Clone, Args)]
pub struct PrepareArgs {
    /// Folder of raw pictures, searched recursively; never modified.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Folder for the prepared PNGs and prepare-report.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Side of the written squares.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Keep files whose decoded pixels are identical.
    #[arg(long)]
    pub keep_exact_duplicates: bool,
    /// Keep near-identical files (re-encoded, slightly resized or recoloured copies).
    #[arg(long)]
    pub keep_near_duplicates: bool,
    /// Largest Hamming distance between perceptual hashes (of 256 bits) of near duplicates.
    #[arg(long, default_value_t = 12)]
    pub near_threshold: u32,
    /// OpenCV LBP cascade XML (e.g. lbpcascade_animeface.xml); without it images are used
    /// whole (centre square).
    #[arg(long)]
    pub cascade: Option<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Space kept around a face, as a fraction of its side on each side.
    #[arg(long, default_value_t = 0.25)]
    pub margin: f64,
    /// Extra copies of each crop: flip, blur (comma-separated; each doubles the set).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<Augment>,
    /// Report what would happen without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `detectMultiScale`'s parameters, shared by `prepare` and `detect`.
#[derive(Debug, Clone, Args)]
pub struct DetectorFlags {
    /// Detector: shrink factor between pyramid levels.
    #[arg(long, default_value_t = DetectOptions::default().scale_factor)]
    pub scale_factor: f64,
    /// Detector: a face needs more than this many overlapping raw detections.
    #[arg(long, default_value_t = DetectOptions::default().min_neighbors)]
    pub min_neighbors: usize,
    /// Detector: smallest face side in pixels.
    #[arg(long, default_value_t = DetectOptions::default().min_size)]
    pub min_size: usize,
    /// Detector: skip histogram equalisation.
    #[arg(long)]
    pub no_equalize: bool,
}

impl DetectorFlags {
    pub fn options(&self) -> anyhow::Result<DetectOptions> {
        anyhow::ensure!(
            self.scale_factor > 1.0,
            "--scale-factor must exceed 1, found {}",
            self.scale_factor
        );
        Ok(DetectOptions {
            scale_factor: self.scale_factor,
            min_neighbors: self.min_neighbors,
            min_size: self.min_size,
            max_size: 0,
            equalize: !self.no_equalize,
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct DetectArgs {
    /// Images to search.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// OpenCV LBP cascade XML (e.g. lbpcascade_animeface.xml).
    #[arg(long)]
    pub cascade: PathBuf,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Print one JSON object per image (file, boxes as [x, y, w, h], milliseconds).
    #[arg(long)]
    pub json: bool,
}
