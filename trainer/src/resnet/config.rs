//! The ResNet run's configuration, saved as `config.json`. Defaults: the architecture's in
//! `ResnetConfig`, Adam's in `OptimizerOptions::resnet`, the driver's in `RunOptions`.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use facegan_model::weights::read_face_config;
use facegan_model::{GeneratorConfig, ResnetConfig};
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
    /// The generator when it is not `model`'s ResNet: a DCGAN from `--init-generator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorConfig>,
    /// The exported generator the run started from (read only when it starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_generator: Option<PathBuf>,
    /// The checkpoint of the narrower run this one grew from (read only when it starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grow_from: Option<PathBuf>,
    /// Steps 1..=N train only the discriminator (0 = none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discriminator_warmup: u64,
}

fn is_zero(steps: &u64) -> bool {
    *steps == 0
}

/// What a ResNet run's checkpoints must match: the discriminator's config (and the
/// generator's, unless `generator` names another one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    #[serde(flatten)]
    pub model: ResnetConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorConfig>,
}

impl Architecture {
    /// The generator the run trains.
    pub fn generator(&self) -> GeneratorConfig {
        self.generator
            .clone()
            .unwrap_or_else(|| self.model.clone().into())
    }
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
            generator: None,
            init_generator: None,
            grow_from: None,
            discriminator_warmup: 0,
        }
    }

    /// The generator the run trains: `model`'s ResNet, or the architecture of the file it
    /// started from.
    pub fn generator_config(&self) -> GeneratorConfig {
        self.architecture().generator()
    }

    pub fn architecture(&self) -> Architecture {
        Architecture {
            model: self.model.clone(),
            generator: self.generator.clone(),
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
        let mut model = ResnetConfig::new()
            .with_image_size(image_size)
            .with_latent_size(flags.latent_size.unwrap_or(defaults.latent_size))
            .with_generator_width(flags.generator_width.unwrap_or(defaults.generator_width))
            .with_discriminator_width(
                flags
                    .discriminator_width
                    .unwrap_or(defaults.discriminator_width),
            )
            .with_depth(flags.depth);
        let mut generator = None;
        if let Some(path) = &flags.init_generator {
            let found = std::fs::read(path)
                .with_context(|| format!("cannot read {}", path.display()))
                .and_then(|bytes| Ok(read_face_config(&bytes)?))
                .with_context(|| format!("--init-generator {}", path.display()))?;
            check_init_flags(&found, image_size, flags)
                .with_context(|| format!("--init-generator {}", path.display()))?;
            match found {
                // Its generator is the file's; the discriminator keeps the flags' width.
                GeneratorConfig::Resnet(file) => {
                    model = file.with_discriminator_width(model.discriminator_width)
                }
                dcgan => {
                    model = model.with_latent_size(dcgan.latent_size());
                    generator = Some(dcgan);
                }
            }
        }
        let config = Self {
            data,
            model,
            run,
            optimizer: optimizer.resolve(OptimizerOptions::resnet()),
            ema_decay: flags.ema_decay,
            r1_gamma: flags.r1_gamma,
            augment: flags.augment.clone(),
            generator,
            init_generator: flags.init_generator.clone(),
            grow_from: flags.grow_from.clone(),
            discriminator_warmup: flags.discriminator_warmup,
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(generator) = &self.generator {
            ensure!(
                generator.image_size() == self.model.image_size,
                "the generator draws {} px images but the discriminator takes {} px",
                generator.image_size(),
                self.model.image_size
            );
        }
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

/// A generator file's architecture against the flags that would contradict it.
fn check_init_flags(
    found: &GeneratorConfig,
    image_size: usize,
    flags: &GanFlags,
) -> anyhow::Result<()> {
    let width = match found {
        GeneratorConfig::Dcgan(c) => c.generator_width,
        GeneratorConfig::Resnet(c) => c.generator_width,
    };
    for (flag, wanted, has) in [
        ("--image-size", Some(image_size), found.image_size()),
        ("--latent-size", flags.latent_size, found.latent_size()),
        ("--generator-width", flags.generator_width, width),
    ] {
        if let Some(wanted) = wanted
            && wanted != has
        {
            bail!(
                "the file holds a {} ({has} for {flag}) but {flag} asks for {wanted}",
                found.describe()
            );
        }
    }
    Ok(())
}
