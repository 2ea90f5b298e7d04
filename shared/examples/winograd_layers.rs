//! The ResNet GAN's 3x3 convolutions at batch 64, forward, with facegan's Winograd path
//! (`kernels/winograd.rs`) on and off, interleaved in one process: the figures behind
//! `winograd_pays` in `kernels/flex.rs`. Each layer is timed both ways round (a layer's input
//! gradient is the forward of the layer with its channels swapped), whether or not the rule
//! sends it to Winograd: "off" is the shifted products or the patch matrix the rule would pick
//! otherwise. `cargo run --release --workspace --example winograd_layers`

mod timing;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::{Device, Distribution, Tensor};
use facegan_model::kernels::{conv2d, use_winograd};
use timing::median_ms;

/// (input channels, output channels, side) of the ResNet GAN's 3x3 layers at its defaults
/// (64 px, G16/D32), each also timed the other way round.
const LAYERS: [(usize, usize, usize); 12] = [
    (128, 128, 8),
    (128, 64, 16),
    (64, 64, 16),
    (64, 32, 32),
    (32, 32, 32),
    (32, 16, 64),
    (16, 16, 64),
    (16, 3, 64),
    (32, 64, 32),
    (64, 128, 16),
    (128, 256, 8),
    (3, 32, 64),
];

fn main() {
    let device = Device::flex();
    let batch = 64;
    // Starts the thread pool and the kernels' scratch before the first timing.
    let warm_up = Conv2dConfig::new([32, 32], [3, 3]).init(&device);
    let _ = conv2d(&warm_up, Tensor::<4>::zeros([batch, 32, 32, 32], &device)).into_data();
    println!(
        "{:18}{:>14}{:>14}{:>10}",
        "layer (batch 64)", "Winograd ms", "without ms", "speed-up"
    );
    for (a, b, side) in LAYERS {
        // Square layers once; the 3-channel ends are left out (the rule never takes them).
        let ways = if a == b {
            vec![(a, b)]
        } else {
            vec![(a, b), (b, a)]
        };
        for (c_in, c_out) in ways {
            if c_in.min(c_out) < 8 {
                continue;
            }
            let conv = Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(&device);
            let x = Tensor::<4>::random(
                [batch, c_in, side, side],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let mut times = [0.0; 2];
            // Twice each way, alternating, so a busy moment of the machine hits both.
            for _ in 0..2 {
                for (i, on) in [true, false].into_iter().enumerate() {
                    use_winograd(on);
                    times[i] += median_ms(7, || {
                        let _ = conv2d(&conv, x.clone()).into_data();
                    }) / 2.0;
                }
            }
            println!(
                "{:18}{:>14.2}{:>14.2}{:>9.2}x",
                format!("{c_in}->{c_out} {side}x{side}"),
                times[0],
                times[1],
                times[1] / times[0]
            );
        }
    }
}
