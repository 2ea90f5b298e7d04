//! Data sets and configs the trainer's tests make for themselves.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

use facegan_model::{DcganConfig, SplitMix64};
use facegan_trainer::dcgan::TrainConfig;
use facegan_trainer::export::{ExportArgs, ExportPrecision, RunGenerator};

/// The fixed background of the synthetic set: a saturated blue no untrained generator makes.
pub const BACKGROUND: [u8; 3] = [30, 60, 160];
/// Disc colours: warm, far from the background.
const PALETTE: [[u8; 3]; 3] = [[240, 200, 40], [230, 60, 50], [250, 250, 240]];

/// Writes `count` PNGs of one flat disc on the fixed background and returns their pixels.
pub fn write_shapes(dir: &Path, count: usize, size: u32, seed: u64) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|i| {
            let radius = rng.uniform(f64::from(size) / 5.0, f64::from(size) / 3.0);
            let cx = rng.uniform(radius, f64::from(size) - radius);
            let cy = rng.uniform(radius, f64::from(size) - radius);
            let colour = PALETTE[rng.below(PALETTE.len())];
            let image = image::RgbImage::from_fn(size, size, |x, y| {
                let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
                image::Rgb(if dx * dx + dy * dy <= radius * radius {
                    colour
                } else {
                    BACKGROUND
                })
            });
            image.save(dir.join(format!("shape_{i:04}.png"))).unwrap();
            image.into_raw()
        })
        .collect()
}

/// Mean colour (0-255 per channel) and fraction of background-coloured pixels of RGB8 images.
pub fn colour_stats(images: &[Vec<u8>]) -> ([f64; 3], f64) {
    let mut sum = [0f64; 3];
    let mut background = 0usize;
    let mut pixels = 0usize;
    for image in images {
        for pixel in image.chunks_exact(3) {
            for c in 0..3 {
                sum[c] += f64::from(pixel[c]);
            }
            let near = (0..3).all(|c| (i32::from(pixel[c]) - i32::from(BACKGROUND[c])).abs() <= 40);
            background += usize::from(near);
            pixels += 1;
        }
    }
    (
        sum.map(|s| s / pixels as f64),
        background as f64 / pixels as f64,
    )
}

pub fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|c| (a[c] - b[c]).powi(2)).sum::<f64>().sqrt()
}

/// Standard deviation of all byte values in `images`: near 0 for a flat, degenerate output.
pub fn pixel_std(images: &[Vec<u8>]) -> f64 {
    let values: Vec<f64> = images.iter().flatten().map(|&v| f64::from(v)).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// Worst and mean absolute difference of two sets of RGB8 images, in 8-bit levels.
pub fn pixel_difference(a: &[Vec<u8>], b: &[Vec<u8>]) -> (i32, f64) {
    let mut worst = 0i32;
    let mut total = 0i64;
    let mut count = 0i64;
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        let d = (i32::from(*x) - i32::from(*y)).abs();
        worst = worst.max(d);
        total += i64::from(d);
        count += 1;
    }
    (worst, total as f64 / count as f64)
}

/// A small, fast DCGAN for 32x32 tests.
pub fn tiny_config(data: &Path, epochs: usize, batch_size: usize) -> TrainConfig {
    let model = DcganConfig::new()
        .with_image_size(32)
        .with_latent_size(16)
        .with_generator_width(8)
        .with_discriminator_width(8);
    let mut config = TrainConfig::new(data.to_path_buf(), model, epochs, batch_size);
    config.run.seed = 5;
    config
}

pub fn facegan() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_facegan"))
}

/// Runs `command` and fails the test with its stderr unless it succeeds; returns its stdout.
pub fn stdout_of_success(command: &mut std::process::Command) -> String {
    let output = command.output().expect("facegan runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A temporary folder whose `data/` holds `count` 32 px disc images drawn from `seed`; runs
/// go beside it.
pub fn shapes_folder(count: usize, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let data = path(&dir, "data");
    write_shapes(&data, count, 32, seed);
    (dir, data)
}

/// Training tests take turns: networks are initialised from the process-wide random seed, so
/// two runs at once draw each other's numbers and stop being reproducible.
static ONE_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the training turn until dropped (a failed test does not block the others).
pub fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `facegan export SOURCES --out OUT` (the moving average of a run's generator), in process.
pub fn export(
    sources: &[&Path],
    out: &Path,
    precision: ExportPrecision,
    standing_statistics: usize,
) -> anyhow::Result<()> {
    facegan_trainer::export::run(&ExportArgs {
        sources: sources.iter().map(|path| path.to_path_buf()).collect(),
        out: out.to_path_buf(),
        precision,
        from: RunGenerator::Averaged,
        standing_statistics,
    })
}

/// The numbers a run's `report.html` embeds (what its plots were drawn from).
pub fn report_data(folder: &Path) -> serde_json::Value {
    let page = std::fs::read_to_string(folder.join("report.html")).unwrap();
    let opening = format!(
        "<script type=\"application/json\" id=\"{}\">",
        facegan_trainer::run::report::DATA_ID
    );
    let start = page.find(&opening).expect("the report embeds its data") + opening.len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

/// The panel of `report` titled `title`.
pub fn panel<'a>(report: &'a serde_json::Value, title: &str) -> &'a serde_json::Value {
    report["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|panel| panel["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title:?} in the report"))
}

/// Asserts that every per-step curve of the run's report has one point at each step
/// `1..=steps`, no more, no fewer, in order (what a resumed or stopped run must plot), and
/// returns the report's data.
pub fn assert_report_steps(run: &Path, steps: u64) -> serde_json::Value {
    let report = report_data(run);
    let expected: Vec<f64> = (1..=steps).map(|step| step as f64).collect();
    let mut curves = 0;
    for panel in report["panels"].as_array().unwrap() {
        for series in panel["series"].as_array().unwrap() {
            if series["per_step"] == true {
                let x: Vec<f64> = serde_json::from_value(series["x"].clone()).unwrap();
                assert_eq!(
                    x, expected,
                    "{}: {} plots other steps than 1..={steps}",
                    panel["title"], series["column"]
                );
                curves += 1;
            }
        }
    }
    assert!(curves >= 3, "only {curves} step curves in the report");
    report
}
