//! `facegan prepare`: from a folder of scraped pictures to a clean face data set.
//!
//! Pass 1 decodes every file in parallel and keeps only a pixel key and a perceptual hash, so
//! memory stays small whatever the folder size; duplicates are resolved on those. Pass 2
//! decodes the survivors again, finds faces, crops, resizes, augments and writes PNGs.

mod args;
pub mod augment;
pub mod cascade;
mod crop;
mod decode;
mod duplicates;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

pub use args::{DetectArgs, DetectorFlags, PrepareArgs};
pub use augment::Augment;
pub use cascade::{Cascade, DetectOptions};
pub use decode::{SkipReason, SkippedFile};
pub use report::Report;

use crop::{centre_square, crop_resize, square_box};
pub(crate) use decode::{decode, list_files};
use duplicates::{
    HASH_BITS, exact_groups, near_clusters, perceptual_hash, perceptual_hasher, pixel_key,
};

/// Everything `prepare` needs to know.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    pub size: u32,
    pub exact_duplicates: bool,
    pub near_duplicates: bool,
    /// Largest Hamming distance (of 64 bits) between near duplicates.
    pub near_threshold: u32,
    pub cascade: Option<PathBuf>,
    pub detect: DetectOptions,
    pub margin: f64,
    pub augment: Vec<Augment>,
    pub dry_run: bool,
}

pub fn run(args: &PrepareArgs) -> anyhow::Result<()> {
    let options = PrepareOptions {
        input: args.input.clone(),
        output: args.out.clone(),
        size: args.size,
        exact_duplicates: !args.keep_exact_duplicates,
        near_duplicates: !args.keep_near_duplicates,
        near_threshold: args.near_threshold,
        cascade: args.cascade.clone(),
        detect: args.detector.options()?,
        margin: args.margin,
        augment: args.augment.clone(),
        dry_run: args.dry_run,
    };
    let report = prepare(&options)?;
    print!("{}", report.summary());
    Ok(())
}

/// `facegan detect`: boxes per image, timed without the decoding.
pub fn detect_command(args: &DetectArgs) -> anyhow::Result<()> {
    let cascade = Cascade::load(&args.cascade)?;
    let options = args.detector.options()?;
    for path in &args.images {
        let image = decode(path).map_err(|skip| {
            anyhow::anyhow!(
                "{}: {} ({})",
                path.display(),
                skip.reason.describe(),
                skip.detail
            )
        })?;
        // Timed like the OpenCV script times detectMultiScale: from the grayscale image on.
        let gray = cascade::to_gray(&image);
        let started = Instant::now();
        let faces = cascade::detect(&cascade, &gray, &options);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if args.json {
            let boxes: Vec<[i32; 4]> = faces
                .iter()
                .map(|f| [f.x, f.y, f.width, f.height])
                .collect();
            println!(
                "{}",
                serde_json::json!({"file": path, "boxes": boxes, "ms": ms})
            );
        } else {
            let boxes: Vec<String> = faces
                .iter()
                .map(|f| format!("{}x{}+{}+{}", f.width, f.height, f.x, f.y))
                .collect();
            println!(
                "{}: {} face(s) {} [{ms:.1} ms]",
                path.display(),
                faces.len(),
                boxes.join(" ")
            );
        }
    }
    Ok(())
}

/// `path` made absolute, `..` taken lexically, and symbolic links resolved as far as it
/// exists: an output folder that does not exist yet is compared by its nearest existing
/// ancestor.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    let mut existing = normal.clone();
    let mut rest = Vec::new();
    while existing.canonicalize().is_err() {
        let Some(name) = existing.file_name() else {
            return normal;
        };
        rest.push(name.to_owned());
        existing.pop();
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    resolved.extend(rest.iter().rev());
    resolved
}

/// One decoded file's fingerprint.
struct Scanned {
    key: duplicates::PixelKey,
    hash: Option<image_hasher::ImageHash>,
    pixels: u64,
}

