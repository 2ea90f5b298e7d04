//! Colour codes moved off their faces in training. A code read from G(z) always agrees with
//! G(z)'s drawing, so an encoder trained on such pairs may take the face's layout from either.
//! On the page the code is a real face's, picked by a seed, and a drawing rarely has its layout:
//! an encoder that follows the code's layout puts that face's hair where the person drew skin.
//! Showing the encoder some codes shifted by a cell or mirrored, while the losses still ask for
//! G(z) and its own code, teaches it to take the layout from the drawing and from the code only
//! the colours.

use facegan_model::SplitMix64;
use facegan_model::translate::{CODE_GRID, CODE_SIZE};

/// `code` moved by a random offset of up to one cell in each direction (the cells moved in
/// from outside repeat the edge) and mirrored left to right half of the time.
pub fn jittered(code: &[f32; CODE_SIZE], rng: &mut SplitMix64) -> [f32; CODE_SIZE] {
    let dy = rng.below(3) as isize - 1;
    let dx = rng.below(3) as isize - 1;
    let mirror = rng.chance(0.5);
    moved(code, dy, dx, mirror)
}

/// `code` with each cell taken from `(row - dy, column - dx)` clamped to the grid, then
/// mirrored when `mirror`.
fn moved(code: &[f32; CODE_SIZE], dy: isize, dx: isize, mirror: bool) -> [f32; CODE_SIZE] {
    let last = CODE_GRID as isize - 1;
    std::array::from_fn(|index| {
        let (cell, channel) = (index / 3, index % 3);
        let (row, column) = ((cell / CODE_GRID) as isize, (cell % CODE_GRID) as isize);
        let column = if mirror { last - column } else { column };
        let from_row = (row - dy).clamp(0, last) as usize;
        let from_column = (column - dx).clamp(0, last) as usize;
        code[(from_row * CODE_GRID + from_column) * 3 + channel]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code whose cell (row, column) has the colour (row, column, 0).
    fn numbered() -> [f32; CODE_SIZE] {
        std::array::from_fn(|index| match index % 3 {
            0 => (index / 3 / CODE_GRID) as f32,
            1 => (index / 3 % CODE_GRID) as f32,
            _ => 0.0,
        })
    }

    fn cell(code: &[f32; CODE_SIZE], row: usize, column: usize) -> (f32, f32) {
        let at = (row * CODE_GRID + column) * 3;
        (code[at], code[at + 1])
    }

    #[test]
    fn no_move_is_the_code_itself() {
        assert_eq!(moved(&numbered(), 0, 0, false), numbered());
    }

    #[test]
    fn a_move_down_right_repeats_the_top_and_left_edges() {
        let code = moved(&numbered(), 1, 1, false);
        // The centre now holds the top-left cell; the top-left cell stays (edge repeated).
        assert_eq!(cell(&code, 1, 1), (0.0, 0.0));
        assert_eq!(cell(&code, 0, 0), (0.0, 0.0));
        assert_eq!(cell(&code, 2, 2), (1.0, 1.0));
        assert_eq!(cell(&code, 0, 2), (0.0, 1.0));
    }

    #[test]
    fn mirroring_swaps_left_and_right_columns() {
        let code = moved(&numbered(), 0, 0, true);
        for row in 0..CODE_GRID {
            assert_eq!(cell(&code, row, 0), (row as f32, 2.0));
            assert_eq!(cell(&code, row, 1), (row as f32, 1.0));
            assert_eq!(cell(&code, row, 2), (row as f32, 0.0));
        }
    }

    #[test]
    fn jittered_codes_keep_the_codes_colours_and_vary() {
        let code = numbered();
        let mut rng = SplitMix64::new(3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let moved = jittered(&code, &mut rng);
            assert!(moved.iter().all(|v| code.contains(v)));
            seen.insert(moved.map(f32::to_bits));
        }
        // 9 offsets x 2 mirrorings, some of them equal at the grid's edges.
        assert!(seen.len() > 9, "only {} distinct jitters", seen.len());
    }
}
