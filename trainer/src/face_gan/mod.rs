//! What the face GANs (`dcgan/` and `resnet/`) share beyond the driver: their flags, the
//! noise and fixed seeds they draw from, the moving average of the generator, and the
//! mode-collapse check at each epoch's end.

pub mod average;
pub mod diversity;
pub mod flags;
pub mod latents;

use std::path::Path;

use crate::data::ImageSet;
use crate::run::SampleGrid;

pub use average::{blend, decay_at, default_ema_decay};
pub use diversity::{COLLAPSE_RATIO, DIVERSITY_FILE, mean_pairwise_distance};
pub use flags::GanFlags;
pub use latents::{SAMPLE_SEEDS, latent_tensor, noise, render_faces};

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
