use std::path::Path;

use anyhow::Context;
use burn::module::Module;
use burn::tensor::Tensor;
use facegan_model::Generator;
use facegan_model::image::nchw_to_rgb8;

use crate::render::{grid, save_png_atomically, write_gif};

/// Seeds of the fixed sample grid: the same 64 faces `facegan generate --seed 0` draws.
pub const SAMPLE_SEEDS: std::ops::Range<u64> = 0..64;
const PROGRESS_GIF: &str = "progress.gif";
/// Largest side of a progress-GIF frame; bigger grids are halved to keep the GIF small.
const GIF_MAX_SIDE: u32 = 300;
/// Most epochs a progress GIF shows (spread evenly, first and last included), so a long run's
/// GIF stays under a megabyte.
const GIF_MAX_FRAMES: usize = 12;

/// Runs the generator in inference mode (BatchNorm running statistics) and returns RGB8 faces.
pub fn render_faces(
    generator: &Generator,
    z: Tensor<4>,
    size: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let images = generator.valid().forward(z);
    let values = images
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| anyhow::anyhow!("cannot read generated images: {error:?}"))?;
    Ok(nchw_to_rgb8(&values, size))
}

/// Writes `samples/epoch_NNN.png` (`epoch` 1-based; images in rows of `columns`) and refreshes `progress.gif` from all
/// sample grids written so far.
pub fn write_epoch_samples(
    faces: &[Vec<u8>],
    size: usize,
    columns: usize,
    run_dir: &Path,
    epoch: usize,
) -> anyhow::Result<()> {
    let samples = run_dir.join("samples");
    std::fs::create_dir_all(&samples)?;
    let picture = grid(faces, size, columns);
    save_png_atomically(&picture, &samples.join(format!("epoch_{epoch:03}.png")))?;

    let mut frames = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&samples)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().is_some_and(|name| {
                name.to_string_lossy().starts_with("epoch_")
                    && path.extension().is_some_and(|e| e == "png")
            })
        })
        .collect();
    paths.sort();
    for path in gif_frames(&paths) {
        let frame = image::open(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .to_rgb8();
        let frame = if frame.width() > GIF_MAX_SIDE {
            image::imageops::resize(
                &frame,
                frame.width() / 2,
                frame.height() / 2,
                image::imageops::FilterType::Triangle,
            )
        } else {
            frame
        };
        frames.push(frame);
    }
    write_gif(&frames, &run_dir.join(PROGRESS_GIF), 400)
}

/// The epochs the progress GIF shows: all of them up to [`GIF_MAX_FRAMES`], else that many
/// spread evenly from the first to the last.
fn gif_frames<T>(all: &[T]) -> Vec<&T> {
    if all.len() <= GIF_MAX_FRAMES {
        return all.iter().collect();
    }
    (0..GIF_MAX_FRAMES)
        .map(|i| &all[i * (all.len() - 1) / (GIF_MAX_FRAMES - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_show_evenly_spread_epochs_first_and_last_included() {
        let few: Vec<u32> = (1..=5).collect();
        assert_eq!(gif_frames(&few).len(), 5);
        let many: Vec<u32> = (1..=40).collect();
        let shown: Vec<u32> = gif_frames(&many).into_iter().copied().collect();
        assert_eq!(shown.len(), GIF_MAX_FRAMES);
        assert_eq!((shown[0], shown[GIF_MAX_FRAMES - 1]), (1, 40));
        assert!(shown.windows(2).all(|w| w[0] < w[1]));
    }
}
