//! `facegan sketch`: line drawings of a folder of faces, the sketch side of the sketch-to-face
//! models. Each `FACES/x/name.ext` becomes `SKETCHES/x/name.png`, so the two folders pair up by
//! name for pix2pix and serve as two unpaired domains for CycleGAN.

pub mod roughen;
pub mod xdog;

use std::path::{Path, PathBuf};

use anyhow::Context;
use facegan_model::fingerprint::fnv1a;
use rayon::prelude::*;

use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage};

use crate::data::find_images;
use crate::prepare::{SkippedFile, decode, with_progress};
use crate::render::{grid, save_png_atomically};
pub use roughen::{Roughen, StrokeStats, stroke_stats};
pub use xdog::{Xdog, ink_fraction};

#[derive(Debug, Clone, clap::Args)]
pub struct SketchArgs {
    /// Folder of face images (e.g. the output of `facegan prepare`), searched recursively.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Folder for the sketches: one PNG per face, same relative path and name.
    #[arg(long)]
    pub out: PathBuf,
    /// XDoG: blur of the fine Gaussian, in pixels of the upscaled image.
    #[arg(long, default_value_t = Xdog::default().sigma)]
    pub sigma: f32,
    /// XDoG: coarse sigma over fine sigma.
    #[arg(long, default_value_t = Xdog::default().k)]
    pub k: f32,
    /// XDoG: weight of the coarse blur (just below 1 keeps flat areas white).
    #[arg(long, default_value_t = Xdog::default().tau)]
    pub tau: f32,
    /// XDoG: differences below this become ink.
    #[arg(long, default_value_t = Xdog::default().epsilon, allow_negative_numbers = true)]
    pub epsilon: f32,
    /// XDoG: sharpness of the stroke edges.
    #[arg(long, default_value_t = Xdog::default().phi)]
    pub phi: f32,
    /// Work on the image enlarged this many times (smoother strokes at 64 px).
    #[arg(long, default_value_t = Xdog::default().upscale)]
    pub upscale: u32,
    /// Roughen the drawings toward what people draw on the pad (outlines of flat colour
    /// regions, thinned and re-stroked with a pad brush, fragments and random strokes dropped,
    /// smoothed and warped a little): see `sketch/roughen.rs`.
    #[arg(long)]
    pub roughen: bool,
    /// Seed of the roughening; each file's drawing also depends on its name, so it is the same
    /// whatever the order files are processed in.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write a PNG of the first 16 faces above their sketches, to judge the parameters.
    #[arg(long)]
    pub preview: Option<PathBuf>,
}

/// How a face is drawn: XDoG, optionally roughened with a seed. `facegan sketch` and the
/// sketch encoder's training draw through this.
#[derive(Debug, Clone, Copy)]
pub struct Drawing {
    pub xdog: Xdog,
    pub roughen: Option<(Roughen, u64)>,
}

impl Drawing {
    /// The default XDoG lines, roughened with the default ranges and `seed` when there is one.
    pub fn with_seed(rough: Option<u64>) -> Self {
        Self {
            xdog: Xdog::default(),
            roughen: rough.map(|seed| (Roughen::default(), seed)),
        }
    }

    /// The drawing of `face`.
    pub fn draw(&self, face: &RgbImage) -> image::GrayImage {
        let lines = self.xdog.sketch(face);
        match &self.roughen {
            Some((roughen, seed)) => roughen.sketch(face, &lines, *seed),
            None => lines,
        }
    }

    /// The drawing of the file `name`: the roughening's seed mixed with a hash of the name, so
    /// each file has its own drawing whatever order files are processed in.
    pub fn draw_file(&self, face: &RgbImage, name: &str) -> image::GrayImage {
        let roughen = self
            .roughen
            .map(|(roughen, seed)| (roughen, seed ^ fnv1a(name.as_bytes())));
        Self { roughen, ..*self }.draw(face)
    }
}

/// What a `sketch` run did.
#[derive(Debug, Default)]
pub struct SketchSummary {
    pub written: usize,
    pub skipped: Vec<SkippedFile>,
    /// Mean ink fraction of the written sketches.
    pub mean_ink: f64,
}

