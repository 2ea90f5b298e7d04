//! The ResNet GAN through the driver: it learns (samples move to the data's statistics), a
//! resumed run matches an uninterrupted one (spectral norm's vectors, R1's nudges and
//! DiffAugment's draws included), a NaN stops it with the checkpoint intact, and its export
//! is the page's file of the ResNet architecture.

mod common;

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{
    colour_stats, distance, pixel_difference, shapes_folder, take_turn, temp_dir, write_shapes,
};
use facegan_model::weights::load_face_generator;
use facegan_model::{DcganConfig, GeneratorConfig, ResnetConfig};
use facegan_trainer::augment::Policy;
use facegan_trainer::export::{ExportPrecision, generator_from_run};
use facegan_trainer::face_gan::latent_tensor;
use facegan_trainer::generate::faces_for_seeds;
use facegan_trainer::resnet::{Resnet, ResnetLosses, TrainConfig};
use facegan_trainer::run::{LOG_FILE, LoggedStep, Outcome, Trainable, checkpoint, read_log, train};

fn tiny(data: &std::path::Path, epochs: usize, batch_size: usize) -> TrainConfig {
    let model = ResnetConfig::new()
        .with_image_size(32)
        .with_latent_size(16)
        .with_generator_width(8)
        .with_discriminator_width(8);
    let mut config = TrainConfig::new(data.to_path_buf(), model, epochs, batch_size);
    config.run.seed = 5;
    config
}

fn log_of(run: &std::path::Path) -> Vec<LoggedStep<ResnetLosses>> {
    read_log(&run.join(LOG_FILE)).unwrap()
}

#[test]
fn samples_move_to_the_data_statistics() {
    let _turn = take_turn();
    let dir = temp_dir();
    let data = dir.path().join("shapes");
    let real = write_shapes(&data, 2048, 32, 1);
    let (real_mean, real_background) = colour_stats(&real);

    // The model's own defaults (betas, EMA, two learning rates), small networks; G as fast as
    // D, as the DCGAN's test speeds its G: on this easy set a slow G only trails D.
    let mut config = tiny(&data, 12, 32);
    config.optimizer.generator_lr = config.optimizer.discriminator_lr;
    let device = Device::flex();
    let seeds: Vec<u64> = (1000..1128).collect();
    let model: GeneratorConfig = config.model.clone().into();
    device.seed(1);
    let untrained = config.model.init_generator(&device).into();
    let before = faces_for_seeds(&untrained, &model, &seeds, &device).unwrap();
    let (before_mean, before_background) = colour_stats(&before);

    let run = dir.path().join("run");
    train::<Resnet>(&config, &run, &device, &AtomicBool::new(false)).unwrap();
    let (trained, _) = generator_from_run(&run, &device).unwrap();
    let after = faces_for_seeds(&trained, &model, &seeds, &device).unwrap();
    let (after_mean, after_background) = colour_stats(&after);

    let before_gap = distance(before_mean, real_mean);
    let after_gap = distance(after_mean, real_mean);
    println!(
        "data: mean {real_mean:.1?} background {real_background:.3}\n\
         untrained: mean {before_mean:.1?} background {before_background:.3} (colour gap {before_gap:.1})\n\
         trained: mean {after_mean:.1?} background {after_background:.3} (colour gap {after_gap:.1})"
    );
    assert!(
        before_background < 0.05,
        "untrained generator already paints background"
    );
    assert!(
        after_gap < 0.35 * before_gap,
        "mean colour gap only went from {before_gap:.1} to {after_gap:.1}"
    );
    assert!(
        after_background > 0.6 * real_background,
        "background fraction {after_background:.3}, data {real_background:.3}"
    );
}

