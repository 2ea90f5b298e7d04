//! `facegan train --model pix2pix`: sketch to face on paired sketches and faces. The
//! conditional PatchGAN learns to tell (sketch, face) from (sketch, generated face); the U-Net
//! learns to fool it while staying near the target in L1.

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use facegan_model::{PatchDiscriminator, UNet};

use crate::adversarial::{bce_with_logits, scoring_copy};
use crate::run::{
    Batch, Panel, SampleGrid, Sections, Trainable, descend, load_module, module_bytes,
    optimizer_bytes,
};
use crate::translate::{
    SKETCH_TO_FACE, TranslateConfig, TranslationLosses, TranslationSet, rgb, snapshot,
};

/// The U-Net, the conditional PatchGAN and their optimisers.
/// Pairs shown in each epoch's sample grid (the first ones in name order).
const SAMPLE_PAIRS: usize = 8;

pub struct Pix2Pix {
    pub generator: UNet,
    pub discriminator: PatchDiscriminator,
    pub generator_optimizer: ModuleOptimizer,
    pub discriminator_optimizer: ModuleOptimizer,
}

/// Patch logits `[n, 1, p, p]` as one vector, with a same-length target vector of `value`.
fn flat_with_targets(logits: Tensor<4>, value: f32, device: &Device) -> (Tensor<1>, Tensor<1>) {
    let count = logits.shape().num_elements();
    let flat = logits.reshape([count]);
    (flat, Tensor::full([count], value, device))
}

impl Pix2Pix {
    fn new(config: &TranslateConfig, device: &Device) -> Self {
        device.seed(config.run.seed);
        Self {
            generator: config.model.init_unet(device),
            discriminator: config.model.init_patch_discriminator(device),
            generator_optimizer: config.optimizer.adam(),
            discriminator_optimizer: config.optimizer.adam(),
        }
    }

    /// One discriminator update, then one generator update.
    fn train_step(
        &mut self,
        config: &TranslateConfig,
        sketch: Tensor<4>,
        face: Tensor<4>,
        code: Tensor<2>,
        inject_nan: bool,
    ) -> TranslationLosses {
        let device = sketch.device();
        let fake = self.generator.forward(sketch.clone(), code);

        // Discriminator: (sketch, face) is real, (sketch, detached fake) is fake. Halved, as in
        // pix2pix, so D learns at half G's pace.
        let real_pair = Tensor::cat(vec![sketch.clone(), face.clone()], 1);
        let fake_pair = Tensor::cat(vec![sketch.clone(), fake.clone().detach()], 1);
        let (real_logits, ones) =
            flat_with_targets(self.discriminator.forward(real_pair), 1.0, &device);
        let (fake_logits, zeros) =
            flat_with_targets(self.discriminator.forward(fake_pair), 0.0, &device);
        let d_real = sigmoid(real_logits.clone()).mean().detach();
        let d_fake = sigmoid(fake_logits.clone()).mean().detach();
        let mut d_loss = (bce_with_logits(real_logits, ones) + bce_with_logits(fake_logits, zeros))
            .mul_scalar(0.5);
        if inject_nan {
            d_loss = d_loss.add_scalar(f32::NAN);
        }
        let d_loss_value = d_loss.clone().detach();
        descend(
            &mut self.discriminator_optimizer,
            config.optimizer.discriminator_lr,
            &mut self.discriminator,
            d_loss,
        );

        // Generator: fool the updated discriminator, stay near the target.
        let fake_pair = Tensor::cat(vec![sketch, fake.clone()], 1);
        let scorer = scoring_copy(&self.discriminator);
        let (logits, ones) = flat_with_targets(scorer.forward(fake_pair), 1.0, &device);
        let adversarial = bce_with_logits(logits, ones);
        let l1 = (fake - face).abs().mean();
        let g_adversarial = adversarial.clone().detach();
        let l1_value = l1.clone().detach();
        let g_loss = adversarial + l1.mul_scalar(config.l1_weight);
        descend(
            &mut self.generator_optimizer,
            config.optimizer.generator_lr,
            &mut self.generator,
            g_loss,
        );
        TranslationLosses::read([d_loss_value, g_adversarial, l1_value, d_real, d_fake])
    }
}

impl Trainable for Pix2Pix {
    const KIND: &'static str = "pix2pix";
    type Config = TranslateConfig;
    type Losses = TranslationLosses;

    fn fresh(config: &TranslateConfig, device: &Device) -> anyhow::Result<Self> {
        Ok(Self::new(config, device))
    }

    fn step(
        &mut self,
        config: &TranslateConfig,
        pairs: &TranslationSet,
        batch: Batch,
        device: &Device,
    ) -> TranslationLosses {
        let sketch = pairs.sketch_batch(batch.indices, device);
        let face = pairs.face_batch(batch.indices, device);
        let code = pairs.code_batch(batch.indices, device);
        self.train_step(config, sketch, face, code, batch.inject_nan)
    }

    fn summary(losses: &TranslationLosses) -> Vec<(&'static str, f32)> {
        losses.summary()
    }

    fn learning_rates(config: &TranslateConfig) -> Vec<(&'static str, f64)> {
        config.optimizer.learning_rates()
    }

    fn panels(_config: &TranslateConfig) -> Vec<Panel> {
        vec![
            Panel::steps("Losses (BCE)", &["d_loss", "g_adversarial"]),
            Panel::steps("L1 to the target face", &["l1"]),
            Panel::steps(
                "D's probability: real pairs, generated pairs",
                &["d_real", "d_fake"],
            )
            .guide(0.5, "undecided"),
        ]
    }

    /// Per pair: the sketch (as grey RGB), the output for the target's colour code, the target.
    fn samples(
        &self,
        config: &TranslateConfig,
        pairs: &TranslationSet,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        let indices: Vec<usize> = (0..pairs.len().min(SAMPLE_PAIRS)).collect();
        let size = config.model.image_size;
        let faces = self.generator.valid().forward(
            pairs.sketch_batch(&indices, device),
            pairs.code_batch(&indices, device),
        );
        let mut tiles = Vec::with_capacity(indices.len() * 3);
        for (&index, output) in indices.iter().zip(rgb(faces, size)?) {
            tiles.push(pairs.sketches.image(index).to_vec());
            tiles.push(output);
            tiles.push(pairs.faces.image(index).to_vec());
        }
        Ok(SampleGrid {
            tiles,
            size,
            columns: 3,
        })
    }

    fn snapshot(&self, config: &TranslateConfig, pairs: &TranslationSet) -> Option<Vec<u8>> {
        Some(snapshot(&self.generator, config, pairs))
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            (SKETCH_TO_FACE, module_bytes(&self.generator)?),
            ("discriminator", module_bytes(&self.discriminator)?),
            (
                "sketch_to_face_optimizer",
                optimizer_bytes(&self.generator_optimizer)?,
            ),
            (
                "discriminator_optimizer",
                optimizer_bytes(&self.discriminator_optimizer)?,
            ),
        ])
    }

    fn load(
        config: &TranslateConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let model = &config.model;
        Ok(Self {
            generator: load_module(model.init_unet(device), sections.take(SKETCH_TO_FACE)?)?,
            discriminator: load_module(
                model.init_patch_discriminator(device),
                sections.take("discriminator")?,
            )?,
            generator_optimizer: config
                .optimizer
                .adam_from(sections.take("sketch_to_face_optimizer")?)?,
            discriminator_optimizer: config
                .optimizer
                .adam_from(sections.take("discriminator_optimizer")?)?,
        })
    }
}
