//! One CycleGAN step on unpaired sketches (domain A) and faces (domain B): G_AB draws faces
//! from sketches (with a colour code), G_BA sketches from faces; each direction must undo the
//! other (cycle consistency) and leave its own domain alone (identity), while two PatchGANs
//! judge each domain, with least-squares losses and image pools as in the paper.
//!
//! The source project's reverse generator collapsed to blank sketches and hid the face in
//! faint patterns the forward one could read back. Here the face-to-sketch-to-face cycle gets
//! the face's colour code, so the sketch need not carry colour, and D_A judges the sketches.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use facegan_model::{PatchDiscriminator, SplitMix64, TranslatorConfig, UNet};

use super::TranslateConfig;
use super::pix2pix::adam;
use super::pool::ImagePool;
use super::translator::StepStats;

/// Both generators, both discriminators, their optimisers, the pools and the run's stream.
pub(crate) struct CycleGan {
    pub sketch_to_face: UNet,
    pub face_to_sketch: UNet,
    pub sketch_critic: PatchDiscriminator,
    pub face_critic: PatchDiscriminator,
    pub optimizers: [ModuleOptimizer; 4],
    pub pools: [ImagePool; 2],
    pub rng: SplitMix64,
}

/// The face-to-sketch direction's config: faces in, one grey channel out, no colour code.
pub(crate) fn reverse_config(model: &TranslatorConfig) -> TranslatorConfig {
    model
        .clone()
        .with_input_channels(model.output_channels)
        .with_output_channels(model.input_channels)
        .with_code_size(0)
}

/// Pool size of the CycleGAN paper.
pub(crate) const POOL_SIZE: usize = 50;

/// Least squares: mean of (x - target)^2.
fn least_squares(scores: Tensor<4>, target: f32) -> Tensor<1> {
    scores.sub_scalar(target).powi_scalar(2).mean()
}

impl CycleGan {
    pub fn fresh(config: &TranslateConfig, device: &Device) -> Self {
        device.seed(config.seed);
        let reverse = reverse_config(&config.model);
        Self {
            sketch_to_face: config.model.init_unet(device),
            face_to_sketch: reverse.init_unet(device),
            sketch_critic: reverse.init_patch_discriminator(device),
            face_critic: config.model.init_patch_discriminator(device),
            optimizers: std::array::from_fn(|_| adam(config)),
            pools: [ImagePool::new(POOL_SIZE), ImagePool::new(POOL_SIZE)],
            rng: SplitMix64::new(config.seed ^ 0xC1C1_E6A4),
        }
    }

    /// One generator update (both directions), then one update of each discriminator.
    /// `sketch_code` colours the sketches (codes of other faces: the sketches have none);
    /// `face_code` is the faces' own.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        config: &TranslateConfig,
        sketch: Tensor<4>,
        face: Tensor<4>,
        sketch_code: Tensor<2>,
        face_code: Tensor<2>,
        inject_nan: bool,
    ) -> StepStats {
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

        let adversarial = least_squares(self.face_critic.forward(fake_face.clone()), 1.0)
            + least_squares(self.sketch_critic.forward(fake_sketch.clone()), 1.0);
        let cycle = ((cycled_sketch - sketch.clone()).abs().mean()
            + (cycled_face - face.clone()).abs().mean())
        .mul_scalar(0.5);
        let identity = ((sketch_again - sketch.clone()).abs().mean()
            + (face_again - face.clone()).abs().mean())
        .mul_scalar(0.5);
        let g_adversarial = adversarial.clone().into_scalar::<f32>();
        let cycle_value = cycle.clone().into_scalar::<f32>();
        let g_loss = adversarial
            + cycle.mul_scalar(2.0 * config.cycle_weight)
            + identity.mul_scalar(2.0 * config.cycle_weight * config.identity_weight);
        let mut grads = g_loss.backward();
        let to_face = GradientsParams::from_module(&mut grads, &self.sketch_to_face);
        let to_sketch = GradientsParams::from_module(&mut grads, &self.face_to_sketch);
        let [g_ab, g_ba, d_a, d_b] = &mut self.optimizers;
        self.sketch_to_face = g_ab.step(config.generator_lr, self.sketch_to_face.clone(), to_face);
        self.face_to_sketch =
            g_ba.step(config.generator_lr, self.face_to_sketch.clone(), to_sketch);

        // Discriminators, on pooled past fakes.
        let pooled_face = self.pools[1].query(fake_face.detach(), &mut self.rng);
        let pooled_sketch = self.pools[0].query(fake_sketch.detach(), &mut self.rng);
        let real_scores = self.face_critic.forward(face);
        let fake_scores = self.face_critic.forward(pooled_face);
        let d_real = real_scores.clone().mean().into_scalar::<f32>();
        let d_fake = fake_scores.clone().mean().into_scalar::<f32>();
        let mut face_loss =
            (least_squares(real_scores, 1.0) + least_squares(fake_scores, 0.0)).mul_scalar(0.5);
        if inject_nan {
            face_loss = face_loss.add_scalar(f32::NAN);
        }
        let sketch_loss = (least_squares(self.sketch_critic.forward(sketch), 1.0)
            + least_squares(self.sketch_critic.forward(pooled_sketch), 0.0))
        .mul_scalar(0.5);
        let d_loss =
            face_loss.clone().into_scalar::<f32>() + sketch_loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(face_loss.backward(), &self.face_critic);
        self.face_critic = d_b.step(config.discriminator_lr, self.face_critic.clone(), grads);
        let grads = GradientsParams::from_grads(sketch_loss.backward(), &self.sketch_critic);
        self.sketch_critic = d_a.step(config.discriminator_lr, self.sketch_critic.clone(), grads);

        // `d_loss` is D_A's plus D_B's; `l1` the cycles' L1; `d_real`, `d_fake` D_B's mean scores
        // of real and generated faces (targets 1 and 0).
        StepStats {
            d_loss,
            g_adversarial,
            l1: cycle_value,
            d_real,
            d_fake,
        }
    }
}
