//! The two translation models behind one interface for the training loop: a step on a batch,
//! the sketch-to-face generator, and their checkpoint sections.

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use facegan_model::{SplitMix64, UNet};

use super::cyclegan::{CycleGan, reverse_config};
use super::data::TranslationSet;
use super::pix2pix::{Pix2Pix, adam};
use super::pool::ImagePool;
use super::{TranslateConfig, TranslateMode};

/// What one step measured, in the columns of a translation run's `log.csv`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepStats {
    pub d_loss: f32,
    /// The generators' adversarial loss alone.
    pub g_adversarial: f32,
    /// L1 to the target (pix2pix) or of the cycles (CycleGAN), in [-1, 1] units.
    pub l1: f32,
    pub d_real: f32,
    pub d_fake: f32,
}

pub(crate) enum Translator {
    Pix2Pix(Box<Pix2Pix>),
    CycleGan(Box<CycleGan>),
}

/// Which images one step uses.
pub(crate) struct BatchIndices<'a> {
    pub sketches: &'a [usize],
    pub faces: &'a [usize],
    /// Faces whose colour codes colour the sketches (CycleGAN: the sketches have no face).
    pub codes: &'a [usize],
}

fn record(bytes: Vec<u8>) -> anyhow::Result<ModuleRecord> {
    Ok(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))?)
}

fn module_bytes<M: Module>(module: &M) -> anyhow::Result<Vec<u8>> {
    Ok(module.clone().into_record().into_bytes()?.to_vec())
}

fn optimizer_bytes(optimizer: &ModuleOptimizer) -> anyhow::Result<Vec<u8>> {
    Ok(optimizer.into_bytes()?.to_vec())
}

impl Translator {
    pub fn fresh(config: &TranslateConfig, device: &Device) -> Self {
        match config.mode {
            TranslateMode::Pix2Pix => Self::Pix2Pix(Box::new(Pix2Pix::fresh(config, device))),
            TranslateMode::CycleGan => Self::CycleGan(Box::new(CycleGan::fresh(config, device))),
        }
    }

    /// The sketch-to-face U-Net: what samples show and export ships.
    pub fn sketch_to_face(&self) -> &UNet {
        match self {
            Self::Pix2Pix(model) => &model.generator,
            Self::CycleGan(model) => &model.sketch_to_face,
        }
    }

    /// The face-to-sketch U-Net of a CycleGAN.
    pub fn face_to_sketch(&self) -> Option<&UNet> {
        match self {
            Self::Pix2Pix(_) => None,
            Self::CycleGan(model) => Some(&model.face_to_sketch),
        }
    }

    pub fn step(
        &mut self,
        config: &TranslateConfig,
        data: &TranslationSet,
        batch: &BatchIndices,
        device: &Device,
        inject_nan: bool,
    ) -> StepStats {
        let sketch = data.sketch_batch(batch.sketches, device);
        let face = data.face_batch(batch.faces, device);
        match self {
            Self::Pix2Pix(model) => {
                let code = data.code_batch(batch.faces, device);
                model.step(config, sketch, face, code, inject_nan)
            }
            Self::CycleGan(model) => {
                let sketch_code = data.code_batch(batch.codes, device);
                let face_code = data.code_batch(batch.faces, device);
                model.step(config, sketch, face, sketch_code, face_code, inject_nan)
            }
        }
    }

    /// State of the random stream (CycleGAN's pools), for the checkpoint header.
    pub fn rng_state(&self) -> u64 {
        match self {
            Self::Pix2Pix(_) => 0,
            Self::CycleGan(model) => model.rng.state,
        }
    }

    /// Checkpoint sections after the header. The sketch-to-face U-Net always comes first.
    /// pix2pix: G, D, G's Adam, D's Adam. CycleGAN: G_AB, G_BA, D_A, D_B, their four Adam
    /// states, then the sketch and face pools.
    pub fn sections(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(match self {
            Self::Pix2Pix(model) => vec![
                module_bytes(&model.generator)?,
                module_bytes(&model.discriminator)?,
                optimizer_bytes(&model.generator_optimizer)?,
                optimizer_bytes(&model.discriminator_optimizer)?,
            ],
            Self::CycleGan(model) => {
                let mut sections = vec![
                    module_bytes(&model.sketch_to_face)?,
                    module_bytes(&model.face_to_sketch)?,
                    module_bytes(&model.sketch_critic)?,
                    module_bytes(&model.face_critic)?,
                ];
                for optimizer in &model.optimizers {
                    sections.push(optimizer_bytes(optimizer)?);
                }
                sections.extend(model.pools.iter().map(ImagePool::to_bytes));
                sections
            }
        })
    }

    /// Sections a checkpoint of `mode` holds after the header.
    pub fn section_count(mode: TranslateMode) -> usize {
        match mode {
            TranslateMode::Pix2Pix => 4,
            TranslateMode::CycleGan => 10,
        }
    }

    /// Rebuilds a model from [`Translator::sections`].
    pub fn from_sections(
        config: &TranslateConfig,
        sections: Vec<Vec<u8>>,
        rng_state: u64,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            sections.len() == Self::section_count(config.mode),
            "the checkpoint holds {} sections, a {:?} run {}",
            sections.len(),
            config.mode,
            Self::section_count(config.mode)
        );
        let mut sections = sections.into_iter();
        let mut next = || sections.next().expect("counted above");
        let model = &config.model;
        let optimizer = |bytes: Vec<u8>| adam(config).from_bytes(Bytes::from_bytes_vec(bytes));
        Ok(match config.mode {
            TranslateMode::Pix2Pix => Self::Pix2Pix(Box::new(Pix2Pix {
                generator: model.init_unet(device).try_load_record(record(next())?)?,
                discriminator: model
                    .init_patch_discriminator(device)
                    .try_load_record(record(next())?)?,
                generator_optimizer: optimizer(next())?,
                discriminator_optimizer: optimizer(next())?,
            })),
            TranslateMode::CycleGan => {
                let reverse = reverse_config(model);
                let sketch_to_face = model.init_unet(device).try_load_record(record(next())?)?;
                let face_to_sketch = reverse.init_unet(device).try_load_record(record(next())?)?;
                let sketch_critic = reverse
                    .init_patch_discriminator(device)
                    .try_load_record(record(next())?)?;
                let face_critic = model
                    .init_patch_discriminator(device)
                    .try_load_record(record(next())?)?;
                let optimizers = [
                    optimizer(next())?,
                    optimizer(next())?,
                    optimizer(next())?,
                    optimizer(next())?,
                ];
                let pool = |bytes: Vec<u8>| {
                    ImagePool::from_bytes(&bytes)
                        .ok_or_else(|| anyhow::anyhow!("the checkpoint's image pool is damaged"))
                };
                let pools = [pool(next())?, pool(next())?];
                Self::CycleGan(Box::new(CycleGan {
                    sketch_to_face,
                    face_to_sketch,
                    sketch_critic,
                    face_critic,
                    optimizers,
                    pools,
                    rng: SplitMix64::new(rng_state),
                }))
            }
        })
    }
}
