//! Where the parts of a face are in the data set's crops, in pixels of a 64 px face (scaled
//! for other sizes). Read off the mean and spread of 2,000 prepared faces: eyes centred near
//! rows 26-27 at columns 19 and 44, the mouth near row 41, fringe across the top fifth.

use std::ops::Range;

/// The side the regions are given at.
pub const SIZE: usize = 64;

/// A rectangle of a 64 px face: rows `top..bottom`, columns `left..right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Region {
    /// Rows and columns at an image of side `size`.
    pub fn at(&self, size: usize) -> (Range<usize>, Range<usize>) {
        let scale = |v: usize| v * size / SIZE;
        (
            scale(self.top)..scale(self.bottom).max(scale(self.top) + 1),
            scale(self.left)..scale(self.right).max(scale(self.left) + 1),
        )
    }
}

/// The fringe: hair in nearly every crop, background only at its ends.
pub const FRINGE: Region = Region {
    top: 3,
    bottom: 14,
    left: 14,
    right: 50,
};

/// The left and right iris regions (below the fringe's usual reach).
pub const EYES: [Region; 2] = [
    Region {
        top: 23,
        bottom: 32,
        left: 12,
        right: 27,
    },
    Region {
        top: 23,
        bottom: 32,
        left: 37,
        right: 52,
    },
];

/// Cheeks and nose, between the eyes and the mouth.
pub const CHEEKS: Region = Region {
    top: 32,
    bottom: 40,
    left: 20,
    right: 44,
};

/// Width of the frame's outer ring that stands for the background.
pub const RING: usize = 3;

/// How far (CIE76) a pixel may be from the cheeks' colour and still count as face.
pub const SKIN_DISTANCE: f32 = 12.0;
