//! `facegan sketch` end to end: line drawings of real anime faces (from `../shared`, when it is
//! beside the repository) or of generated shapes otherwise.

mod common;

use std::path::{Path, PathBuf};

use common::{facegan, path, stdout_of_success, temp_dir};
use facegan_model::SplitMix64;
use facegan_trainer::sketch::ink_fraction;
use image::{Rgb, RgbImage};

const REAL_FACES: usize = 40;

/// 40 faces spread evenly over the shared set, resized to the 64 px the models train on.
fn real_faces(into: &Path) -> Option<usize> {
    let tar = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/anime-faces-96.tar");
    if !tar.exists() {
        return None;
    }
    let listing = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&tar)
        .output()
        .unwrap();
    assert!(listing.status.success());
    let mut names: Vec<String> = String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .filter(|name| name.ends_with(".jpg"))
        .map(str::to_owned)
        .collect();
    names.sort();
    let step = names.len() / REAL_FACES;
    let picked: Vec<&String> = names.iter().step_by(step).take(REAL_FACES).collect();
    let raw = into.with_extension("raw");
    std::fs::create_dir_all(&raw).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&raw)
        .args(&picked)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir_all(into).unwrap();
    for (i, name) in picked.iter().enumerate() {
        let face = image::open(raw.join(name)).unwrap().to_rgb8();
        let face = image::imageops::resize(&face, 64, 64, image::imageops::FilterType::Triangle);
        face.save(into.join(format!("face_{i:02}.png"))).unwrap();
    }
    Some(picked.len())
}

/// Light pictures with a few dark discs and bars of random size and place: shapes with edges.
fn write_drawable_shapes(into: &Path, count: usize) {
    std::fs::create_dir_all(into).unwrap();
    let mut rng = SplitMix64::new(5);
    for i in 0..count {
        let mut picture = RgbImage::from_pixel(64, 64, Rgb([235, 228, 220]));
        for _ in 0..3 {
            let (cx, cy) = (8 + rng.below(48) as i32, 8 + rng.below(48) as i32);
            let radius = 4 + rng.below(10) as i32;
            let tone = rng.below(90) as u8 + 20;
            let bar = rng.chance(0.5);
            for (x, y, pixel) in picture.enumerate_pixels_mut() {
                let (dx, dy) = (x as i32 - cx, y as i32 - cy);
                let inside = if bar {
                    dx.abs() < radius / 2 && dy.abs() < radius * 2
                } else {
                    dx * dx + dy * dy < radius * radius
                };
                if inside {
                    *pixel = Rgb([tone, tone / 2, tone + 40]);
                }
            }
        }
        picture
            .save(into.join(format!("shapes_{i:02}.png")))
            .unwrap();
    }
}

fn sketch(input: &Path, output: &Path, preview: Option<&Path>) -> String {
    let mut command = facegan();
    command
        .args(["sketch", "--in"])
        .arg(input)
        .arg("--out")
        .arg(output);
    if let Some(preview) = preview {
        command.arg("--preview").arg(preview);
    }
    stdout_of_success(&mut command)
}

