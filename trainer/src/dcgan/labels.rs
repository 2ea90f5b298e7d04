use facegan_model::SplitMix64;

use super::LabelConfig;

/// How the discriminator's targets are softened.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSmoothing {
    /// Hard targets: 1 for real, 0 for fake.
    None,
    /// Real targets drawn from --real-label-range, fake from --fake-label-range, per sample.
    Range,
    /// Real targets set to --one-sided-real-label, fake kept at 0 (Salimans et al. 2016).
    OneSided,
}

/// Makes the discriminator's targets for one batch, with the stabilisation tricks of the
/// DCGAN folklore: soft ranges, one-sided smoothing, random flips, swapped polarity and
/// periodic flipping.
#[derive(Debug, Clone)]
pub struct LabelPolicy {
    config: LabelConfig,
}

impl LabelPolicy {
    pub fn new(config: LabelConfig) -> Self {
        Self { config }
    }

    /// Targets for `n` images that are real (`real = true`) or generated, in `epoch` (0-based).
    pub fn discriminator_targets(
        &self,
        rng: &mut SplitMix64,
        n: usize,
        real: bool,
        epoch: usize,
    ) -> Vec<f32> {
        let flip_this_epoch =
            self.config.flip_every > 0 && (epoch + 1).is_multiple_of(self.config.flip_every);
        (0..n)
            .map(|_| {
                let mut is_real = real;
                if self.config.noise > 0.0 && rng.chance(self.config.noise) {
                    is_real = !is_real;
                }
                let target = self.soft_target(rng, is_real);
                let invert = self.config.swap ^ flip_this_epoch;
                (if invert { 1.0 - target } else { target }) as f32
            })
            .collect()
    }

    /// The target the generator pushes its fakes towards: plain "real".
    pub fn generator_target(&self) -> f32 {
        if self.config.swap { 0.0 } else { 1.0 }
    }

    fn soft_target(&self, rng: &mut SplitMix64, is_real: bool) -> f64 {
        let [low, high] = if is_real {
            self.config.real_range
        } else {
            self.config.fake_range
        };
        match (self.config.smoothing, is_real) {
            (LabelSmoothing::None, true) => 1.0,
            (LabelSmoothing::None, false) => 0.0,
            (LabelSmoothing::Range, _) => rng.uniform(low, high),
            (LabelSmoothing::OneSided, true) => self.config.one_sided_real,
            (LabelSmoothing::OneSided, false) => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(smoothing: LabelSmoothing) -> LabelConfig {
        LabelConfig {
            smoothing,
            ..LabelConfig::default()
        }
    }

    #[test]
    fn range_smoothing_stays_in_its_ranges() {
        let policy = LabelPolicy::new(config(LabelSmoothing::Range));
        let mut rng = SplitMix64::new(1);
        let real = policy.discriminator_targets(&mut rng, 1000, true, 0);
        let fake = policy.discriminator_targets(&mut rng, 1000, false, 0);
        assert!(real.iter().all(|&t| (0.7..1.2).contains(&t)));
        assert!(fake.iter().all(|&t| (0.0..0.3).contains(&t)));
        let mean = real.iter().sum::<f32>() / 1000.0;
        assert!((mean - 0.95).abs() < 0.02, "mean real target {mean}");
    }

    #[test]
    fn one_sided_softens_only_real() {
        let policy = LabelPolicy::new(config(LabelSmoothing::OneSided));
        let mut rng = SplitMix64::new(1);
        assert_eq!(
            policy.discriminator_targets(&mut rng, 3, true, 0),
            vec![0.9; 3]
        );
        assert_eq!(
            policy.discriminator_targets(&mut rng, 3, false, 0),
            vec![0.0; 3]
        );
    }

    #[test]
    fn label_noise_flips_about_the_asked_fraction() {
        let policy = LabelPolicy::new(LabelConfig {
            noise: 0.1,
            ..config(LabelSmoothing::None)
        });
        let mut rng = SplitMix64::new(3);
        let targets = policy.discriminator_targets(&mut rng, 10_000, true, 0);
        let flipped = targets.iter().filter(|&&t| t == 0.0).count();
        assert!((900..1100).contains(&flipped), "{flipped} of 10000 flipped");
    }

    #[test]
    fn swapping_and_periodic_flips_invert_targets() {
        let swapped = LabelPolicy::new(LabelConfig {
            swap: true,
            ..config(LabelSmoothing::None)
        });
        let mut rng = SplitMix64::new(0);
        assert_eq!(
            swapped.discriminator_targets(&mut rng, 2, true, 0),
            vec![0.0; 2]
        );
        assert_eq!(swapped.generator_target(), 0.0);

        let periodic = LabelPolicy::new(LabelConfig {
            flip_every: 3,
            ..config(LabelSmoothing::None)
        });
        let real_by_epoch: Vec<f32> = (0..6)
            .map(|epoch| periodic.discriminator_targets(&mut rng, 1, true, epoch)[0])
            .collect();
        assert_eq!(real_by_epoch, vec![1.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    }
}
