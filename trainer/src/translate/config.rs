use std::path::PathBuf;

use anyhow::{Context, ensure};
use facegan_model::TranslatorConfig;
use facegan_model::translate::CODE_SIZE;
use serde::{Deserialize, Serialize};

use crate::cli::TrainArgs;
use crate::train::check_learning_rates;

/// Which translation model a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TranslateMode {
    /// Paired sketches and faces: U-Net + conditional PatchGAN, L1 + adversarial.
    Pix2Pix,
    /// Unpaired sketches and faces: two U-Nets, two PatchGANs, cycle and identity losses.
    CycleGan,
}

/// A translation run's full configuration, saved as `RUN_DIR/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslateConfig {
    pub mode: TranslateMode,
    /// Faces (domain B, the targets).
    pub faces: PathBuf,
    /// Sketches (domain A, the inputs), named like their faces.
    pub sketches: PathBuf,
    pub model: TranslatorConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    pub generator_lr: f64,
    pub discriminator_lr: f64,
    pub beta1: f32,
    pub beta2: f32,
    /// Weight of the L1 distance to the target against the adversarial loss (pix2pix: 100).
    pub l1_weight: f32,
    /// CycleGAN: weight of each cycle's L1 (the paper's lambda, 10).
    pub cycle_weight: f32,
    /// CycleGAN: weight of the identity losses relative to the cycle weight (0.5).
    pub identity_weight: f32,
    pub checkpoint_every: usize,
    pub max_images: usize,
    /// Test hook, never set by users (hidden flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_nan_at_step: Option<u64>,
}

impl TranslateConfig {
    /// pix2pix's published settings (Adam 2e-4, betas 0.5/0.999, L1 weight 100).
    pub fn new(
        mode: TranslateMode,
        faces: PathBuf,
        sketches: PathBuf,
        model: TranslatorConfig,
        epochs: usize,
        batch_size: usize,
    ) -> Self {
        Self {
            mode,
            faces,
            sketches,
            model,
            epochs,
            batch_size,
            seed: 42,
            generator_lr: 2e-4,
            discriminator_lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            l1_weight: 100.0,
            cycle_weight: 10.0,
            identity_weight: 0.5,
            checkpoint_every: 0,
            max_images: 0,
            inject_nan_at_step: None,
        }
    }

    pub fn from_args(args: &TrainArgs, mode: TranslateMode) -> anyhow::Result<Self> {
        let sketches = args.sketches.clone().context(
            "--model pix2pix and cyclegan need --sketches DIR (make one with `facegan sketch`)",
        )?;
        // Silently training from random weights would waste the user's run.
        ensure!(
            args.init_generator.is_none(),
            "--init-generator takes a DCGAN generator; --model pix2pix and cyclegan start from \
             random weights (or resume from their run folder)"
        );
        let model = TranslatorConfig::new()
            .with_image_size(args.image_size)
            .with_input_channels(1)
            .with_output_channels(3)
            .with_code_size(CODE_SIZE)
            .with_width(args.unet_width)
            .with_max_width(args.unet_max_width)
            .with_discriminator_width(args.patch_width)
            // pix2pix's discriminator judges (sketch, face) pairs; CycleGAN's see one domain.
            .with_conditional(mode == TranslateMode::Pix2Pix);
        let config = Self {
            seed: args.seed,
            generator_lr: args.generator_lr,
            discriminator_lr: args.discriminator_lr,
            beta1: args.beta1,
            beta2: args.beta2,
            l1_weight: args.l1_weight,
            cycle_weight: args.cycle_weight,
            identity_weight: args.identity_weight,
            checkpoint_every: args.checkpoint_every,
            max_images: args.max_images,
            inject_nan_at_step: args.inject_nan_at_step,
            ..Self::new(
                mode,
                args.data.clone(),
                sketches,
                model,
                args.epochs,
                args.batch_size,
            )
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.model
            .validate()
            .context("invalid --image-size or U-Net/PatchGAN width")?;
        ensure!(self.epochs >= 1, "--epochs must be at least 1");
        ensure!(self.batch_size >= 1, "--batch-size must be at least 1");
        for (name, weight) in [
            ("l1-weight", self.l1_weight),
            ("cycle-weight", self.cycle_weight),
            ("identity-weight", self.identity_weight),
        ] {
            ensure!(
                weight >= 0.0 && weight.is_finite(),
                "--{name} must be a non-negative number, found {weight}"
            );
        }
        check_learning_rates(self.generator_lr, self.discriminator_lr)
    }
}
