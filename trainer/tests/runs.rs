//! Resume, atomic checkpoints, the NaN guard and export, on tiny runs.

mod common;

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{pixel_difference, pixel_std, shapes_folder, take_turn, tiny_config};
use facegan_model::weights::{Precision, load_face_generator, save_face_generator_as};
use facegan_trainer::dcgan::{DcganLosses, train};
use facegan_trainer::export::{ExportPrecision, RunGenerator};
use facegan_trainer::export::{generator_from_run, generator_of_run};
use facegan_trainer::generate::faces_for_seeds;
use facegan_trainer::run::checkpoint::{self, CheckpointError};
use facegan_trainer::run::{LOG_FILE, LoggedStep, Outcome, read_log};

const IMAGES: usize = 64;
const BATCH: usize = 16;
const BATCHES: u64 = (IMAGES / BATCH) as u64;

/// The DCGAN's `log.csv`, row by row.
fn log_of(run: &std::path::Path) -> Vec<LoggedStep<DcganLosses>> {
    read_log(&run.join(LOG_FILE)).unwrap()
}

fn steps_of(run: &std::path::Path) -> Vec<u64> {
    log_of(run).iter().map(|row| row.step).collect()
}

#[test]
fn interrupted_run_resumes_where_it_stopped() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 2);
    let run = dir.path().join("run");
    let config = tiny_config(&data, 2, BATCH);
    let device = Device::flex();

    // A raised stop flag ends the run after its first step, with a checkpoint.
    let summary = train(&config, &run, &device, &AtomicBool::new(true)).unwrap();
    assert_eq!(summary.outcome, Outcome::Interrupted);
    assert_eq!(summary.steps, 1);
    assert_eq!(
        checkpoint::load(&run.join(checkpoint::FILE))
            .unwrap()
            .meta
            .step,
        1
    );

    // Running again continues at step 2 and finishes both epochs.
    let summary = train(&config, &run, &device, &AtomicBool::new(false)).unwrap();
    assert_eq!(summary.outcome, Outcome::Finished);
    assert_eq!(summary.steps, 2 * BATCHES);
    assert_eq!(steps_of(&run), (1..=2 * BATCHES).collect::<Vec<_>>());
    let rows = log_of(&run);
    assert_eq!(rows.last().unwrap().epoch, 2);
    assert_eq!(rows.last().unwrap().batch, BATCHES as usize);
    assert!(rows.windows(2).all(|w| w[0].elapsed_s <= w[1].elapsed_s));
    for epoch in 1..=2 {
        assert!(run.join(format!("samples/epoch_{epoch:03}.png")).exists());
    }
    assert!(run.join("progress.gif").exists());
    assert!(run.join("config.json").exists());
    let diversity =
        std::fs::read_to_string(run.join(facegan_trainer::face_gan::DIVERSITY_FILE)).unwrap();
    let epochs: Vec<&str> = diversity
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(epochs, ["1", "2"], "{diversity}");

    // More epochs on the same command line: numbering continues at epoch 3.
    let more = tiny_config(&data, 3, BATCH);
    train(&more, &run, &device, &AtomicBool::new(false)).unwrap();
    assert_eq!(steps_of(&run), (1..=3 * BATCHES).collect::<Vec<_>>());
    assert!(run.join("samples/epoch_003.png").exists());
}

#[test]
fn resumed_run_matches_an_uninterrupted_one() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 3);
    let mut config = tiny_config(&data, 4, BATCH);
    // Fast-moving weights, so the moving average visibly trails the last step's.
    config.optimizer.generator_lr = 2e-3;
    let device = Device::flex();

    let straight = dir.path().join("straight");
    train(&config, &straight, &device, &AtomicBool::new(false)).unwrap();
    let resumed = dir.path().join("resumed");
    train(&config, &resumed, &device, &AtomicBool::new(true)).unwrap();
    train(&config, &resumed, &device, &AtomicBool::new(false)).unwrap();

    let a = log_of(&straight);
    let b = log_of(&resumed);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.losses.d_loss - y.losses.d_loss).abs() < 1e-3
                && (x.losses.g_loss - y.losses.g_loss).abs() < 1e-3,
            "step {}: {x:?} vs {y:?}",
            x.step
        );
    }
    // The generator's moving average, which export ships, survives the interruption too.
    let seeds: Vec<u64> = (0..8).collect();
    let faces = |run: &std::path::Path| {
        let (generator, model) = generator_from_run(run, &device).unwrap();
        faces_for_seeds(&generator, &model, &seeds, &device).unwrap()
    };
    let (worst, mean) = pixel_difference(&faces(&straight), &faces(&resumed));
    assert!(
        worst <= 2 && mean < 0.1,
        "averaged generators differ: worst {worst}, mean {mean}"
    );
    let (last, model) = generator_of_run(&resumed, RunGenerator::LastStep, &device).unwrap();
    let last = faces_for_seeds(&last, &model, &seeds, &device).unwrap();
    let (_, apart) = pixel_difference(&faces(&resumed), &last);
    println!("mean pixel difference between the average and the last step: {apart:.3}");
    assert!(
        apart > 0.05,
        "export gave the last step's generator ({apart})"
    );
}

