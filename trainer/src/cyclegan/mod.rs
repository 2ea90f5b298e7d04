//! `facegan train --model cyclegan`: sketch to face from unpaired sketches (domain A) and faces (domain B): G_AB draws faces
//! from sketches (with a colour code), G_BA sketches from faces; each direction must undo the
//! other (cycle consistency) and leave its own domain alone (identity), while two PatchGANs
//! judge each domain, with least-squares losses and image pools as in the paper.
//!
//! The source project's reverse generator collapsed to blank sketches and hid the face in
//! faint patterns the forward one could read back. Here the face-to-sketch-to-face cycle gets
//! the face's colour code, so the sketch need not carry colour, and D_A judges the sketches.

mod pool;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use facegan_model::{PatchDiscriminator, SplitMix64, TranslatorConfig, UNet};

use crate::adversarial::scoring_copy;
use crate::run::{
    Batch, Panel, SampleGrid, Sections, Trainable, descend, epoch_order, load_module, module_bytes,
    optimizer_bytes, optimizer_step,
};
use crate::translate::{
    SKETCH_TO_FACE, TranslateConfig, TranslationLosses, TranslationSet, rgb, snapshot,
};
use pool::ImagePool;

/// Both generators, both discriminators, their optimisers, the pools and the run's stream.
pub struct CycleGan {
    pub sketch_to_face: UNet,
    pub face_to_sketch: UNet,
    pub sketch_critic: PatchDiscriminator,
    pub face_critic: PatchDiscriminator,
    pub optimizers: [ModuleOptimizer; 4],
    pub pools: [ImagePool; 2],
}

/// The face-to-sketch direction's config: faces in, one grey channel out, no colour code.
fn reverse_config(model: &TranslatorConfig) -> TranslatorConfig {
    model
        .clone()
        .with_input_channels(model.output_channels)
        .with_output_channels(model.input_channels)
        .with_code_size(0)
}

/// Pool size of the CycleGAN paper.
const POOL_SIZE: usize = 50;

/// Least squares: mean of (x - target)^2.
fn least_squares(scores: Tensor<4>, target: f32) -> Tensor<1> {
    scores.sub_scalar(target).powi_scalar(2).mean()
}

impl CycleGan {
    fn new(config: &TranslateConfig, device: &Device) -> Self {
        device.seed(config.run.seed);
        let reverse = reverse_config(&config.model);
        Self {
            sketch_to_face: config.model.init_unet(device),
            face_to_sketch: reverse.init_unet(device),
            sketch_critic: reverse.init_patch_discriminator(device),
            face_critic: config.model.init_patch_discriminator(device),
            optimizers: std::array::from_fn(|_| config.optimizer.adam()),
            pools: [ImagePool::new(POOL_SIZE), ImagePool::new(POOL_SIZE)],
        }
    }

