//! `facegan bench`: the figures behind the speed claims (docs/speed.md), on the CPU (flex) backend.
//! `bench/compare_pytorch.sh` runs this and the same network in PyTorch and prints the ratio.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use facegan_model::conv::use_fast_convolutions;
use facegan_model::{DcganConfig, SplitMix64};

use crate::data::ImageSet;
use crate::dcgan::{Dcgan, TrainConfig, latent_tensor};
use crate::run::Trainable;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Timed training steps (after two warm-up steps).
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Print one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
}

const LATENCY_RUNS: usize = 5;

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch_size >= 2 && args.steps >= 1,
        "need --batch-size >= 2 and --steps >= 1"
    );
    let config = TrainConfig::new("synthetic".into(), DcganConfig::new(), 1, args.batch_size);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    // Burn's own convolutions first, then facegan's, on the same steps in the same process.
    use_fast_convolutions(false);
    let burn = measure(&config, args.steps)?;
    use_fast_convolutions(true);
    let ours = measure(&config, args.steps)?;
    if args.json {
        let figures = serde_json::json!({
            "framework": "burn-flex",
            "threads": threads,
            "batch_size": args.batch_size,
            "train_images_per_s": ours.images_per_second,
            "generator_ms_batch1": ours.latency_1,
            "generator_ms_batch64": ours.latency_64,
            "burn_conv_train_images_per_s": burn.images_per_second,
            "burn_conv_generator_ms_batch1": burn.latency_1,
            "burn_conv_generator_ms_batch64": burn.latency_64,
        });
        println!("{figures}");
    } else {
        println!(
            "facegan bench: DCGAN-64 (latent 100, widths 64/64, kernel 4) on the CPU (flex), \
             {threads} threads, batch {}, {} timed steps",
            args.batch_size, args.steps
        );
        println!(
            "{:34}{:>16}{:>18}{:>8}",
            "", "Burn's conv", "facegan's conv", "ratio"
        );
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
        println!(
            "(ratio > 1: facegan's convolutions are faster; latency is the median of {LATENCY_RUNS})"
        );
    }
    Ok(())
}

/// Training throughput and generator latency of one implementation.
struct Figures {
    images_per_second: f64,
    latency_1: f64,
    latency_64: f64,
}

fn measure(config: &TrainConfig, steps: usize) -> anyhow::Result<Figures> {
    let device = Device::flex();
    let batch_size = config.run.batch_size;
    // Random pixels: the arithmetic of a step does not depend on what the images show.
    let size = config.model.image_size;
    let mut rng = SplitMix64::new(7);
    let images = ImageSet {
        size,
        pixels: (0..batch_size * size * size * 3)
            .map(|_| rng.below(256) as u8)
            .collect(),
    };
    let indices: Vec<usize> = (0..batch_size).collect();
    let train_device = device.clone().autodiff();
    let mut gan = Dcgan::fresh(config, &train_device)?;
    let mut step = |count: usize| {
        for _ in 0..count {
            gan.train_step(config, &images, &indices, 0, &mut rng, &train_device, false);
        }
    };
    step(2); // warm-up
    let start = Instant::now();
    step(steps);
    let images_per_second = (steps * batch_size) as f64 / start.elapsed().as_secs_f64();

    let generator = gan.generator.valid();
    let latency_ms = |batch: usize| {
        let seeds: Vec<u64> = (0..batch as u64).collect();
        let z = latent_tensor(&seeds, config.model.latent_size, &device);
        let mut times: Vec<f64> = (0..LATENCY_RUNS + 1)
            .map(|_| {
                let start = Instant::now();
                let _ = generator.forward(z.clone()).into_data();
                start.elapsed().as_secs_f64() * 1e3
            })
            .skip(1) // warm-up
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    Ok(Figures {
        images_per_second,
        latency_1: latency_ms(1),
        latency_64: latency_ms(64),
    })
}
