//! The ResNet run's configuration, saved as `config.json`. Defaults: the architecture's in
//! `ResnetConfig`, Adam's in `OptimizerOptions::resnet`, the driver's in `RunOptions`.

use std::path::PathBuf;

use anyhow::{Context, ensure};
use facegan_model::ResnetConfig;
use serde::{Deserialize, Serialize};

use crate::adversarial::{OptimizerFlags, OptimizerOptions};
use crate::augment::Policy;
use crate::face_gan::{GanFlags, default_ema_decay};
use crate::run::RunOptions;

/// A ResNet run's full configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub model: ResnetConfig,
    #[serde(flatten)]
    pub run: RunOptions,
    #[serde(flatten)]
    pub optimizer: OptimizerOptions,
    /// Decay of the generator's moving average (0 = keep none); see `crate::average`.
    pub ema_decay: f64,
    /// Weight of the R1 penalty on real images (0 = off).
    pub r1_gamma: f64,
    /// DiffAugment policies applied to every image D sees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub augment: Vec<Policy>,
}

impl TrainConfig {
    /// The model's defaults for `model` on `data`, less the epoch and batch counts.
    pub fn new(data: PathBuf, model: ResnetConfig, epochs: usize, batch_size: usize) -> Self {
        Self {
            data,
            model,
            run: RunOptions::new(epochs, batch_size),
            optimizer: OptimizerOptions::resnet(),
            ema_decay: default_ema_decay(),
            r1_gamma: 0.0,
            augment: Vec::new(),
        }
    }

    pub fn from_flags(
        data: PathBuf,
        image_size: usize,
        run: RunOptions,
        optimizer: &OptimizerFlags,
        flags: &GanFlags,
    ) -> anyhow::Result<Self> {
        let defaults = ResnetConfig::new();
        let config = Self {
            data,
            model: ResnetConfig::new()
                .with_image_size(image_size)
                .with_latent_size(flags.latent_size.unwrap_or(defaults.latent_size))
                .with_generator_width(flags.generator_width.unwrap_or(defaults.generator_width))
                .with_discriminator_width(
                    flags
                        .discriminator_width
                        .unwrap_or(defaults.discriminator_width),
                )
                .with_depth(flags.depth),
            run,
            optimizer: optimizer.resolve(OptimizerOptions::resnet()),
            ema_decay: flags.ema_decay,
            r1_gamma: flags.r1_gamma,
            augment: flags.augment.clone(),
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.model
            .validate()
            .context("invalid --image-size, width or --depth")?;
        self.run.validate()?;
        // The generator's BatchNorm needs more than one image for its statistics.
        ensure!(
            self.run.batch_size >= 2,
            "--batch-size must be at least 2, found {}",
            self.run.batch_size
        );
        ensure!(
            (0.0..1.0).contains(&self.ema_decay),
            "--ema-decay must be at least 0 and below 1, found {}",
            self.ema_decay
        );
        ensure!(
            self.r1_gamma >= 0.0 && self.r1_gamma.is_finite(),
            "--r1-gamma must be 0 or a positive number, found {}",
            self.r1_gamma
        );
        self.optimizer.validate()
    }
}
