//! `facegan prepare` on pictures the test makes: duplicates, near duplicates, corrupt files,
//! and an untouched input folder.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::temp_dir;
use facegan_model::SplitMix64;
use facegan_trainer::prepare::{DetectOptions, PrepareOptions, SkipReason, prepare};
use image::{ImageFormat, RgbImage};

/// A smooth, photo-like picture: a few random colour blobs on a gradient.
fn picture(seed: u64, size: u32) -> RgbImage {
    let mut rng = SplitMix64::new(seed);
    let blobs: Vec<(f64, f64, f64, [f64; 3])> = (0..6)
        .map(|_| {
            let colour = [
                rng.uniform(0.0, 255.0),
                rng.uniform(0.0, 255.0),
                rng.uniform(0.0, 255.0),
            ];
            (
                rng.uniform(0.0, 1.0),
                rng.uniform(0.0, 1.0),
                rng.uniform(0.1, 0.3),
                colour,
            )
        })
        .collect();
    RgbImage::from_fn(size, size, |x, y| {
        let (u, v) = (
            f64::from(x) / f64::from(size),
            f64::from(y) / f64::from(size),
        );
        let mut rgb = [u * 120.0, v * 120.0, 60.0];
        for (cx, cy, r, colour) in &blobs {
            let weight = (-((u - cx).powi(2) + (v - cy).powi(2)) / (r * r)).exp();
            for c in 0..3 {
                rgb[c] = rgb[c] * (1.0 - weight) + colour[c] * weight;
            }
        }
        image::Rgb(rgb.map(|value| value.clamp(0.0, 255.0) as u8))
    })
}

fn save_jpeg(image: &RgbImage, path: &Path, quality: u8) {
    let file = std::fs::File::create(path).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(file, quality)
        .encode_image(image)
        .unwrap();
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn options(input: &Path, output: &Path) -> PrepareOptions {
    PrepareOptions {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        size: 32,
        exact_duplicates: true,
        near_duplicates: true,
        near_threshold: 12,
        cascade: None,
        detect: DetectOptions::default(),
        margin: 0.25,
        augment: Vec::new(),
        dry_run: false,
    }
}

#[test]
fn duplicates_near_duplicates_and_corrupt_files() {
    let dir = temp_dir();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(raw.join("sub")).unwrap();

    // Ten distinct pictures.
    for seed in 0..10 {
        picture(seed, 128)
            .save(raw.join(format!("distinct_{seed}.png")))
            .unwrap();
    }
    // Exact copies of picture 0 in other formats and encodings: same pixels, other bytes.
    let zero = picture(0, 128);
    zero.save_with_format(raw.join("sub/zero_copy.bmp"), ImageFormat::Bmp)
        .unwrap();
    zero.save_with_format(raw.join("zero_copy.webp"), ImageFormat::WebP)
        .unwrap();
    // A JPEG of an eleventh picture and the same JPEG with an EXIF segment added: other bytes and
    // metadata, identical pixels.
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&picture(100, 128))
        .unwrap();
    std::fs::write(raw.join("three.jpg"), &jpeg).unwrap();
    let exif: &[u8] = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0";
    let mut tagged = jpeg[..2].to_vec(); // SOI
    tagged.extend_from_slice(&[0xFF, 0xE1]);
    tagged.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    tagged.extend_from_slice(exif);
    tagged.extend_from_slice(&jpeg[2..]);
    std::fs::write(raw.join("sub/three_with_exif.jpg"), &tagged).unwrap();
    // Near copies of picture 1: JPEG at two qualities and a 2% downscale.
    let one = picture(1, 128);
    save_jpeg(&one, &raw.join("one_q95.jpg"), 95);
    save_jpeg(&one, &raw.join("one_q70.jpg"), 70);
    image::imageops::resize(&one, 125, 125, image::imageops::FilterType::Triangle)
        .save(raw.join("one_small.png"))
        .unwrap();
    // Broken files.
    std::fs::write(raw.join("empty.png"), b"").unwrap();
    std::fs::write(raw.join("notes.txt"), b"just text").unwrap();
    let mut bytes = Vec::new();
    picture(2, 128)
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    std::fs::write(raw.join("truncated.png"), &bytes[..bytes.len() / 2]).unwrap();

    let before = snapshot(&raw);
    let out = dir.path().join("data");
    let report = prepare(&options(&raw, &out)).unwrap();
    assert_eq!(snapshot(&raw), before, "prepare modified its input folder");

    assert_eq!(report.files_found, 20);
    assert_eq!(report.decoded, 17);
    assert_eq!(report.skipped_by_reason.get(&SkipReason::Empty), Some(&1));
    assert_eq!(
        report.skipped_by_reason.get(&SkipReason::NotAnImage),
        Some(&1)
    );
    assert_eq!(report.skipped_by_reason.get(&SkipReason::Corrupt), Some(&1));

    assert_eq!(
        report.exact_duplicates_removed, 3,
        "{:?}",
        report.exact_duplicate_groups
    );
    let mut groups = report.exact_duplicate_groups.clone();
    groups.sort_by_key(Vec::len);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0], vec!["sub/three_with_exif.jpg", "three.jpg"]);
    assert_eq!(groups[1].len(), 3);

    // The three near copies of picture 1 join distinct_1.png; no distinct picture is lost.
    assert_eq!(
        report.near_duplicates_removed, 3,
        "{:?}",
        report.near_duplicate_clusters
    );
    assert_eq!(report.near_duplicate_clusters.len(), 1);
    assert!(report.near_duplicate_clusters[0].contains(&"distinct_1.png".to_string()));
    // The ten distinct pictures and the eleventh (kept once).
    assert_eq!(report.images_kept, 11);

    let written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(
        written
            .iter()
            .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
            .count(),
        11
    );
    assert!(out.join("prepare-report.json").exists());

    // Idempotent: a second run writes the same names and nothing more.
    prepare(&options(&raw, &out)).unwrap();
    let again: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(again.len(), written.len());
}

