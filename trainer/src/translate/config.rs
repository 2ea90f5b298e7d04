use std::path::PathBuf;

use anyhow::{Context, ensure};
use facegan_model::TranslatorConfig;
use facegan_model::translate::CODE_SIZE;
use serde::{Deserialize, Serialize};

use crate::adversarial::OptimizerOptions;
use crate::run::RunOptions;

/// Which translation model a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TranslateMode {
    /// Paired sketches and faces: U-Net + conditional PatchGAN, L1 + adversarial.
    Pix2Pix,
    /// Unpaired sketches and faces: two U-Nets, two PatchGANs, cycle and identity losses.
    CycleGan,
}

/// The loss weights' defaults (pix2pix's and CycleGAN's papers), read by the flags too.
const L1_WEIGHT: f32 = 100.0;
const CYCLE_WEIGHT: f32 = 10.0;
const IDENTITY_WEIGHT: f32 = 0.5;

/// A translation run's full configuration, saved as `RUN_DIR/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslateConfig {
    pub mode: TranslateMode,
    /// Faces (domain B, the targets).
    pub faces: PathBuf,
    /// Sketches (domain A, the inputs), named like their faces.
    pub sketches: PathBuf,
    pub model: TranslatorConfig,
    #[serde(flatten)]
    pub run: RunOptions,
    #[serde(flatten)]
    pub optimizer: OptimizerOptions,
    /// Weight of the L1 distance to the target against the adversarial loss (pix2pix: 100).
    pub l1_weight: f32,
    /// CycleGAN: weight of each cycle's L1 (the paper's lambda, 10).
    pub cycle_weight: f32,
    /// CycleGAN: weight of the identity losses relative to the cycle weight (0.5).
    pub identity_weight: f32,
}

/// The translators' own flags of `facegan train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TranslationFlags {
    /// pix2pix/CycleGAN: folder of sketches (see `facegan sketch`); for pix2pix named like the
    /// faces in --data.
    #[arg(long)]
    pub sketches: Option<PathBuf>,
    /// pix2pix: weight of the L1 distance to the target against the adversarial loss.
    #[arg(long, default_value_t = L1_WEIGHT)]
    pub l1_weight: f32,
    /// CycleGAN: weight of each cycle's L1 distance.
    #[arg(long, default_value_t = CYCLE_WEIGHT)]
    pub cycle_weight: f32,
    /// CycleGAN: weight of the identity losses, relative to --cycle-weight.
    #[arg(long, default_value_t = IDENTITY_WEIGHT)]
    pub identity_weight: f32,
    /// pix2pix/CycleGAN: channels of the U-Net's first stage (doubled per stage up to --unet-max-width).
    #[arg(long, default_value_t = TranslatorConfig::new().width)]
    pub unet_width: usize,
    /// pix2pix/CycleGAN: widest U-Net stage.
    #[arg(long, default_value_t = TranslatorConfig::new().max_width)]
    pub unet_max_width: usize,
    /// pix2pix/CycleGAN: channels of the PatchGAN discriminators' first stage.
    #[arg(long, default_value_t = TranslatorConfig::new().discriminator_width)]
    pub patch_width: usize,
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
            run: RunOptions::new(epochs, batch_size),
            optimizer: OptimizerOptions::default(),
            l1_weight: L1_WEIGHT,
            cycle_weight: CYCLE_WEIGHT,
            identity_weight: IDENTITY_WEIGHT,
        }
    }

    pub fn from_flags(
        mode: TranslateMode,
        faces: PathBuf,
        image_size: usize,
        run: RunOptions,
        optimizer: OptimizerOptions,
        flags: &TranslationFlags,
    ) -> anyhow::Result<Self> {
        let sketches = flags.sketches.clone().context(
            "--model pix2pix and cyclegan need --sketches DIR (make one with `facegan sketch`)",
        )?;
        let model = TranslatorConfig::new()
            .with_image_size(image_size)
            .with_input_channels(1)
            .with_output_channels(3)
            .with_code_size(CODE_SIZE)
            .with_width(flags.unet_width)
            .with_max_width(flags.unet_max_width)
            .with_discriminator_width(flags.patch_width)
            // pix2pix's discriminator judges (sketch, face) pairs; CycleGAN's see one domain.
            .with_conditional(mode == TranslateMode::Pix2Pix);
        let config = Self {
            run,
            optimizer,
            l1_weight: flags.l1_weight,
            cycle_weight: flags.cycle_weight,
            identity_weight: flags.identity_weight,
            ..Self::new(mode, faces, sketches, model, 1, 1)
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.model
            .validate()
            .context("invalid --image-size or U-Net/PatchGAN width")?;
        self.run.validate()?;
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
        self.optimizer.validate()
    }
}
