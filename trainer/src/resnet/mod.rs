//! `facegan train --model resnet`: a ResNet generator (`facegan_model::resnet`) against a
//! spectrally normalised ResNet discriminator, with the hinge loss, two learning rates, an
//! optional R1 penalty, DiffAugment and the moving average of the generator, as a model of the
//! training driver. The recipe of SNGAN (Miyato et al. 2018) and its successors, made small.

mod config;
mod discriminator;
mod grow;
mod spectral_norm;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::FaceGenerator;
use facegan_model::weights::{Precision, save_face_generator_as};
use serde::{Deserialize, Serialize};

pub use config::{Architecture, TrainConfig};
pub use discriminator::{ResnetDiscriminator, init_discriminator};
pub use spectral_norm::SnConv2d;

use crate::adversarial::{
    R1_STEP, hinge_discriminator_loss, hinge_generator_loss, r1_estimate, read_scalars,
    scoring_copy,
};
use crate::augment::augment;
use crate::data::{ImageSet, batch_tensor, load_training_set};
use crate::face_gan::{
    GanParts, check_diversity, diversity_panel, face_generator_bytes, generator_from_file,
    load_face_generator_bytes, noise, sample_grid,
};
use crate::run::{Batch, Panel, RunConfig, RunOptions, SampleGrid, Sections, Trainable};

/// The ResNet's columns of `log.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResnetLosses {
    /// Hinge loss of D (without the R1 term).
    pub d_loss: f32,
    /// Hinge loss of G; in the discriminator's warm-up, the loss it would have had (scored
    /// by D before D's step).
    pub g_loss: f32,
    /// D's mean logit on real and on generated images (hinge: > 1 and < -1 once sure).
    pub d_real: f32,
    pub d_fake: f32,
    /// The R1 estimate `E |grad D(x)|^2` (0 when the penalty is off).
    pub r1: f32,
}

/// Both networks, their optimisers and the generator's moving average. The generator is the
/// ResNet's own, or a DCGAN's continued under this discriminator (`--init-generator`).
pub struct Resnet {
    pub parts: GanParts<FaceGenerator, ResnetDiscriminator>,
}

impl RunConfig for TrainConfig {
    type Architecture = Architecture;
    type Data = ImageSet;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> Architecture {
        TrainConfig::architecture(self)
    }

    fn load_data(&self) -> anyhow::Result<ImageSet> {
        self.validate()?;
        load_training_set(&self.data, self.model.image_size, self.run.max_images)
    }

    fn data_len(images: &ImageSet) -> usize {
        images.len()
    }
}

impl Trainable for Resnet {
    const KIND: &'static str = "resnet";
    type Config = TrainConfig;
    type Losses = ResnetLosses;

    fn fresh(config: &TrainConfig, device: &Device) -> anyhow::Result<Self> {
        device.seed(config.run.seed);
        if let Some(path) = &config.grow_from {
            return Ok(Self {
                parts: grow::grown_parts(config, path, device)?,
            });
        }
        let generator = match &config.init_generator {
            Some(path) => generator_from_file(
                path,
                &config.generator_config(),
                config.generator_config().init(device),
                Some,
            )?,
            None => config.generator_config().init(device),
        };
        Ok(Self {
            parts: GanParts::fresh(
                generator,
                init_discriminator(&config.model, device),
                config.ema_decay,
                &config.optimizer,
            ),
        })
    }

    fn step(
        &mut self,
        config: &TrainConfig,
        images: &ImageSet,
        batch: Batch,
        device: &Device,
    ) -> ResnetLosses {
        let step = batch.step;
        let losses = self.train_step(config, images, batch, device);
        self.parts.update_average(step);
        losses
    }

    fn summary(losses: &ResnetLosses) -> Vec<(&'static str, f32)> {
        vec![
            ("d_loss", losses.d_loss),
            ("g_loss", losses.g_loss),
            ("D(x)", losses.d_real),
            ("D(G(z))", losses.d_fake),
            ("r1", losses.r1),
        ]
    }

    fn learning_rates(config: &TrainConfig) -> Vec<(&'static str, f64)> {
        config.optimizer.learning_rates()
    }

    fn panels(config: &TrainConfig) -> Vec<Panel> {
        let mut panels = vec![
            Panel::steps("Losses (hinge)", &["d_loss", "g_loss"]),
            Panel::steps(
                "D's mean logit on real and generated",
                &["d_real", "d_fake"],
            )
            .guide(1.0, "hinge margin, real")
            .guide(-1.0, "hinge margin, generated"),
        ];
        if config.r1_gamma > 0.0 {
            panels.push(Panel::steps("R1: E |grad D(x)|^2", &["r1"]));
        }
        panels.push(diversity_panel());
        panels
    }

