//! `facegan train --model encoder`: the sketch encoder of the "anime face" drawing mode, as a
//! model of the training driver. The face generator stays frozen; each step draws latents z,
//! renders G(z), makes their drawings (XDoG lines, half of them roughened toward what people
//! draw: `sketch/roughen.rs`) and colour codes, and trains E so that G(E(sketch, code)) is
//! G(z): L1 on the images, a squared distance on the latents, L1 on the 3x3 mean colours.
//! Whatever E outputs, G draws a face from it, so a crude drawing still gives a face. Some
//! faces are zoomed in (`zoom.rs`) and some codes shown moved (`code_jitter.rs`), so the
//! drawing, not the code, decides the face's size and layout.

mod code_jitter;
mod config;
mod zoom;

use std::path::Path;

use anyhow::Context;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use facegan_model::image::from_byte;
use facegan_model::translate::{CODE_SIZE, EncoderHeader, SketchEncoder, colour_code};
use facegan_model::weights::{Precision, load_encoder, load_face_generator, save_encoder_as};
use facegan_model::{FaceGenerator, SplitMix64};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use config::{EncoderFlags, TrainConfig};
use zoom::Window;

use crate::adversarial::read_scalars;
use crate::data::{ImageSet, load_training_set, rgb8_tensor};
use crate::face_gan::{SAMPLE_SEEDS, latent_tensor, noise, render_faces};
use crate::run::{
    Batch, Panel, RunConfig, RunOptions, SampleGrid, Sections, Trainable, checkpoint, descend,
    load_module, module_bytes, optimizer_bytes,
};
use crate::sketch::Drawing;
use crate::translate::{palette_of, read_palette, write_palette};

/// The encoder's columns of `log.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EncoderLosses {
    /// The weighted sum that was minimised.
    pub loss: f32,
    /// Mean absolute difference of G(E(sketch)) and G(z), in [-1, 1] units.
    pub image_l1: f32,
    /// Mean squared difference of E(sketch) and z.
    pub latent_mse: f32,
    /// Mean absolute difference of their 3x3 mean colours.
    pub colour_l1: f32,
}

/// The encoder's training set: the real faces its palette comes from, and how many generator
/// samples make an epoch.
pub struct EncoderData {
    pub faces: ImageSet,
    pub epoch_size: usize,
}

impl RunConfig for TrainConfig {
    type Architecture = EncoderHeader;
    type Data = EncoderData;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> Self::Architecture {
        self.header.clone()
    }

    fn load_data(&self) -> anyhow::Result<EncoderData> {
        self.validate()?;
        let size = self.header.encoder.image_size;
        Ok(EncoderData {
            faces: load_training_set(&self.data, size, self.run.max_images)?,
            epoch_size: self.epoch_size,
        })
    }

    fn data_len(data: &EncoderData) -> usize {
        data.epoch_size
    }

    /// The palette export puts in the weights, written once per run.
    fn start_run(&self, data: &EncoderData, run_dir: &Path) -> anyhow::Result<()> {
        write_palette(run_dir, &data.faces)
    }
}

/// The encoder, its optimiser, and the frozen generator it learns to drive.
pub struct Encoder {
    pub encoder: SketchEncoder,
    generator: FaceGenerator,
    optimizer: ModuleOptimizer,
}

/// The checkpoint sections.
const ENCODER: &str = "sketch_encoder";
const OPTIMIZER: &str = "encoder_optimizer";

impl Trainable for Encoder {
    const KIND: &'static str = "encoder";
    type Config = TrainConfig;
    type Losses = EncoderLosses;

    fn fresh(config: &TrainConfig, device: &Device) -> anyhow::Result<Self> {
        device.seed(config.run.seed);
        let encoder = match &config.init_encoder {
            Some(path) => encoder_from_file(config, path, device)?,
            None => config.header.encoder.init(device),
        };
        Ok(Self {
            encoder,
            generator: frozen_generator(config, device)?,
            optimizer: adam(),
        })
    }

    fn step(
        &mut self,
        config: &TrainConfig,
        _data: &EncoderData,
        batch: Batch,
        device: &Device,
    ) -> EncoderLosses {
        self.train_step(
            config,
            batch.indices.len(),
            batch.rng,
            device,
            batch.inject_nan,
        )
    }

    fn summary(losses: &EncoderLosses) -> Vec<(&'static str, f32)> {
        vec![
            ("loss", losses.loss),
            ("image_L1", losses.image_l1),
            ("latent_MSE", losses.latent_mse),
            ("colour_L1", losses.colour_l1),
        ]
    }

