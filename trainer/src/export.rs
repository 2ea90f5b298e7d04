//! `facegan export`: a run's generator as a compact `.fgw` file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::weights::{Precision, save_face_generator_as, save_translator_as};
use facegan_model::{DcganConfig, FaceGenerator, GeneratorConfig, SplitMix64};

use crate::atomic_file::write_atomically;
use crate::dcgan::Dcgan;
use crate::encoder;
use crate::face_gan::{blend, load_face_generator_bytes};
use crate::generate::load_weights;
use crate::resnet::{self, Resnet};
use crate::run::{Trainable, checkpoint};
use crate::translate::{load_translator, read_palette};

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Training run folder (holds checkpoint.fgc); or one or more generators already exported
    /// (.fgw) of the same architecture, to export again (new BatchNorm statistics, another
    /// precision), several averaged weight by weight (snapshots of one run, Polyak-style).
    #[arg(required = true, value_name = "RUN_DIR | FGW...")]
    pub sources: Vec<PathBuf>,
    /// Output weights file.
    #[arg(long, default_value = "generator.fgw")]
    pub out: PathBuf,
    /// How the tensors are stored: f16 everywhere, or int8 convolution kernels (half the size,
    /// for the web page) with f16 BatchNorm vectors.
    #[arg(long, value_enum, default_value_t = ExportPrecision::F16)]
    pub precision: ExportPrecision,
    /// Which generator of the checkpoint: the moving average of its weights (what the samples
    /// show; the last step's when the run kept no average) or the last step's.
    #[arg(long, value_enum, default_value_t = RunGenerator::Averaged)]
    pub from: RunGenerator,
    /// Measure the generator's BatchNorm statistics on its final weights over this many random
    /// latents (BigGAN's "standing statistics") instead of keeping the running averages of
    /// training, which trail the weights; 0 keeps them.
    #[arg(long, default_value_t = 4096)]
    pub standing_statistics: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunGenerator {
    Averaged,
    LastStep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportPrecision {
    F16,
    Int8,
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let precision = match args.precision {
        ExportPrecision::F16 => Precision::Half,
        ExportPrecision::Int8 => Precision::Int8,
    };
    if let Some(missing) = args.sources.iter().find(|path| !path.exists()) {
        bail!("{}: no such file or folder", missing.display());
    }
    let (generator, config) = if args.sources.iter().all(|path| is_weights_file(path)) {
        average_of_files(&args.sources, &device)?
    } else {
        let [run_dir] = args.sources.as_slice() else {
            let odd = args.sources.iter().find(|path| !is_weights_file(path));
            bail!(
                "{}: not an .fgw file; give one run folder, or only .fgw files to average",
                odd.map_or_else(String::new, |path| path.display().to_string())
            );
        };
        if let Some(bytes) = encoder::export_run(run_dir, precision, &device)? {
            write_atomically(&args.out, &bytes)?;
            log::info!(
                "wrote {} ({:?}, {:.2} MB, sketch encoder)",
                args.out.display(),
                args.precision,
                bytes.len() as f64 / 1e6
            );
            return Ok(());
        }
        if let Some((unet, config)) = load_translator(run_dir, &device)? {
            let palette = read_palette(run_dir)?;
            let entries = palette.len();
            let bytes = save_translator_as(&unet, &config, palette, precision);
            write_atomically(&args.out, &bytes)?;
            log::info!(
                "wrote {} ({:?}, {:.2} MB, sketch-to-face U-Net of {} parameters, image size {}, \
                 palette of {entries} colour codes)",
                args.out.display(),
                args.precision,
                bytes.len() as f64 / 1e6,
                unet.num_params(),
                config.image_size
            );
            return Ok(());
        }
        generator_of_run(run_dir, args.from, &device)?
    };
    let generator = match args.standing_statistics {
        0 => generator,
        count => {
            let latents = standing_latents(count, config.latent_size(), &device);
            match generator {
                FaceGenerator::Dcgan(g) => {
                    FaceGenerator::Dcgan(g.with_standing_statistics(&latents))
                }
                FaceGenerator::Resnet(g) => {
                    FaceGenerator::Resnet(g.with_standing_statistics(&latents))
                }
            }
        }
    };
    let bytes = save_face_generator_as(&generator, &config, precision);
    write_atomically(&args.out, &bytes)?;
    log::info!(
        "wrote {} ({:?}, {:.2} MB, {} parameters, image size {}, latent {})",
        args.out.display(),
        args.precision,
        bytes.len() as f64 / 1e6,
        generator.num_params(),
        config.image_size(),
        config.latent_size()
    );
    Ok(())
}

fn is_weights_file(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|extension| extension == "fgw")
}

