//! `facegan export`: a run's generator as a compact `.fgw` file.

use std::path::Path;

use anyhow::Context;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use facegan_model::weights::{Precision, save_generator_as, save_translator_as};
use facegan_model::{DcganConfig, Generator};

use crate::cli::{ExportArgs, ExportPrecision, RunGenerator};
use crate::train::checkpoint;
use crate::translate::{load_translator, read_palette};

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let precision = match args.precision {
        ExportPrecision::F16 => Precision::Half,
        ExportPrecision::Int8 => Precision::Int8,
    };
    if let Some((unet, config)) = load_translator(&args.run_dir, &device)? {
        let palette = read_palette(&args.run_dir)?;
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
    let (generator, config) = generator_of_run(&args.run_dir, args.from, &device)?;
    let bytes = save_generator_as(&generator, &config, precision);
    write_atomically(&args.out, &bytes)?;
    log::info!(
        "wrote {} ({:?}, {:.2} MB, {} parameters, image size {}, latent {})",
        args.out.display(),
        args.precision,
        bytes.len() as f64 / 1e6,
        generator.num_params(),
        config.image_size,
        config.latent_size
    );
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("fgw.tmp");
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The generator of the newest whole checkpoint in `run_dir`: its moving average of the
/// generator's weights when the run keeps one (what the samples show), else the last step's.
pub fn generator_from_run(
    run_dir: &Path,
    device: &Device,
) -> anyhow::Result<(Generator, DcganConfig)> {
    generator_of_run(run_dir, RunGenerator::Averaged, device)
}

/// The chosen generator of the newest whole checkpoint in `run_dir`.
pub fn generator_of_run(
    run_dir: &Path,
    which: RunGenerator,
    device: &Device,
) -> anyhow::Result<(Generator, DcganConfig)> {
    let (saved, path) = checkpoint::load_latest(run_dir)?
        .with_context(|| format!("{} holds no checkpoint: train first", run_dir.display()))?;
    let config = saved.meta.model;
    let weights = if which == RunGenerator::LastStep || saved.generator_average.is_empty() {
        saved.generator
    } else {
        saved.generator_average
    };
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))?;
    let generator = config
        .init_generator(device)
        .try_load_record(record)
        .with_context(|| format!("cannot load the generator of {}", path.display()))?;
    Ok((generator, config))
}