    /// One generator update (both directions), then one update of each discriminator.
    /// `sketch_code` colours the sketches (codes of other faces: the sketches have none);
    /// `face_code` is the faces' own.
    #[allow(clippy::too_many_arguments)]
    fn train_step(
        &mut self,
        config: &TranslateConfig,
        rng: &mut SplitMix64,
        sketch: Tensor<4>,
        face: Tensor<4>,
        sketch_code: Tensor<2>,
        face_code: Tensor<2>,
        inject_nan: bool,
    ) -> TranslationLosses {
        // Generators.
        let fake_face = self.sketch_to_face.forward(sketch.clone(), sketch_code);
        let fake_sketch = self.face_to_sketch.forward_plain(face.clone());
        let cycled_sketch = self.face_to_sketch.forward_plain(fake_face.clone());
        let cycled_face = self
            .sketch_to_face
            .forward(fake_sketch.clone(), face_code.clone());
        // Identity, with the channels adapted: a face's grey version, coloured by its own
        // code, should come back as the face; a sketch as grey RGB should stay the sketch.
        let face_again = self
            .sketch_to_face
            .forward(face.clone().mean_dim(1), face_code);
        let sketch_again = self
            .face_to_sketch
            .forward_plain(sketch.clone().repeat_dim(1, 3));

        let (face_critic, sketch_critic) = (
            scoring_copy(&self.face_critic),
            scoring_copy(&self.sketch_critic),
        );
        let adversarial = least_squares(face_critic.forward(fake_face.clone()), 1.0)
            + least_squares(sketch_critic.forward(fake_sketch.clone()), 1.0);
        let cycle = ((cycled_sketch - sketch.clone()).abs().mean()
            + (cycled_face - face.clone()).abs().mean())
        .mul_scalar(0.5);
        let identity = ((sketch_again - sketch.clone()).abs().mean()
            + (face_again - face.clone()).abs().mean())
        .mul_scalar(0.5);
        let g_adversarial = adversarial.clone().detach();
        let cycle_value = cycle.clone().detach();
        let g_loss = adversarial
            + cycle.mul_scalar(2.0 * config.cycle_weight)
            + identity.mul_scalar(2.0 * config.cycle_weight * config.identity_weight);
        let mut grads = g_loss.backward();
        let to_face = GradientsParams::from_module(&mut grads, &self.sketch_to_face);
        let to_sketch = GradientsParams::from_module(&mut grads, &self.face_to_sketch);
        let [g_ab, g_ba, d_a, d_b] = &mut self.optimizers;
        self.sketch_to_face = optimizer_step(
            g_ab,
            config.optimizer.generator_lr,
            self.sketch_to_face.clone(),
            to_face,
        );
        self.face_to_sketch = optimizer_step(
            g_ba,
            config.optimizer.generator_lr,
            self.face_to_sketch.clone(),
            to_sketch,
        );

        // Discriminators, on pooled past fakes.
        let pooled_face = self.pools[1].query(fake_face.detach(), rng);
        let pooled_sketch = self.pools[0].query(fake_sketch.detach(), rng);
        let real_scores = self.face_critic.forward(face);
        let fake_scores = self.face_critic.forward(pooled_face);
        let d_real = real_scores.clone().mean().detach();
        let d_fake = fake_scores.clone().mean().detach();
        let mut face_loss =
            (least_squares(real_scores, 1.0) + least_squares(fake_scores, 0.0)).mul_scalar(0.5);
        if inject_nan {
            face_loss = face_loss.add_scalar(f32::NAN);
        }
        let sketch_loss = (least_squares(self.sketch_critic.forward(sketch), 1.0)
            + least_squares(self.sketch_critic.forward(pooled_sketch), 0.0))
        .mul_scalar(0.5);
        let d_loss = (face_loss.clone() + sketch_loss.clone()).detach();
        descend(
            d_b,
            config.optimizer.discriminator_lr,
            &mut self.face_critic,
            face_loss,
        );
        descend(
            d_a,
            config.optimizer.discriminator_lr,
            &mut self.sketch_critic,
            sketch_loss,
        );

        // `d_loss` is D_A's plus D_B's; `l1` the cycles' L1; `d_real`, `d_fake` D_B's mean scores
        // of real and generated faces (targets 1 and 0).
        TranslationLosses::read([d_loss, g_adversarial, cycle_value, d_real, d_fake])
    }
}

/// Sections of the four Adam states, in the order of `CycleGan::optimizers`.
const OPTIMIZERS: [&str; 4] = [
    "sketch_to_face_optimizer",
    "face_to_sketch_optimizer",
    "sketch_critic_optimizer",
    "face_critic_optimizer",
];
const POOLS: [&str; 2] = ["sketch_pool", "face_pool"];
/// Rows of each epoch's sample grid.
const SAMPLE_ROWS: usize = 8;

impl Trainable for CycleGan {
    const KIND: &'static str = "cyclegan";
    type Config = TranslateConfig;
    type Losses = TranslationLosses;

    fn fresh(config: &TranslateConfig, device: &Device) -> anyhow::Result<Self> {
        Ok(Self::new(config, device))
    }

    /// The driver's order shuffles the sketches; the faces, and the faces whose colour codes
    /// colour the sketches, follow shuffles of their own (the folders are unpaired).
    fn step(
        &mut self,
        config: &TranslateConfig,
        data: &TranslationSet,
        batch: Batch,
        device: &Device,
    ) -> TranslationLosses {
        let size = batch.indices.len();
        let range = batch.number * size..(batch.number + 1) * size;
        let seed = config.run.seed;
        let faces = &epoch_order(seed ^ 0xFACE, batch.epoch, data.faces.len())[range.clone()];
        let codes = &epoch_order(seed ^ 0xC0DE, batch.epoch, data.faces.len())[range];
        let sketch = data.sketch_batch(batch.indices, device);
        let face = data.face_batch(faces, device);
        let sketch_code = data.code_batch(codes, device);
        let face_code = data.code_batch(faces, device);
        self.train_step(
            config,
            batch.rng,
            sketch,
            face,
            sketch_code,
            face_code,
            batch.inject_nan,
        )
    }

