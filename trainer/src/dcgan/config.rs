use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use facegan_model::DcganConfig;
use serde::{Deserialize, Serialize};

use crate::cli::{LabelSmoothing, TrainArgs};

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
    /// The defaults `facegan train` documents: hard labels, the source projects' ranges ready.
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

/// About the last 1,000 steps: a third of an epoch of the 30,000-face set at batch 32.
fn default_ema_decay() -> f64 {
    0.999
}

/// A run's full configuration, saved as `RUN_DIR/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub model: DcganConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    pub generator_lr: f64,
    pub discriminator_lr: f64,
    pub beta1: f32,
    pub beta2: f32,
    pub labels: LabelConfig,
    pub generator_steps: usize,
    pub checkpoint_every: usize,
    /// Write the sample generator as `snapshots/epoch_NNN.fgw` every N epochs (0 = never).
    #[serde(default)]
    pub snapshot_every: usize,
    pub max_images: usize,
    /// Decay of the generator's moving average (0 = keep none); see `average.rs`.
    #[serde(default = "default_ema_decay")]
    pub ema_decay: f64,
    /// Exported generator the run started from instead of random weights (`--init-generator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_generator: Option<PathBuf>,
    /// Test hook, never set by users (hidden flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_nan_at_step: Option<u64>,
}

impl TrainConfig {
    /// DCGAN's published settings (Adam 2e-4, betas 0.5/0.999, hard labels) for `model` on
    /// `data`: what `facegan train` does without flags, less the epoch and batch counts.
    pub fn new(data: PathBuf, model: DcganConfig, epochs: usize, batch_size: usize) -> Self {
        Self {
            data,
            model,
            epochs,
            batch_size,
            seed: 42,
            generator_lr: 2e-4,
            discriminator_lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            labels: LabelConfig::default(),
            generator_steps: 1,
            checkpoint_every: 0,
            snapshot_every: 0,
            max_images: 0,
            ema_decay: default_ema_decay(),
            init_generator: None,
            inject_nan_at_step: None,
        }
    }

    pub fn from_args(args: &TrainArgs) -> anyhow::Result<Self> {
        let pair = |values: &[f64], flag: &str| -> anyhow::Result<[f64; 2]> {
            let [low, high] = values else {
                bail!("--{flag} takes two numbers, LOW,HIGH");
            };
            ensure!(low <= high, "--{flag}: LOW ({low}) is above HIGH ({high})");
            Ok([*low, *high])
        };
        let config = Self {
            data: args.data.clone(),
            model: DcganConfig::new()
                .with_image_size(args.image_size)
                .with_latent_size(args.latent_size)
                .with_generator_width(args.generator_width)
                .with_discriminator_width(args.discriminator_width)
                .with_kernel_size(args.kernel_size)
                .with_shallow_discriminator(args.shallow_discriminator),
            epochs: args.epochs,
            batch_size: args.batch_size,
            seed: args.seed,
            generator_lr: args.generator_lr,
            discriminator_lr: args.discriminator_lr,
            beta1: args.beta1,
            beta2: args.beta2,
            labels: LabelConfig {
                smoothing: args.label_smoothing,
                real_range: pair(&args.real_label_range, "real-label-range")?,
                fake_range: pair(&args.fake_label_range, "fake-label-range")?,
                one_sided_real: args.one_sided_real_label,
                noise: args.label_noise,
                flip_every: args.flip_labels_every,
                swap: args.swap_labels,
            },
            generator_steps: args.generator_steps,
            checkpoint_every: args.checkpoint_every,
            snapshot_every: args.snapshot_every,
            max_images: args.max_images,
            ema_decay: args.ema_decay,
            init_generator: args.init_generator.clone(),
            inject_nan_at_step: args.inject_nan_at_step,
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.model
            .validate()
            .context("invalid --image-size, --kernel-size or width")?;
        ensure!(self.epochs >= 1, "--epochs must be at least 1");
        // BatchNorm's batch statistics are meaningless for a single image.
        ensure!(
            self.batch_size >= 2,
            "--batch-size must be at least 2, found {}",
            self.batch_size
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
        check_learning_rates(self.generator_lr, self.discriminator_lr)
    }
}

/// `--generator-lr` and `--discriminator-lr` must be positive numbers (every training mode).
pub(crate) fn check_learning_rates(generator: f64, discriminator: f64) -> anyhow::Result<()> {
    for (name, lr) in [
        ("generator-lr", generator),
        ("discriminator-lr", discriminator),
    ] {
        ensure!(
            lr > 0.0 && lr.is_finite(),
            "--{name} must be a positive number, found {lr}"
        );
    }
    Ok(())
}

/// Adam with DCGAN's epsilon and the run's betas, for every network of every mode.
pub(crate) fn adam(beta1: f32, beta2: f32) -> burn::optim::ModuleOptimizer {
    burn::optim::AdamConfig::new()
        .with_beta_1(beta1)
        .with_beta_2(beta2)
        .with_epsilon(1e-8)
        .init()
}
