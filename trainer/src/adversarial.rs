//! What the adversarial models share: their losses (binary cross-entropy on logits, the hinge
//! loss, the R1 penalty) and Adam with the run's learning rates and betas (one set of flags for
//! every model; each model has its own defaults).

use anyhow::ensure;
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Mean binary cross-entropy between `sigmoid(logits)` and `targets`, computed from logits as
/// `max(l, 0) - l * y + ln(1 + e^-|l|)` so it never overflows. Targets may lie outside [0, 1]
/// (range smoothing up to 1.2); the formula is linear in them and stays well defined.
pub fn bce_with_logits(logits: Tensor<1>, targets: Tensor<1>) -> Tensor<1> {
    let positive_part = logits.clone().clamp_min(0.0);
    let soft_part = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (positive_part - logits * targets + soft_part).mean()
}

/// The discriminator's hinge loss (Lim & Ye 2017, as SNGAN and BigGAN use it):
/// `mean(max(0, 1 - D(x))) + mean(max(0, 1 + D(G(z))))`. Logits already beyond the margin
/// give no gradient, so D stops pushing on what it already separates.
pub fn hinge_discriminator_loss(real_logits: Tensor<1>, fake_logits: Tensor<1>) -> Tensor<1> {
    let real = real_logits.neg().add_scalar(1.0).clamp_min(0.0).mean();
    let fake = fake_logits.add_scalar(1.0).clamp_min(0.0).mean();
    real + fake
}

/// The generator's hinge loss: `-mean(D(G(z)))`.
pub fn hinge_generator_loss(fake_logits: Tensor<1>) -> Tensor<1> {
    fake_logits.mean().neg()
}

/// Per-pixel size of the nudge [`r1_estimate`] differences over (images are in [-1, 1]; a 64 px
/// image moves by about 0.1 in norm).
pub const R1_STEP: f64 = 1e-3;

/// The R1 penalty's `E ||grad_x D(x)||^2` (Mescheder et al. 2018) from first derivatives only:
/// Burn's autodiff has no gradient of a gradient, so the squared gradient norm is estimated
/// as `((D(x + h d) - D(x)) / h)^2` with `d` standard normal noise, whose expectation over `d`
/// is `||grad_x D(x)||^2` (plus O(h) curvature terms). `clean` are D's logits on the real
/// images, `nudged` on the same images plus `step * d`. Unbiased across steps, noisier than
/// the exact penalty within one; the caller multiplies by gamma / 2.
pub fn r1_estimate(clean: Tensor<1>, nudged: Tensor<1>, step: f64) -> Tensor<1> {
    (nudged - clean).div_scalar(step).powi_scalar(2).mean()
}

/// A copy of a discriminator for the generator's step: gradients reach the images it scores,
/// not its weights, whose gradients there would be thrown away (an eighth of a DCGAN step's
/// arithmetic). Its BatchNorm statistics still train.
///
/// Not `Module::no_grad`: on parameters not yet initialised (a critic's first use) that
/// switches off tracking in the original too, since lazy parameters share their state.
pub fn scoring_copy<M: Module>(module: &M) -> M {
    struct Untracked;
    impl ModuleMapper for Untracked {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|tensor| tensor.set_require_grad(false))
        }
    }
    module.clone().map(&mut Untracked)
}

/// The values of one-element tensors, read back from the device together: a GPU step then
/// waits for the device once, not once a figure.
pub fn read_scalars<const N: usize>(values: [Tensor<1>; N]) -> [f32; N] {
    let joined = Tensor::cat(values.into_iter().map(Tensor::detach).collect(), 0);
    let read = joined
        .into_data()
        .try_to_vec::<f32>()
        .expect("losses are f32 tensors");
    std::array::from_fn(|i| read[i])
}

/// Adam for both networks of a GAN: a run's learning rates and betas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerOptions {
    pub generator_lr: f64,
    pub discriminator_lr: f64,
    pub beta1: f32,
    pub beta2: f32,
}