    fn summary(losses: &TranslationLosses) -> Vec<(&'static str, f32)> {
        losses.summary()
    }

    fn learning_rates(config: &TranslateConfig) -> Vec<(&'static str, f64)> {
        config.optimizer.learning_rates()
    }

    fn panels(_config: &TranslateConfig) -> Vec<Panel> {
        vec![
            Panel::steps("Losses (least squares)", &["d_loss", "g_adversarial"]),
            Panel::steps("Cycle L1", &["l1"]),
            Panel::steps(
                "Face critic's score: real, generated",
                &["d_real", "d_fake"],
            )
            .guide(1.0, "target, real")
            .guide(0.0, "target, generated"),
        ]
    }

    /// Per row: a sketch, its face (coloured with the code of the face in the same row), the
    /// sketch drawn back from that face; then a face, its sketch, the face drawn back from
    /// that sketch. A collapsing face-to-sketch direction shows as blank middle tiles on the
    /// right.
    fn samples(
        &self,
        config: &TranslateConfig,
        data: &TranslationSet,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        let indices: Vec<usize> = (0..data.len().min(SAMPLE_ROWS)).collect();
        let size = config.model.image_size;
        let to_face = self.sketch_to_face.valid();
        let to_sketch = self.face_to_sketch.valid();
        let sketches = data.sketch_batch(&indices, device);
        let codes = data.code_batch(&indices, device);
        let faces = to_face.forward(sketches.clone(), codes.clone());
        let sketched_back = to_sketch.forward_plain(faces.clone());
        let drawn = to_sketch.forward_plain(data.face_batch(&indices, device));
        let faced_back = to_face.forward(drawn.clone(), codes);
        let columns = [
            rgb(sketches, size)?,
            rgb(faces, size)?,
            rgb(sketched_back, size)?,
            indices
                .iter()
                .map(|&i| data.faces.image(i).to_vec())
                .collect(),
            rgb(drawn, size)?,
            rgb(faced_back, size)?,
        ];
        let mut tiles = Vec::with_capacity(indices.len() * 6);
        for row in 0..indices.len() {
            tiles.extend(columns.iter().map(|column| column[row].clone()));
        }
        Ok(SampleGrid {
            tiles,
            size,
            columns: 6,
        })
    }

    fn snapshot(&self, config: &TranslateConfig, data: &TranslationSet) -> Option<Vec<u8>> {
        Some(snapshot(&self.sketch_to_face, config, data))
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        let mut sections = vec![
            (SKETCH_TO_FACE, module_bytes(&self.sketch_to_face)?),
            ("face_to_sketch", module_bytes(&self.face_to_sketch)?),
            ("sketch_critic", module_bytes(&self.sketch_critic)?),
            ("face_critic", module_bytes(&self.face_critic)?),
        ];
        for (name, optimizer) in OPTIMIZERS.into_iter().zip(&self.optimizers) {
            sections.push((name, optimizer_bytes(optimizer)?));
        }
        for (name, pool) in POOLS.into_iter().zip(&self.pools) {
            sections.push((name, pool.to_bytes()));
        }
        Ok(sections)
    }

    fn load(
        config: &TranslateConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let model = &config.model;
        let reverse = reverse_config(model);
        let mut optimizer = |name: &str| -> anyhow::Result<ModuleOptimizer> {
            config.optimizer.adam_from(sections.take(name)?)
        };
        let optimizers = [
            optimizer(OPTIMIZERS[0])?,
            optimizer(OPTIMIZERS[1])?,
            optimizer(OPTIMIZERS[2])?,
            optimizer(OPTIMIZERS[3])?,
        ];
        let mut pool = |name: &str| -> anyhow::Result<ImagePool> {
            ImagePool::from_bytes(&sections.take(name)?).ok_or_else(|| {
                anyhow::anyhow!(
                    "the image pool {name:?} of {} is damaged",
                    sections.path().display()
                )
            })
        };
        let pools = [pool(POOLS[0])?, pool(POOLS[1])?];
        Ok(Self {
            sketch_to_face: load_module(model.init_unet(device), sections.take(SKETCH_TO_FACE)?)?,
            face_to_sketch: load_module(
                reverse.init_unet(device),
                sections.take("face_to_sketch")?,
            )?,
            sketch_critic: load_module(
                reverse.init_patch_discriminator(device),
                sections.take("sketch_critic")?,
            )?,
            face_critic: load_module(
                model.init_patch_discriminator(device),
                sections.take("face_critic")?,
            )?,
            optimizers,
            pools,
        })
    }
}
