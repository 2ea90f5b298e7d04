//! `facegan train` killed with SIGKILL at many random moments (checkpoint writes included, with a
//! checkpoint every step) and started again each time ends exactly where an uninterrupted run
//! ends: every restart finds a whole checkpoint, and the log has every step once.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{facegan, shapes_folder, stdout_of_success};
use facegan_model::SplitMix64;
use facegan_trainer::dcgan::DcganLosses;
use facegan_trainer::run::{LOG_FILE, LoggedStep, checkpoint, read_log};

const EPOCHS: u64 = 30;
/// 64 images in batches of 16: 4 steps an epoch.
const STEPS: u64 = EPOCHS * 4;

fn train_command(data: &Path, run: &Path) -> std::process::Command {
    let mut command = facegan();
    command
        .args([
            "train",
            "--backend",
            "cpu",
            "--image-size",
            "32",
            "--latent-size",
            "16",
        ])
        .args([
            "--generator-width",
            "8",
            "--discriminator-width",
            "8",
            "--batch-size",
            "16",
        ])
        .args([
            "--epochs",
            &EPOCHS.to_string(),
            "--checkpoint-every",
            "1",
            "--seed",
            "5",
        ])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(run);
    command
}

fn log_of(run: &Path) -> Vec<LoggedStep<DcganLosses>> {
    read_log(&run.join(LOG_FILE)).unwrap()
}

#[test]
fn a_run_killed_at_random_moments_ends_like_an_uninterrupted_one() {
    let (dir, data) = shapes_folder(64, 9);
    let straight = dir.path().join("straight");
    let started = Instant::now();
    stdout_of_success(&mut train_command(&data, &straight));
    let uninterrupted = started.elapsed();

    let run = dir.path().join("killed");
    let mut rng = SplitMix64::new(2026);
    let (mut kills, mut restarts) = (0, 0);
    loop {
        restarts += 1;
        assert!(restarts <= 200, "the killed run never finished");
        let mut child = train_command(&data, &run)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Within a twelfth of a whole run's time: each start gets a little further,
        // and the kills land in set-up and checkpoint writes as well as in steps.
        let delay = uninterrupted.mul_f64(rng.uniform(0.01, 0.08));
        std::thread::sleep(delay.min(Duration::from_secs(20)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            kills += 1;
            // Whatever the moment, a whole checkpoint is left (or none before the first step).
            if let Err(error) = checkpoint::load_latest(&run) {
                panic!("after kill {kills}: {error:#}");
            }
            continue;
        }
        let status = child.wait().unwrap();
        assert!(status.success(), "restart {restarts} failed: {status}");
        break;
    }
    println!("{kills} kills in {restarts} starts; uninterrupted run {uninterrupted:?}");
    assert!(
        kills >= 10,
        "only {kills} kills landed: the test proves little"
    );

    let saved = checkpoint::load(&run.join(checkpoint::FILE)).unwrap();
    assert_eq!(saved.meta.step, STEPS);
    // Writes cut short by a kill left `.NAME.XXXXXX.partial` files; each start clears them.
    let leftovers: Vec<_> = walkdir::WalkDir::new(&run)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".partial"))
        .map(|entry| entry.path().to_owned())
        .collect();
    assert!(
        leftovers.is_empty(),
        "half-written files left: {leftovers:?}"
    );
    let (a, b) = (log_of(&straight), log_of(&run));
    assert_eq!(
        b.iter().map(|row| row.step).collect::<Vec<_>>(),
        (1..=STEPS).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.losses.d_loss - y.losses.d_loss).abs() < 1e-3
                && (x.losses.g_loss - y.losses.g_loss).abs() < 1e-3,
            "step {}: {:?} vs {:?}",
            x.step,
            x.losses,
            y.losses
        );
    }
}
