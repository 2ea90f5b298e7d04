//! The LBP detector with the real lbpcascade_animeface on real anime faces pasted into
//! cluttered canvases. Needs `../shared` beside the repository (CI has it); skips otherwise.

mod common;

use std::path::{Path, PathBuf};

use facegan_model::SplitMix64;
use facegan_trainer::prepare::cascade::{Cascade, DetectOptions, Rect, detect, to_gray};
use image::RgbImage;

const CANVASES: usize = 40;
/// A face crop of side P holds the face the cascade finds in it as a centred square of about
/// 0.83 P (measured on the crops themselves: 74-85 px of 96).
const FACE_FRACTION: f64 = 0.83;

fn shared_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let needed = ["lbpcascade_animeface.xml", "anime-faces-96.tar"];
    needed.iter().all(|f| dir.join(f).exists()).then_some(dir)
}

/// A noisy canvas with random rectangles and stripes: clutter with edges and texture.
fn cluttered_canvas(rng: &mut SplitMix64, width: u32, height: u32) -> RgbImage {
    let mut canvas = RgbImage::from_fn(width, height, |_, _| {
        let g = rng.below(60) as u8 + 100;
        image::Rgb([g, g.saturating_add(10), g.saturating_sub(10)])
    });
    for _ in 0..25 {
        let (w, h) = (rng.below(80) as u32 + 5, rng.below(80) as u32 + 5);
        let (x, y) = (
            rng.below((width - w) as usize) as u32,
            rng.below((height - h) as usize) as u32,
        );
        let colour = [
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ];
        for yy in y..y + h {
            for xx in x..x + w {
                canvas.put_pixel(xx, yy, image::Rgb(colour));
            }
        }
    }
    canvas
}

#[test]
fn finds_real_faces_pasted_into_clutter() {
    let Some(data) = shared_data() else {
        println!(
            "SKIPPED finds_real_faces_pasted_into_clutter: ../shared/data (lbpcascade_animeface.xml, anime-faces-96.tar) is absent"
        );
        return;
    };
    let cascade = Cascade::load(&data.join("lbpcascade_animeface.xml")).unwrap();
    let dir = common::temp_dir();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(data.join("anime-faces-96.tar"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut faces: Vec<PathBuf> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "jpg"))
        .map(|e| e.into_path())
        .collect();
    faces.sort();
    // Evenly spread over the set, not hand-picked.
    let step = faces.len() / CANVASES;
    let mut rng = SplitMix64::new(2024);
    let options = DetectOptions::default();
    let (mut hits, mut false_positives) = (0, 0);
    for i in 0..CANVASES {
        let face = image::open(&faces[i * step]).unwrap().to_rgb8();
        let side = 48 + rng.below(100) as u32;
        let face =
            image::imageops::resize(&face, side, side, image::imageops::FilterType::Triangle);
        let mut canvas = cluttered_canvas(&mut rng, 320, 240);
        let (x, y) = (
            rng.below((320 - side) as usize) as u32,
            rng.below((240 - side) as usize) as u32,
        );
        image::imageops::replace(&mut canvas, &face, i64::from(x), i64::from(y));
        let inner = (f64::from(side) * FACE_FRACTION).round() as i32;
        let truth = Rect {
            x: x as i32 + (side as i32 - inner) / 2,
            y: y as i32 + (side as i32 - inner) / 2,
            width: inner,
            height: inner,
        };
        let found = detect(&cascade, &to_gray(&canvas), &options);
        let hit = found.iter().any(|b| b.iou(&truth) >= 0.5);
        hits += usize::from(hit);
        false_positives += found.iter().filter(|b| b.iou(&truth) < 0.5).count();
    }
    let recall = hits as f64 / CANVASES as f64;
    println!(
        "detector: recall {recall:.3} ({hits}/{CANVASES}) at IoU >= 0.5, {false_positives} false positives"
    );
    assert!(recall >= 0.9, "recall {recall:.3}");
    assert!(
        false_positives <= CANVASES / 10,
        "{false_positives} false positives on {CANVASES} canvases"
    );
}
