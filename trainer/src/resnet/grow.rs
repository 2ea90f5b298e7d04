//! `--grow-from`: a new run that goes on from another ResNet run's checkpoint with a wider
//! generator. The old generator is widened so that it draws the same faces
//! ([`facegan_model::ResnetGenerator::widened`]); the discriminator and its Adam are kept as
//! they were, so neither network starts from noise (a fresh discriminator against a trained
//! generator learns nothing for thousands of steps: `docs/training-log.md`, "Third row"). The
//! generator's Adam and moving average start afresh: the wider network has new parameters.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::tensor::Device;
use facegan_model::{FaceGenerator, GeneratorConfig, ResnetConfig, SplitMix64};

use super::{Architecture, ResnetDiscriminator, TrainConfig, init_discriminator};
use crate::face_gan::{GanParts, load_face_generator_bytes};
use crate::run::{checkpoint, load_module};

/// The parts of a run of `config` grown from the checkpoint at `path`.
pub fn grown_parts(
    config: &TrainConfig,
    path: &Path,
    device: &Device,
) -> anyhow::Result<GanParts<FaceGenerator, ResnetDiscriminator>> {
    let context = || format!("--grow-from {}", path.display());
    let mut checkpoint = checkpoint::load(path).with_context(context)?;
    ensure!(
        checkpoint.meta.kind == "resnet",
        "--grow-from {}: a checkpoint of a {} run; only a ResNet run's can grow",
        path.display(),
        checkpoint.meta.kind
    );
    let found: Architecture = serde_json::from_value(checkpoint.meta.architecture.clone())
        .with_context(|| format!("{}: unreadable architecture", context()))?;
    if found.generator.is_some() {
        bail!(
            "--grow-from {}: its generator is a DCGAN (the run started from one with \
             --init-generator); only a ResNet generator can grow",
            path.display()
        );
    }
    check_growth(&found.model, &config.model).with_context(context)?;

    let sections = &mut checkpoint.sections;
    let inner = device.clone().without_autodiff();
    let narrow = GeneratorConfig::Resnet(found.model.clone());
    let FaceGenerator::Resnet(narrow) =
        load_face_generator_bytes(&narrow, sections.take("generator")?, &inner)?
    else {
        unreachable!("a ResNet config loads a ResNet generator")
    };
    // The run's seed picks the copied channels, so a grown run repeats.
    let widened = narrow.widened(&config.model, &mut SplitMix64::new(config.run.seed));
    let generator = config
        .generator_config()
        .init(device)
        .try_load_record(FaceGenerator::Resnet(widened).into_record())?;
    let discriminator = load_module(
        init_discriminator(&config.model, device),
        sections.take("discriminator")?,
    )
    .with_context(context)?;
    let mut parts = GanParts::fresh(
        generator,
        discriminator,
        config.ema_decay,
        &config.optimizer,
    );
    parts.discriminator_optimizer = config
        .optimizer
        .adam_from(sections.take("discriminator_optimizer")?)
        .with_context(context)?;
    log::info!(
        "grew the generator of {} (step {}) from width {} to {}; its discriminator goes on",
        path.display(),
        checkpoint.meta.step,
        found.model.generator_width,
        config.model.generator_width
    );
    Ok(parts)
}

/// A run of `wider` can grow from one of `narrow` when only the generator's width differs,
/// and does not shrink.
fn check_growth(narrow: &ResnetConfig, wider: &ResnetConfig) -> anyhow::Result<()> {
    for (flag, has, wanted) in [
        ("--image-size", narrow.image_size, wider.image_size),
        ("--latent-size", narrow.latent_size, wider.latent_size),
        ("--depth", narrow.depth, wider.depth),
        (
            "--discriminator-width",
            narrow.discriminator_width,
            wider.discriminator_width,
        ),
    ] {
        ensure!(
            has == wanted,
            "the checkpoint's run has {flag} {has} but this run asks for {wanted}; a grown run \
             changes only --generator-width"
        );
    }
    ensure!(
        wider.generator_width >= narrow.generator_width,
        "--generator-width {} is narrower than the checkpoint's generator ({}); a run can only \
         grow",
        wider.generator_width,
        narrow.generator_width
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_changes_only_the_generator_width_upwards() {
        let narrow = ResnetConfig::new();
        assert!(check_growth(&narrow, &narrow.clone().with_generator_width(24)).is_ok());
        let shrink = check_growth(&narrow, &narrow.clone().with_generator_width(8));
        assert!(
            format!("{:#}", shrink.unwrap_err())
                .contains("narrower than the checkpoint's generator (16)")
        );
        let other_d = check_growth(&narrow, &narrow.clone().with_discriminator_width(64));
        assert!(
            format!("{:#}", other_d.unwrap_err())
                .contains("--discriminator-width 32 but this run asks for 64")
        );
    }
}