    fn learning_rates(config: &TrainConfig) -> Vec<(&'static str, f64)> {
        vec![("learning_rate", config.learning_rate)]
    }

    fn panels(_config: &TrainConfig) -> Vec<Panel> {
        vec![
            Panel::steps("Loss (weighted sum)", &["loss"]),
            Panel::steps("Image L1: G(E(sketch)) against G(z)", &["image_l1"]),
            Panel::steps("Latent MSE: E(sketch) against z", &["latent_mse"]),
            Panel::steps("Colour L1 (3x3 mean colours)", &["colour_l1"]),
        ]
    }

    /// Eight fixed generator samples; their rough drawings and what the encoder makes of
    /// them; their XDoG lines and what it makes of those.
    fn samples(
        &self,
        config: &TrainConfig,
        _data: &EncoderData,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        let seeds: Vec<u64> = SAMPLE_SEEDS.take(COLUMNS).collect();
        let (generator, encoder) = (self.generator.valid(), self.encoder.valid());
        let header = &config.header;
        let targets = generator_samples(&generator, header, &seeds, device)?;
        let mut tiles = targets.clone();
        for rough in [true, false] {
            let redrawn = Redrawn::of(
                &encoder,
                &generator,
                header,
                targets.clone(),
                &seeds,
                rough,
                device,
            )?;
            tiles.extend(redrawn.drawings.iter().map(|d| grey_to_rgb(&d.sketch)));
            tiles.extend(redrawn.faces);
        }
        Ok(SampleGrid {
            tiles,
            size: header.encoder.image_size,
            columns: COLUMNS,
        })
    }

    fn snapshot(&self, config: &TrainConfig, data: &EncoderData) -> Option<Vec<u8>> {
        Some(save_encoder_as(
            &self.encoder.valid(),
            &config.header,
            palette_of(&data.faces),
            Precision::Half,
        ))
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            (ENCODER, module_bytes(&self.encoder)?),
            (OPTIMIZER, optimizer_bytes(&self.optimizer)?),
        ])
    }

    fn load(
        config: &TrainConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            encoder: load_module(config.header.encoder.init(device), sections.take(ENCODER)?)?,
            generator: frozen_generator(config, device)?,
            optimizer: adam().from_bytes(burn::tensor::Bytes::from_bytes_vec(
                sections.take(OPTIMIZER)?,
            ))?,
        })
    }
}

/// Columns of the sample grid.
const COLUMNS: usize = 8;

fn adam() -> ModuleOptimizer {
    burn::optim::AdamConfig::new().init()
}

/// The run's generator on `device`, frozen: no gradients for its weights, and BatchNorm with
/// its stored statistics (as the page runs it), while gradients still flow through it to E.
fn frozen_generator(config: &TrainConfig, device: &Device) -> anyhow::Result<FaceGenerator> {
    let bytes = config.generator_bytes()?;
    let (generator, _) = load_face_generator(&bytes, device).context("the encoder's generator")?;
    Ok(generator.freeze())
}

/// The encoder of an exported sketch encoder file, made trainable on `device`
/// (`--init-encoder`). The file may serve another generator: that is the point, an encoder
/// retrained for a generator continued from the one it was trained for.
fn encoder_from_file(
    config: &TrainConfig,
    path: &Path,
    device: &Device,
) -> anyhow::Result<SketchEncoder> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let inner = device.clone().without_autodiff();
    let (loaded, found, _) = load_encoder(&bytes, &inner)
        .with_context(|| format!("--init-encoder {}", path.display()))?;
    let wanted = &config.header.encoder;
    anyhow::ensure!(
        found.encoder == *wanted,
        "--init-encoder {}: the run expects an encoder {wanted:?} but the file holds {:?}",
        path.display(),
        found.encoder
    );
    let serves = if found.generator_fingerprint == config.header.generator_fingerprint {
        "this run's generator".to_string()
    } else {
        format!(
            "another generator: {}, fingerprint {}",
            found.generator.describe(),
            found.generator_fingerprint
        )
    };
    log::info!(
        "encoder starts from {}, trained for {serves}",
        path.display()
    );
    // Through a record, like a resume, so that the parameters are tracked for training.
    Ok(wanted.init(device).try_load_record(loaded.into_record())?)
}

/// One training drawing: the sketch (grey, paper 255) and the colour code of its face.
struct Drawn {
    sketch: GrayImage,
    code: [f32; CODE_SIZE],
}

