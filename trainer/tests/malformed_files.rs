//! Every file a user hands facegan (`.fgw` weights, run checkpoints, `config.json`, the cascade
//! XML), damaged at random: cut short, bytes flipped, bytes inserted. Each is refused with a
//! message (or, where the damage is harmless, read), never a panic. Bounded: a few dozen cases
//! per file kind, so the suite stays quick.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use facegan_model::weights;
use facegan_trainer::dcgan::TrainConfig;
use facegan_trainer::prepare::cascade::Cascade;
use facegan_trainer::run::checkpoint::{self, RunState};
use facegan_trainer::run::read_config;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A random way to damage `len` bytes: a cut, flipped bytes, or inserted bytes.
#[derive(Debug, Clone)]
enum Damage {
    Cut(usize),
    Flip(Vec<(usize, u8)>),
    Insert(usize, Vec<u8>),
}

fn damage(len: usize) -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0..len).prop_map(Damage::Cut),
        prop::collection::vec((0..len, 1..=255u8), 1..4).prop_map(Damage::Flip),
        (0..=len, prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, b)| Damage::Insert(at, b)),
    ]
}

fn apply(bytes: &[u8], damage: &Damage) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match damage {
        Damage::Cut(at) => out.truncate(*at),
        Damage::Flip(flips) => {
            for &(at, mask) in flips {
                out[at] ^= mask;
            }
        }
        Damage::Insert(at, extra) => {
            out.splice(*at..*at, extra.iter().copied());
        }
    }
    out
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn repository_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn damaged_weights_files_are_refused_without_panicking() {
    let device = Device::flex();
    let bytes = std::fs::read(repository_file("weights/anime-faces-64.fgw")).unwrap();
    let (loaded, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner(48)
        .run(&damage(bytes.len()), |damage| {
            let damaged = apply(&bytes, &damage);
            match weights::load_generator(&damaged, &device) {
                // Only flips inside the tensors' values can leave a loadable file.
                Ok(_) => {
                    prop_assert!(matches!(damage, Damage::Flip(_)), "{damage:?} was accepted");
                    loaded.set(loaded.get() + 1);
                }
                Err(error) => {
                    prop_assert!(!error.to_string().is_empty());
                    refused.set(refused.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    let (loaded, refused) = (loaded.get(), refused.get());
    println!(".fgw: {refused} damaged files refused, {loaded} loaded (flipped values)");
    assert!(refused > 0);

    // The sketch-to-face file too, read as a translator.
    let bytes = std::fs::read(repository_file("weights/sketch-to-face.fgw")).unwrap();
    runner(24)
        .run(&damage(bytes.len()), |damage| {
            let damaged = apply(&bytes, &damage);
            if let Damage::Cut(_) = damage {
                prop_assert!(weights::load_translator(&damaged, &device).is_err());
            } else {
                let _ = weights::load_translator(&damaged, &device);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn damaged_checkpoints_are_refused_with_the_file_named() {
    let state = RunState {
        kind: "dcgan".into(),
        epoch: 3,
        batch: 1,
        step: 70,
        rng_state: 12345,
        elapsed_s: 9.5,
        architecture: serde_json::json!({"image_size": 32}),
    };
    let body: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
    let bytes = checkpoint::encode(
        &state,
        &[("generator", &body), ("discriminator", &body[..50])],
    );
    let path = Path::new("run/checkpoint.fgc");
    runner(256)
        .run(&damage(bytes.len()), |damage| {
            let damaged = apply(&bytes, &damage);
            // Every damage changes the checksum, the lengths or the header: always refused.
            let error =
                checkpoint::decode(&damaged, path).expect_err("a damaged checkpoint loaded");
            prop_assert!(error.to_string().contains("run/checkpoint.fgc"), "{error}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn damaged_config_json_is_refused_naming_the_file() {
    let dir = common::temp_dir();
    let config = common::tiny_config(Path::new("faces"), 3, 16);
    let text = serde_json::to_string_pretty(&config).unwrap();
    std::fs::write(dir.path().join("config.json"), &text).unwrap();
    let back: TrainConfig = read_config(dir.path()).unwrap();
    assert_eq!(
        back, config,
        "config.json does not read back as it was written"
    );

    runner(128)
        .run(&damage(text.len()), |damage| {
            std::fs::write(
                dir.path().join("config.json"),
                apply(text.as_bytes(), &damage),
            )
            .unwrap();
            if let Err(error) = read_config::<TrainConfig>(dir.path()) {
                prop_assert!(format!("{error:#}").contains("config.json"), "{error:#}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn damaged_cascade_xml_is_refused_without_panicking() {
    let path = repository_file("../shared/data/lbpcascade_animeface.xml");
    let Ok(xml) = std::fs::read(&path) else {
        println!("SKIPPED: {} is absent (CI has it)", path.display());
        return;
    };
    assert!(Cascade::parse(std::str::from_utf8(&xml).unwrap(), "cascade.xml").is_ok());
    runner(48)
        .run(&damage(xml.len()), |damage| {
            let damaged = apply(&xml, &damage);
            let text = String::from_utf8_lossy(&damaged);
            match (Cascade::parse(&text, "cascade.xml"), &damage) {
                (Err(error), _) => {
                    prop_assert!(error.to_string().contains("cascade.xml"), "{error}")
                }
                // A cut XML document cannot close its root element.
                (Ok(_), Damage::Cut(_)) => prop_assert!(false, "a cut cascade parsed"),
                (Ok(_), _) => {}
            }
            Ok(())
        })
        .unwrap();
}
