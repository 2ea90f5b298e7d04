//! A DCGAN run and a ResNet GAN run with facegan's flex convolutions take the same steps as
//! with Burn's own: the losses of the first steps agree to rounding. (Later steps drift apart as GAN training
//! amplifies the last bits, as it would between two machines.) Its own test binary, since the
//! switch between the two is process-wide, and one test at a time (`take_turn`) for the same
//! reason.

mod common;

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{shapes_folder, take_turn, tiny_config};
use facegan_model::ResnetConfig;
use facegan_model::kernels::use_fast_kernels;
use facegan_trainer::dcgan::{DcganLosses, train};
use facegan_trainer::resnet::{Resnet, ResnetLosses, TrainConfig};
use facegan_trainer::run::{LOG_FILE, LoggedStep, read_log, train as train_model};

#[test]
fn first_steps_lose_the_same_with_either_convolution() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 12);
    // 32 px, and 64 px (the shipped size: its 8x8-and-wider grids take flex's own products).
    for size in [32, 64] {
        let mut config = tiny_config(&data, 1, 16);
        config.model = config.model.with_image_size(size);
        let losses = |fast: bool, name: &str| -> Vec<[f32; 4]> {
            use_fast_kernels(fast);
            let run = dir.path().join(format!("{name}_{size}"));
            train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap();
            let log: Vec<LoggedStep<DcganLosses>> = read_log(&run.join(LOG_FILE)).unwrap();
            log.iter()
                .map(|s| {
                    [
                        s.losses.d_loss,
                        s.losses.g_loss,
                        s.losses.d_x,
                        s.losses.d_g_z,
                    ]
                })
                .collect()
        };
        compare(&losses(false, "burn"), &losses(true, "facegan"));
    }
}

/// 32 px at width 8: the generator's last block and output convolution run on 32x32 maps, so
/// they take the shifted products (`stride_one.rs`), the rest im2col.
#[test]
fn first_resnet_steps_lose_the_same_with_either_convolution() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 12);
    let model = ResnetConfig::new()
        .with_image_size(32)
        .with_latent_size(16)
        .with_generator_width(8)
        .with_discriminator_width(8);
    let config = TrainConfig::new(data, model, 1, 16);
    let losses = |fast: bool, name: &str| -> Vec<[f32; 4]> {
        use_fast_kernels(fast);
        let run = dir.path().join(name);
        train_model::<Resnet>(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap();
        let log: Vec<LoggedStep<ResnetLosses>> = read_log(&run.join(LOG_FILE)).unwrap();
        log.iter()
            .map(|s| {
                [
                    s.losses.d_loss,
                    s.losses.g_loss,
                    s.losses.d_real,
                    s.losses.d_fake,
                ]
            })
            .collect()
    };
    compare(&losses(false, "burn"), &losses(true, "facegan"));
}

/// Each step's four logged figures agree within 1e-3.
fn compare(burn: &[[f32; 4]], ours: &[[f32; 4]]) {
    assert_eq!(burn.len(), 4);
    assert_eq!(ours.len(), 4);
    for (step, (a, b)) in burn.iter().zip(ours).enumerate() {
        let gap = (0..4).map(|i| (a[i] - b[i]).abs()).fold(0.0, f32::max);
        println!("step {}: largest loss difference {gap:.2e}", step + 1);
        assert!(gap < 1e-3, "step {}: {a:?} vs {b:?}", step + 1);
    }
}
