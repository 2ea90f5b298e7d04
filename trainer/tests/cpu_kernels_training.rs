//! A DCGAN run with facegan's flex convolutions takes the same steps as one with Burn's own:
//! the losses of the first steps agree to rounding. (Later steps drift apart as GAN training
//! amplifies the last bits, as it would between two machines.) Its own test binary, since the
//! switch between the two is process-wide.

mod common;

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{shapes_folder, tiny_config};
use facegan_model::kernels::use_fast_kernels;
use facegan_trainer::dcgan::{DcganLosses, train};
use facegan_trainer::run::{LOG_FILE, LoggedStep, read_log};

#[test]
fn first_steps_lose_the_same_with_either_convolution() {
    let (dir, data) = shapes_folder(64, 12);
    // 32 px, and 64 px (the shipped size: its 8x8-and-wider grids take flex's own products).
    for size in [32, 64] {
        let mut config = tiny_config(&data, 1, 16);
        config.model = config.model.with_image_size(size);
        let losses = |fast: bool, name: &str| -> Vec<LoggedStep<DcganLosses>> {
            use_fast_kernels(fast);
            let run = dir.path().join(format!("{name}_{size}"));
            train(&config, &run, &Device::flex(), &AtomicBool::new(false)).unwrap();
            read_log(&run.join(LOG_FILE)).unwrap()
        };
        let burn = losses(false, "burn");
        let ours = losses(true, "facegan");
        compare(&burn, &ours);
    }
}

fn compare(burn: &[LoggedStep<DcganLosses>], ours: &[LoggedStep<DcganLosses>]) {
    assert_eq!(burn.len(), 4);
    assert_eq!(ours.len(), 4);
    for (a, b) in burn.iter().zip(ours) {
        let gap = [
            a.losses.d_loss - b.losses.d_loss,
            a.losses.g_loss - b.losses.g_loss,
            a.losses.d_x - b.losses.d_x,
            a.losses.d_g_z - b.losses.d_g_z,
        ]
        .map(f32::abs)
        .into_iter()
        .fold(0.0, f32::max);
        println!("step {}: largest loss difference {gap:.2e}", a.step);
        assert!(
            gap < 1e-3,
            "step {}: {:?} vs {:?}",
            a.step,
            a.losses,
            b.losses
        );
    }
}
