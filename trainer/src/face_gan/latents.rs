//! The latents a face GAN draws: the run's noise for training, the fixed seeds for its sample
//! grids (the same faces `facegan generate --seed 0` draws), and faces from a generator's output.

use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::{SplitMix64, latent_batch};

use crate::run::SampleGrid;

/// Seeds of the fixed sample grid.
pub const SAMPLE_SEEDS: std::ops::Range<u64> = 0..64;

/// `[n, latent, 1, 1]` standard normal noise from the run's own stream.
pub fn noise(rng: &mut SplitMix64, n: usize, latent: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..n * latent).map(|_| rng.normal()).collect();
    Tensor::from_data(TensorData::new(values, [n, latent, 1, 1]), device)
}

/// The seeded latents of `seeds` as a `[n, latent, 1, 1]` tensor.
pub fn latent_tensor(seeds: &[u64], latent: usize, device: &Device) -> Tensor<4> {
    let values = latent_batch(seeds, latent);
    Tensor::from_data(TensorData::new(values, [seeds.len(), latent, 1, 1]), device)
}

/// RGB8 faces of `size` from a generator's output `[n, 3, size, size]` (run it in inference
/// mode, `generator.valid()`, so BatchNorm uses its running statistics).
pub fn render_faces(images: Tensor<4>, size: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let values = images
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| anyhow::anyhow!("cannot read generated images: {error:?}"))?;
    Ok(nchw_to_rgb8(&values, size))
}

/// The epoch's sample grid: the faces of [`SAMPLE_SEEDS`] drawn by `generate` (a generator in
/// inference mode) from `[64, latent, 1, 1]` latents, eight to a row.
pub fn sample_grid(
    generate: impl FnOnce(Tensor<4>) -> Tensor<4>,
    latent: usize,
    size: usize,
    device: &Device,
) -> anyhow::Result<SampleGrid> {
    let seeds: Vec<u64> = SAMPLE_SEEDS.collect();
    Ok(SampleGrid {
        tiles: render_faces(generate(latent_tensor(&seeds, latent, device)), size)?,
        size,
        columns: 8,
    })
}
