//! The sketch encoder ("anime face" drawing mode) through the driver: it learns to put the
//! shipped generator's faces back from their drawings, a resumed run is the same run, its
//! export round-trips and `facegan translate` uses it with its own generator only.

mod common;

use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{facegan, shapes_folder, take_turn};
use facegan_model::weights::{Precision, load_encoder};
use facegan_trainer::encoder::{
    Encoder, EncoderLosses, TrainConfig, export_run, reconstruction_error,
};
use facegan_trainer::generate::{DEFAULT_WEIGHTS, load_default_weights};
use facegan_trainer::run::{LOG_FILE, LoggedStep, Outcome, Trainable, read_log, train};

fn config(data: &std::path::Path, epochs: usize) -> TrainConfig {
    let mut config =
        TrainConfig::new(data.to_path_buf(), None, DEFAULT_WEIGHTS, epochs, 16).unwrap();
    config.epoch_size = 256;
    config.run.seed = 3;
    config
}

/// Held-out latents: the runs draw theirs from the run's stream, never these seeds.
const HELD_OUT: std::ops::Range<u64> = 50_000..50_032;

#[test]
fn the_encoder_learns_to_redraw_the_generators_faces_from_their_drawings() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(32, 1);
    let config = config(&data, 6);
    let device = Device::flex();
    let (generator, _) = load_default_weights(&device).unwrap();
    let seeds: Vec<u64> = HELD_OUT.collect();
    device.seed(3);
    let untrained = config.header.encoder.init(&device);
    let before = reconstruction_error(
        &untrained,
        &generator,
        &config.header,
        &seeds,
        true,
        &device,
    )
    .unwrap();

    let run = dir.path().join("run");
    train::<Encoder>(&config, &run, &device, &AtomicBool::new(false)).unwrap();
    let bytes = export_run(&run, Precision::Half, &device).unwrap().unwrap();
    let (trained, header, palette) = load_encoder(&bytes, &device).unwrap();
    assert_eq!(header, config.header);
    assert!(!palette.is_empty());
    let after_rough =
        reconstruction_error(&trained, &generator, &header, &seeds, true, &device).unwrap();
    let after_lines =
        reconstruction_error(&trained, &generator, &header, &seeds, false, &device).unwrap();
    println!(
        "mean pixel error of G(E(drawing of G(z))) against G(z): untrained {before:.1}, \
         after 96 steps {after_rough:.1} (roughened drawings), {after_lines:.1} (XDoG drawings)"
    );
    assert!(
        after_rough < 0.8 * before,
        "the error only went from {before:.1} to {after_rough:.1}"
    );
    assert!(
        after_lines < 0.8 * before,
        "{after_lines:.1} vs {before:.1}"
    );
}

#[test]
fn a_resumed_encoder_run_matches_an_uninterrupted_one_and_exports() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(32, 2);
    let config = config(&data, 2);
    let device = Device::flex();
    let straight = dir.path().join("straight");
    train::<Encoder>(&config, &straight, &device, &AtomicBool::new(false)).unwrap();
    let resumed = dir.path().join("resumed");
    let first = train::<Encoder>(&config, &resumed, &device, &AtomicBool::new(true)).unwrap();
    assert_eq!(first.outcome, Outcome::Interrupted);
    train::<Encoder>(&config, &resumed, &device, &AtomicBool::new(false)).unwrap();
    let log = |run: &std::path::Path| -> Vec<EncoderLosses> {
        let rows: Vec<LoggedStep<EncoderLosses>> = read_log(&run.join(LOG_FILE)).unwrap();
        rows.into_iter().map(|row| row.losses).collect()
    };
    assert_eq!(log(&straight).len(), 32);
    // The drawings' seeds come from the run's stream, which the checkpoint keeps.
    assert_eq!(log(&straight), log(&resumed));
    // Its report plots the encoder's four losses, each step once.
    let report = common::assert_report_steps(&resumed, 32);
    common::panel(&report, "Latent MSE: E(sketch) against z");
    let a = export_run(&straight, Precision::Half, &device)
        .unwrap()
        .unwrap();
    let b = export_run(&resumed, Precision::Half, &device)
        .unwrap()
        .unwrap();
    assert_eq!(a, b, "the resumed run exports another encoder");

    // Int8 round trip: the same latents within quantisation.
    let f16 = load_encoder(&a, &device).unwrap().0;
    let int8_bytes = export_run(&straight, Precision::Int8, &device)
        .unwrap()
        .unwrap();
    let int8 = load_encoder(&int8_bytes, &device).unwrap().0;
    let sketch = Tensor::<4>::ones([2, 1, 64, 64], &device).mul_scalar(0.5);
    let code = Tensor::<2>::zeros([2, 27], &device);
    let gap = (f16.forward(sketch.clone(), code.clone()) - int8.forward(sketch, code))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(gap < 0.05, "int8 moved a latent by {gap}");
    assert!(int8_bytes.len() < a.len() * 6 / 10);
}