/// Trains `config` straight through and, beside it, stopped after its first step and resumed;
/// returns both logs and the faces of both generators.
#[allow(clippy::type_complexity)]
fn straight_and_resumed(
    config: &TrainConfig,
    dir: &std::path::Path,
) -> (
    Vec<LoggedStep<ResnetLosses>>,
    Vec<LoggedStep<ResnetLosses>>,
    (i32, f64),
) {
    let device = Device::flex();
    let straight = dir.join("straight");
    train::<Resnet>(config, &straight, &device, &AtomicBool::new(false)).unwrap();
    let resumed = dir.join("resumed");
    let first = train::<Resnet>(config, &resumed, &device, &AtomicBool::new(true)).unwrap();
    assert_eq!(first.outcome, Outcome::Interrupted);
    train::<Resnet>(config, &resumed, &device, &AtomicBool::new(false)).unwrap();
    let seeds: Vec<u64> = (0..8).collect();
    let faces = |run: &std::path::Path| {
        let (generator, model) = generator_from_run(run, &device).unwrap();
        faces_for_seeds(&generator, &model, &seeds, &device).unwrap()
    };
    let difference = pixel_difference(&faces(&straight), &faces(&resumed));
    (log_of(&straight), log_of(&resumed), difference)
}

#[test]
fn a_resumed_run_matches_an_uninterrupted_one() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 3);
    let mut config = tiny(&data, 3, 16);
    // Every draw from the run's stream (DiffAugment's changes, R1's nudges), spectral norm's
    // vectors, both Adams and the average come back from the checkpoint, and the kernels sum
    // in a fixed order: the resumed run is the same run, bit for bit.
    config.augment = vec![Policy::Color, Policy::Translation, Policy::Cutout];
    config.r1_gamma = 1.0;
    let (a, b, (worst, _)) = straight_and_resumed(&config, dir.path());
    assert_eq!(a.len(), 12);
    assert!(a.iter().all(|row| row.losses.r1 > 0.0), "R1 was computed");
    let losses = |log: &[LoggedStep<ResnetLosses>]| -> Vec<ResnetLosses> {
        log.iter().map(|row| row.losses).collect()
    };
    assert_eq!(losses(&a), losses(&b));
    assert_eq!(worst, 0, "the resumed generator draws other faces");
    // Its report: each step once, R1 plotted since it is on, diversity an epoch at a time.
    let report = common::assert_report_steps(&dir.path().join("resumed"), 12);
    common::panel(&report, "R1: E |grad D(x)|^2");
    let diversity = common::panel(&report, "Diversity of the samples (of real)");
    assert_eq!(
        diversity["series"][0]["x"],
        serde_json::json!([4.0, 8.0, 12.0])
    );
}

#[test]
fn a_nan_stops_the_run_with_the_last_checkpoint_intact() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 4);
    let mut config = tiny(&data, 2, 16);
    config.run.checkpoint_every = 2;
    config.run.inject_nan_at_step = Some(3);
    let run = dir.path().join("run");
    let device = Device::flex();
    let error = train::<Resnet>(&config, &run, &device, &AtomicBool::new(false)).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("diverged") && message.contains("step 3"),
        "{message}"
    );
    let saved = facegan_trainer::run::checkpoint::load_latest(&run)
        .unwrap()
        .unwrap();
    assert_eq!(saved.0.meta.step, 2);
    assert_eq!(saved.0.meta.kind, "resnet");
}

#[test]
fn the_export_is_a_resnet_file_that_draws_the_same_faces() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 5);
    let config = tiny(&data, 1, 16);
    let run = dir.path().join("run");
    let device = Device::flex();
    train::<Resnet>(&config, &run, &device, &AtomicBool::new(false)).unwrap();

    let seeds: Vec<u64> = (0..8).collect();
    let (generator, model) = generator_from_run(&run, &device).unwrap();
    let direct = faces_for_seeds(&generator, &model, &seeds, &device).unwrap();
    for (precision, worst_allowed) in [(ExportPrecision::F16, 3), (ExportPrecision::Int8, 12)] {
        let out = dir.path().join(format!("g-{precision:?}.fgw"));
        // The run's own statistics (standing ones would change the faces on purpose).
        common::export(&[&run], &out, precision, 0).unwrap();
        let (loaded, loaded_model) =
            load_face_generator(&std::fs::read(&out).unwrap(), &device).unwrap();
        assert_eq!(loaded_model, GeneratorConfig::Resnet(config.model.clone()));
        let faces = faces_for_seeds(&loaded, &loaded_model, &seeds, &device).unwrap();
        let (worst, mean) = pixel_difference(&direct, &faces);
        println!("{precision:?}: worst {worst}, mean {mean:.3}");
        assert!(worst <= worst_allowed, "{precision:?}: worst pixel {worst}");
    }
}

