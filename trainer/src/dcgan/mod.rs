//! `facegan train --model dcgan`: the face generator of the page (Radford et al. 2015), its
//! discriminator, label tricks and the moving average of its weights, as a model of the
//! training driver.

mod config;
mod labels;

use std::path::Path;

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::weights::{Precision, save_generator_as};
use facegan_model::{DcganConfig, Discriminator, FaceGenerator, Generator};
use serde::{Deserialize, Serialize};

pub use config::{LabelConfig, TrainConfig, default_generator_steps};
pub use labels::{LabelPolicy, LabelSmoothing};

use crate::adversarial::{bce_with_logits, read_scalars, scoring_copy};
use crate::augment::augment;
use crate::data::{ImageSet, batch_tensor, load_training_set};
use crate::face_gan::{
    GanParts, check_diversity, diversity_panel, generator_from_file, noise, sample_grid,
};
use crate::run::{
    Batch, Panel, RunConfig, RunOptions, SampleGrid, Sections, Trainable, load_module, module_bytes,
};

/// Trains (or resumes) the DCGAN run in `run_dir` through the driver (`crate::run::train`).
pub fn train(
    config: &TrainConfig,
    run_dir: &Path,
    device: &Device,
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<crate::run::TrainSummary> {
    crate::run::train::<Dcgan>(config, run_dir, device, stop)
}

/// The DCGAN's columns of `log.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DcganLosses {
    pub d_loss: f32,
    pub g_loss: f32,
    /// D's mean probability that a real image is real.
    pub d_x: f32,
    /// D's mean probability that a fake is real (before its update).
    pub d_g_z: f32,
}

/// Both networks, their optimisers and the generator's moving average, and the label policy.
pub struct Dcgan {
    pub parts: GanParts<Generator, Discriminator>,
    labels: LabelPolicy,
}

impl RunConfig for TrainConfig {
    type Architecture = DcganConfig;
    type Data = ImageSet;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> DcganConfig {
        self.model.clone()
    }

    fn load_data(&self) -> anyhow::Result<ImageSet> {
        self.validate()?;
        load_training_set(&self.data, self.model.image_size, self.run.max_images)
    }

    fn data_len(images: &ImageSet) -> usize {
        images.len()
    }
}

impl Trainable for Dcgan {
    const KIND: &'static str = "dcgan";
    type Config = TrainConfig;
    type Losses = DcganLosses;

    fn fresh(config: &TrainConfig, device: &Device) -> anyhow::Result<Self> {
        device.seed(config.run.seed);
        let generator = match &config.init_generator {
            Some(path) => generator_from_file(
                path,
                &config.model.clone().into(),
                config.model.init_generator(device),
                |file| match file {
                    FaceGenerator::Dcgan(generator) => Some(generator),
                    FaceGenerator::Resnet(_) => None,
                },
            )?,
            None => config.model.init_generator(device),
        };
        Ok(Self {
            parts: GanParts::fresh(
                generator,
                config.model.init_discriminator(device),
                config.ema_decay,
                &config.optimizer,
            ),
            labels: LabelPolicy::new(config.labels.clone()),
        })
    }

    fn step(
        &mut self,
        config: &TrainConfig,
        images: &ImageSet,
        batch: Batch,
        device: &Device,
    ) -> DcganLosses {
        let step = batch.step;
        let losses = self.train_step(config, images, batch, device);
        self.parts.update_average(step);
        losses
    }

    fn summary(losses: &DcganLosses) -> Vec<(&'static str, f32)> {
        vec![
            ("d_loss", losses.d_loss),
            ("g_loss", losses.g_loss),
            ("D(x)", losses.d_x),
            ("D(G(z))", losses.d_g_z),
        ]
    }

    fn learning_rates(config: &TrainConfig) -> Vec<(&'static str, f64)> {
        config.optimizer.learning_rates()
    }

    fn panels(_config: &TrainConfig) -> Vec<Panel> {
        vec![
            Panel::steps("Losses (BCE)", &["d_loss", "g_loss"]),
            Panel::steps("D(x) and D(G(z))", &["d_x", "d_g_z"]).guide(0.5, "undecided"),
            diversity_panel(),
        ]
    }

