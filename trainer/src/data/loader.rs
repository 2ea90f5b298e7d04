use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::imageops::FilterType;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// File extensions the trainer reads (lower case).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "bmp", "gif"];

/// Decoded training images, resized to `size` x `size`, kept as bytes (a quarter of the
/// memory of floats) and converted per batch.
#[derive(Debug)]
pub struct ImageSet {
    pub size: usize,
    /// `len * size * size * 3` bytes, HWC per image.
    pub pixels: Vec<u8>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    pub fn image_bytes(&self) -> usize {
        self.size * self.size * 3
    }

    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.image_bytes();
        &self.pixels[index * n..(index + 1) * n]
    }
}

/// A file that could not be used, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Every image file under `dir`, recursively, sorted so runs are reproducible.
pub fn find_images(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.exists() {
        bail!("data folder {} does not exist", dir.display());
    }
    if !dir.is_dir() {
        bail!("data path {} is not a folder", dir.display());
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let is_image = entry.path().extension().is_some_and(|ext| {
            IMAGE_EXTENSIONS.contains(&ext.to_string_lossy().to_lowercase().as_str())
        });
        if entry.file_type().is_file() && is_image {
            files.push(entry.into_path());
        }
    }
    files.sort();
    if files.is_empty() {
        bail!(
            "no images ({}) found under {}",
            IMAGE_EXTENSIONS.join(", "),
            dir.display()
        );
    }
    Ok(files)
}

/// Decodes (in parallel) every image under `dir` into a square `size` x `size` set; files that
/// fail to decode are skipped and returned. `max_images` (0 = all) caps the files read.
pub fn load_folder(
    dir: &Path,
    size: usize,
    max_images: usize,
) -> anyhow::Result<(ImageSet, Vec<Skipped>)> {
    let mut files = find_images(dir)?;
    if max_images > 0 {
        files.truncate(max_images);
    }
    load_files(&files, size, dir)
}

/// [`load_folder`] for a training run: the files that could not be decoded are named in a
/// warning and the run goes on without them.
pub fn load_training_set(dir: &Path, size: usize, max_images: usize) -> anyhow::Result<ImageSet> {
    let (images, skipped) = load_folder(dir, size, max_images)?;
    report_skipped(&skipped, images.len());
    Ok(images)
}

/// Decodes (in parallel) `files` into a square `size` x `size` set, in the given order; files
/// that fail to decode are skipped and returned. `dir` names the set in errors.
pub fn load_files(
    files: &[PathBuf],
    size: usize,
    dir: &Path,
) -> anyhow::Result<(ImageSet, Vec<Skipped>)> {
    let decoded = decode_files(files, size);

    let mut pixels = Vec::with_capacity(files.len() * size * size * 3);
    let mut skipped = Vec::new();
    for item in decoded {
        match item {
            Ok(image) => pixels.extend_from_slice(&image),
            Err(skip) => skipped.push(skip),
        }
    }
    if pixels.is_empty() {
        bail!(
            "no decodable image under {}: all {} image files failed to decode (first: {}: {})",
            dir.display(),
            files.len(),
            skipped[0].path.display(),
            skipped[0].reason
        );
    }
    Ok((ImageSet { size, pixels }, skipped))
}

/// Decodes (in parallel, with a progress bar) each of `files` into `size` x `size` RGB8, or
/// why it could not be used; one result per file, in order.
pub fn decode_files(files: &[PathBuf], size: usize) -> Vec<Result<Vec<u8>, Skipped>> {
    let progress = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("decoding {bar:40} {pos}/{len} images ({per_sec}, {eta})")
            .expect("valid template"),
    );
    let decoded: Vec<Result<Vec<u8>, Skipped>> = files
        .par_iter()
        .map(|path| {
            let result = decode_square(path, size).map_err(|error| Skipped {
                path: path.clone(),
                reason: format!("{error:#}"),
            });
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();
    decoded
}

/// Decodes one file, centre-crops it to a square and resizes it with Lanczos3.
fn decode_square(path: &Path, size: usize) -> anyhow::Result<Vec<u8>> {
    let image = image::ImageReader::open(path)?
        .with_guessed_format()?
        .decode()?
        .to_rgb8();
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        bail!("image has no pixels");
    }
    let side = width.min(height);
    let square =
        image::imageops::crop_imm(&image, (width - side) / 2, (height - side) / 2, side, side)
            .to_image();
    let size = size as u32;
    let resized = if side == size {
        square
    } else {
        image::imageops::resize(&square, size, size, FilterType::Lanczos3)
    };
    Ok(resized.into_raw())
}

/// Warns about image files that could not be decoded, naming each (a run goes on without them).
pub fn report_skipped(skipped: &[Skipped], used: usize) {
    if skipped.is_empty() {
        return;
    }
    log::warn!(
        "skipped {} of {} image files that could not be decoded:",
        skipped.len(),
        skipped.len() + used
    );
    for skip in skipped {
        log::warn!("  {}: {}", skip.path.display(), skip.reason);
    }
}