impl Default for OptimizerOptions {
    /// DCGAN's (Radford et al.: 2e-4, betas 0.5 / 0.999), which pix2pix and CycleGAN share.
    fn default() -> Self {
        Self {
            generator_lr: 2e-4,
            discriminator_lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
        }
    }
}

impl OptimizerOptions {
    /// The ResNet GAN's: the two-timescale rule (Heusel et al. 2017: D learns 4x faster than
    /// G) with SNGAN's betas 0 / 0.9, the usual pairing with spectral norm and the hinge loss.
    pub fn resnet() -> Self {
        Self {
            generator_lr: 1e-4,
            discriminator_lr: 4e-4,
            beta1: 0.0,
            beta2: 0.9,
        }
    }
}

/// The optimiser flags of `facegan train`; unset ones take the model's defaults
/// ([`OptimizerOptions::default`], or the ResNet's `OptimizerOptions::resnet`).
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct OptimizerFlags {
    /// Adam learning rate of the generator [default: 2e-4; ResNet 1e-4].
    #[arg(long)]
    pub generator_lr: Option<f64>,
    /// Adam learning rate of the discriminator [default: 2e-4; ResNet 4e-4].
    #[arg(long)]
    pub discriminator_lr: Option<f64>,
    /// Adam beta1, both networks [default: 0.5; ResNet 0].
    #[arg(long)]
    pub beta1: Option<f32>,
    /// Adam beta2, both networks [default: 0.999; ResNet 0.9].
    #[arg(long)]
    pub beta2: Option<f32>,
}

impl OptimizerFlags {
    /// The flags given, the model's `defaults` for the rest.
    pub fn resolve(&self, defaults: OptimizerOptions) -> OptimizerOptions {
        OptimizerOptions {
            generator_lr: self.generator_lr.unwrap_or(defaults.generator_lr),
            discriminator_lr: self.discriminator_lr.unwrap_or(defaults.discriminator_lr),
            beta1: self.beta1.unwrap_or(defaults.beta1),
            beta2: self.beta2.unwrap_or(defaults.beta2),
        }
    }
}