fn sorted_pngs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn sketches_are_mostly_white_with_dark_strokes_and_deterministic() {
    let dir = temp_dir();
    let faces = path(&dir, "faces");
    // Real faces carry hair strands, eyes and outlines; the shapes only an outline per disc.
    let (count, ink_range) = match real_faces(&faces) {
        Some(count) => (count, 0.02..0.30),
        None => {
            println!("../shared/data/anime-faces-96.tar is absent: sketching generated shapes");
            // 16, so the preview is as full as with real faces.
            write_drawable_shapes(&faces, 16);
            (16, 0.01..0.20)
        }
    };
    std::fs::write(faces.join("broken.png"), b"not an image").unwrap();

    let first = path(&dir, "sketches");
    let preview = path(&dir, "preview.png");
    let summary = sketch(&faces, &first, Some(&preview));
    // Two rows of eight faces, each above a row of their sketches, 64 px with 2 px borders.
    let preview = image::open(&preview).unwrap().to_rgb8();
    assert_eq!(preview.dimensions(), (8 * 66 + 2, 4 * 66 + 2));
    assert!(
        summary.contains(&format!("wrote {count} sketches")) && summary.contains("skipped 1"),
        "{summary}"
    );
    let files = sorted_pngs(&first);
    assert_eq!(files.len(), count);
    let mut total = 0.0;
    for file in &files {
        let sketch = image::open(file).unwrap().to_luma8();
        assert_eq!(sketch.dimensions(), (64, 64), "{}", file.display());
        let ink = ink_fraction(&sketch);
        assert!(
            ink_range.contains(&ink),
            "{}: ink fraction {ink:.3} outside {ink_range:?}",
            file.display()
        );
        // Strokes are dark, paper is white: little in between.
        let grey = sketch
            .pixels()
            .filter(|p| (64..192).contains(&p.0[0]))
            .count();
        assert!(
            grey < 64 * 64 / 5,
            "{}: {grey} mid-grey pixels",
            file.display()
        );
        total += ink;
    }
    println!(
        "{count} sketches, mean ink {:.1}%",
        100.0 * total / count as f64
    );

    let second = path(&dir, "again");
    sketch(&faces, &second, None);
    for (a, b) in files.iter().zip(sorted_pngs(&second)) {
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{}",
            a.display()
        );
    }
}

/// Roughening on the shipped generator's faces: per seed the same drawing; sparser (far fewer
/// separate strokes) and thicker strokes than the XDoG drawings it starts from.
#[test]
fn roughened_drawings_are_deterministic_sparser_and_thicker_than_xdog() {
    use facegan_trainer::generate::{faces_for_seeds, load_default_weights};
    use facegan_trainer::sketch::{Roughen, Xdog, stroke_stats};

    let device = burn::tensor::Device::flex();
    let (generator, config) = load_default_weights(&device).unwrap();
    let seeds: Vec<u64> = (0..24).collect();
    let faces = faces_for_seeds(&generator, &config, &seeds, &device).unwrap();
    let size = config.image_size() as u32;
    let (mut xdog_length, mut rough_length, mut xdog_width, mut rough_width) = (0, 0, 0.0, 0.0);
    let (mut xdog_strokes, mut rough_strokes) = (0, 0);
    for (face, &seed) in faces.iter().zip(&seeds) {
        let face = image::RgbImage::from_raw(size, size, face.clone()).unwrap();
        let lines = Xdog::default().sketch(&face);
        let rough = Roughen::default().sketch(&face, &lines, seed);
        assert_eq!(rough, Roughen::default().sketch(&face, &lines, seed));
        assert_ne!(rough, Roughen::default().sketch(&face, &lines, seed + 100));
        let (x, r) = (stroke_stats(&lines), stroke_stats(&rough));
        assert!(r.ink > 0.01, "face {seed}: a blank roughened drawing");
        xdog_strokes += x.strokes;
        rough_strokes += r.strokes;
        xdog_length += x.length;
        rough_length += r.length;
        xdog_width += x.width;
        rough_width += r.width;
    }
    let n = faces.len() as f64;
    let (xdog_width, rough_width) = (xdog_width / n, rough_width / n);
    println!(
        "per drawing: strokes XDoG {:.1}, roughened {:.1}; centre-line pixels XDoG {:.0}, \
         roughened {:.0}; mean stroke width XDoG {xdog_width:.2} px, roughened {rough_width:.2} px",
        xdog_strokes as f64 / n,
        rough_strokes as f64 / n,
        xdog_length as f64 / n,
        rough_length as f64 / n
    );
    // Sparser: a few long strokes (outlines) where XDoG leaves dozens of fragments; their
    // total length is not lower, outlines being long.
    assert!(
        (rough_strokes as f64) < 0.5 * xdog_strokes as f64,
        "{rough_strokes} vs {xdog_strokes}"
    );
    assert!(
        rough_width > 1.15 * xdog_width,
        "{rough_width} vs {xdog_width}"
    );
}
