//! `facegan train`: parses which model to train and hands it to the training driver
//! (`crate::run`), with Ctrl-C asking the driver to checkpoint and stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use facegan_model::DcganConfig;

use crate::adversarial::{OptimizerFlags, OptimizerOptions};
use crate::backend::{self, BackendChoice, GpuConvolutions};
use crate::cyclegan::CycleGan;
use crate::dcgan::{self, Dcgan};
use crate::encoder::{self, Encoder, EncoderFlags};
use crate::face_gan::GanFlags;
use crate::pix2pix::Pix2Pix;
use crate::resnet::{self, Resnet};
use crate::run::{self, Outcome, RunOptions, TrainSummary};
use crate::translate::{TranslateConfig, TranslateMode, TranslationFlags};

/// The model `facegan train` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainModel {
    /// DCGAN: faces from random latents (the 2015 recipe).
    Dcgan,
    /// ResNet GAN: faces from random latents; residual networks, spectral norm, hinge loss.
    Resnet,
    /// pix2pix: faces from sketches, trained on sketch/face pairs of the same name.
    Pix2pix,
    /// CycleGAN: faces from sketches, trained on unpaired folders of sketches and faces.
    Cyclegan,
    /// Sketch encoder: sketches to latents of a frozen face generator ("anime face" drawing
    /// mode), trained on the generator's own samples; --data gives the colour palette.
    Encoder,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// What to train: a face generator (DCGAN or ResNet), or a sketch-to-face translator.
    #[arg(long, value_enum, default_value_t = TrainModel::Dcgan)]
    pub model: TrainModel,
    /// Folder of training images, searched recursively (jpg, png, webp, bmp, gif); the target
    /// faces for pix2pix.
    #[arg(long)]
    pub data: PathBuf,
    /// Run folder: config, log.csv, samples/, progress.gif and checkpoints go here.
    #[arg(long)]
    pub out: PathBuf,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Train data-parallel on several devices, comma-separated: `cpu`, `wgpu` (the default
    /// adapter), `wgpu:N` (the N-th discrete GPU), `cuda:N`, `ws://HOST:PORT` (a `facegan
    /// serve-device` elsewhere; builds with `--features remote`); e.g. `wgpu:0,wgpu:1`. Each
    /// takes an equal share of every batch (--batch-size is the whole batch, the learning rates stay
    /// right); the first logs, draws the samples and writes the checkpoints. Instead of
    /// --backend.
    #[arg(long, value_delimiter = ',', conflicts_with = "backend")]
    pub devices: Vec<String>,
    /// Which kernels run the convolutions on a GPU (`facegan bench --backend wgpu` times both).
    #[arg(long, value_enum, default_value_t = GpuConvolutions::Burn)]
    pub gpu_convolutions: GpuConvolutions,
    /// Side of the square training images: 32, 64 or 128.
    #[arg(long, default_value_t = DcganConfig::new().image_size)]
    pub image_size: usize,
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub optimizer: OptimizerFlags,
    #[command(flatten)]
    pub gan: GanFlags,
    #[command(flatten)]
    pub encoder: EncoderFlags,
    #[command(flatten)]
    pub translation: TranslationFlags,
}

/// A checked configuration of one of the models.
enum Job {
    Dcgan(dcgan::TrainConfig),
    Resnet(resnet::TrainConfig),
    Encoder(encoder::TrainConfig),
    Translation(TranslateConfig),
}

