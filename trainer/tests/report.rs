//! `report.html`: written by the trainer as a run goes (and as it stops), rewritten by
//! `facegan report` from whatever the run's files hold, damaged or not, and drawn for several
//! runs at once. (Each model's own report is checked in its tests: runs, resnet, translate,
//! encoder, driver.)

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{
    assert_report_steps, facegan, panel, report_data, shapes_folder, stdout_of_success, take_turn,
    tiny_config,
};
use facegan_trainer::dcgan::train;

const IMAGES: usize = 64;
const BATCH: usize = 16;
/// Steps an epoch.
const BATCHES: u64 = (IMAGES / BATCH) as u64;
const EPOCHS: usize = 3;
const STEPS: u64 = EPOCHS as u64 * BATCHES;

fn page(run: &Path) -> String {
    std::fs::read_to_string(run.join("report.html")).unwrap()
}

/// `facegan report ARGS`, which must succeed.
fn report(args: &[&Path], extra: &[&str]) {
    stdout_of_success(facegan().arg("report").args(args).args(extra));
}

/// A DCGAN run that diverges (an injected NaN) in epoch 2, and is then resumed to its end.
#[test]
fn a_stopped_then_resumed_run_plots_every_step_once() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 7);
    let run = dir.path().join("run");
    let mut config = tiny_config(&data, EPOCHS, BATCH);
    config.run.inject_nan_at_step = Some(BATCHES + 3);
    train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap_err();

    // The report written as it stopped: every logged step (the NaN step is never logged) and
    // why it stopped.
    assert_report_steps(&run, BATCHES + 2);
    let text = page(&run);
    assert!(text.contains("Stopped: training diverged"), "{text}");
    assert!(
        !text.contains("http-equiv=\"refresh\""),
        "the page of a stopped run must not reload itself"
    );

    // Resumed from the epoch-1 checkpoint: the steps logged after it are redone, not doubled.
    config.run.inject_nan_at_step = None;
    train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap();
    let data = assert_report_steps(&run, STEPS);
    assert!(page(&run).contains("Training finished: 3 epochs, 12 steps."));
    let run_summary = &data["runs"][0];
    assert_eq!(run_summary["kind"], "dcgan");
    assert_eq!(run_summary["images_seen"], STEPS * BATCH as u64);
    assert_eq!(run_summary["problems"], serde_json::json!([]));
    // The diversity check, an epoch at a time, where each epoch ended, with its warning line.
    let diversity = panel(&data, "Diversity of the samples (of real)");
    assert_eq!(
        diversity["series"][0]["x"],
        serde_json::json!([4.0, 8.0, 12.0])
    );
    assert_eq!(diversity["guides"][0][0], 0.35);
    // Learning rates as logged, and the pictures the page shows.
    let rates = panel(&data, "Learning rates");
    assert_eq!(rates["series"][0]["column"], "generator_lr");
    assert_eq!(rates["series"][0]["y"][11], 2e-4);
    for drawn in data["panels"].as_array().unwrap() {
        let image = image::open(run.join(drawn["image"].as_str().unwrap())).unwrap();
        assert_eq!((image.width(), image.height()), (600, 300));
    }
    let timeline = image::open(run.join("report/timeline.png")).unwrap();
    // Three square grids side by side, labelled underneath.
    assert!(timeline.width() > 2 * timeline.height());
    for epoch in 1..=3 {
        assert!(text_has(&run, &format!("samples/epoch_{epoch:03}.png")));
    }
    // No FID was recorded: said, not drawn empty.
    assert!(page(&run).contains("Not plotted: FID (scripts/fid-over-time.sh) (no fid.csv data)"));

    // A damaged log.csv: the damage is listed by line, the rest still plotted.
    let log = run.join("log.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[5] = "5,2,1,4,oops";
    lines.push("7,2,3,4,1.0,1.0,1.0,0.5,0.5,0.0002,0.0002");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    // FID recorded (as scripts/fid-over-time.sh writes it), one row unreadable.
    std::fs::write(
        run.join("fid.csv"),
        "epoch,fid,faces\n1,300.5,200\n2,x,200\n3,250.25,200\n",
    )
    .unwrap();
    report(&[&run], &[]);
    let data = report_data(&run);
    let problems = data["runs"][0]["problems"].to_string();
    assert!(
        problems.contains("log.csv line 6: 5 fields where the header has 11; skipped"),
        "{problems}"
    );
    assert!(
        problems.contains("log.csv: step 7 is on lines 8 and 14; line 14 is plotted"),
        "{problems}"
    );
    assert!(
        problems.contains("1 value(s) of fid are not finite numbers"),
        "{problems}"
    );
    let losses = panel(&data, "Losses (BCE)");
    assert_eq!(
        losses["series"][0]["x"].as_array().unwrap().len(),
        STEPS as usize - 1
    );
    assert_eq!(losses["series"][0]["y"][5], 1.0, "the later line of step 7");
    let fid = panel(&data, "FID (scripts/fid-over-time.sh)");
    assert_eq!(fid["series"][0]["x"], serde_json::json!([4.0, 12.0]));
    assert_eq!(fid["series"][0]["y"], serde_json::json!([300.5, 250.25]));
    assert!(page(&run).contains("Written by facegan report"));

    // No log.csv at all: a report that says so, not an error.
    std::fs::remove_file(&log).unwrap();
    report(&[&run], &[]);
    let problems = report_data(&run)["runs"][0]["problems"].to_string();
    assert!(problems.contains("no log.csv yet"), "{problems}");
}

