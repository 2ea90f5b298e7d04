//! Generator latency on the CPU: DCGAN-64 (the PyTorch example's widths 64/64) and the ResNet
//! GAN at its defaults, fresh weights in inference mode, at batch 1 and 64, with Burn's flex
//! kernels and with facegan's, in one process. Prints the median of `RUNS` (default 20) calls;
//! long enough to profile (`perf record`), where `facegan bench` times a handful of calls;
//! `ours` as a second argument skips Burn's kernels, so a profile holds only facegan's, a third
//! picks one batch size and a fourth one model.
//! `cargo run --release --workspace --example generator_latency [RUNS] [ours|both] [BATCH]
//! [dcgan|resnet]`

mod timing;

use timing::median_ms;

use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::kernels::use_fast_kernels;
use facegan_model::{DcganConfig, FaceGenerator, ResnetConfig, latent_batch};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|runs| runs.parse().expect("RUNS is a whole number"))
        .unwrap_or(20)
        .max(1);
    let only_ours = std::env::args().nth(2).as_deref() == Some("ours");
    let batches: Vec<u64> = match std::env::args().nth(3) {
        Some(batch) => vec![batch.parse().expect("BATCH is a whole number")],
        None => vec![1, 64],
    };
    let only_model = std::env::args().nth(4);
    let device = Device::flex();
    let dcgan = DcganConfig::new();
    let resnet = ResnetConfig::new();
    // As `facegan generate` runs them.
    let (g_dcgan, g_resnet) = (
        FaceGenerator::from(dcgan.init_generator(&device)),
        FaceGenerator::from(resnet.init_generator(&device)),
    );
    println!(
        "{:24}{:>14}{:>14}{:>8}",
        "generator, ms", "Burn's kernels", "facegan's", "ratio"
    );
    for batch in batches {
        let seeds: Vec<u64> = (0..batch).collect();
        let forwards: [(&str, usize, &FaceGenerator); 2] = [
            ("DCGAN-64", dcgan.latent_size, &g_dcgan),
            ("ResNet-64", resnet.latent_size, &g_resnet),
        ];
        for (name, latent, generator) in forwards {
            if only_model
                .as_ref()
                .is_some_and(|model| !name.to_lowercase().starts_with(model))
            {
                continue;
            }
            let values = latent_batch(&seeds, latent);
            let z = Tensor::from_data(
                TensorData::new(values, [seeds.len(), latent, 1, 1]),
                &device,
            );
            let [burn, ours] = [false, true].map(|fast| {
                if only_ours && !fast {
                    return f64::NAN;
                }
                use_fast_kernels(fast);
                median_ms(runs, || {
                    let _ = generator.forward(z.clone()).into_data();
                })
            });
            let label = format!("{name}, batch {batch}");
            println!("{label:24}{burn:>14.2}{ours:>14.2}{:>7.2}x", burn / ours);
        }
    }
}
