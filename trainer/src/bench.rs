//! `facegan bench`: the figures behind the README's speed claims, on the CPU (flex) backend.
//! `bench/compare_pytorch.sh` runs this and the same network in PyTorch and prints the ratio.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
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
    let device = Device::flex();
    let config = TrainConfig::new("synthetic".into(), DcganConfig::new(), 1, args.batch_size);
    // Random pixels: the arithmetic of a step does not depend on what the images show.
    let size = config.model.image_size;
    let mut rng = SplitMix64::new(7);
    let images = ImageSet {
        size,
        pixels: (0..args.batch_size * size * size * 3)
            .map(|_| rng.below(256) as u8)
            .collect(),
    };
    let indices: Vec<usize> = (0..args.batch_size).collect();
    let train_device = device.clone().autodiff();
    let mut gan = Dcgan::fresh(&config, &train_device)?;
    let mut rng = SplitMix64::new(config.run.seed);

    for _ in 0..2 {
        gan.train_step(
            &config,
            &images,
            &indices,
            0,
            &mut rng,
            &train_device,
            false,
        );
    }
    let start = Instant::now();
    for _ in 0..args.steps {
        gan.train_step(
            &config,
            &images,
            &indices,
            0,
            &mut rng,
            &train_device,
            false,
        );
    }
    let train_seconds = start.elapsed().as_secs_f64();
    let images_per_second = (args.steps * args.batch_size) as f64 / train_seconds;

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
    let latency_1 = latency_ms(1);
    let latency_64 = latency_ms(64);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if args.json {
        println!(
            "{{\"framework\":\"burn-flex\",\"threads\":{threads},\"batch_size\":{},\"train_images_per_s\":{images_per_second:.2},\"generator_ms_batch1\":{latency_1:.3},\"generator_ms_batch64\":{latency_64:.3}}}",
            args.batch_size
        );
    } else {
        println!(
            "facegan bench: DCGAN-64 (latent 100, widths 64/64, kernel 4) on the CPU (flex), {threads} threads"
        );
        println!(
            "  training:  {images_per_second:.1} images/s at batch {} ({} timed steps)",
            args.batch_size, args.steps
        );
        println!(
            "  generator: {latency_1:.2} ms at batch 1, {latency_64:.2} ms at batch 64 (median of {LATENCY_RUNS})"
        );
    }
    Ok(())
}
