//! The sketch encoder run's configuration, saved as `config.json`. Defaults: the network's in
//! `EncoderConfig`, the losses' and Adam's here, the driver's in `RunOptions`.

use std::path::PathBuf;

use anyhow::{Context, ensure};
use facegan_model::fingerprint::fingerprint;
use facegan_model::translate::{CODE_SIZE, EncoderConfig, EncoderHeader};
use facegan_model::weights::{check_encoder_generator, read_face_config};
use serde::{Deserialize, Serialize};

use crate::generate::generator_file;
use crate::run::RunOptions;

/// A sketch encoder run's full configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Real faces: the palette of colour codes the page's seeds pick from.
    pub data: PathBuf,
    /// The frozen face generator's file; `None` is the one built into facegan (the shipped
    /// `weights/anime-faces-64.fgw`).
    pub generator: Option<PathBuf>,
    /// The encoder and the generator it serves.
    pub header: EncoderHeader,
    #[serde(flatten)]
    pub run: RunOptions,
    pub learning_rate: f64,
    /// Weights of the losses: L1 between G(E(sketch)) and the sample, squared distance of
    /// the latents, L1 of the 3x3 mean colours (the colour code).
    pub image_weight: f32,
    pub latent_weight: f32,
    pub colour_weight: f32,
    /// Share of the training sketches that are roughened; the rest are plain XDoG lines.
    pub rough_share: f64,
    /// Share of the training drawings whose colour code the encoder sees moved by up to a cell
    /// or mirrored (the losses still ask for the face's own): layout from the drawing, colours
    /// from the code (`code_jitter.rs`). Runs saved before it had none.
    #[serde(default)]
    pub code_jitter: f64,
    /// Share of the training faces zoomed in (cropped to a random window, scaled back up) with
    /// their drawings, so a large drawn face gets a large face (`zoom.rs`). Runs saved before
    /// it had none.
    #[serde(default)]
    pub zoom_share: f64,
    /// Generator samples in an epoch.
    pub epoch_size: usize,
    /// An exported sketch encoder the run starts from instead of random weights; only read
    /// when the run starts. Runs saved before it started fresh.
    #[serde(default)]
    pub init_encoder: Option<PathBuf>,
}

/// `facegan train --model encoder`'s own flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EncoderFlags {
    /// Encoder: the face generator to serve (kept frozen) [default: the built-in shipped
    /// weights].
    #[arg(long, value_name = "FILE")]
    pub generator: Option<PathBuf>,
    /// Encoder: Adam's learning rate.
    #[arg(long, default_value_t = DEFAULT_LEARNING_RATE)]
    pub encoder_lr: f64,
    /// Encoder: generator samples per epoch.
    #[arg(long, default_value_t = DEFAULT_EPOCH_SIZE)]
    pub epoch_size: usize,
    /// Encoder: share of roughened training sketches (the rest are plain XDoG lines).
    #[arg(long, default_value_t = DEFAULT_ROUGH_SHARE)]
    pub rough_share: f64,
    /// Encoder: share of training drawings shown a colour code moved by up to a cell or
    /// mirrored, so the drawing decides the layout.
    #[arg(long, default_value_t = DEFAULT_CODE_JITTER)]
    pub code_jitter: f64,
    /// Encoder: share of training faces zoomed in (up to 1.35x) with their drawings, so a
    /// large drawn face gets a large face.
    #[arg(long, default_value_t = DEFAULT_ZOOM_SHARE)]
    pub zoom_share: f64,
    /// Encoder: weight of the latent distance against the image L1.
    #[arg(long, default_value_t = DEFAULT_LATENT_WEIGHT)]
    pub latent_weight: f32,
    /// Encoder: start from an exported sketch encoder (for example the shipped
    /// weights/sketch-encoder.fgw) instead of random weights, to retrain the drawing mode for
    /// a generator continued from the one that encoder served. Its shape must be the run's;
    /// only read when the run starts.
    #[arg(long, value_name = "FILE")]
    pub init_encoder: Option<PathBuf>,
}

