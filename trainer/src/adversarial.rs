//! What the adversarial models share: binary cross-entropy on logits, and Adam with the run's
//! learning rates and betas (one set of flags for every model; defaults from DCGAN's paper).

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

/// Adam for both networks of a GAN (Radford et al.: 2e-4, betas 0.5 / 0.999).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct OptimizerOptions {
    /// Adam learning rate of the generator.
    #[arg(long, default_value_t = OptimizerOptions::default().generator_lr)]
    pub generator_lr: f64,
    /// Adam learning rate of the discriminator.
    #[arg(long, default_value_t = OptimizerOptions::default().discriminator_lr)]
    pub discriminator_lr: f64,
    /// Adam beta1 (both networks).
    #[arg(long, default_value_t = OptimizerOptions::default().beta1)]
    pub beta1: f32,
    /// Adam beta2 (both networks).
    #[arg(long, default_value_t = OptimizerOptions::default().beta2)]
    pub beta2: f32,
}

impl Default for OptimizerOptions {
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
    use burn::tensor::{Device, Tensor};

    use super::scoring_copy;

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