#[test]
fn dry_run_writes_nothing_and_augment_doubles() {
    let dir = temp_dir();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    for seed in 0..3 {
        picture(seed, 64)
            .save(raw.join(format!("p{seed}.png")))
            .unwrap();
    }
    let out = dir.path().join("data");
    let mut dry = options(&raw, &out);
    dry.dry_run = true;
    let report = prepare(&dry).unwrap();
    assert_eq!(report.files_written, 3);
    assert!(!out.exists());

    let mut augmented = options(&raw, &out);
    augmented.augment = vec![
        facegan_trainer::prepare::Augment::Flip,
        facegan_trainer::prepare::Augment::Blur,
    ];
    let report = prepare(&augmented).unwrap();
    assert_eq!(report.files_written, 9);
    let flipped = image::open(out.join("p0_png-flip.png")).unwrap().to_rgb8();
    let plain = image::open(out.join("p0_png.png")).unwrap().to_rgb8();
    assert_eq!(flipped, image::imageops::flip_horizontal(&plain));
}

#[test]
fn output_inside_input_is_refused() {
    let dir = temp_dir();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(raw.join("out")).unwrap();
    picture(0, 32).save(raw.join("a.png")).unwrap();
    let error = prepare(&options(&raw, &raw.join("out")))
        .unwrap_err()
        .to_string();
    assert!(error.contains("inside the input folder"), "{error}");
}

#[test]
fn output_inside_input_is_refused_before_it_exists() {
    let dir = temp_dir();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    picture(0, 32).save(raw.join("a.png")).unwrap();
    let before = snapshot(&raw);
    // Spelled through `..` too: the folder is compared as it would be once created.
    for out in [raw.join("out"), raw.join("new/../deeper/out")] {
        let error = prepare(&options(&raw, &out)).unwrap_err().to_string();
        assert!(error.contains("inside the input folder"), "{error}");
    }
    assert_eq!(snapshot(&raw), before, "the input folder was written to");
    // Beside the input is fine.
    assert!(prepare(&options(&raw, &dir.path().join("out"))).is_ok());
}
