//! A drawing as the translator's input: one grey channel at the model's side, in [-1, 1].
//! The page's canvas and `facegan translate` both come through here, so a drawing gives the
//! same face natively and in the browser.

use crate::image::from_byte;

/// Shrinks a square grey image of side `side` (a multiple of `size`) to `size` by averaging
/// each block, and maps it to [-1, 1] (white paper is 1, ink -1): `size * size` values.
pub fn sketch_input(grey: &[u8], side: usize, size: usize) -> Vec<f32> {
    block_average(grey, side, size)
        .into_iter()
        .map(from_byte)
        .collect()
}

/// A square grey image of side `side` (a multiple of `size`) shrunk to `size` by the rounded
/// mean of each block: how the pad's canvas becomes the models' drawing.
pub fn block_average(grey: &[u8], side: usize, size: usize) -> Vec<u8> {
    assert_eq!(grey.len(), side * side, "not a {side}x{side} grey image");
    assert!(
        size > 0 && side.is_multiple_of(size),
        "{side} is not a multiple of {size}"
    );
    let block = side / size;
    let area = (block * block) as u32;
    let mut out = Vec::with_capacity(size * size);
    for y in 0..size {
        for x in 0..size {
            let mut sum = 0u32;
            for dy in 0..block {
                let row = (y * block + dy) * side + x * block;
                sum += grey[row..row + block]
                    .iter()
                    .map(|&v| u32::from(v))
                    .sum::<u32>();
            }
            out.push(((sum + area / 2) / area) as u8);
        }
    }
    out
}

/// Grey levels of RGBA pixels (a canvas's `getImageData`), transparent pixels as white paper.
pub fn grey_from_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| {
            let luma =
                (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500)
                    / 1000;
            // Composite over white by alpha.
            let alpha = u32::from(p[3]);
            ((luma * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_blocks_and_maps_paper_to_one() {
        // 4x4: top-left 2x2 block black, the rest white.
        let mut grey = vec![255u8; 16];
        for i in [0, 1, 4, 5] {
            grey[i] = 0;
        }
        assert_eq!(sketch_input(&grey, 4, 2), vec![-1.0, 1.0, 1.0, 1.0]);
        assert_eq!(sketch_input(&grey, 4, 4)[0], -1.0);
    }

    #[test]
    fn transparent_canvas_is_white_paper() {
        assert_eq!(grey_from_rgba(&[0, 0, 0, 0, 0, 0, 0, 255]), vec![255, 0]);
    }
}
