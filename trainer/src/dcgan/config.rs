//! The DCGAN run's configuration (saved as `config.json`), made from the face GANs' flags
//! (`crate::gan_flags`). Each default lives once: architecture defaults in `DcganConfig`, the
//! driver's in `RunOptions`, Adam's in `OptimizerOptions`, the rest in `Default` impls here.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use facegan_model::DcganConfig;
use serde::{Deserialize, Serialize};

use super::labels::LabelSmoothing;
use crate::adversarial::OptimizerOptions;
use crate::augment::Policy;
use crate::face_gan::{GanFlags, default_ema_decay};
use crate::run::RunOptions;

/// How the discriminator's targets are made (see `facegan train --help`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelConfig {
    pub smoothing: LabelSmoothing,
    pub real_range: [f64; 2],
    pub fake_range: [f64; 2],
    pub one_sided_real: f64,
    pub noise: f64,
    pub flip_every: usize,
    pub swap: bool,
}

impl Default for LabelConfig {
    /// Hard labels, with the source projects' ranges ready.
    fn default() -> Self {
        Self {
            smoothing: LabelSmoothing::None,
            real_range: [0.7, 1.2],
            fake_range: [0.0, 0.3],
            one_sided_real: 0.9,
            noise: 0.0,
            flip_every: 0,
            swap: false,
        }
    }
}

pub fn default_generator_steps() -> usize {
    1
}

/// A DCGAN run's full configuration, saved as `RUN_DIR/config.json` (the run and optimiser
/// options are flattened into it, as before the driver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub model: DcganConfig,
    #[serde(flatten)]
    pub run: RunOptions,
    #[serde(flatten)]
    pub optimizer: OptimizerOptions,
    pub labels: LabelConfig,
    #[serde(default = "default_generator_steps")]
    pub generator_steps: usize,
    /// Decay of the generator's moving average (0 = keep none); see `average.rs`.
    #[serde(default = "default_ema_decay")]
    pub ema_decay: f64,
    /// Exported generator the run started from instead of random weights (`--init-generator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_generator: Option<PathBuf>,
    /// DiffAugment policies applied to every image D sees (`--augment`; none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub augment: Vec<Policy>,
}

impl TrainConfig {
    /// DCGAN's published settings (Adam 2e-4, betas 0.5/0.999, hard labels) for `model` on
    /// `data`: what `facegan train` does without flags, less the epoch and batch counts.
    pub fn new(data: PathBuf, model: DcganConfig, epochs: usize, batch_size: usize) -> Self {
        Self {
            data,
            model,
            run: RunOptions::new(epochs, batch_size),
            optimizer: OptimizerOptions::default(),
            labels: LabelConfig::default(),
            generator_steps: default_generator_steps(),
            ema_decay: default_ema_decay(),
            init_generator: None,
            augment: Vec::new(),
        }
    }

    pub fn from_flags(
        data: PathBuf,
        image_size: usize,
        run: RunOptions,
        optimizer: OptimizerOptions,
        flags: &GanFlags,
    ) -> anyhow::Result<Self> {
        let pair = |values: &[f64], flag: &str| -> anyhow::Result<[f64; 2]> {
            let [low, high] = values else {
                bail!("--{flag} takes two numbers, LOW,HIGH");
            };
            ensure!(low <= high, "--{flag}: LOW ({low}) is above HIGH ({high})");
            Ok([*low, *high])
        };
        let config = Self {
            data,
            model: DcganConfig::new()
                .with_image_size(image_size)
                .with_latent_size(flags.latent_size.unwrap_or(DcganConfig::new().latent_size))
                .with_generator_width(
                    flags
                        .generator_width
                        .unwrap_or(DcganConfig::new().generator_width),
                )
                .with_discriminator_width(
                    flags
                        .discriminator_width
                        .unwrap_or(DcganConfig::new().discriminator_width),
                )
                .with_kernel_size(flags.kernel_size)
                .with_shallow_discriminator(flags.shallow_discriminator),
            run,
            optimizer,
            labels: LabelConfig {
                smoothing: flags.label_smoothing,
                real_range: pair(&flags.real_label_range, "real-label-range")?,
                fake_range: pair(&flags.fake_label_range, "fake-label-range")?,
                one_sided_real: flags.one_sided_real_label,
                noise: flags.label_noise,
                flip_every: flags.flip_labels_every,
                swap: flags.swap_labels,
            },
            generator_steps: flags.generator_steps,
            ema_decay: flags.ema_decay,
            init_generator: flags.init_generator.clone(),
            augment: flags.augment.clone(),
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.model
            .validate()
            .context("invalid --image-size, --kernel-size or width")?;
        self.run.validate()?;
        // BatchNorm's batch statistics are meaningless for a single image.
        ensure!(
            self.run.batch_size >= 2,
            "--batch-size must be at least 2, found {}",
            self.run.batch_size
        );
        ensure!(
            self.generator_steps >= 1,
            "--generator-steps must be at least 1"
        );
        ensure!(
            (0.0..=1.0).contains(&self.labels.noise),
            "--label-noise is a fraction between 0 and 1, found {}",
            self.labels.noise
        );
        ensure!(
            (0.0..1.0).contains(&self.ema_decay),
            "--ema-decay must be at least 0 and below 1, found {}",
            self.ema_decay
        );
        self.optimizer.validate()
    }
}
