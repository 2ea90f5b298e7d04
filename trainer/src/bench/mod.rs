//! `facegan bench`: the figures behind the speed claims (docs/speed.md), on the CPU (flex) backend
//! or a GPU; `layers.rs` times single layers.
//! `bench/compare_pytorch.sh` runs this and the same network in PyTorch and prints the ratio.

mod layers;

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use facegan_model::kernels::use_fast_kernels;
use facegan_model::{DcganConfig, FaceGenerator, ResnetConfig, SplitMix64};

use crate::backend::{self, BackendChoice, GpuConvolutions};
use crate::data::ImageSet;
use crate::dcgan::{self, Dcgan};
use crate::face_gan::latent_tensor;
use crate::resnet::{self, Resnet};
use crate::run::{Batch, RunConfig, Trainable};

/// The network `facegan bench` measures, at its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchModel {
    /// DCGAN-64: latent 100, widths 64/64, kernel 4 (the PyTorch DCGAN example's).
    Dcgan,
    /// The ResNet GAN at 64 px with its default widths (G's with --generator-width).
    Resnet,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Which network to time.
    #[arg(long, value_enum, default_value_t = BenchModel::Dcgan)]
    pub model: BenchModel,
    /// Where to measure: Burn's kernels against facegan's (on the CPU its flex kernels, on a
    /// GPU the matrix-product convolutions), and the achieved FLOP/s.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// The device's f32 peak in TFLOP/s, to print the fraction of it a step achieves (default:
    /// from a table of known GPUs by adapter name).
    #[arg(long)]
    pub peak_tflops: Option<f64>,
    /// Timed training steps (after two warm-up steps).
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// The ResNet generator's width (default: the model's), to time the width a run trains.
    #[arg(long)]
    pub generator_width: Option<usize>,
    /// Print one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Instead of whole steps, time the DCGAN's convolutions one at a time (forward, weight
    /// gradient, input gradient) at --batch-size, and the transposed ones' weight gradient
    /// three ways: where a GPU step spends its time.
    #[arg(long, conflicts_with_all = ["json", "model"])]
    pub layers: bool,
}

const LATENCY_RUNS: usize = 5;

