//! `facegan translate`: faces for a drawing, one colouring per seed (seed S picks palette entry
//! `palette_index(S)`, as the page does), in either drawing mode: "follows my lines" (a
//! sketch-to-face U-Net from pix2pix or CycleGAN) or "anime face" (a sketch encoder into the
//! face generator). The weights file says which.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::SketchEncoder;
use facegan_model::translate::{CODE_SIZE, palette_index, sketch_input};
use facegan_model::weights::{
    ENCODER_ARCHITECTURE, Palette, architecture_of, check_encoder_generator, load_encoder,
    load_face_generator, load_translator,
};
use facegan_model::{FaceGenerator, TranslatorConfig, UNet};
use image::imageops::FilterType;

use crate::generate::generator_file;
use crate::render::{grid, save_png_atomically};

#[derive(Debug, Clone, clap::Args)]
pub struct TranslateArgs {
    /// Exported drawing weights: a sketch-to-face U-Net (`facegan export` of a pix2pix or
    /// CycleGAN run: "follows my lines") or a sketch encoder (of an encoder run: "anime face").
    #[arg(long)]
    pub weights: PathBuf,
    /// With a sketch encoder: the face generator it was trained for [default: the built-in
    /// weights].
    #[arg(long, value_name = "FILE")]
    pub generator: Option<PathBuf>,
    /// The drawing: dark lines on a light background, any size (centre-cropped to a square).
    #[arg(long)]
    pub sketch: PathBuf,
    /// Seed of the first colouring; face i uses seed S+i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of colourings.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Write the faces as one grid PNG here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one PNG per colouring into this folder, named seed_<S>.png.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// Reads exported sketch-to-face weights; the error names the file and what is wrong.
pub fn load_translator_file(
    path: &Path,
    device: &Device,
) -> anyhow::Result<(UNet, TranslatorConfig, Palette)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    load_translator(&bytes, device)
        .with_context(|| format!("{} is not usable sketch-to-face weights", path.display()))
}

/// A drawing mode's networks.
// One per run of the command: the variants' sizes (handles) do not matter.
#[allow(clippy::large_enum_variant)]
enum SketchModel {
    /// "Follows my lines": the U-Net paints the drawing.
    Lines(UNet),
    /// "Anime face": the encoder picks the generator's latent.
    Anime(SketchEncoder, FaceGenerator),
}

impl SketchModel {
    /// `[n, 1, s, s]` drawings, `[n, code]` colour codes -> `[n, 3, s, s]` faces.
    fn forward(&self, sketches: Tensor<4>, codes: Tensor<2>) -> Tensor<4> {
        match self {
            Self::Lines(unet) => unet.forward(sketches, codes),
            Self::Anime(encoder, generator) => encoder.face(generator, sketches, codes),
        }
    }
}

/// The drawing mode in `args.weights`, its image size and palette.
fn load_sketch_model(
    args: &TranslateArgs,
    device: &Device,
) -> anyhow::Result<(SketchModel, usize, Palette)> {
    let path = &args.weights;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let unusable = || format!("{} is not usable drawing weights", path.display());
    if architecture_of(&bytes).with_context(unusable)? != ENCODER_ARCHITECTURE {
        ensure!(
            args.generator.is_none(),
            "--generator goes with a sketch encoder; {} is a sketch-to-face U-Net",
            path.display()
        );
        let (unet, config, palette) = load_translator(&bytes, device).with_context(unusable)?;
        return Ok((SketchModel::Lines(unet), config.image_size, palette));
    }
    let (encoder, header, palette) = load_encoder(&bytes, device).with_context(unusable)?;
    let (generator_bytes, name) = generator_file(args.generator.as_deref())?;
    check_encoder_generator(&header, &generator_bytes)
        .with_context(|| format!("{} with {name}", path.display()))?;
    let (generator, _) = load_face_generator(&generator_bytes, device)
        .with_context(|| format!("cannot load {name}"))?;
    Ok((
        SketchModel::Anime(encoder, generator),
        header.encoder.image_size,
        palette,
    ))
}

pub fn run(args: &TranslateArgs) -> anyhow::Result<()> {
    ensure!(
        args.out.is_some() || args.out_dir.is_some(),
        "say where the faces go: --out grid.png and/or --out-dir DIR"
    );
    ensure!(args.count >= 1, "--count must be at least 1");
    let device = Device::flex();
    let (model, size, palette) = load_sketch_model(args, &device)?;
    ensure!(
        !palette.is_empty(),
        "{} has an empty palette",
        args.weights.display()
    );

    let drawing = image::open(&args.sketch)
        .with_context(|| format!("cannot read the drawing {}", args.sketch.display()))?
        .to_luma8();
    // Square it (centre crop) and bring it to a multiple of the model's side, then average
    // blocks as the page does with its canvas.
    let side = drawing.width().min(drawing.height());
    let square = image::imageops::crop_imm(
        &drawing,
        (drawing.width() - side) / 2,
        (drawing.height() - side) / 2,
        side,
        side,
    )
    .to_image();
    let work = (side as usize / size).max(1) * size;
    let square = if work == side as usize {
        square
    } else {
        image::imageops::resize(&square, work as u32, work as u32, FilterType::Triangle)
    };
    let input = sketch_input(square.as_raw(), work, size);

    let seeds: Vec<u64> = (0..args.count as u64).map(|i| args.seed + i).collect();
    let sketches: Vec<f32> = seeds.iter().flat_map(|_| input.iter().copied()).collect();
    let codes: Vec<f32> = seeds
        .iter()
        .flat_map(|&seed| palette[palette_index(seed, palette.len())])
        .collect();
    let n = seeds.len();
    let faces = model.forward(
        Tensor::from_data(TensorData::new(sketches, [n, 1, size, size]), &device),
        Tensor::from_data(TensorData::new(codes, [n, CODE_SIZE]), &device),
    );
    let values = faces
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| anyhow::anyhow!("cannot read generated faces: {error:?}"))?;
    let faces = nchw_to_rgb8(&values, size);
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (seed, face) in seeds.iter().zip(&faces) {
            let image = image::RgbImage::from_raw(size as u32, size as u32, face.clone())
                .expect("size * size * 3 bytes");
            save_png_atomically(&image, &dir.join(format!("seed_{seed}.png")))?;
        }
    }
    if let Some(out) = &args.out {
        save_png_atomically(&grid(&faces, size, n.min(8)), out)?;
    }
    log::info!(
        "{} faces for {} (seeds {}..{})",
        n,
        args.sketch.display(),
        args.seed,
        args.seed + n as u64 - 1
    );
    Ok(())
}