#[test]
fn an_encoder_run_starts_from_an_exported_encoder_of_its_shape() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(32, 5);
    let device = Device::flex();
    let run = dir.path().join("run");
    train::<Encoder>(&config(&data, 1), &run, &device, &AtomicBool::new(false)).unwrap();
    let exported = export_run(&run, Precision::Half, &device).unwrap().unwrap();
    let file = dir.path().join("encoder.fgw");
    std::fs::write(&file, &exported).unwrap();

    // A generator continued from the shipped one (a weight moved: another fingerprint).
    let mut continued_bytes = DEFAULT_WEIGHTS.to_vec();
    let last = continued_bytes.len() - 1;
    continued_bytes[last] ^= 1;
    let continued = dir.path().join("continued.fgw");
    std::fs::write(&continued, &continued_bytes).unwrap();
    let mut config = TrainConfig::new(data, Some(continued), &continued_bytes, 1, 16).unwrap();
    config.init_encoder = Some(file.clone());
    let train_device = device.clone().autodiff();
    let started = Encoder::fresh(&config, &train_device).unwrap();

    let latents = |encoder: &facegan_model::translate::SketchEncoder| {
        let sketch = Tensor::<4>::ones([2, 1, 64, 64], &device).mul_scalar(0.3);
        let code = Tensor::<2>::ones([2, 27], &device).mul_scalar(-0.2);
        encoder
            .forward(sketch, code)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let (from_file, _, _) = load_encoder(&exported, &device).unwrap();
    assert_eq!(latents(&started.encoder.valid()), latents(&from_file));

    // A file of another shape is refused, naming both.
    config.header.encoder = config.header.encoder.clone().with_width(8);
    let error = format!(
        "{:#}",
        Encoder::fresh(&config, &train_device).err().unwrap()
    );
    assert!(
        error.contains("--init-encoder")
            && error.contains("width: 8")
            && error.contains("width: 16"),
        "{error}"
    );
}

#[test]
fn translate_uses_an_encoder_only_with_its_own_generator() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(32, 4);
    let config = config(&data, 1);
    let device = Device::flex();
    let run = dir.path().join("run");
    train::<Encoder>(&config, &run, &device, &AtomicBool::new(false)).unwrap();
    let weights = dir.path().join("encoder.fgw");
    let export = facegan()
        .args([
            "export",
            run.to_str().unwrap(),
            "--out",
            weights.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let sketch = std::fs::read_dir(&data)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let faces = dir.path().join("faces");
    let translate = |extra: &[&str]| {
        facegan()
            .args([
                "translate",
                "--weights",
                weights.to_str().unwrap(),
                "--sketch",
            ])
            .arg(&sketch)
            .args(["--count", "2", "--out-dir", faces.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = translate(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(faces.join("seed_1.png").exists());

    // Another generator file: refused, naming both fingerprints.
    let other = dir.path().join("other.fgw");
    let mut bytes = DEFAULT_WEIGHTS.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&other, bytes).unwrap();
    let output = translate(&["--generator", other.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("belongs to another face generator") && stderr.contains("fingerprint"),
        "{stderr}"
    );
}