pub fn prepare(options: &PrepareOptions) -> anyhow::Result<Report> {
    let started = Instant::now();
    ensure!(
        options.size >= 8,
        "--size must be at least 8, found {}",
        options.size
    );
    ensure!(
        options.near_threshold < HASH_BITS,
        "--near-threshold must be below {HASH_BITS} (the hash length), found {}",
        options.near_threshold
    );
    let input = options
        .input
        .canonicalize()
        .with_context(|| format!("input folder {} does not exist", options.input.display()))?;
    ensure!(
        !resolved(&options.output).starts_with(&input),
        "the output folder {} is inside the input folder {}: the run would read its own output",
        options.output.display(),
        options.input.display()
    );
    let cascade = match &options.cascade {
        Some(path) => Some(Cascade::load(path)?),
        None => None,
    };
    let files = list_files(&input)?;
    ensure!(
        !files.is_empty(),
        "no files under {}",
        options.input.display()
    );

    // Pass 1: fingerprints.
    let hasher = perceptual_hasher();
    let scanned: Vec<Result<Scanned, SkippedFile>> =
        with_progress("scanning", files.len(), |bar| {
            files
                .par_iter()
                .map(|path| {
                    let result = decode(path).map(|image| Scanned {
                        key: pixel_key(&image),
                        hash: options
                            .near_duplicates
                            .then(|| perceptual_hash(&hasher, &image)),
                        pixels: u64::from(image.width()) * u64::from(image.height()),
                    });
                    bar.inc(1);
                    result
                })
                .collect()
        });
    let mut skipped = Vec::new();
    let mut decoded: Vec<(usize, Scanned)> = Vec::new();
    for (index, result) in scanned.into_iter().enumerate() {
        match result {
            Ok(scan) => decoded.push((index, scan)),
            Err(skip) => skipped.push(skip),
        }
    }

    // Exact duplicates: keep the first file (in path order) of each group.
    let mut exact_removed = 0;
    let mut exact_report = Vec::new();
    let mut keep: Vec<bool> = vec![true; decoded.len()];
    // The reported names of a group of decoded images.
    let names = |members: &[usize]| -> Vec<String> {
        members
            .iter()
            .map(|&i| relative(&files[decoded[i].0], &input))
            .collect()
    };
    if options.exact_duplicates {
        let keys: Vec<_> = decoded.iter().map(|(_, s)| s.key).collect();
        for group in exact_groups(&keys) {
            exact_report.push(names(&group));
            for &i in &group[1..] {
                keep[i] = false;
                exact_removed += 1;
            }
        }
    }

    // Near duplicates among what is left: keep the largest image of each cluster.
    let mut near_report = Vec::new();
    let mut near_removed = 0;
    if options.near_duplicates {
        let candidates: Vec<usize> = (0..decoded.len()).filter(|&i| keep[i]).collect();
        let hashes: Vec<_> = candidates
            .iter()
            .map(|&i| {
                decoded[i]
                    .1
                    .hash
                    .clone()
                    .expect("hashed when near-dedup is on")
            })
            .collect();
        // Best copy first: the most pixels, then path order.
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&c| (std::cmp::Reverse(decoded[candidates[c]].1.pixels), c));
        for cluster in near_clusters(&hashes, &order, options.near_threshold) {
            let members: Vec<usize> = cluster.iter().map(|&c| candidates[c]).collect();
            near_report.push(names(&members));
            for &i in &members[1..] {
                keep[i] = false;
                near_removed += 1;
            }
        }
    }
    let kept: Vec<usize> = (0..decoded.len())
        .filter(|&i| keep[i])
        .map(|i| decoded[i].0)
        .collect();

    // Pass 2: faces, crops, files.
    if !options.dry_run {
        std::fs::create_dir_all(&options.output)
            .with_context(|| format!("cannot create {}", options.output.display()))?;
    }
    let outcomes: Vec<anyhow::Result<(usize, usize)>> =
        with_progress("cropping", kept.len(), |bar| {
            kept.par_iter()
                .map(|&index| {
                    let result = write_crops(&files[index], &input, cascade.as_ref(), options);
                    bar.inc(1);
                    result
                })
                .collect()
        });
    let mut faces = 0;
    let mut without_face = 0;
    let mut written = 0;
    for outcome in outcomes {
        let (found, files_written) = outcome?;
        faces += found;
        without_face += usize::from(cascade.is_some() && found == 0);
        written += files_written;
    }

    let mut skipped_by_reason: BTreeMap<SkipReason, usize> = BTreeMap::new();
    for skip in &skipped {
        *skipped_by_reason.entry(skip.reason).or_default() += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let report = Report {
        input: options.input.clone(),
        output: options.output.clone(),
        dry_run: options.dry_run,
        files_found: files.len(),
        decoded: decoded.len(),
        skipped_by_reason,
        skipped,
        exact_duplicates_removed: exact_removed,
        exact_duplicate_groups: exact_report,
        near_threshold: options.near_threshold,
        near_duplicates_removed: near_removed,
        near_duplicate_clusters: near_report,
        images_kept: kept.len(),
        face_detection: cascade.is_some(),
        faces_found: faces,
        images_without_face: without_face,
        files_written: written,
        seconds,
        images_per_second: files.len() as f64 / seconds.max(1e-9),
    };
    if !options.dry_run {
        let path = options.output.join("prepare-report.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report)
}

/// Detects, crops, resizes and (unless dry-run) writes one source image's training images.
/// Returns (faces found, files written).
fn write_crops(
    path: &Path,
    input: &Path,
    cascade: Option<&Cascade>,
    options: &PrepareOptions,
) -> anyhow::Result<(usize, usize)> {
    let image = decode(path).map_err(|skip| {
        anyhow::anyhow!(
            "{} changed while preparing: {}",
            path.display(),
            skip.detail
        )
    })?;
    let stem = stable_stem(&relative(path, input));
    let boxes: Vec<(String, (u32, u32, u32))> = match cascade {
        Some(cascade) => cascade::detect(cascade, &cascade::to_gray(&image), &options.detect)
            .iter()
            .map(|face| {
                let square = square_box(face, options.margin, image.width(), image.height());
                (
                    format!("{stem}-{}_{}_{}", square.0, square.1, square.2),
                    square,
                )
            })
            .collect(),
        None => vec![(stem, centre_square(image.width(), image.height()))],
    };
    let mut written = 0;
    for (name, square) in &boxes {
        let crop = crop_resize(&image, *square, options.size);
        let mut variants = vec![(name.clone(), crop.clone())];
        for augment in &options.augment {
            variants.push((format!("{name}-{}", augment.suffix()), augment.apply(&crop)));
        }
        for (name, picture) in variants {
            if !options.dry_run {
                let target = options.output.join(format!("{name}.png"));
                crate::render::save_png_atomically(&picture, &target)?;
            }
            written += 1;
        }
    }
    let faces = if cascade.is_some() { boxes.len() } else { 0 };
    Ok((faces, written))
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// A file-name-safe stem from a relative path: `a/b c.jpg` -> `a_b_c_jpg`, so two sources that
/// differ only by extension or folder never share a name.
fn stable_stem(relative: &str) -> String {
    relative
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) fn with_progress<T>(label: &str, len: usize, work: impl FnOnce(&ProgressBar) -> T) -> T {
    let bar = ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!(
            "{label} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}})"
        ))
        .expect("valid template"),
    );
    let result = work(&bar);
    bar.finish_and_clear();
    result
}