#[test]
fn truncated_checkpoint_is_refused_and_the_previous_one_used() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 4);
    let run = dir.path().join("run");
    let device = Device::flex();
    train(
        &tiny_config(&data, 2, BATCH),
        &run,
        &device,
        &AtomicBool::new(false),
    )
    .unwrap();

    let current = run.join(checkpoint::FILE);
    let bytes = std::fs::read(&current).unwrap();
    std::fs::write(&current, &bytes[..bytes.len() / 2]).unwrap();
    let error = checkpoint::load(&current).unwrap_err();
    assert!(
        matches!(error, CheckpointError::Truncated { .. }),
        "{error}"
    );
    let message = error.to_string();
    let found = format!("found {}", bytes.len() / 2);
    assert!(
        message.contains("is truncated: expected at least") && message.contains(&found),
        "{message}"
    );

    let (previous, path) = checkpoint::load_latest(&run).unwrap().unwrap();
    assert_eq!(path, run.join(checkpoint::PREVIOUS));
    assert_eq!(previous.meta.step, BATCHES);
    assert_eq!(previous.meta.epoch, 1);

    // Resuming trains epoch 2 again from the previous checkpoint; the log drops the rows
    // written after it and stays consecutive.
    train(
        &tiny_config(&data, 2, BATCH),
        &run,
        &device,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(steps_of(&run), (1..=2 * BATCHES).collect::<Vec<_>>());
}

#[test]
fn nan_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 5);
    let run = dir.path().join("run");
    let mut config = tiny_config(&data, 3, BATCH);
    config.run.inject_nan_at_step = Some(BATCHES + 2);
    let error = train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("diverged") && message.contains("intact"),
        "{message}"
    );
    assert!(
        message.contains(&format!("step {}", BATCHES + 2)),
        "{message}"
    );

    let saved = checkpoint::load(&run.join(checkpoint::FILE)).unwrap();
    assert_eq!(
        saved.meta.step, BATCHES,
        "the checkpoint of epoch 1 is the last good one"
    );
    assert_eq!(steps_of(&run).last(), Some(&(BATCHES + 1)));
}

#[test]
fn exported_weights_draw_the_same_faces() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 6);
    let run = dir.path().join("run");
    // A few fast epochs, so the faces vary and the comparison means something.
    let mut config = tiny_config(&data, 15, BATCH);
    config.optimizer.generator_lr = 2e-3;
    // The last step's weights: this test is about export, and 60 steps leave an average still
    // close to the flat initial faces.
    config.ema_decay = 0.0;
    let device = Device::flex();
    train(&config, &run, &device, &AtomicBool::new(false)).unwrap();

    let (generator, model) = generator_from_run(&run, &device).unwrap();
    let bytes = save_face_generator_as(&generator, &model, Precision::Half);
    let (loaded, loaded_model) = load_face_generator(&bytes, &device).unwrap();
    assert_eq!(loaded_model, model);

    let seeds: Vec<u64> = (0..16).collect();
    let full = faces_for_seeds(&generator, &model, &seeds, &device).unwrap();
    let half = faces_for_seeds(&loaded, &model, &seeds, &device).unwrap();
    let spread = pixel_std(&full);
    assert!(
        spread > 10.0,
        "the trained faces are nearly flat (std {spread:.1}): the test needs variety"
    );

    // f16 keeps ~3 significant digits: allow 3 of 255 levels per pixel, 0.5 on average.
    let (worst, mean) = pixel_difference(&full, &half);
    println!(
        "f16 export: worst pixel difference {worst}/255, mean {mean:.3}; pixel std {spread:.1}"
    );
    assert!(worst <= 3, "worst pixel difference {worst}");
    assert!(mean <= 0.5, "mean pixel difference {mean}");

    // int8 kernels: 127 levels per slice; a pixel may move a few levels, the average well
    // under one.
    let bytes = save_face_generator_as(&generator, &model, Precision::Int8);
    let (quantised, _) = load_face_generator(&bytes, &device).unwrap();
    let int8 = faces_for_seeds(&quantised, &model, &seeds, &device).unwrap();
    let (worst, mean) = pixel_difference(&full, &int8);
    println!("int8 export: worst pixel difference {worst}/255, mean {mean:.3}");
    assert!(worst <= 12, "worst pixel difference {worst}");
    assert!(mean <= 1.5, "mean pixel difference {mean}");
}

#[test]
fn snapshots_are_the_sample_generator_of_their_epoch() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 8);
    let run = dir.path().join("run");
    let mut config = tiny_config(&data, 4, BATCH);
    config.run.snapshot_every = 2;
    train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap();

    let mut kept: Vec<String> = std::fs::read_dir(run.join("snapshots"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["epoch_002.fgw", "epoch_004.fgw"]);

    // The last one is what export writes from the final checkpoint (f16, statistics kept).
    let exported = dir.path().join("exported.fgw");
    common::export(&[&run], &exported, ExportPrecision::F16, 0).unwrap();
    let last = std::fs::read(run.join("snapshots/epoch_004.fgw")).unwrap();
    assert!(last == std::fs::read(&exported).unwrap());
    let first = std::fs::read(run.join("snapshots/epoch_002.fgw")).unwrap();
    assert!(first != last, "epochs 2 and 4 kept the same generator");
}
