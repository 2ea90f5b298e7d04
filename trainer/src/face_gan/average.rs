//! A moving average of a generator's weights (EMA, "Polyak averaging"), for any GAN model.
//!
//! A GAN's generator never settles: each step chases the discriminator's latest opinion, so the
//! weights of any one step carry that step's noise (speckled textures, smeared eyes). The average
//! of the recent weights is a calmer generator of the same faces; it draws the samples and is
//! what `facegan export` ships. BatchNorm's running statistics are averaged with the weights.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use crate::run::Sections;

/// The checkpoint section of the average.
const SECTION: &str = "generator_average";

/// A run's moving average of its generator, or none (`--ema-decay 0`): then the generator
/// itself draws the samples and is what a snapshot holds.
pub struct GeneratorAverage<G> {
    decay: f64,
    average: Option<G>,
}

impl<G: Module> GeneratorAverage<G> {
    /// An average starting at `generator`'s weights (off the autodiff device).
    pub fn start(decay: f64, generator: &G) -> Self {
        Self {
            decay,
            average: (decay > 0.0).then(|| generator.valid()),
        }
    }

    /// Blends in `generator` as it is after training step `step` (1-based).
    pub fn update(&mut self, generator: &G, step: u64) {
        if let Some(previous) = self.average.take() {
            self.average = Some(blend(previous, generator, decay_at(self.decay, step)));
        }
    }

    /// The generator that draws samples: the average when the run keeps one, else `generator`.
    pub fn sampler<'a>(&'a self, generator: &'a G) -> &'a G {
        self.average.as_ref().unwrap_or(generator)
    }

    /// The checkpoint section (name and bytes) of the average, if the run keeps one.
    pub fn section(
        &self,
        bytes: impl FnOnce(&G) -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<Option<(&'static str, Vec<u8>)>> {
        self.average
            .as_ref()
            .map(|average| Ok((SECTION, bytes(average)?)))
            .transpose()
    }

    /// The average from a checkpoint: none with `decay` 0, the saved one (rebuilt by `load`
    /// off the autodiff `device`), or, for a run saved without one (or by an older version), a
    /// copy of `generator`.
    pub fn load(
        decay: f64,
        sections: &mut Sections,
        generator: &G,
        load: impl FnOnce(Vec<u8>, &Device) -> anyhow::Result<G>,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let average = match (decay, sections.take_optional(SECTION)) {
            (0.0, _) => None,
            (_, Some(bytes)) => Some(load(bytes, &device.clone().without_autodiff())?),
            (_, None) => Some(generator.valid()),
        };
        Ok(Self { decay, average })
    }
}

/// About the last 1,000 steps: a third of an epoch of the 30,000-face set at batch 32.
pub fn default_ema_decay() -> f64 {
    0.999
}

/// The decay used at `step` (1-based): the configured one, but lower during the first steps so
/// that the average is not dominated by the random initial weights.
pub fn decay_at(decay: f64, step: u64) -> f64 {
    let warm_up = (1.0 + step as f64) / (10.0 + step as f64);
    decay.min(warm_up)
}

/// `average * decay + current * (1 - decay)`, parameter by parameter (running statistics
/// included). `current` may live on the autodiff device; the result stays on `average`'s.
pub fn blend<G: Module>(average: G, current: &G, decay: f64) -> G {
    let mut collector = Collector::default();
    current.valid().visit(&mut collector);
    let mut mixer = Mixer {
        current: collector.tensors.into_iter(),
        decay,
    };
    let blended = average.map(&mut mixer);
    assert!(
        mixer.current.next().is_none(),
        "the average and the generator have different parameters"
    );
    blended
}

/// Every float tensor of a module, flattened, in visiting order.
#[derive(Default)]
struct Collector {
    tensors: Vec<Tensor<1>>,
}

impl ModuleVisitor for Collector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let count = tensor.shape().num_elements();
        self.tensors.push(tensor.reshape([count]));
    }
}

/// Mixes each tensor of the average with the collected tensor at the same position; both
/// modules have the same type, so they are visited in the same order.
struct Mixer {
    current: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Mixer {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let current = self
            .current
            .next()
            .expect("the average and the generator have different parameters");
        let decay = self.decay;
        param.map(|average| {
            let dims = average.dims();
            let current = current.reshape(dims).to_device(&average.device());
            average
                .mul_scalar(decay)
                .add(current.mul_scalar(1.0 - decay))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use facegan_model::{DcganConfig, Generator};

    fn floats(generator: &Generator) -> Vec<f32> {
        let mut collector = Collector::default();
        generator.visit(&mut collector);
        collector
            .tensors
            .into_iter()
            .flat_map(|t| t.into_data().try_to_vec::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn blend_is_a_weighted_mean_of_every_parameter() {
        let device = Device::flex();
        let model = DcganConfig::new()
            .with_image_size(32)
            .with_generator_width(4)
            .with_latent_size(8);
        device.seed(1);
        let a = model.init_generator(&device);
        device.seed(2);
        let b = model.init_generator(&device);
        let (before, other) = (floats(&a), floats(&b));
        let blended = floats(&blend(a, &b, 0.75));
        assert_eq!(blended.len(), before.len());
        let differing = before
            .iter()
            .zip(&other)
            .filter(|(x, y)| (*x - *y).abs() > 1e-3)
            .count();
        assert!(
            differing > before.len() / 2,
            "the two generators should differ"
        );
        for ((x, y), mixed) in before.iter().zip(&other).zip(&blended) {
            let expected = 0.75 * x + 0.25 * y;
            assert!((mixed - expected).abs() < 1e-5, "{mixed} vs {expected}");
        }
    }

    #[test]
    fn an_average_is_kept_and_saved_only_with_a_decay() {
        let device = Device::flex();
        let generator = DcganConfig::new()
            .with_image_size(32)
            .with_generator_width(4)
            .with_latent_size(8)
            .init_generator(&device);
        let bytes = |_: &Generator| Ok(vec![7u8]);

        let mut none = GeneratorAverage::start(0.0, &generator);
        none.update(&generator, 3);
        assert!(std::ptr::eq(none.sampler(&generator), &generator));
        assert_eq!(none.section(bytes).unwrap(), None);

        let kept = GeneratorAverage::start(0.999, &generator);
        assert!(!std::ptr::eq(kept.sampler(&generator), &generator));
        assert_eq!(floats(kept.sampler(&generator)), floats(&generator));
        assert_eq!(
            kept.section(bytes).unwrap(),
            Some(("generator_average", vec![7u8]))
        );
    }

    #[test]
    fn warm_up_keeps_early_decay_low() {
        assert!((decay_at(0.999, 1) - 2.0 / 11.0).abs() < 1e-12);
        assert!(decay_at(0.999, 100) < 0.92);
        assert_eq!(decay_at(0.999, 1_000_000), 0.999);
        assert_eq!(decay_at(0.0, 5), 0.0);
    }
}