    fn samples(
        &self,
        config: &TrainConfig,
        _images: &ImageSet,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        sample_grid(
            |z| self.sample_generator().valid().forward(z),
            config.model.latent_size,
            config.model.image_size,
            device,
        )
    }

    /// The mode-collapse check: the samples' spread against the real images'.
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

    /// The sample generator as an f16 `.fgw`: near-lossless, so averaging several snapshots
    /// adds no quantisation noise.
    fn snapshot(&self, config: &TrainConfig, _images: &ImageSet) -> Option<Vec<u8>> {
        Some(save_generator_as(
            self.sample_generator(),
            &config.model,
            Precision::Half,
        ))
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        self.parts.sections(module_bytes)
    }

    fn load(
        config: &TrainConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let model = &config.model;
        let parts = GanParts::load(
            sections,
            |bytes, device| load_module(model.init_generator(device), bytes),
            model.init_discriminator(device),
            config.ema_decay,
            &config.optimizer,
            device,
        )?;
        Ok(Self {
            parts,
            labels: LabelPolicy::new(config.labels.clone()),
        })
    }
}

impl Dcgan {
    /// The generator that draws samples: the average when the run keeps one.
    pub fn sample_generator(&self) -> &Generator {
        self.parts.sampler()
    }

    /// One discriminator update followed by `generator_steps` generator updates, on `batch`.
    pub fn train_step(
        &mut self,
        config: &TrainConfig,
        images: &ImageSet,
        batch: Batch,
        device: &Device,
    ) -> DcganLosses {
        let Batch {
            indices,
            epoch,
            rng,
            inject_nan,
            ..
        } = batch;
        let n = indices.len();
        let latent = config.model.latent_size;
        let flips: Vec<bool> = (0..n).map(|_| rng.chance(0.5)).collect();
        let real = batch_tensor(images, indices, &flips, device);

        // Discriminator: real images towards "real", detached fakes towards "fake".
        let z = noise(rng, n, latent, device);
        let fake = self.parts.generator.forward(z);
        let real_logits = self
            .parts
            .discriminator
            .forward(augment(real, &config.augment, rng));
        let fake_logits =
            self.parts
                .discriminator
                .forward(augment(fake.clone().detach(), &config.augment, rng));
        let real_targets = self.labels.discriminator_targets(rng, n, true, epoch);
        let fake_targets = self.labels.discriminator_targets(rng, n, false, epoch);
        let mut d_loss = bce_with_logits(real_logits.clone(), vector(real_targets, device))
            + bce_with_logits(fake_logits.clone(), vector(fake_targets, device));
        if inject_nan {
            d_loss = d_loss.add_scalar(f32::NAN);
        }
        let d_x = sigmoid(real_logits).mean().detach();
        let d_g_z = sigmoid(fake_logits).mean().detach();
        let d_loss_value = d_loss.clone().detach();
        self.parts
            .step_discriminator(d_loss, config.optimizer.discriminator_lr);

        // Generator: fakes scored by the updated discriminator, pushed towards "real".
        let scorer = scoring_copy(&self.parts.discriminator);
        let mut g_loss_value = None;
        let mut fake = Some(fake);
        for _ in 0..config.generator_steps {
            let images = match fake.take() {
                Some(first) => first,
                None => self.parts.generator.forward(noise(rng, n, latent, device)),
            };
            let logits = scorer.forward(augment(images, &config.augment, rng));
            let targets = Tensor::full([n], self.labels.generator_target(), device);
            let g_loss = bce_with_logits(logits, targets);
            g_loss_value = Some(g_loss.clone().detach());
            self.parts
                .step_generator(g_loss, config.optimizer.generator_lr);
        }
        let g_loss_value = g_loss_value.expect("at least one generator step");
        let [d_loss, g_loss, d_x, d_g_z] = read_scalars([d_loss_value, g_loss_value, d_x, d_g_z]);
        DcganLosses {
            d_loss,
            g_loss,
            d_x,
            d_g_z,
        }
    }
}

