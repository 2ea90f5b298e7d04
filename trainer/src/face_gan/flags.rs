//! The flags of the face GANs (`--model dcgan` and `--model resnet`) in `facegan train`. The
//! architecture flags are unset by default: each model fills them from its own config's
//! defaults, which the help text states (a test keeps the two in step).

use std::path::PathBuf;

use facegan_model::{DcganConfig, ResnetConfig};

use super::average::default_ema_decay;
use crate::augment::Policy;
use crate::dcgan::{LabelConfig, LabelSmoothing, default_generator_steps};

/// The face GANs' flags of `facegan train`: those only one model reads say which.
#[derive(Debug, Clone, clap::Args)]
pub struct GanFlags {
    /// Length of the latent vector z [default: DCGAN 100, ResNet 128].
    #[arg(long)]
    pub latent_size: Option<usize>,
    /// Channels of the generator's last layer, doubled at each earlier stage [default: DCGAN
    /// 64, ResNet 16].
    #[arg(long)]
    pub generator_width: Option<usize>,
    /// Channels of the discriminator's first layer, doubled at each later stage [default:
    /// DCGAN 64, ResNet 32].
    #[arg(long)]
    pub discriminator_width: Option<usize>,
    /// ResNet: residual blocks per resolution in both networks.
    #[arg(long, default_value_t = ResnetConfig::new().depth)]
    pub depth: usize,
    /// ResNet: weight gamma of the R1 penalty on real images (gamma/2 E|grad D(x)|^2; 0 = off;
    /// costs a third more discriminator work). Try 0.1 to 10.
    #[arg(long, default_value_t = 0.0)]
    pub r1_gamma: f64,
    /// DCGAN: kernel size of the stride-2 convolutions: 4 or 5.
    #[arg(long, default_value_t = DcganConfig::new().kernel_size)]
    pub kernel_size: usize,
    /// DCGAN: give the discriminator one fewer convolution stage (weaker D).
    #[arg(long)]
    pub shallow_discriminator: bool,
    /// Soft targets for the discriminator.
    #[arg(long, value_enum, default_value_t = LabelConfig::default().smoothing)]
    pub label_smoothing: LabelSmoothing,
    /// Range of real targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = LabelConfig::default().real_range)]
    pub real_label_range: Vec<f64>,
    /// Range of fake targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = LabelConfig::default().fake_range)]
    pub fake_label_range: Vec<f64>,
    /// Real target with --label-smoothing one-sided.
    #[arg(long, default_value_t = LabelConfig::default().one_sided_real)]
    pub one_sided_real_label: f64,
    /// Fraction of discriminator targets flipped at random each step (0 to 1).
    #[arg(long, default_value_t = LabelConfig::default().noise)]
    pub label_noise: f64,
    /// Swap real and fake targets for the discriminator every N-th epoch (0 = never).
    #[arg(long, default_value_t = LabelConfig::default().flip_every)]
    pub flip_labels_every: usize,
    /// Use 0 for real and 1 for fake throughout.
    #[arg(long)]
    pub swap_labels: bool,
    /// Generator updates per discriminator update.
    #[arg(long, default_value_t = default_generator_steps())]
    pub generator_steps: usize,
    /// Decay of the moving average of the generator's weights, which draws the samples and is
    /// exported (0 = use the last step's weights).
    #[arg(long, default_value_t = default_ema_decay())]
    pub ema_decay: f64,
    /// Start the generator from an exported `.fgw` file (for example the shipped weights)
    /// instead of random weights; the discriminator starts fresh. DCGAN: a DCGAN file of the
    /// run's architecture. ResNet: a DCGAN or ResNet file, trained under the ResNet
    /// discriminator (its architecture comes from the file). Only read when the run starts; a
    /// resumed run continues from its checkpoint.
    #[arg(long, value_name = "FILE")]
    pub init_generator: Option<PathBuf>,
    /// ResNet: start a new run from another ResNet run's checkpoint with a wider generator
    /// (--generator-width): the old generator grown so that it draws the same faces, the
    /// discriminator and its optimiser kept. Capacity without starting again from noise.
    #[arg(long, value_name = "CHECKPOINT", conflicts_with = "init_generator")]
    pub grow_from: Option<PathBuf>,
    /// ResNet: train only the discriminator for the run's first N steps, the generator held
    /// still. With --init-generator: a fresh discriminator first learns where the file's
    /// faces fall short, so the generator's first steps follow a critic, not noise.
    #[arg(long, value_name = "STEPS", default_value_t = 0)]
    pub discriminator_warmup: u64,
    /// DiffAugment: random differentiable changes applied to real and generated images alike
    /// every time the discriminator sees them, comma-separated (for example
    /// color,translation,cutout). Lets a GAN learn from a few thousand images.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<Policy>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The help text states the defaults the configs really have.
    #[test]
    fn the_architecture_help_states_both_models_defaults() {
        #[derive(clap::Parser)]
        struct Probe {
            #[command(flatten)]
            flags: GanFlags,
        }
        let help = Probe::command().render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let (dcgan, resnet) = (DcganConfig::new(), ResnetConfig::new());
        for value in [
            format!("DCGAN {}, ResNet {}", dcgan.latent_size, resnet.latent_size),
            format!(
                "DCGAN {}, ResNet {}",
                dcgan.generator_width, resnet.generator_width
            ),
            format!(
                "DCGAN {}, ResNet {}",
                dcgan.discriminator_width, resnet.discriminator_width
            ),
        ] {
            assert!(help.contains(&value), "help lacks {value:?}: {help}");
        }
    }
}
