//! The DCGAN run's configuration (saved as `config.json`) and the flags that make it. Each
//! default lives once: architecture defaults in `DcganConfig`, the driver's in `RunOptions`,
//! Adam's in `OptimizerOptions`, the rest in `Default` impls here; clap reads them all.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use facegan_model::DcganConfig;
use serde::{Deserialize, Serialize};

use super::labels::LabelSmoothing;
use crate::adversarial::OptimizerOptions;
use crate::augment::Policy;
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

/// About the last 1,000 steps: a third of an epoch of the 30,000-face set at batch 32.
fn default_ema_decay() -> f64 {
    0.999
}

fn default_generator_steps() -> usize {
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

/// The DCGAN's own flags of `facegan train`.
#[derive(Debug, Clone, clap::Args)]
pub struct DcganFlags {
    /// DCGAN: length of the latent vector z.
    #[arg(long, default_value_t = DcganConfig::new().latent_size)]
    pub latent_size: usize,
    /// DCGAN: channels of the generator's last hidden layer (doubled at each earlier stage).
    #[arg(long, default_value_t = DcganConfig::new().generator_width)]
    pub generator_width: usize,
    /// DCGAN: channels of the discriminator's first layer (doubled at each later stage).
    #[arg(long, default_value_t = DcganConfig::new().discriminator_width)]
    pub discriminator_width: usize,
    /// DCGAN: kernel size of the stride-2 convolutions: 4 or 5.
    #[arg(long, default_value_t = DcganConfig::new().kernel_size)]
    pub kernel_size: usize,
    /// DCGAN: give the discriminator one fewer convolution stage (weaker D).
    #[arg(long)]
    pub shallow_discriminator: bool,
    /// Soft targets for the discriminator.
    #[arg(long, value_enum, default_value_t = LabelConfig::default().smoothing)]
    pub label_smoothing: LabelSmoothing,
    /// Range of real targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = LabelConfig::default().real_range)]
    pub real_label_range: Vec<f64>,
    /// Range of fake targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = LabelConfig::default().fake_range)]
    pub fake_label_range: Vec<f64>,
    /// Real target with --label-smoothing one-sided.
    #[arg(long, default_value_t = LabelConfig::default().one_sided_real)]
    pub one_sided_real_label: f64,
    /// Fraction of discriminator targets flipped at random each step (0 to 1).
    #[arg(long, default_value_t = LabelConfig::default().noise)]
    pub label_noise: f64,
    /// Swap real and fake targets for the discriminator every N-th epoch (0 = never).
    #[arg(long, default_value_t = LabelConfig::default().flip_every)]
    pub flip_labels_every: usize,
    /// Use 0 for real and 1 for fake throughout.
    #[arg(long)]
    pub swap_labels: bool,
    /// Generator updates per discriminator update.
    #[arg(long, default_value_t = default_generator_steps())]
    pub generator_steps: usize,
    /// Decay of the moving average of the generator's weights, which draws the samples and is
    /// exported (0 = use the last step's weights).
    #[arg(long, default_value_t = default_ema_decay())]
    pub ema_decay: f64,
    /// DCGAN: start the generator from an exported `.fgw` file of the same architecture (for
    /// example the shipped weights) instead of random weights; the discriminator starts fresh.
    /// Only read when the run starts; a resumed run continues from its checkpoint.
    #[arg(long, value_name = "FILE")]
    pub init_generator: Option<PathBuf>,
    /// DiffAugment: random differentiable changes applied to real and generated images alike
    /// every time the discriminator sees them, comma-separated (for example
    /// color,translation,cutout). Lets a GAN learn from a few thousand images.
    #[arg(long, value_enum, value_delimiter = ',')]
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
        flags: &DcganFlags,
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
                .with_latent_size(flags.latent_size)
                .with_generator_width(flags.generator_width)
                .with_discriminator_width(flags.discriminator_width)
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
