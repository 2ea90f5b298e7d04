//! `facegan evaluate`: sketch-to-face weights on held-out pairs. Each sketch is coloured with
//! its own face's colour code, so the output can be compared with that face: the mean L1 says
//! how close the translator comes, and the written outputs go to `../shared/tools/fid` against
//! real faces. This is how pix2pix and CycleGAN are compared (docs/training-log.md).

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;
use facegan_model::image::nchw_to_rgb8;

use super::apply::load_translator_file;
use super::describe_pairing;
use super::load_pairs;
use crate::render::save_png_atomically;

#[derive(Debug, Clone, clap::Args)]
pub struct EvaluateArgs {
    /// Exported sketch-to-face weights.
    #[arg(long)]
    pub weights: PathBuf,
    /// Held-out sketches, named like their faces.
    #[arg(long)]
    pub sketches: PathBuf,
    /// The faces the sketches were drawn from.
    #[arg(long)]
    pub faces: PathBuf,
    /// Write each output face here, named like its sketch (for `../shared/tools/fid`).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// Pairs per forward pass.
const CHUNK: usize = 64;

pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let (unet, config, _) = load_translator_file(&args.weights, &device)?;
    let size = config.image_size;
    let (pairs, report) = load_pairs(&args.sketches, &args.faces, size, 0)?;
    describe_pairing(&pairs, &report);
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let (mut total, mut count) = (0f64, 0usize);
    let all: Vec<usize> = (0..pairs.len()).collect();
    for chunk in all.chunks(CHUNK) {
        let output = unet.forward(
            pairs.sketch_batch(chunk, &device),
            pairs.code_batch(chunk, &device),
        );
        let values = output
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|error| anyhow::anyhow!("cannot read generated faces: {error:?}"))?;
        for (&index, face) in chunk.iter().zip(nchw_to_rgb8(&values, size)) {
            let target = pairs.faces.image(index);
            total += face
                .iter()
                .zip(target)
                .map(|(&a, &b)| f64::from(a.abs_diff(b)))
                .sum::<f64>();
            count += face.len();
            if let Some(dir) = &args.out_dir {
                let image = image::RgbImage::from_raw(size as u32, size as u32, face)
                    .expect("size * size * 3 bytes");
                let name = pairs.names[index].replace('/', "_");
                save_png_atomically(&image, &dir.join(format!("{name}.png")))?;
            }
        }
    }
    let l1 = total / count.max(1) as f64;
    println!(
        "{} held-out pairs: mean L1 to the faces {:.2} of 255 (each sketch with its own face's colours)",
        pairs.len(),
        l1
    );
    Ok(())
}