/// The drawing of an RGB8 face: XDoG lines, roughened with `seed` when there is one.
fn draw(face: &[u8], size: usize, rough: Option<u64>) -> Drawn {
    let image =
        RgbImage::from_raw(size as u32, size as u32, face.to_vec()).expect("size * size * 3 bytes");
    Drawn {
        sketch: Drawing::with_seed(rough).draw(&image),
        code: colour_code(face, size),
    }
}

fn sketch_tensor(drawings: &[Drawn], size: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = drawings
        .iter()
        .flat_map(|d| d.sketch.as_raw().iter().map(|&v| from_byte(v)))
        .collect();
    Tensor::from_data(
        TensorData::new(values, [drawings.len(), 1, size, size]),
        device,
    )
}

/// A `[n]` boolean tensor from one flag per batch row.
fn row_mask(rows: impl Iterator<Item = bool>, device: &Device) -> Tensor<1, Bool> {
    let rows: Vec<bool> = rows.collect();
    let n = rows.len();
    Tensor::from_data(TensorData::new(rows, [n]), device)
}

fn code_tensor(drawings: &[Drawn], device: &Device) -> Tensor<2> {
    let values: Vec<f32> = drawings.iter().flat_map(|d| d.code).collect();
    Tensor::from_data(TensorData::new(values, [drawings.len(), CODE_SIZE]), device)
}

fn grey_to_rgb(sketch: &GrayImage) -> Vec<u8> {
    sketch.as_raw().iter().flat_map(|&v| [v, v, v]).collect()
}

/// `[n, 3, s, s]` -> the colour codes' layout `[n, 27]`: RGB means of a 3x3 grid, cell by
/// cell.
fn colour_means(images: Tensor<4>) -> Tensor<2> {
    let n = images.dims()[0];
    // [n, 3, 3, 3] (channel, row, column) -> [n, row, column, channel]
    adaptive_avg_pool2d(images, [3, 3])
        .permute([0, 2, 3, 1])
        .reshape([n, CODE_SIZE])
}

impl Encoder {
    /// One update of the encoder on `n` fresh generator samples.
    pub fn train_step(
        &mut self,
        config: &TrainConfig,
        n: usize,
        rng: &mut SplitMix64,
        device: &Device,
        inject_nan: bool,
    ) -> EncoderLosses {
        let size = config.header.encoder.image_size;
        let latent_size = config.header.generator.latent_size();
        let z = noise(rng, n, latent_size, device);
        let mut target = self.generator.forward(z.clone()).detach();
        let mut faces = render_faces(target.clone(), size).expect("generated images read back");
        // Zoomed samples replace their faces and targets; runs without zoom draw nothing.
        let windows: Vec<Option<Window>> = (0..n)
            .map(|_| {
                (config.zoom_share > 0.0 && rng.chance(config.zoom_share))
                    .then(|| Window::random(size, rng))
            })
            .collect();
        let zoomed = windows.iter().filter(|w| w.is_some()).count();
        if zoomed > 0 {
            faces = faces
                .par_iter()
                .zip(&windows)
                .map(|(face, window)| match window {
                    Some(window) => window.apply(face, size),
                    None => face.clone(),
                })
                .collect();
            let mask = row_mask(windows.iter().map(Option::is_some), device);
            target = target.mask_where(
                mask.reshape([n, 1, 1, 1]).expand([n, 3, size, size]),
                rgb8_tensor(
                    &faces.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                    &vec![false; n],
                    size,
                    device,
                ),
            );
        }
        // Drawn from the run's stream, so a resumed run draws the same sketches.
        let roughness: Vec<Option<u64>> = (0..n)
            .map(|_| rng.chance(config.rough_share).then(|| rng.next_u64()))
            .collect();
        let drawings: Vec<Drawn> = faces
            .par_iter()
            .zip(&roughness)
            .map(|(face, &rough)| draw(face, size, rough))
            .collect();
        let codes = code_tensor(&drawings, device);
        // After the sketches' draws, so runs without jitter keep their stream.
        let shown_codes = if config.code_jitter > 0.0 {
            let shown: Vec<f32> = drawings
                .iter()
                .flat_map(|d| {
                    if rng.chance(config.code_jitter) {
                        code_jitter::jittered(&d.code, rng)
                    } else {
                        d.code
                    }
                })
                .collect();
            Tensor::from_data(TensorData::new(shown, [n, CODE_SIZE]), device)
        } else {
            codes.clone()
        };

        let estimate = self
            .encoder
            .forward(sketch_tensor(&drawings, size, device), shown_codes);
        let image = self.generator.forward(estimate.clone());
        let image_l1 = (image.clone() - target).abs().mean();
        // A zoomed face is not G(z): only the others pull the latent toward z.
        let kept = row_mask(windows.iter().map(Option::is_none), device)
            .float()
            .reshape([n, 1, 1, 1]);
        let latent_mse = ((estimate - z).powi_scalar(2) * kept)
            .sum()
            .div_scalar(((n - zoomed).max(1) * latent_size) as f32);
        let colour_l1 = (colour_means(image) - codes).abs().mean();
        let mut loss = image_l1.clone().mul_scalar(config.image_weight)
            + latent_mse.clone().mul_scalar(config.latent_weight)
            + colour_l1.clone().mul_scalar(config.colour_weight);
        if inject_nan {
            loss = loss.add_scalar(f32::NAN);
        }
        let loss_value = loss.clone().detach();
        descend(
            &mut self.optimizer,
            config.learning_rate,
            &mut self.encoder,
            loss,
        );
        let [loss, image_l1, latent_mse, colour_l1] = read_scalars([
            loss_value,
            image_l1.detach(),
            latent_mse.detach(),
            colour_l1.detach(),
        ]);
        EncoderLosses {
            loss,
            image_l1,
            latent_mse,
            colour_l1,
        }
    }
}

