use std::path::Path;

use anyhow::Context;
use image::RgbImage;

const PADDING: u32 = 2;
const BACKGROUND: [u8; 3] = [255, 255, 255];

/// Lays out square RGB8 images (each `size * size * 3` bytes) in rows of `columns`, with a
/// thin white border so neighbouring faces stay apart.
pub fn grid(images: &[Vec<u8>], size: usize, columns: usize) -> RgbImage {
    let columns = columns.clamp(1, images.len().max(1));
    let rows = images.len().div_ceil(columns).max(1);
    let size = size as u32;
    let cell = size + PADDING;
    let mut canvas = RgbImage::from_pixel(
        columns as u32 * cell + PADDING,
        rows as u32 * cell + PADDING,
        image::Rgb(BACKGROUND),
    );
    for (index, pixels) in images.iter().enumerate() {
        let tile =
            RgbImage::from_raw(size, size, pixels.clone()).expect("tile has size*size*3 bytes");
        let x = PADDING + (index % columns) as u32 * cell;
        let y = PADDING + (index / columns) as u32 * cell;
        image::imageops::replace(&mut canvas, &tile, i64::from(x), i64::from(y));
    }
    canvas
}

/// Writes a PNG through a temporary file and a rename, so a reader never sees half a file.
pub fn save_png_atomically(image: &RgbImage, path: &Path) -> anyhow::Result<()> {
    let temporary = path.with_extension("png.tmp");
    image
        .save_with_format(&temporary, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
