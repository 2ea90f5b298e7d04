//! A moving average of a generator's weights (EMA, "Polyak averaging"), for any GAN model.
//!
//! A GAN's generator never settles: each step chases the discriminator's latest opinion, so the
//! weights of any one step carry that step's noise (speckled textures, smeared eyes). The average
//! of the recent weights is a calmer generator of the same faces; it draws the samples and is
//! what `facegan export` ships. BatchNorm's running statistics are averaged with the weights.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

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
    fn warm_up_keeps_early_decay_low() {
        assert!((decay_at(0.999, 1) - 2.0 / 11.0).abs() < 1e-12);
        assert!(decay_at(0.999, 100) < 0.92);
        assert_eq!(decay_at(0.999, 1_000_000), 0.999);
        assert_eq!(decay_at(0.0, 5), 0.0);
    }
}
