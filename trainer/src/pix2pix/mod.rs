//! One pix2pix step: the conditional PatchGAN learns to tell (sketch, face) from
//! (sketch, generated face); the U-Net learns to fool it while staying near the target in L1.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use facegan_model::{PatchDiscriminator, UNet};

use super::TranslateConfig;
use super::translator::StepStats;
use crate::train::bce_with_logits;

/// The U-Net, the conditional PatchGAN and their optimisers.
pub(crate) struct Pix2Pix {
    pub generator: UNet,
    pub discriminator: PatchDiscriminator,
    pub generator_optimizer: ModuleOptimizer,
    pub discriminator_optimizer: ModuleOptimizer,
}

pub(crate) fn adam(config: &TranslateConfig) -> ModuleOptimizer {
    crate::train::adam(config.beta1, config.beta2)
}

/// Patch logits `[n, 1, p, p]` as one vector, with a same-length target vector of `value`.
fn flat_with_targets(logits: Tensor<4>, value: f32, device: &Device) -> (Tensor<1>, Tensor<1>) {
    let count = logits.shape().num_elements();
    let flat = logits.reshape([count]);
    (flat, Tensor::full([count], value, device))
}

impl Pix2Pix {
    pub fn fresh(config: &TranslateConfig, device: &Device) -> Self {
        device.seed(config.seed);
        Self {
            generator: config.model.init_unet(device),
            discriminator: config.model.init_patch_discriminator(device),
            generator_optimizer: adam(config),
            discriminator_optimizer: adam(config),
        }
    }

    /// One discriminator update, then one generator update.
    pub fn step(
        &mut self,
        config: &TranslateConfig,
        sketch: Tensor<4>,
        face: Tensor<4>,
        code: Tensor<2>,
        inject_nan: bool,
    ) -> StepStats {
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
        let d_real = sigmoid(real_logits.clone()).mean().into_scalar::<f32>();
        let d_fake = sigmoid(fake_logits.clone()).mean().into_scalar::<f32>();
        let mut d_loss = (bce_with_logits(real_logits, ones) + bce_with_logits(fake_logits, zeros))
            .mul_scalar(0.5);
        if inject_nan {
            d_loss = d_loss.add_scalar(f32::NAN);
        }
        let d_loss_value = d_loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
        self.discriminator = self.discriminator_optimizer.step(
            config.discriminator_lr,
            self.discriminator.clone(),
            grads,
        );

        // Generator: fool the updated discriminator, stay near the target.
        let fake_pair = Tensor::cat(vec![sketch, fake.clone()], 1);
        let (logits, ones) = flat_with_targets(self.discriminator.forward(fake_pair), 1.0, &device);
        let adversarial = bce_with_logits(logits, ones);
        let l1 = (fake - face).abs().mean();
        let g_adversarial = adversarial.clone().into_scalar::<f32>();
        let l1_value = l1.clone().into_scalar::<f32>();
        let g_loss = adversarial + l1.mul_scalar(config.l1_weight);
        let grads = GradientsParams::from_grads(g_loss.backward(), &self.generator);
        self.generator =
            self.generator_optimizer
                .step(config.generator_lr, self.generator.clone(), grads);
        StepStats {
            d_loss: d_loss_value,
            g_adversarial,
            l1: l1_value,
            d_real,
            d_fake,
        }
    }
}
