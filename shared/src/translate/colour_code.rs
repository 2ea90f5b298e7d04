//! The colour code: what a sketch lacks. A sketch fixes the lines of a face but not its
//! colours, so a translator trained on sketches alone learns the average colouring (the source
//! projects' "always the same colours"). The code is the mean colour of each cell of a 3x3 grid
//! over the face: in training it is read from the target face, so the generator must use it to
//! reach the target; at generation a seed picks one from a palette of codes of real faces,
//! shipped with the weights, so every seed is a plausible colouring.

use crate::image::from_byte;
use crate::latent::SplitMix64;

/// Cells per side of the grid.
pub const CODE_GRID: usize = 3;
/// Length of a colour code: an RGB mean per cell, in [-1, 1].
pub const CODE_SIZE: usize = CODE_GRID * CODE_GRID * 3;

/// The colour code of an RGB8 image of `size * size` pixels (row-major HWC), as mean colour
/// bytes: the form palettes are stored in.
pub fn colour_code_bytes(rgb: &[u8], size: usize) -> [u8; CODE_SIZE] {
    assert_eq!(rgb.len(), size * size * 3, "not a {size}x{size} RGB image");
    let mut sums = [0u64; CODE_SIZE];
    let mut counts = [0u64; CODE_GRID * CODE_GRID];
    for y in 0..size {
        for x in 0..size {
            let cell = (y * CODE_GRID / size) * CODE_GRID + x * CODE_GRID / size;
            counts[cell] += 1;
            for channel in 0..3 {
                sums[cell * 3 + channel] += u64::from(rgb[(y * size + x) * 3 + channel]);
            }
        }
    }
    std::array::from_fn(|index| {
        let count = counts[index / 3];
        // Rounded integer mean.
        ((sums[index] + count / 2) / count) as u8
    })
}

/// The colour code of an RGB8 image of `size * size` pixels, in the networks' [-1, 1] range.
pub fn colour_code(rgb: &[u8], size: usize) -> [f32; CODE_SIZE] {
    colour_code_bytes(rgb, size).map(from_byte)
}

/// The palette entry a seed picks: the same seed, the same colouring, on every platform.
pub fn palette_index(seed: u64, palette_len: usize) -> usize {
    assert!(palette_len > 0, "empty palette");
    SplitMix64::new(seed ^ 0xC010_0C0D).below(palette_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_cells_mean_colour() {
        let size = 6;
        // Left third red, the rest blue.
        let rgb: Vec<u8> = (0..size * size)
            .flat_map(|i| {
                if i % size < 2 {
                    [255, 0, 0]
                } else {
                    [0, 0, 255]
                }
            })
            .collect();
        let code = colour_code(&rgb, size);
        for row in 0..CODE_GRID {
            assert_eq!(&code[(row * 3) * 3..][..3], &[1.0, -1.0, -1.0]);
            assert_eq!(&code[(row * 3 + 1) * 3..][..3], &[-1.0, -1.0, 1.0]);
        }
    }

    #[test]
    fn seeds_pick_fixed_spread_entries() {
        assert_eq!(palette_index(7, 100), palette_index(7, 100));
        let picked: std::collections::HashSet<usize> =
            (0..200).map(|seed| palette_index(seed, 50)).collect();
        assert!(picked.len() > 40, "{} of 50 entries", picked.len());
    }
}