fn vector(values: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face_gan::{GeneratorAverage, latent_tensor};
    use std::path::PathBuf;

    fn outputs(generator: &Generator, device: &Device) -> Vec<f32> {
        let z = latent_tensor(&[1, 2, 3], 100, device);
        generator
            .valid()
            .forward(z)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    /// A DCGAN small enough to train a step in a unit test.
    fn tiny_model() -> DcganConfig {
        DcganConfig::new()
            .with_image_size(32)
            .with_generator_width(8)
            .with_discriminator_width(8)
    }

    fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    /// The model after a save and a load, as a resume sees it.
    fn reloaded(gan: &Dcgan, config: &TrainConfig, device: &Device) -> Dcgan {
        let mut sections = Sections::new(Path::new("test"));
        for (name, bytes) in gan.save().unwrap() {
            sections.insert(name, bytes);
        }
        Dcgan::load(config, &mut sections, device).unwrap()
    }

    #[test]
    fn a_checkpoint_carries_the_generator_average_across_a_resume() {
        let device = Device::flex();
        let train_device = device.clone().autodiff();
        let model = tiny_model();
        let config = TrainConfig::new(PathBuf::from("unused"), model.clone(), 1, 4);
        let mut gan = Dcgan::fresh(&config, &train_device).unwrap();
        // An average far from the generator: a generator of another seed.
        device.seed(7);
        gan.parts.average = GeneratorAverage::start(0.999, &model.init_generator(&device));
        let before = outputs(gan.sample_generator(), &device);
        let generator = outputs(&gan.parts.generator, &device);

        let resumed = reloaded(&gan, &config, &train_device);
        let after = outputs(resumed.sample_generator(), &device);

        // Untrained faces are nearly flat (outputs ~1e-4), so compare against that scale.
        let apart = largest_difference(&before, &generator);
        let drift = largest_difference(&before, &after);
        assert!(apart > 1e-5, "the test needs distinct generators ({apart})");
        assert!(
            drift < apart / 1000.0,
            "the average was not restored: {drift} vs {apart}"
        );
    }

    #[test]
    fn a_run_can_start_from_exported_weights_and_trains_them() {
        let device = Device::flex();
        let train_device = device.clone().autodiff();
        let model = tiny_model();
        device.seed(11);
        let exported = model.init_generator(&device);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.fgw");
        let bytes = facegan_model::save_generator(&exported, &model);
        std::fs::write(&file, &bytes).unwrap();

        let mut config = TrainConfig::new(PathBuf::from("unused"), model.clone(), 1, 4);
        config.init_generator = Some(file.clone());
        let mut gan = Dcgan::fresh(&config, &train_device).unwrap();
        // The file's f16 weights as read back, not the f32 ones they were rounded from: the
        // rounding alone moved these outputs by about 1e-6, this test's whole tolerance.
        let (in_file, _) = facegan_model::load_generator(&bytes, &device).unwrap();
        let wanted = outputs(&in_file, &device);
        let started = outputs(&gan.parts.generator, &device);
        let apart = largest_difference(&wanted, &started);
        assert!(
            apart < 1e-6,
            "the generator did not start from the file ({apart})"
        );

        // Its parameters are trainable: one step changes its faces.
        let images = ImageSet {
            size: 32,
            pixels: vec![200; 4 * 32 * 32 * 3],
        };
        let batch = Batch {
            epoch: 0,
            number: 0,
            step: 1,
            indices: &[0, 1, 2, 3],
            rng: &mut facegan_model::SplitMix64::new(1),
            inject_nan: false,
        };
        gan.train_step(&config, &images, batch, &train_device);
        let trained = outputs(&gan.parts.generator, &device);
        assert_ne!(
            trained, started,
            "a training step left the loaded generator unchanged"
        );

        // Another discriminator is fine: the file holds only the generator.
        let mut other_critic = config.clone();
        other_critic.model = model
            .clone()
            .with_discriminator_width(model.discriminator_width * 2);
        assert!(
            Dcgan::fresh(&other_critic, &train_device).is_ok(),
            "a discriminator of another width refused the generator"
        );

        // Another generator is refused, naming the file.
        let mut wider = config.clone();
        wider.model = model.with_generator_width(16);
        let Err(error) = Dcgan::fresh(&wider, &train_device) else {
            panic!("a generator of another width was accepted");
        };
        let error = format!("{error:#}");
        assert!(error.contains("g.fgw"), "{error}");
    }
}