/// Entry point of `facegan train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    // Configs are checked before any backend starts, so a bad flag fails fast.
    let translation = |mode| {
        anyhow::ensure!(
            args.gan.init_generator.is_none(),
            "--init-generator takes a face generator (--model dcgan or resnet); --model pix2pix \
             and cyclegan start from random weights (or resume from their run folder)"
        );
        TranslateConfig::from_flags(
            mode,
            args.data.clone(),
            args.image_size,
            args.run.clone(),
            args.optimizer.resolve(OptimizerOptions::default()),
            &args.translation,
        )
    };
    anyhow::ensure!(
        args.gan.grow_from.is_none() || matches!(args.model, TrainModel::Resnet),
        "--grow-from continues a ResNet run: it needs --model resnet"
    );
    anyhow::ensure!(
        args.gan.discriminator_warmup == 0 || matches!(args.model, TrainModel::Resnet),
        "--discriminator-warmup is a ResNet flag: it needs --model resnet"
    );
    let job = match args.model {
        TrainModel::Dcgan => Job::Dcgan(dcgan::TrainConfig::from_flags(
            args.data.clone(),
            args.image_size,
            args.run.clone(),
            args.optimizer.resolve(OptimizerOptions::default()),
            &args.gan,
        )?),
        TrainModel::Resnet => Job::Resnet(resnet::TrainConfig::from_flags(
            args.data.clone(),
            args.image_size,
            args.run.clone(),
            &args.optimizer,
            &args.gan,
        )?),
        TrainModel::Pix2pix => Job::Translation(translation(TranslateMode::Pix2Pix)?),
        TrainModel::Cyclegan => Job::Translation(translation(TranslateMode::CycleGan)?),
        TrainModel::Encoder => Job::Encoder(encoder::TrainConfig::from_flags(
            args.data.clone(),
            args.run.clone(),
            &args.encoder,
        )?),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C means "now": the last checkpoint on disk is still whole.
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: writing a checkpoint, then stopping (Ctrl-C again to quit now)");
    })?;
    let selected = if args.devices.is_empty() {
        vec![backend::select(args.backend)?]
    } else {
        args.devices
            .iter()
            .map(|spec| backend::parse_device(spec))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let names: Vec<&str> = selected.iter().map(|device| device.name.as_str()).collect();
    log::info!("backend: {}", names.join(", "));
    args.gpu_convolutions.select();
    let devices: Vec<Device> = selected.into_iter().map(|device| device.device).collect();
    let summary = match job {
        Job::Dcgan(config) => run::train_on::<Dcgan>(&config, &args.out, &devices, &stop)?,
        Job::Resnet(config) => run::train_on::<Resnet>(&config, &args.out, &devices, &stop)?,
        Job::Encoder(config) => run::train_on::<Encoder>(&config, &args.out, &devices, &stop)?,
        Job::Translation(config) => translator_on(&config, &args.out, &devices, &stop)?,
    };
    match summary.outcome {
        Outcome::Finished => log::info!(
            "finished {} epochs ({} steps); run `facegan export {}` for the web weights",
            summary.epochs_done,
            summary.steps,
            args.out.display()
        ),
        Outcome::Interrupted => log::info!(
            "stopped after step {}; run the same command again to resume",
            summary.steps
        ),
        Outcome::TimeUp => log::info!(
            "reached --minutes {} at step {}; run again with a higher limit to continue, or \
             `facegan export {}` for the web weights",
            args.run.minutes,
            summary.steps,
            args.out.display()
        ),
        Outcome::Decayed => log::info!(
            "the learning rates decayed to their end at step {}; run `facegan export {}` for \
             the web weights",
            summary.steps,
            args.out.display()
        ),
    }
    Ok(())
}

impl TrainArgs {
    /// Whether the run names a GPU (`--backend wgpu|cuda`, or a device other than `cpu`);
    /// `auto` does not, whatever it finds.
    pub fn names_a_gpu(&self) -> bool {
        if !self.devices.is_empty() {
            return self.devices.iter().any(|device| device.trim() != "cpu");
        }
        matches!(self.backend, BackendChoice::Wgpu | BackendChoice::Cuda)
    }
}

/// Trains (or resumes) a translation run with the model its mode names.
pub fn translator(
    config: &TranslateConfig,
    run_dir: &Path,
    device: &Device,
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    translator_on(config, run_dir, std::slice::from_ref(device), stop)
}

/// [`translator`] on several devices (data-parallel).
pub fn translator_on(
    config: &TranslateConfig,
    run_dir: &Path,
    devices: &[Device],
    stop: &AtomicBool,
) -> anyhow::Result<TrainSummary> {
    match config.mode {
        TranslateMode::Pix2Pix => run::train_on::<Pix2Pix>(config, run_dir, devices, stop),
        TranslateMode::CycleGan => run::train_on::<CycleGan>(config, run_dir, devices, stop),
    }
}