/// The weight-by-weight mean of exported generators of one architecture (BatchNorm running
/// statistics included; measure standing statistics afterwards).
fn average_of_files(
    paths: &[PathBuf],
    device: &Device,
) -> anyhow::Result<(FaceGenerator, GeneratorConfig)> {
    let mut average: Option<(FaceGenerator, GeneratorConfig)> = None;
    for (index, path) in paths.iter().enumerate() {
        let (generator, config) = load_weights(path, device)?;
        average = Some(match average {
            None => (generator, config),
            Some((mean, first)) => {
                ensure!(
                    first.same_generator(&config),
                    "{} is another generator architecture than {}: {config:?} vs {first:?}",
                    path.display(),
                    paths[0].display()
                );
                // The running mean of k items keeps (k - 1) / k of the mean of the first k - 1.
                let k = (index + 1) as f64;
                (blend(mean, &generator, (k - 1.0) / k), first)
            }
        });
    }
    average.context("no generator to export")
}

/// Seed of the latents that measure standing statistics; any fixed stream of N(0, 1) latents
/// will do, this one keeps exports reproducible.
const STANDING_STATISTICS_SEED: u64 = 0x5747_414E_4449_4E47;

/// `count` random latents in batches of up to 256, each `[n, latent, 1, 1]`.
fn standing_latents(count: usize, latent_size: usize, device: &Device) -> Vec<Tensor<4>> {
    let mut rng = SplitMix64::new(STANDING_STATISTICS_SEED);
    (0..count)
        .step_by(256)
        .map(|start| {
            let n = (count - start).min(256);
            let values: Vec<f32> = (0..n * latent_size).map(|_| rng.normal()).collect();
            Tensor::from_data(TensorData::new(values, [n, latent_size, 1, 1]), device)
        })
        .collect()
}

/// The generator of the newest whole checkpoint in `run_dir`: its moving average of the
/// generator's weights when the run keeps one (what the samples show), else the last step's.
pub fn generator_from_run(
    run_dir: &Path,
    device: &Device,
) -> anyhow::Result<(FaceGenerator, GeneratorConfig)> {
    generator_of_run(run_dir, RunGenerator::Averaged, device)
}

/// The chosen generator of the newest whole checkpoint in `run_dir`.
pub fn generator_of_run(
    run_dir: &Path,
    which: RunGenerator,
    device: &Device,
) -> anyhow::Result<(FaceGenerator, GeneratorConfig)> {
    let (mut saved, path) = checkpoint::load_latest(run_dir)?
        .with_context(|| format!("{} holds no checkpoint: train first", run_dir.display()))?;
    let unreadable = || format!("{} has an unreadable architecture", path.display());
    let architecture = saved.meta.architecture;
    let config: GeneratorConfig = match saved.meta.kind.as_str() {
        Dcgan::KIND => serde_json::from_value::<DcganConfig>(architecture)
            .with_context(unreadable)?
            .into(),
        // Its generator may be a DCGAN continued under the ResNet discriminator.
        Resnet::KIND => serde_json::from_value::<resnet::Architecture>(architecture)
            .with_context(unreadable)?
            .generator(),
        other => bail!(
            "{} holds a {other} run, which has no face generator",
            path.display()
        ),
    };
    let average = match which {
        RunGenerator::Averaged => saved.sections.take_optional("generator_average"),
        RunGenerator::LastStep => None,
    };
    let weights = match average {
        Some(bytes) => bytes,
        None => saved.sections.take("generator")?,
    };
    let generator = load_face_generator_bytes(&config, weights, device)
        .with_context(|| format!("cannot load the generator of {}", path.display()))?;
    Ok((generator, config))
}
