//! Per-layer timing of a model's convolutions at batch 64: forward, and forward + backward
//! (input and weight gradients), with Burn's flex kernels and with facegan's, in one process.
//! `cargo run --release --workspace --example conv_layers [dcgan|resnet]` (DCGAN-64 at the
//! PyTorch example's widths, or the ResNet GAN at its defaults, G16/D32; the `cpu-kernels`
//! feature is on in a workspace build). Prints milliseconds and GFLOP/s per layer, so a kernel
//! change shows where it gained or lost; "weight grad" is facegan's backward with the input
//! untracked.

mod timing;

use timing::median_ms;

use burn::tensor::{Device, Distribution, Tensor};
use facegan_model::kernels::use_fast_kernels;
use facegan_model::{ConvLayer, DcganConfig};

/// One convolution of the network, with the name its row prints.
struct Layer {
    name: String,
    conv: ConvLayer,
}

/// DCGAN-64 at the PyTorch example's widths, from the config's own layer list.
fn dcgan() -> Vec<Layer> {
    DcganConfig::new()
        .conv_layers()
        .into_iter()
        .map(|conv| Layer {
            name: format!(
                "{} {}->{} {}->{}",
                if conv.transposed { "G" } else { "D" },
                conv.c_in,
                conv.c_out,
                conv.side,
                conv.output_side()
            ),
            conv,
        })
        .collect()
}

/// The ResNet GAN's 3x3 convolutions (stride 1, padding 1) at 64 px, G16/D32; the 1x1
/// shortcuts and the 4x4 projection are left out (under 2% of the multiply-adds).
fn resnet() -> Vec<Layer> {
    const LAYERS: [(&str, usize, usize, usize); 15] = [
        ("G", 128, 128, 8),
        ("G", 128, 64, 16),
        ("G", 64, 64, 16),
        ("G", 64, 32, 32),
        ("G", 32, 32, 32),
        ("G", 32, 16, 64),
        ("G", 16, 16, 64),
        ("G", 16, 3, 64),
        ("D", 3, 32, 64),
        ("D", 32, 32, 32),
        ("D", 32, 64, 32),
        ("D", 64, 64, 16),
        ("D", 64, 128, 16),
        ("D", 128, 128, 8),
        ("D", 128, 256, 8),
    ];
    LAYERS
        .iter()
        .map(|&(network, c_in, c_out, side)| Layer {
            name: format!("{network} {c_in}->{c_out} {side}"),
            conv: ConvLayer {
                transposed: false,
                c_in,
                c_out,
                side,
                kernel: 3,
                stride: 1,
                padding: 1,
                padding_out: 0,
            },
        })
        .collect()
}

impl Layer {
    /// Multiply-adds of the forward for `batch` images, times two.
    fn flops(&self, batch: usize) -> f64 {
        self.conv.flops() * batch as f64
    }
}

fn main() {
    let layers = match std::env::args().nth(1).as_deref() {
        None | Some("dcgan") => dcgan(),
        Some("resnet") => resnet(),
        Some(other) => panic!("the model is dcgan or resnet, found {other}"),
    };
    let batch = 64;
    let runs = 5;
    println!(
        "{:20}{:>12}{:>12}{:>12}{:>12}{:>10}",
        "layer (batch 64)", "fwd Burn", "fwd ours", "bwd Burn", "bwd ours", "GFLOP"
    );
    let mut totals = [0.0; 4];
    for layer in &layers {
        let flops = layer.flops(batch);
        let mut row = [0.0; 4];
        let mut weight_grad_ms = 0.0;
        for (i, fast) in [false, true].into_iter().enumerate() {
            use_fast_kernels(fast);
            let device = Device::flex();
            let x = Tensor::<4>::random(
                [batch, layer.conv.c_in, layer.conv.side, layer.conv.side],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            // Built outside the timed calls: drawing two million normal weights takes longer
            // than some layers' forward.
            let conv = layer.conv.module(&device);
            row[i] = median_ms(runs, || {
                let _ = conv.forward(x.clone()).into_data();
            });
            let train = device.clone().autodiff();
            let conv = layer.conv.module(&train);
            let x = Tensor::<4>::from_data(x.to_data(), &train).require_grad();
            let both = median_ms(runs, || {
                let y = conv.forward(x.clone());
                let grads = y.sum().backward();
                let _ = x.grad(&grads).map(|g| g.into_data());
            });
            row[2 + i] = both - row[i];
            if fast {
                let x = x.clone().detach();
                let weight_only = median_ms(runs, || {
                    let y = conv.forward(x.clone());
                    let _ = y.sum().backward();
                });
                weight_grad_ms = weight_only - row[i];
            }
        }
        for (total, value) in totals.iter_mut().zip(row) {
            *total += value;
        }
        println!(
            "{:20}{:>12.2}{:>12.2}{:>12.2}{:>12.2}{:>10.2}",
            layer.name,
            row[0],
            row[1],
            row[2],
            row[3],
            flops / 1e9
        );
        println!(
            "{:20}{:>11.0}G{:>11.0}G{:>11.0}G{:>11.0}G  (ours: weight grad {weight_grad_ms:.1} ms)",
            "  GFLOP/s",
            flops / row[0] / 1e6,
            flops / row[1] / 1e6,
            2.0 * flops / row[2] / 1e6,
            2.0 * flops / row[3] / 1e6,
        );
    }
    println!(
        "{:20}{:>12.2}{:>12.2}{:>12.2}{:>12.2}",
        "total ms", totals[0], totals[1], totals[2], totals[3]
    );
}