impl OptimizerOptions {
    /// The rates as `log.csv` columns, named like their flags.
    pub fn learning_rates(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("generator_lr", self.generator_lr),
            ("discriminator_lr", self.discriminator_lr),
        ]
    }

    /// `--generator-lr` and `--discriminator-lr` must be positive numbers.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, lr) in [
            ("generator-lr", self.generator_lr),
            ("discriminator-lr", self.discriminator_lr),
        ] {
            ensure!(
                lr > 0.0 && lr.is_finite(),
                "--{name} must be a positive number, found {lr}"
            );
        }
        Ok(())
    }

    /// Adam with DCGAN's epsilon and these betas, for any network.
    pub fn adam(&self) -> ModuleOptimizer {
        burn::optim::AdamConfig::new()
            .with_beta_1(self.beta1)
            .with_beta_2(self.beta2)
            .with_epsilon(1e-8)
            .init()
    }

    /// [`OptimizerOptions::adam`] with the state a checkpoint section holds.
    pub fn adam_from(&self, bytes: Vec<u8>) -> anyhow::Result<ModuleOptimizer> {
        Ok(self
            .adam()
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))?)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::{Device, Tensor, TensorData};
    use clap::CommandFactory;

    use super::*;

    fn vector(values: &[f32], device: &Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
    }

    fn scalar(tensor: Tensor<1>) -> f32 {
        tensor.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn hinge_losses_match_a_hand_computation() {
        let device = Device::flex();
        // Real: 1-2 < 0 -> 0, 1-0.5 = 0.5, 1+1 = 2: mean 2.5/3. Fake: 1-3 < 0 -> 0,
        // 1+0.25 = 1.25, 1+1 = 2: mean 3.25/3.
        let real = vector(&[2.0, 0.5, -1.0], &device);
        let fake = vector(&[-3.0, 0.25, 1.0], &device);
        let d = scalar(hinge_discriminator_loss(real, fake.clone()));
        assert!((d - (2.5 + 3.25) / 3.0).abs() < 1e-6, "{d}");
        let g = scalar(hinge_generator_loss(fake));
        assert!((g - (3.0 - 0.25 - 1.0) / 3.0).abs() < 1e-6, "{g}");
    }

    #[test]
    fn the_hinge_gives_no_gradient_beyond_the_margin() {
        let device = Device::flex().autodiff();
        let real = vector(&[2.0, 0.5], &device).require_grad();
        let fake = vector(&[-3.0, 0.0], &device).require_grad();
        let grads = hinge_discriminator_loss(real.clone(), fake.clone()).backward();
        let real_grad = real
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let fake_grad = fake
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(real_grad, vec![0.0, -0.5]);
        assert_eq!(fake_grad, vec![0.0, 0.5]);
    }

    #[test]
    fn the_r1_estimate_matches_a_hand_computation() {
        let device = Device::flex();
        // Differences 0.002 and -0.001 over a step of 0.001: (2^2 + 1^2) / 2.
        let clean = vector(&[1.0, -2.0], &device);
        let nudged = vector(&[1.002, -2.001], &device);
        let r1 = scalar(r1_estimate(clean, nudged, 1e-3));
        assert!((r1 - 2.5).abs() < 1e-2, "{r1}");
    }

    /// For a linear critic `D(x) = w . x` the estimate averages to `||w||^2`, the exact penalty.
    #[test]
    fn the_r1_estimate_averages_to_the_squared_gradient_norm() {
        let device = Device::flex();
        device.seed(3);
        let critic = LinearConfig::new(16, 1).with_bias(true).init(&device);
        let weight = critic.weight.val();
        let exact = scalar(weight.powi_scalar(2).sum());
        let x = Tensor::<2>::random([1, 16], burn::tensor::Distribution::Default, &device);
        let clean = critic.forward(x.clone()).reshape([1]);
        let draws = 4000;
        let noise = Tensor::<2>::random(
            [draws, 16],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let nudged = critic.forward(x.expand([draws, 16]) + noise.mul_scalar(R1_STEP));
        let estimate = scalar(r1_estimate(
            clean.expand([draws]),
            nudged.reshape([draws]),
            R1_STEP,
        ));
        assert!(
            (estimate - exact).abs() < 0.1 * exact,
            "estimate {estimate} vs exact {exact}"
        );
    }

    /// The help text states the defaults the configs really have.
    #[test]
    fn the_optimizer_help_states_both_models_defaults() {
        #[derive(clap::Parser)]
        struct Probe {
            #[command(flatten)]
            flags: OptimizerFlags,
        }
        let help = Probe::command().render_long_help().to_string();
        let dcgan = OptimizerOptions::default();
        let resnet = OptimizerOptions::resnet();
        for value in [
            format!("default: {:e}", dcgan.generator_lr),
            format!("ResNet {:e}", resnet.generator_lr),
            format!("ResNet {:e}", resnet.discriminator_lr),
            format!("default: {}", dcgan.beta1),
            format!("ResNet {}", resnet.beta1),
            format!("ResNet {}", resnet.beta2),
        ] {
            assert!(help.contains(&value), "help lacks {value:?}:\n{help}");
        }
        assert_eq!(
            OptimizerFlags::default().resolve(OptimizerOptions::resnet()),
            OptimizerOptions::resnet()
        );
    }

    /// The copy passes gradients to its input but not to its weights, and leaves the original
    /// trainable, even when its parameters were still lazy (the case `no_grad` gets wrong).
    #[test]
    fn a_scoring_copy_tracks_its_input_and_leaves_the_original_trainable() {
        let device = Device::flex().autodiff();
        let original = LinearConfig::new(3, 1).init(&device);
        let x = Tensor::<2>::ones([2, 3], &device).require_grad();

        let copy = scoring_copy(&original);
        let grads = copy.forward(x.clone()).sum().backward();
        assert!(x.grad(&grads).is_some(), "the input gets a gradient");
        assert!(
            copy.weight.val().grad(&grads).is_none(),
            "the copy's weight does not"
        );

        let grads = original.forward(x).sum().backward();
        assert!(
            original.weight.val().grad(&grads).is_some(),
            "the original still trains"
        );
    }
}
