//! What the face GANs (`dcgan/` and `resnet/`) share beyond the driver: their flags, the
//! noise and fixed seeds they draw from, the parts they train and checkpoint (the moving
//! average of the generator among them), and the mode-collapse check at each epoch's end.

pub mod average;
pub mod diversity;
pub mod flags;
pub mod latents;
pub mod parts;

use std::path::Path;

use anyhow::{Context, anyhow};
use burn::module::Module;
use burn::tensor::Device;
use facegan_model::weights::load_face_generator;
use facegan_model::{FaceGenerator, GeneratorConfig};

use crate::data::ImageSet;
use crate::run::{Panel, SampleGrid, load_module, module_bytes};

pub use average::{GeneratorAverage, blend, decay_at, default_ema_decay};
pub use diversity::{COLLAPSE_RATIO, DIVERSITY_FILE, mean_pairwise_distance};
pub use flags::GanFlags;
pub use latents::{SAMPLE_SEEDS, latent_tensor, noise, render_faces, sample_grid};
pub use parts::GanParts;

/// A face generator's checkpoint bytes: its architecture's own module, not the enum around it
/// (whose record would name the variant), as DCGAN and earlier ResNet runs saved it.
pub fn face_generator_bytes(generator: &FaceGenerator) -> anyhow::Result<Vec<u8>> {
    match generator {
        FaceGenerator::Dcgan(g) => module_bytes(g),
        FaceGenerator::Resnet(g) => module_bytes(g),
    }
}

/// A face generator of architecture `config` from [`face_generator_bytes`], on `device`.
pub fn load_face_generator_bytes(
    config: &GeneratorConfig,
    bytes: Vec<u8>,
    device: &Device,
) -> anyhow::Result<FaceGenerator> {
    Ok(match config {
        GeneratorConfig::Dcgan(c) => load_module(c.init_generator(device), bytes)?.into(),
        GeneratorConfig::Resnet(c) => load_module(c.init_generator(device), bytes)?.into(),
    })
}

/// The generator of an exported weights file (`--init-generator`), refused unless its
/// architecture is `wanted`, then loaded into `fresh` (a new generator of `wanted` on the
/// training device) through a record, like a resume, so that its parameters are tracked.
/// `unwrap` takes the run's module type out of the file's [`FaceGenerator`].
pub fn generator_from_file<G: Module>(
    path: &Path,
    wanted: &GeneratorConfig,
    fresh: G,
    unwrap: impl FnOnce(FaceGenerator) -> Option<G>,
) -> anyhow::Result<G> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let inner = fresh.devices()[0].clone().without_autodiff();
    let (loaded, found) = load_face_generator(&bytes, &inner)
        .with_context(|| format!("--init-generator {}", path.display()))?;
    let refused = || {
        anyhow!(
            "--init-generator {}: the run expected a {} ({wanted:?}) but the file holds a {} \
             ({found:?})",
            path.display(),
            wanted.describe(),
            found.describe()
        )
    };
    if !wanted.same_generator(&found) {
        return Err(refused());
    }
    let loaded = unwrap(loaded).ok_or_else(refused)?;
    log::info!(
        "generator starts from {} ({})",
        path.display(),
        found.describe()
    );
    Ok(fresh.try_load_record(loaded.into_record())?)
}

/// The report's plot of [`check_diversity`]'s figure, with its warning line.
pub fn diversity_panel() -> Panel {
    Panel::epochs(
        "Diversity of the samples (of real)",
        DIVERSITY_FILE,
        &["ratio"],
    )
    .guide(COLLAPSE_RATIO, "collapse warning")
}

/// The epoch-end check of a face GAN: the samples' spread against the real images', written
/// to `diversity.csv`, with a warning below [`COLLAPSE_RATIO`]; returns the epoch line's note.
pub fn check_diversity(
    images: &ImageSet,
    run_dir: &Path,
    epoch: usize,
    grid: &SampleGrid,
) -> anyhow::Result<String> {
    let count = images.len().min(grid.tiles.len());
    let real: Vec<Vec<u8>> = (0..count).map(|i| images.image(i).to_vec()).collect();
    let spread = mean_pairwise_distance(&grid.tiles);
    let ratio = diversity::record(run_dir, epoch, spread, mean_pairwise_distance(&real))?;
    if ratio < COLLAPSE_RATIO {
        log::warn!(
            "epoch {epoch}: the samples' diversity is {ratio:.2} of the real images' (below \
             {COLLAPSE_RATIO}): possible mode collapse; look at samples/epoch_{epoch:03}.png"
        );
    }
    Ok(format!(", diversity {ratio:.2} of real"))
}