/// Seeded generator samples, their drawings, and the faces the encoder makes of them.
struct Redrawn {
    /// G(z), RGB8.
    targets: Vec<Vec<u8>>,
    drawings: Vec<Drawn>,
    /// G(E(drawing of G(z))), RGB8.
    faces: Vec<Vec<u8>>,
}

/// G(z) for the latents of `seeds`, RGB8.
fn generator_samples(
    generator: &FaceGenerator,
    header: &EncoderHeader,
    seeds: &[u64],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let z = latent_tensor(seeds, header.generator.latent_size(), device);
    render_faces(generator.forward(z), header.encoder.image_size)
}

impl Redrawn {
    /// The samples `targets` of `seeds`, their drawings roughened (with the sample's seed) or
    /// plain XDoG, and the encoder's faces of those.
    fn of(
        encoder: &SketchEncoder,
        generator: &FaceGenerator,
        header: &EncoderHeader,
        targets: Vec<Vec<u8>>,
        seeds: &[u64],
        rough: bool,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let size = header.encoder.image_size;
        let drawings: Vec<Drawn> = targets
            .iter()
            .zip(seeds)
            .map(|(face, &seed)| draw(face, size, rough.then_some(seed)))
            .collect();
        let faces = encoder.face(
            generator,
            sketch_tensor(&drawings, size, device),
            code_tensor(&drawings, device),
        );
        let faces = render_faces(faces, size)?;
        Ok(Self {
            targets,
            drawings,
            faces,
        })
    }
}

/// The encoder's error on seeded latents it never trained on: the mean absolute difference
/// (0-255) between G(z) and G(E(drawing of G(z))), the drawings roughened or plain XDoG.
pub fn reconstruction_error(
    encoder: &SketchEncoder,
    generator: &FaceGenerator,
    header: &EncoderHeader,
    seeds: &[u64],
    rough: bool,
    device: &Device,
) -> anyhow::Result<f64> {
    let targets = generator_samples(generator, header, seeds, device)?;
    let Redrawn { targets, faces, .. } =
        Redrawn::of(encoder, generator, header, targets, seeds, rough, device)?;
    let (sum, count) = targets
        .iter()
        .zip(&faces)
        .flat_map(|(a, b)| a.iter().zip(b))
        .fold((0u64, 0u64), |(sum, count), (&a, &b)| {
            (sum + u64::from(a.abs_diff(b)), count + 1)
        });
    Ok(sum as f64 / count.max(1) as f64)
}

/// The exported encoder of a run folder (its newest checkpoint and the palette written when
/// it started), or `None` when the folder holds another kind of run.
pub fn export_run(
    run_dir: &Path,
    precision: Precision,
    device: &Device,
) -> anyhow::Result<Option<Vec<u8>>> {
    let Some((mut saved, path)) = checkpoint::load_latest(run_dir)? else {
        return Ok(None);
    };
    if saved.meta.kind != Encoder::KIND {
        return Ok(None);
    }
    let header: EncoderHeader = serde_json::from_value(saved.meta.architecture)
        .with_context(|| format!("{} has an unreadable encoder header", path.display()))?;
    let encoder = load_module(header.encoder.init(device), saved.sections.take(ENCODER)?)
        .with_context(|| format!("cannot load the encoder of {}", path.display()))?;
    Ok(Some(save_encoder_as(
        &encoder,
        &header,
        read_palette(run_dir)?,
        precision,
    )))
}
