//! What every face GAN trains and checkpoints: a generator, its moving average, a
//! discriminator and an Adam for each network. The DCGAN and the ResNet differ in their
//! networks and their losses, not in these parts, so fresh starts, checkpoint sections and
//! resumes have one home here.

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};

use super::GeneratorAverage;
use crate::adversarial::OptimizerOptions;
use crate::run::{Sections, descend, load_module, module_bytes, optimizer_bytes};

/// Both networks of a face GAN, their optimisers and the generator's moving average.
pub struct GanParts<G, D> {
    pub generator: G,
    pub average: GeneratorAverage<G>,
    pub discriminator: D,
    pub generator_optimizer: ModuleOptimizer,
    pub discriminator_optimizer: ModuleOptimizer,
}

impl<G: Module, D: Module> GanParts<G, D> {
    /// A run's start: fresh optimisers, and an average starting at `generator`.
    pub fn fresh(
        generator: G,
        discriminator: D,
        ema_decay: f64,
        optimizer: &OptimizerOptions,
    ) -> Self {
        Self {
            average: GeneratorAverage::start(ema_decay, &generator),
            generator,
            discriminator,
            generator_optimizer: optimizer.adam(),
            discriminator_optimizer: optimizer.adam(),
        }
    }

    /// The generator that draws samples: the average when the run keeps one.
    pub fn sampler(&self) -> &G {
        self.average.sampler(&self.generator)
    }

    /// One Adam step of the discriminator down the gradient of `loss` at learning rate `lr`
    /// (through `run::optimizer_step`, which applies `--lr-decay` and data parallelism).
    pub fn step_discriminator(&mut self, loss: Tensor<1>, lr: f64) {
        descend(
            &mut self.discriminator_optimizer,
            lr,
            &mut self.discriminator,
            loss,
        );
    }

    /// One Adam step of the generator down the gradient of `loss` at learning rate `lr`.
    pub fn step_generator(&mut self, loss: Tensor<1>, lr: f64) {
        descend(&mut self.generator_optimizer, lr, &mut self.generator, loss);
    }

    /// Blends the generator, as training step `step` (1-based) left it, into the average.
    pub fn update_average(&mut self, step: u64) {
        self.average.update(&self.generator, step);
    }

    /// The checkpoint sections: both networks, both Adams, and the average when the run keeps
    /// one. Generators are saved by `generator_bytes` (`module_bytes`, or
    /// [`super::face_generator_bytes`]).
    pub fn sections(
        &self,
        generator_bytes: impl Fn(&G) -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        let mut sections = vec![
            ("generator", generator_bytes(&self.generator)?),
            ("discriminator", module_bytes(&self.discriminator)?),
            (
                "generator_optimizer",
                optimizer_bytes(&self.generator_optimizer)?,
            ),
            (
                "discriminator_optimizer",
                optimizer_bytes(&self.discriminator_optimizer)?,
            ),
        ];
        sections.extend(self.average.section(generator_bytes)?);
        Ok(sections)
    }

    /// The parts of [`GanParts::sections`], for a resume on `device`. Generators are rebuilt
    /// by `load_generator` (the inverse of the saving function); the saved discriminator is
    /// loaded into `discriminator`, a fresh one of the run's architecture.
    pub fn load(
        sections: &mut Sections,
        load_generator: impl Fn(Vec<u8>, &Device) -> anyhow::Result<G>,
        discriminator: D,
        ema_decay: f64,
        optimizer: &OptimizerOptions,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let generator = load_generator(sections.take("generator")?, device)?;
        let discriminator = load_module(discriminator, sections.take("discriminator")?)?;
        let average =
            GeneratorAverage::load(ema_decay, sections, &generator, &load_generator, device)?;
        Ok(Self {
            generator,
            average,
            discriminator,
            generator_optimizer: optimizer.adam_from(sections.take("generator_optimizer")?)?,
            discriminator_optimizer: optimizer
                .adam_from(sections.take("discriminator_optimizer")?)?,
        })
    }
}