fn text_has(run: &Path, needle: &str) -> bool {
    page(run).contains(needle)
}

/// Two runs overlaid on one report, against training time.
#[test]
fn several_runs_share_one_report() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(IMAGES, 8);
    let (a, b) = (dir.path().join("fast"), dir.path().join("slow"));
    train(
        &tiny_config(&data, 2, BATCH),
        &a,
        &Device::flex(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let mut config = tiny_config(&data, 1, BATCH / 2);
    config.optimizer.generator_lr = 1e-3;
    train(&config, &b, &Device::flex(), &AtomicBool::new(false)).unwrap();

    // Several runs need a place for their report.
    let output = facegan().arg("report").arg(&a).arg(&b).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--out"));

    let out = dir.path().join("comparison");
    report(
        &[&a, &b],
        &["--out", out.to_str().unwrap(), "--x", "minutes"],
    );
    let data = report_data(&out);
    assert_eq!(data["x_axis"], "minutes of training");
    let losses = panel(&data, "Losses (BCE)");
    let labels: Vec<String> = losses["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|series| format!("{}:{}", series["run"].as_str().unwrap(), series["column"]))
        .collect();
    assert_eq!(
        labels,
        [
            "fast:\"d_loss\"",
            "fast:\"g_loss\"",
            "slow:\"d_loss\"",
            "slow:\"g_loss\""
        ]
    );
    // Minutes: each step at its training clock.
    let fast = &losses["series"][0];
    assert_eq!(fast["x"].as_array().unwrap().len(), 2 * BATCHES as usize);
    let minutes: Vec<f64> = serde_json::from_value(fast["x"].clone()).unwrap();
    assert!(minutes.windows(2).all(|pair| pair[0] < pair[1]) && minutes[0] > 0.0);
    assert_eq!(
        losses["series"][2]["x"].as_array().unwrap().len(),
        2 * BATCHES as usize
    );
    let rates = panel(&data, "Learning rates");
    assert_eq!(rates["series"][2]["y"][0], 1e-3);
    // Each run's last grid beside the page, named.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("fast: epoch 2, step 8"), "{page}");
    assert!(page.contains("slow: epoch 1, step 8"), "{page}");
    assert!(out.join("report/last-fast.png").exists() && out.join("report/last-slow.png").exists());
    // The runs' own reports are untouched by the comparison.
    assert_eq!(report_data(&a)["runs"].as_array().unwrap().len(), 1);
}
