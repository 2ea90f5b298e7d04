//! Training faces zoomed in. People draw a face as a circle that fills the pad, larger than the
//! generator usually draws one; an encoder that only saw the generator's own framing answers a
//! large circle with a face of the usual size and lets the hair fall where the person drew
//! skin (on the crude-sketch benchmark the near-black share on the drawn skin grew with the
//! drawn head's area, r = 0.63). A share of the training faces is cropped to a random window
//! and scaled back up, and the encoder is asked for that larger face from its drawing: the
//! generator can draw it (face size is one of its directions), and the encoder learns to follow
//! the drawing's scale and place.

use facegan_model::SplitMix64;
use image::RgbImage;
use image::imageops::{FilterType, crop_imm, resize};

/// The largest zoom: the crop window's side is at least 1/MAX_ZOOM of the face's. Beyond about
/// a third the window loses the hair, and the target stops looking like any of the
/// generator's faces.
pub const MAX_ZOOM: f64 = 1.35;

/// Where to crop one face: the window's side in pixels and its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub side: u32,
    pub x: u32,
    pub y: u32,
}

impl Window {
    /// A random window of a `size` face: zoom uniform in [1, MAX_ZOOM], placed uniformly.
    pub fn random(size: usize, rng: &mut SplitMix64) -> Self {
        let zoom = rng.uniform(1.0, MAX_ZOOM);
        let side = ((size as f64 / zoom).round() as u32).clamp(1, size as u32);
        let room = size as u32 - side;
        let x = rng.below(room as usize + 1) as u32;
        let y = rng.below(room as usize + 1) as u32;
        Self { side, x, y }
    }

    /// The RGB8 `face` (`size * size`) cropped to the window and scaled back to `size`.
    pub fn apply(&self, face: &[u8], size: usize) -> Vec<u8> {
        let image = RgbImage::from_raw(size as u32, size as u32, face.to_vec())
            .expect("size * size * 3 bytes");
        let crop = crop_imm(&image, self.x, self.y, self.side, self.side).to_image();
        resize(&crop, size as u32, size as u32, FilterType::Triangle).into_raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face whose pixel (x, y) is (4x, 4y, 0).
    fn ramp(size: usize) -> Vec<u8> {
        (0..size * size)
            .flat_map(|i| [(i % size * 4) as u8, (i / size * 4) as u8, 0])
            .collect()
    }

    #[test]
    fn the_whole_face_is_the_face_itself() {
        let window = Window {
            side: 16,
            x: 0,
            y: 0,
        };
        assert_eq!(window.apply(&ramp(16), 16), ramp(16));
    }

    #[test]
    fn a_window_enlarges_its_corner_of_the_face() {
        let size = 16;
        let window = Window {
            side: 12,
            x: 4,
            y: 0,
        };
        let zoomed = window.apply(&ramp(size), size);
        let pixel = |x: usize, y: usize| &zoomed[(y * size + x) * 3..(y * size + x) * 3 + 2];
        // The top-left pixel comes from (4, 0) of the face; the last from near (15, 11).
        assert_eq!(pixel(0, 0), &[16, 0]);
        let [red, green] = [pixel(15, 15)[0], pixel(15, 15)[1]];
        assert!((56..=60).contains(&red) && (40..=44).contains(&green));
    }

    #[test]
    fn random_windows_stay_inside_and_zoom_at_most_max_zoom() {
        let mut rng = SplitMix64::new(9);
        for _ in 0..500 {
            let window = Window::random(64, &mut rng);
            assert!(f64::from(window.side) >= 64.0 / MAX_ZOOM - 0.5);
            assert!(window.x + window.side <= 64 && window.y + window.side <= 64);
        }
    }
}