    fn samples(
        &self,
        config: &TrainConfig,
        _images: &ImageSet,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        sample_grid(
            |z| self.sample_generator().valid().forward(z),
            config.generator_config().latent_size(),
            config.model.image_size,
            device,
        )
    }

    fn end_epoch(
        &mut self,
        _config: &TrainConfig,
        images: &ImageSet,
        run_dir: &Path,
        epoch: usize,
        grid: &SampleGrid,
    ) -> anyhow::Result<String> {
        check_diversity(images, run_dir, epoch, grid)
    }

    fn snapshot(&self, config: &TrainConfig, _images: &ImageSet) -> Option<Vec<u8>> {
        Some(save_face_generator_as(
            self.sample_generator(),
            &config.generator_config(),
            Precision::Half,
        ))
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        self.parts.sections(face_generator_bytes)
    }

    fn load(
        config: &TrainConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let model = config.generator_config();
        let parts = GanParts::load(
            sections,
            |bytes, device| load_face_generator_bytes(&model, bytes, device),
            init_discriminator(&config.model, device),
            config.ema_decay,
            &config.optimizer,
            device,
        )?;
        Ok(Self { parts })
    }
}

impl Resnet {
    /// The generator that draws samples: the average when the run keeps one.
    pub fn sample_generator(&self) -> &FaceGenerator {
        self.parts.sampler()
    }

    /// One discriminator update, then one generator update (none in the discriminator's
    /// warm-up), on `batch`.
    pub fn train_step(
        &mut self,
        config: &TrainConfig,
        images: &ImageSet,
        batch: Batch,
        device: &Device,
    ) -> ResnetLosses {
        let Batch {
            step,
            indices,
            rng,
            inject_nan,
            ..
        } = batch;
        let generator_moves = step > config.discriminator_warmup;
        let n = indices.len();
        let latent = config.generator_config().latent_size();
        let flips: Vec<bool> = (0..n).map(|_| rng.chance(0.5)).collect();
        let real = augment(
            batch_tensor(images, indices, &flips, device),
            &config.augment,
            rng,
        );
        let z = noise(rng, n, latent, device);
        let fake = if generator_moves {
            self.parts.generator.forward(z)
        } else {
            // Untracked: a graph that no backward consumes is never freed.
            self.parts.generator.clone().no_grad().forward(z)
        };

        // Discriminator: reals above +1, fakes below -1. D has no BatchNorm, so reals, fakes
        // (and, for R1, nudged reals) go through as one batch: one pass, one power-iteration
        // step per layer.
        let mut inputs = vec![
            real.clone(),
            augment(fake.clone().detach(), &config.augment, rng),
        ];
        let with_r1 = config.r1_gamma > 0.0;
        if with_r1 {
            // From the run's stream, so a resumed run draws the same nudges.
            let dims = real.dims();
            let values: Vec<f32> = (0..real.shape().num_elements())
                .map(|_| rng.normal() * R1_STEP as f32)
                .collect();
            inputs.push(real + Tensor::from_data(TensorData::new(values, dims), device));
        }
        let logits = self.parts.discriminator.forward(Tensor::cat(inputs, 0));
        let real_logits = logits.clone().slice(0..n);
        let fake_logits = logits.clone().slice(n..2 * n);
        let mut d_loss = hinge_discriminator_loss(real_logits.clone(), fake_logits.clone());
        if inject_nan {
            d_loss = d_loss.add_scalar(f32::NAN);
        }
        let d_loss_value = d_loss.clone().detach();
        let r1 = if with_r1 {
            let r1 = r1_estimate(real_logits.clone(), logits.slice(2 * n..3 * n), R1_STEP);
            d_loss = d_loss + r1.clone().mul_scalar(config.r1_gamma / 2.0);
            r1.detach()
        } else {
            Tensor::zeros([1], device)
        };
        let d_real = real_logits.mean().detach();
        let d_fake = fake_logits.mean().detach();
        self.parts
            .step_discriminator(d_loss, config.optimizer.discriminator_lr);

        // Generator: raise the updated discriminator's score of its images.
        let g_loss_value = if generator_moves {
            let scorer = scoring_copy(&self.parts.discriminator);
            let g_loss = hinge_generator_loss(scorer.forward(augment(fake, &config.augment, rng)));
            let value = g_loss.clone().detach();
            self.parts
                .step_generator(g_loss, config.optimizer.generator_lr);
            value
        } else {
            // A held generator reports its hinge loss before D's step.
            d_fake.clone().neg()
        };

        let [d_loss, g_loss, d_real, d_fake, r1] =
            read_scalars([d_loss_value, g_loss_value, d_real, d_fake, r1]);
        ResnetLosses {
            d_loss,
            g_loss,
            d_real,
            d_fake,
            r1,
        }
    }
}