fn resnet_config(args: &BenchArgs) -> ResnetConfig {
    let model = ResnetConfig::new();
    match args.generator_width {
        Some(width) => model.with_generator_width(width),
        None => model,
    }
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch_size >= 2 && args.steps >= 1,
        "need --batch-size >= 2 and --steps >= 1"
    );
    anyhow::ensure!(
        args.generator_width.is_none() || matches!(args.model, BenchModel::Resnet),
        "--generator-width is the ResNet's; add --model resnet"
    );
    let selected = backend::select(args.backend)?;
    if args.layers {
        println!(
            "facegan bench --layers: DCGAN-64's convolutions on {}, batch {}",
            selected.name, args.batch_size
        );
        layers::run(
            &DcganConfig::new().conv_layers(),
            args.batch_size,
            &selected.device,
        );
        return Ok(());
    }
    // Built once: its widths label the figures, its FLOPs rate them, and `measure` trains it.
    let resnet = resnet_config(args);
    let (description, flops) = match args.model {
        BenchModel::Dcgan => {
            let model = DcganConfig::new();
            let flops =
                training_flops_per_image(model.generator_flops(), model.discriminator_flops());
            (
                "DCGAN-64 (latent 100, widths 64/64, kernel 4)".to_string(),
                flops,
            )
        }
        BenchModel::Resnet => {
            let flops =
                training_flops_per_image(resnet.generator_flops(), resnet.discriminator_flops());
            let description = format!(
                "ResNet-64 (latent {}, widths {}/{}, depth {})",
                resnet.latent_size,
                resnet.generator_width,
                resnet.discriminator_width,
                resnet.depth
            );
            (description, flops)
        }
    };
    let measure = |device: &Device| match args.model {
        BenchModel::Dcgan => {
            let mut config =
                dcgan::TrainConfig::new("synthetic".into(), DcganConfig::new(), 1, args.batch_size);
            // As PyTorch's example: no moving average of G.
            config.ema_decay = 0.0;
            let (gan, rate) = training_rate::<Dcgan>(&config, args.steps, device)?;
            let generator = FaceGenerator::from(gan.parts.generator.valid());
            Ok(latency(rate, config.model.latent_size, device, |z| {
                generator.forward(z)
            }))
        }
        BenchModel::Resnet => {
            let mut config =
                resnet::TrainConfig::new("synthetic".into(), resnet.clone(), 1, args.batch_size);
            config.ema_decay = 0.0;
            let (gan, rate) = training_rate::<Resnet>(&config, args.steps, device)?;
            // Already a FaceGenerator (the ResNet can start from a DCGAN generator).
            let generator = gan.parts.generator.valid();
            Ok::<_, anyhow::Error>(latency(rate, config.model.latent_size, device, |z| {
                generator.forward(z)
            }))
        }
    };
    let on_cpu = args.backend == BackendChoice::Cpu;
    // Burn's own convolutions first, then facegan's, in the same process: on the CPU its flex
    // kernels, on a GPU the matrix-product form.
    let burn = if on_cpu {
        use_fast_kernels(false);
        let figures = measure(&selected.device);
        use_fast_kernels(true);
        figures?
    } else {
        GpuConvolutions::Burn.select();
        let figures = measure(&selected.device)?;
        // On stderr, so --json keeps one line: a GPU call cut short by its time limit while
        // the matrix-product convolutions are being tuned still has the first figure.
        eprintln!(
            "  Burn's convs: {:.0} training images/s; timing the matrix-product ones next",
            figures.images_per_second
        );
        GpuConvolutions::Matmul.select();
        figures
    };
    let ours = measure(&selected.device)?;
    let achieved = ours.images_per_second * flops / 1e12;
    let achieved_by_burn = burn.images_per_second * flops / 1e12;
    let peak = args.peak_tflops.or_else(|| peak_tflops(&selected.name));
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if args.json {
        let mut figures = serde_json::json!({
            "framework": "facegan",
            "model": format!("{:?}", args.model).to_lowercase(),
            "backend": selected.name,
            "threads": threads,
            "batch_size": args.batch_size,
            "train_images_per_s": ours.images_per_second,
            "generator_ms_batch1": ours.latency_1,
            "generator_ms_batch64": ours.latency_64,
            "train_tflops": achieved,
            "peak_tflops": peak,
        });
        if matches!(args.model, BenchModel::Resnet) {
            figures["generator_width"] = resnet.generator_width.into();
        }
        figures["burn_conv_train_images_per_s"] = burn.images_per_second.into();
        figures["burn_conv_generator_ms_batch1"] = burn.latency_1.into();
        figures["burn_conv_generator_ms_batch64"] = burn.latency_64.into();
        println!("{figures}");
        return Ok(());
    }
    println!(
        "facegan bench: {description} on {}, {threads} CPU threads, batch {}, {} timed steps",
        selected.name, args.batch_size, args.steps
    );
    println!(
        "  a training step counts {:.2} GFLOP an image (3 x the forward FLOPs of G and three D passes)",
        flops / 1e9
    );
    let (baseline, ours_label, what) = if on_cpu {
        (
            "Burn's kernels",
            "facegan's kernels",
            "facegan's kernels (convolutions, BatchNorm, LeakyReLU) are",
        )
    } else {
        (
            "Burn's convs",
            "matmul convs",
            "the matrix-product convolutions (--gpu-convolutions matmul) are",
        )
    };
    println!("{:34}{baseline:>16}{ours_label:>18}{:>8}", "", "ratio");
    let rows = [
        (
            "training, images/s",
            burn.images_per_second,
            ours.images_per_second,
            true,
        ),
        (
            "generator, ms at batch 1",
            burn.latency_1,
            ours.latency_1,
            false,
        ),
        (
            "generator, ms at batch 64",
            burn.latency_64,
            ours.latency_64,
            false,
        ),
    ];
    for (label, before, after, higher_is_better) in rows {
        let ratio = if higher_is_better {
            after / before
        } else {
            before / after
        };
        println!("{label:34}{before:>16.2}{after:>18.2}{ratio:>7.2}x");
    }
    println!("(ratio > 1: {what} faster; latency is the median of {LATENCY_RUNS})");
    for (label, achieved) in [(baseline, achieved_by_burn), (ours_label, achieved)] {
        match peak {
            Some(peak) => println!(
                "  {label}: {achieved:.3} TFLOP/s in training, {:.1}% of the {peak} TFLOP/s f32 peak",
                100.0 * achieved / peak
            ),
            None => println!(
                "  {label}: {achieved:.3} TFLOP/s in training (give --peak-tflops for the fraction of peak)"
            ),
        }
    }
    Ok(())
}