const DEFAULT_LEARNING_RATE: f64 = 1e-3;
const DEFAULT_EPOCH_SIZE: usize = 4096;
const DEFAULT_ROUGH_SHARE: f64 = 0.5;
const DEFAULT_LATENT_WEIGHT: f32 = 1.0;
const DEFAULT_CODE_JITTER: f64 = 0.5;
const DEFAULT_ZOOM_SHARE: f64 = 0.5;

impl TrainConfig {
    /// The defaults for the generator in `generator_bytes` (read from `generator`, `None` for
    /// the built-in one).
    pub fn new(
        data: PathBuf,
        generator: Option<PathBuf>,
        generator_bytes: &[u8],
        epochs: usize,
        batch_size: usize,
    ) -> anyhow::Result<Self> {
        let found = read_face_config(generator_bytes)?;
        let encoder = EncoderConfig::new()
            .with_image_size(found.image_size())
            .with_latent_size(found.latent_size())
            .with_code_size(CODE_SIZE);
        Ok(Self {
            data,
            generator,
            header: EncoderHeader {
                encoder,
                generator: found,
                generator_fingerprint: fingerprint(generator_bytes),
            },
            run: RunOptions::new(epochs, batch_size),
            learning_rate: DEFAULT_LEARNING_RATE,
            image_weight: 1.0,
            latent_weight: DEFAULT_LATENT_WEIGHT,
            colour_weight: 1.0,
            rough_share: DEFAULT_ROUGH_SHARE,
            code_jitter: DEFAULT_CODE_JITTER,
            zoom_share: DEFAULT_ZOOM_SHARE,
            epoch_size: DEFAULT_EPOCH_SIZE,
            init_encoder: None,
        })
    }

    pub fn from_flags(
        data: PathBuf,
        run: RunOptions,
        flags: &EncoderFlags,
    ) -> anyhow::Result<Self> {
        let (bytes, name) = generator_file(flags.generator.as_deref())?;
        let mut config = Self::new(
            data,
            flags.generator.clone(),
            &bytes,
            run.epochs,
            run.batch_size,
        )
        .with_context(|| format!("--generator {name}"))?;
        config.run = run;
        config.learning_rate = flags.encoder_lr;
        config.epoch_size = flags.epoch_size;
        config.rough_share = flags.rough_share;
        config.code_jitter = flags.code_jitter;
        config.zoom_share = flags.zoom_share;
        config.latent_weight = flags.latent_weight;
        config.init_encoder = flags.init_encoder.clone();
        config.validate()?;
        Ok(config)
    }

    /// The frozen generator's file as bytes, refused when it is not the one the run started
    /// with.
    pub fn generator_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let (bytes, name) = generator_file(self.generator.as_deref())?;
        check_encoder_generator(&self.header, &bytes).with_context(|| {
            format!("{name} changed since the run started; start a new run for another generator")
        })?;
        Ok(bytes)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.header
            .encoder
            .validate()
            .context("invalid encoder shape")?;
        self.run.validate()?;
        ensure!(
            self.learning_rate > 0.0 && self.learning_rate.is_finite(),
            "--encoder-lr must be a positive number, found {}",
            self.learning_rate
        );
        ensure!(
            self.epoch_size >= self.run.batch_size,
            "--epoch-size must be at least the batch size ({}), found {}",
            self.run.batch_size,
            self.epoch_size
        );
        ensure!(
            (0.0..=1.0).contains(&self.rough_share),
            "--rough-share must be between 0 and 1, found {}",
            self.rough_share
        );
        ensure!(
            (0.0..=1.0).contains(&self.code_jitter),
            "--code-jitter must be between 0 and 1, found {}",
            self.code_jitter
        );
        ensure!(
            (0.0..=1.0).contains(&self.zoom_share),
            "--zoom-share must be between 0 and 1, found {}",
            self.zoom_share
        );
        ensure!(
            self.latent_weight >= 0.0 && self.latent_weight.is_finite(),
            "--latent-weight must be 0 or a positive number, found {}",
            self.latent_weight
        );
        Ok(())
    }
}