/// The third row of the head to head: a DCGAN generator (the page's size, written here so the
/// test holds whichever architecture is shipped) continued under the ResNet discriminator. The
/// run trains the file's generator and its snapshots and export are DCGAN files; flags that
/// contradict the file are refused, naming both values.
#[test]
fn a_resnet_run_continues_a_dcgan_generator_file() {
    let _turn = take_turn();
    let dir = temp_dir();
    let data = dir.path().join("shapes");
    write_shapes(&data, 8, 64, 6);
    let device = Device::flex();
    let dcgan = DcganConfig::new().with_generator_width(8);
    device.seed(9);
    let file = dir.path().join("dcgan.fgw");
    let written = facegan_model::save_generator(&dcgan.init_generator(&device), &dcgan);
    std::fs::write(&file, &written).unwrap();
    let run = dir.path().join("run");
    let train = |extra: &[&str]| {
        common::facegan()
            .args(["train", "--model", "resnet", "--backend", "cpu", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&run)
            .args([
                "--epochs",
                "1",
                "--batch-size",
                "4",
                "--snapshot-every",
                "1",
            ])
            .arg("--init-generator")
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = train(&["--generator-width", "16"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("DCGAN generator, width 8")
            && stderr.contains("--generator-width asks for 16"),
        "{stderr}"
    );

    let output = train(&["--augment", "translation"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot = std::fs::read(run.join("snapshots/epoch_001.fgw")).unwrap();
    let config = facegan_model::weights::read_face_config(&snapshot).unwrap();
    assert!(matches!(config, GeneratorConfig::Dcgan(_)), "{config:?}");

    // Two steps at G's learning rate of 1e-4 from the file's weights: trained, but still the
    // file's generator, nearly (outputs in [-1, 1]).
    let (trained, model) = generator_from_run(&run, &device).unwrap();
    let (start, file_model) = load_face_generator(&written, &device).unwrap();
    assert!(model.same_generator(&file_model));
    let z = latent_tensor(&[0, 1, 2, 3], dcgan.latent_size, &device);
    let change: f32 = (trained.forward(z.clone()) - start.forward(z))
        .abs()
        .mean()
        .into_scalar();
    println!("mean output change after two steps: {change}");
    assert!(change > 0.0 && change < 0.1, "{change}");
}

/// `--grow-from`: a wider run starts from a narrower run's checkpoint with a generator that
/// draws the same faces and the same discriminator, then trains and exports at its width; a
/// run that would change anything but the generator's width, or narrow it, is refused.
#[test]
fn a_wider_run_grows_from_a_narrower_runs_checkpoint() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(32, 8);
    let device = Device::flex();
    let narrow_config = tiny(&data, 1, 16);
    let narrow_run = dir.path().join("narrow");
    train::<Resnet>(
        &narrow_config,
        &narrow_run,
        &device,
        &AtomicBool::new(false),
    )
    .unwrap();
    let checkpoint_path = narrow_run.join(checkpoint::FILE);
    let mut narrow_checkpoint = checkpoint::load(&checkpoint_path).unwrap();
    let narrow = Resnet::load(&narrow_config, &mut narrow_checkpoint.sections, &device).unwrap();

    let grown_config = |width: usize, discriminator_width: usize| {
        let mut config = tiny(&data, 1, 16);
        config.model = config
            .model
            .with_generator_width(width)
            .with_discriminator_width(discriminator_width);
        config.grow_from = Some(checkpoint_path.clone());
        config
    };
    let wider = grown_config(12, 8);
    let grown = Resnet::fresh(&wider, &device).unwrap();
    let z = latent_tensor(&[0, 1, 2, 3], 16, &device);
    let faces = |parts: &Resnet| parts.parts.generator.forward(z.clone());
    let (before, after) = (faces(&narrow), faces(&grown));
    assert_eq!(after.dims(), [4, 3, 32, 32]);
    let change: f32 = (before.clone() - after).abs().max().into_scalar();
    assert!(
        change < 1e-4,
        "the grown generator draws other faces ({change})"
    );
    let scores = |parts: &Resnet| parts.parts.discriminator.forward(before.clone());
    let scores_change: f32 = (scores(&narrow) - scores(&grown)).abs().max().into_scalar();
    assert!(
        scores_change < 1e-5,
        "the discriminator changed ({scores_change})"
    );

    let grown_run = dir.path().join("grown");
    train::<Resnet>(&wider, &grown_run, &device, &AtomicBool::new(false)).unwrap();
    assert!(log_of(&grown_run).len() == 2, "the grown run trains");
    let (_, exported) = generator_from_run(&grown_run, &device).unwrap();
    assert_eq!(exported, GeneratorConfig::Resnet(wider.model.clone()));

    for (config, expected) in [
        (
            grown_config(4, 8),
            "--generator-width 4 is narrower than the checkpoint's generator (8)",
        ),
        (
            grown_config(12, 16),
            "has --discriminator-width 8 but this run asks for 16",
        ),
    ] {
        let refused = Resnet::fresh(&config, &device).err().expect("refused");
        let message = format!("{refused:#}");
        assert!(
            message.contains(expected) && message.contains("--grow-from"),
            "{message}"
        );
    }
}

/// `--discriminator-warmup N`: steps 1..=N move only the discriminator (the generator draws
/// exactly the faces it started with), the steps after it move both, and the log shows the
/// generator's loss throughout.
#[test]
fn the_discriminator_warmup_holds_the_generator_still() {
    let _turn = take_turn();
    // 32 faces in batches of 16: two steps.
    let (dir, data) = shapes_folder(32, 8);
    let device = Device::flex();
    // Compared on the training device: the generator's faces from batch statistics, as the
    // discriminator sees them (its running statistics follow the batches even when held).
    let training = device.clone().autodiff();
    let z = latent_tensor(&[0, 1, 2, 3], 16, &training);
    let run_with_warmup = |warmup: u64| {
        let mut config = tiny(&data, 1, 16);
        config.discriminator_warmup = warmup;
        let run = dir.path().join(format!("warmup-{warmup}"));
        train::<Resnet>(&config, &run, &device, &AtomicBool::new(false)).unwrap();
        let mut saved = checkpoint::load(&run.join(checkpoint::FILE)).unwrap();
        let trained = Resnet::load(&config, &mut saved.sections, &training).unwrap();
        let start = Resnet::fresh(&config, &training).unwrap();
        let faces = |gan: &Resnet| gan.parts.generator.forward(z.clone());
        let g_change: f32 = (faces(&trained) - faces(&start)).abs().max().into_scalar();
        let scores = |gan: &Resnet| gan.parts.discriminator.forward(faces(&start));
        let d_change: f32 = (scores(&trained) - scores(&start))
            .abs()
            .max()
            .into_scalar();
        (g_change, d_change, log_of(&run))
    };

    let (g_change, d_change, log) = run_with_warmup(2);
    assert_eq!(g_change, 0.0, "the generator moved in its warm-up");
    assert!(d_change > 0.0, "the discriminator did not train");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|step| step.losses.g_loss.is_finite()));

    let (g_change, _, _) = run_with_warmup(1);
    assert!(
        g_change > 0.0,
        "the generator stayed still after its warm-up"
    );
}