/// Blocks until `tensor` is computed, by reading its values. Dropping what `into_data` returns
/// unread does not wait on a GPU: the read is resolved when the values are first touched (seen
/// on wgpu with Burn 0.22: a dropped read returned in 0.3 ms, the same read looked at in 70).
fn wait_for<const D: usize>(tensor: Tensor<D>) {
    let values = tensor.into_data();
    std::hint::black_box(values.as_bytes().first());
}

/// FLOPs of one image in a GAN step: G's forward, D's three forwards (real, fake for D, fake
/// for G), and a backward of about twice each forward.
fn training_flops_per_image(generator: f64, discriminator: f64) -> f64 {
    3.0 * (generator + 3.0 * discriminator)
}

/// f32 peaks (dense, no tensor cores) of GPUs facegan has run on, by adapter name.
fn peak_tflops(adapter: &str) -> Option<f64> {
    const KNOWN: [(&str, f64); 4] = [("H200", 67.0), ("H100", 67.0), ("A100", 19.5), ("L4", 30.3)];
    KNOWN
        .iter()
        .find(|(name, _)| adapter.contains(name))
        .map(|&(_, peak)| peak)
}

/// Training throughput and generator latency of one implementation.
struct Figures {
    images_per_second: f64,
    latency_1: f64,
    latency_64: f64,
}

/// Images a second over `steps` training steps of model `M` (after two warm-up steps) on
/// random pixels (the arithmetic of a step does not depend on what the images show), and the
/// trained model.
fn training_rate<M>(config: &M::Config, steps: usize, device: &Device) -> anyhow::Result<(M, f64)>
where
    M: Trainable,
    M::Config: RunConfig<Data = ImageSet>,
{
    let batch_size = config.run().batch_size;
    let size = 64;
    let mut rng = SplitMix64::new(7);
    let images = ImageSet {
        size,
        pixels: (0..batch_size * size * size * 3)
            .map(|_| rng.below(256) as u8)
            .collect(),
    };
    let indices: Vec<usize> = (0..batch_size).collect();
    let train_device = device.clone().autodiff();
    let mut gan = M::fresh(config, &train_device)?;
    let mut run = |count: usize| {
        for step in 0..count {
            let batch = Batch {
                epoch: 0,
                number: step,
                step: step as u64 + 1,
                indices: &indices,
                rng: &mut rng,
                inject_nan: false,
            };
            gan.step(config, &images, batch, &train_device);
        }
    };
    run(2); // warm-up
    let start = Instant::now();
    run(steps);
    let rate = (steps * batch_size) as f64 / start.elapsed().as_secs_f64();
    Ok((gan, rate))
}

/// The figures of one implementation: `rate` and the median latency of `forward` at batch 1
/// and 64.
fn latency(
    rate: f64,
    latent: usize,
    device: &Device,
    forward: impl Fn(Tensor<4>) -> Tensor<4>,
) -> Figures {
    let latency_ms = |batch: usize| {
        let seeds: Vec<u64> = (0..batch as u64).collect();
        let z = latent_tensor(&seeds, latent, device);
        let mut times: Vec<f64> = (0..LATENCY_RUNS + 1)
            .map(|_| {
                let start = Instant::now();
                wait_for(forward(z.clone()));
                start.elapsed().as_secs_f64() * 1e3
            })
            .skip(1) // warm-up
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    Figures {
        images_per_second: rate,
        latency_1: latency_ms(1),
        latency_64: latency_ms(64),
    }
}