pub fn run(args: &SketchArgs) -> anyhow::Result<()> {
    let xdog = Xdog {
        sigma: args.sigma,
        k: args.k,
        tau: args.tau,
        epsilon: args.epsilon,
        phi: args.phi,
        upscale: args.upscale,
    };
    let drawing = Drawing {
        xdog,
        roughen: args.roughen.then_some((Roughen::default(), args.seed)),
    };
    let summary = sketch_folder(&args.input, &args.out, &drawing)?;
    for skipped in &summary.skipped {
        log::warn!(
            "skipped {}: {} ({})",
            skipped.path.display(),
            skipped.reason.describe(),
            skipped.detail
        );
    }
    println!(
        "wrote {} sketches to {} (mean ink {:.1}%); skipped {} unreadable files",
        summary.written,
        args.out.display(),
        summary.mean_ink * 100.0,
        summary.skipped.len()
    );
    if let Some(preview) = &args.preview {
        write_preview(&args.input, &drawing, preview)?;
        println!("preview: {}", preview.display());
    }
    Ok(())
}

/// Sketches every image under `input` (by extension, as training reads them: a prepared
/// folder's report is not an image) into `output`, keeping relative paths.
pub fn sketch_folder(
    input: &Path,
    output: &Path,
    drawing: &Drawing,
) -> anyhow::Result<SketchSummary> {
    drawing.xdog.validate()?;
    let files = find_images(input)?;
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let results: Vec<anyhow::Result<Result<f64, SkippedFile>>> =
        with_progress("sketching", files.len(), |bar| {
            files
                .par_iter()
                .map(|file| {
                    let result = match decode(file) {
                        Ok(face) => {
                            let target = sketch_path(input, output, file);
                            let name = target.strip_prefix(output).unwrap_or(&target);
                            let sketch = drawing.draw_file(&face, &name.to_string_lossy());
                            if let Some(parent) = target.parent() {
                                std::fs::create_dir_all(parent)?;
                            }
                            sketch
                                .save_with_format(&target, image::ImageFormat::Png)
                                .with_context(|| format!("cannot write {}", target.display()))?;
                            Ok(ink_fraction(&sketch))
                        }
                        Err(skipped) => Err(skipped),
                    };
                    bar.inc(1);
                    Ok(result)
                })
                .collect()
        });
    let mut summary = SketchSummary::default();
    let mut ink = 0.0;
    for result in results {
        match result? {
            Ok(fraction) => {
                summary.written += 1;
                ink += fraction;
            }
            Err(skipped) => summary.skipped.push(skipped),
        }
    }
    summary.mean_ink = ink / summary.written.max(1) as f64;
    Ok(summary)
}

/// Faces shown by `--preview`: two rows of eight, each above its sketch.
const PREVIEW_FACES: usize = 16;
const PREVIEW_COLUMNS: usize = 8;
const PREVIEW_SIDE: u32 = 64;

/// A grid of the first readable faces under `input` (name order), each row of faces followed
/// by a row of their sketches: what the parameters do, before sketching a whole set.
pub fn write_preview(input: &Path, drawing: &Drawing, out: &Path) -> anyhow::Result<()> {
    let faces: Vec<(String, RgbImage)> = find_images(input)?
        .iter()
        .filter_map(|file| {
            decode(file)
                .ok()
                .map(|face| (sketch_path(input, Path::new(""), file), face))
        })
        .take(PREVIEW_FACES)
        .map(|(name, face)| {
            let face = imageops::resize(&face, PREVIEW_SIDE, PREVIEW_SIDE, FilterType::Triangle);
            (name.to_string_lossy().into_owned(), face)
        })
        .collect();
    anyhow::ensure!(
        !faces.is_empty(),
        "no readable image in {}",
        input.display()
    );
    let mut tiles = Vec::new();
    for row in faces.chunks(PREVIEW_COLUMNS) {
        tiles.extend(row.iter().map(|(_, face)| face.as_raw().clone()));
        tiles.extend(row.iter().map(|(name, face)| {
            DynamicImage::ImageLuma8(drawing.draw_file(face, name))
                .to_rgb8()
                .into_raw()
        }));
    }
    save_png_atomically(&grid(&tiles, PREVIEW_SIDE as usize, PREVIEW_COLUMNS), out)
}

/// `output` + the file's path under `input`, as PNG.
fn sketch_path(input: &Path, output: &Path, file: &Path) -> PathBuf {
    let relative = file.strip_prefix(input).unwrap_or(file);
    output.join(relative).with_extension("png")
}
