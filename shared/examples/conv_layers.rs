//! Per-layer timing of a model's convolutions at batch 64: forward, and forward + backward
//! (input and weight gradients), with Burn's flex kernels and with facegan's, in one process.
//! `cargo run --release --workspace --example conv_layers [dcgan|resnet]` (DCGAN-64 at the
//! PyTorch example's widths, or the ResNet GAN at its defaults, G16/D32; the `cpu-kernels`
//! feature is on in a workspace build). Prints milliseconds and GFLOP/s per layer, so a kernel
//! change shows where it gained or lost; "weight grad" is facegan's backward with the input
//! untracked.

mod timing;

use timing::median_ms;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::{Device, Distribution, Tensor};
use facegan_model::kernels::{conv_transpose2d, conv2d, use_fast_kernels};

/// One convolution of the network: transposed or not, channels, input side, kernel, stride,
/// padding.
struct Layer {
    name: &'static str,
    transposed: bool,
    c_in: usize,
    c_out: usize,
    side: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

const DCGAN: [Layer; 10] = [
    layer("G1 100->512 1->4", true, 100, 512, 1, 1, 0),
    layer("G2 512->256 4->8", true, 512, 256, 4, 2, 1),
    layer("G3 256->128 8->16", true, 256, 128, 8, 2, 1),
    layer("G4 128->64 16->32", true, 128, 64, 16, 2, 1),
    layer("G5 64->3 32->64", true, 64, 3, 32, 2, 1),
    layer("D1 3->64 64->32", false, 3, 64, 64, 2, 1),
    layer("D2 64->128 32->16", false, 64, 128, 32, 2, 1),
    layer("D3 128->256 16->8", false, 128, 256, 16, 2, 1),
    layer("D4 256->512 8->4", false, 256, 512, 8, 2, 1),
    layer("D5 512->1 4->1", false, 512, 1, 4, 1, 0),
];

/// The ResNet GAN's 3x3 convolutions (stride 1, padding 1) at 64 px, G16/D32; the 1x1
/// shortcuts and the 4x4 projection are left out (under 2% of the multiply-adds).
const RESNET: [Layer; 15] = [
    conv3x3("G 128->128 8", 128, 128, 8),
    conv3x3("G 128->64 16", 128, 64, 16),
    conv3x3("G 64->64 16", 64, 64, 16),
    conv3x3("G 64->32 32", 64, 32, 32),
    conv3x3("G 32->32 32", 32, 32, 32),
    conv3x3("G 32->16 64", 32, 16, 64),
    conv3x3("G 16->16 64", 16, 16, 64),
    conv3x3("G 16->3 64", 16, 3, 64),
    conv3x3("D 3->32 64", 3, 32, 64),
    conv3x3("D 32->32 32", 32, 32, 32),
    conv3x3("D 32->64 32", 32, 64, 32),
    conv3x3("D 64->64 16", 64, 64, 16),
    conv3x3("D 64->128 16", 64, 128, 16),
    conv3x3("D 128->128 8", 128, 128, 8),
    conv3x3("D 128->256 8", 128, 256, 8),
];

const fn layer(
    name: &'static str,
    transposed: bool,
    c_in: usize,
    c_out: usize,
    side: usize,
    stride: usize,
    padding: usize,
) -> Layer {
    Layer {
        name,
        transposed,
        c_in,
        c_out,
        side,
        kernel: 4,
        stride,
        padding,
    }
}

const fn conv3x3(name: &'static str, c_in: usize, c_out: usize, side: usize) -> Layer {
    Layer {
        name,
        transposed: false,
        c_in,
        c_out,
        side,
        kernel: 3,
        stride: 1,
        padding: 1,
    }
}

impl Layer {
    fn output_side(&self) -> usize {
        if self.transposed {
            (self.side - 1) * self.stride + self.kernel - 2 * self.padding
        } else {
            (self.side + 2 * self.padding - self.kernel) / self.stride + 1
        }
    }

    /// Multiply-adds of the forward for `batch` images, times two.
    fn flops(&self, batch: usize) -> f64 {
        let positions = if self.transposed {
            self.side * self.side
        } else {
            self.output_side() * self.output_side()
        };
        2.0 * (batch * positions * self.c_in * self.c_out * self.kernel * self.kernel) as f64
    }

    /// The layer with fresh weights: built once per timing, outside the timed calls (drawing
    /// two million normal weights takes longer than some layers' forward).
    fn build(&self, device: &Device) -> Built {
        let k = [self.kernel, self.kernel];
        if self.transposed {
            Built::Transposed(
                ConvTranspose2dConfig::new([self.c_in, self.c_out], k)
                    .with_stride([self.stride; 2])
                    .with_padding([self.padding; 2])
                    .with_bias(false)
                    .init(device),
            )
        } else {
            let p = self.padding;
            Built::Plain(
                Conv2dConfig::new([self.c_in, self.c_out], k)
                    .with_stride([self.stride; 2])
                    .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                    .with_bias(false)
                    .init(device),
            )
        }
    }
}

/// A layer's module.
enum Built {
    Plain(Conv2d),
    Transposed(ConvTranspose2d),
}

impl Built {
    /// `[batch, c_in, side, side]` -> `[batch, c_out, side', side']`
    fn run(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Plain(conv) => conv2d(conv, x),
            Self::Transposed(conv) => conv_transpose2d(conv, x),
        }
    }
}

fn main() {
    let layers: &[Layer] = match std::env::args().nth(1).as_deref() {
        None | Some("dcgan") => &DCGAN,
        Some("resnet") => &RESNET,
        Some(other) => panic!("the model is dcgan or resnet, found {other}"),
    };
    let batch = 64;
    let runs = 5;
    println!(
        "{:20}{:>12}{:>12}{:>12}{:>12}{:>10}",
        "layer (batch 64)", "fwd Burn", "fwd ours", "bwd Burn", "bwd ours", "GFLOP"
    );
    let mut totals = [0.0; 4];
    for layer in layers {
        let flops = layer.flops(batch);
        let mut row = [0.0; 4];
        let mut weight_grad_ms = 0.0;
        for (i, fast) in [false, true].into_iter().enumerate() {
            use_fast_kernels(fast);
            let device = Device::flex();
            let x = Tensor::<4>::random(
                [batch, layer.c_in, layer.side, layer.side],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let conv = layer.build(&device);
            row[i] = median_ms(runs, || {
                let _ = conv.run(x.clone()).into_data();
            });
            let train = device.clone().autodiff();
            let conv = layer.build(&train);
            let x = Tensor::<4>::from_data(x.to_data(), &train).require_grad();
            let both = median_ms(runs, || {
                let y = conv.run(x.clone());
                let grads = y.sum().backward();
                let _ = x.grad(&grads).map(|g| g.into_data());
            });
            row[2 + i] = both - row[i];
            if fast {
                let x = x.clone().detach();
                let weight_only = median_ms(runs, || {
                    let y = conv.run(x.clone());
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
