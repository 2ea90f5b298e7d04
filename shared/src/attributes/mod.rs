//! What can be read from a 64 px anime face: hair colour, eye colour, skin and background
//! lightness, and how much of the frame the face fills. The page measures a face to steer it
//! (reach a named hair colour); `facegan directions` measures thousands to fit the latent
//! directions that move each attribute.
//!
//! Every face of the data set is a detector crop, so the parts sit in about the same places
//! ([`layout`]); each measurement is a robust statistic (a median, a most-colourful quarter)
//! over its region, so a strand of hair across an eye or a highlight moves it little.

mod colour_names;
mod lab;
pub mod layout;

pub use colour_names::{EYE_COLOURS, HAIR_COLOURS, eye_colour_name, hair_colour_name};
pub use lab::Lab;
use layout::Region;

/// The measured attributes of one face.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Attributes {
    /// Median colour of the fringe.
    pub hair: Lab,
    /// Median colour of the most colourful quarter of each iris region (outlines, pupils and
    /// highlights left out), the two eyes averaged.
    pub eyes: Lab,
    /// Median lightness of the cheeks, 0-100.
    pub skin_lightness: f32,
    /// Median lightness of the frame's outer ring (background, or hair where it reaches the
    /// edge), 0-100.
    pub background_lightness: f32,
    /// Share of the frame, 0-1, covered by the skin-coloured region connected to the cheeks.
    pub face_fill: f32,
}

/// The attributes as numbers, in [`Attributes::values`] order: what directions are fitted to.
pub const ATTRIBUTE_NAMES: [&str; 9] = [
    "hair_l",
    "hair_a",
    "hair_b",
    "eyes_l",
    "eyes_a",
    "eyes_b",
    "skin_l",
    "background_l",
    "face_fill",
];

impl Attributes {
    pub fn values(&self) -> [f32; 9] {
        [
            self.hair.l,
            self.hair.a,
            self.hair.b,
            self.eyes.l,
            self.eyes.a,
            self.eyes.b,
            self.skin_lightness,
            self.background_lightness,
            self.face_fill,
        ]
    }

    pub fn hair_colour(&self) -> &'static str {
        hair_colour_name(self.hair)
    }

    pub fn eye_colour(&self) -> &'static str {
        eye_colour_name(self.eyes)
    }
}

/// Measures a face: `rgb` is `size * size` pixels, row-major RGB8 (what the generator draws).
pub fn measure(rgb: &[u8], size: usize) -> Attributes {
    assert_eq!(rgb.len(), size * size * 3, "not a {size}x{size} RGB image");
    let lab: Vec<Lab> = rgb
        .chunks_exact(3)
        .map(|p| Lab::from_rgb([p[0], p[1], p[2]]))
        .collect();
    let face = Face { lab, size };

    let hair = median_lab(&face.pixels(layout::FRINGE));
    let eyes = {
        let [left, right] = layout::EYES.map(|eye| iris_colour(&face.pixels(eye)));
        Lab::new(
            (left.l + right.l) / 2.0,
            (left.a + right.a) / 2.0,
            (left.b + right.b) / 2.0,
        )
    };
    let cheeks = face.pixels(layout::CHEEKS);
    let skin = median_lab(&cheeks);
    Attributes {
        hair,
        eyes,
        skin_lightness: skin.l,
        background_lightness: median(face.ring().iter().map(|p| p.l).collect()),
        face_fill: face.fill_fraction(layout::CHEEKS, skin),
    }
}

struct Face {
    lab: Vec<Lab>,
    size: usize,
}

impl Face {
    fn pixels(&self, region: Region) -> Vec<Lab> {
        let (rows, columns) = region.at(self.size);
        rows.flat_map(|y| columns.clone().map(move |x| (y, x)))
            .map(|(y, x)| self.lab[y * self.size + x])
            .collect()
    }

    /// The outer ring of the frame, [`layout::RING`] pixels wide at 64 px.
    fn ring(&self) -> Vec<Lab> {
        let width = (layout::RING * self.size / layout::SIZE).max(1);
        let size = self.size;
        (0..size * size)
            .filter(|i| {
                let (y, x) = (i / size, i % size);
                y < width || x < width || y >= size - width || x >= size - width
            })
            .map(|i| self.lab[i])
            .collect()
    }

    /// Flood fill (4-connected) from the pixel of `seed_region` nearest to `skin`, over pixels
    /// within [`layout::SKIN_DISTANCE`] of it; the share of the frame it covers.
    fn fill_fraction(&self, seed_region: Region, skin: Lab) -> f32 {
        let size = self.size;
        let (rows, columns) = seed_region.at(size);
        let start = rows
            .flat_map(|y| columns.clone().map(move |x| y * size + x))
            .min_by(|&a, &b| {
                self.lab[a]
                    .distance(&skin)
                    .total_cmp(&self.lab[b].distance(&skin))
            })
            .expect("regions are never empty");
        let mut seen = vec![false; size * size];
        let mut stack = vec![start];
        seen[start] = true;
        let mut count = 0usize;
        while let Some(i) = stack.pop() {
            count += 1;
            let (y, x) = (i / size, i % size);
            let neighbours = [
                (y > 0).then(|| i - size),
                (y + 1 < size).then(|| i + size),
                (x > 0).then(|| i - 1),
                (x + 1 < size).then(|| i + 1),
            ];
            for j in neighbours.into_iter().flatten() {
                if !seen[j] && self.lab[j].distance(&skin) < layout::SKIN_DISTANCE {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        count as f32 / (size * size) as f32
    }
}

/// The colour of an iris: pixels neither outline nor highlight, their most colourful quarter.
fn iris_colour(pixels: &[Lab]) -> Lab {
    let mut candidates: Vec<Lab> = pixels
        .iter()
        .copied()
        .filter(|p| (15.0..90.0).contains(&p.l))
        .collect();
    if candidates.is_empty() {
        return median_lab(pixels);
    }
    candidates.sort_by(|a, b| b.chroma().total_cmp(&a.chroma()));
    let quarter = candidates.len().div_ceil(4);
    median_lab(&candidates[..quarter])
}

/// The per-channel median of colours (of a region, or of many faces).
pub fn median_lab(pixels: &[Lab]) -> Lab {
    Lab::new(
        median(pixels.iter().map(|p| p.l).collect()),
        median(pixels.iter().map(|p| p.a).collect()),
        median(pixels.iter().map(|p| p.b).collect()),
    )
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 64 px "face" painted from the layout: background, hair over the top, skin below,
    /// irises in the eye regions.
    pub(crate) fn painted(
        background: [u8; 3],
        hair: [u8; 3],
        skin: [u8; 3],
        iris: [u8; 3],
    ) -> Vec<u8> {
        let size = 64;
        let mut rgb = vec![0u8; size * size * 3];
        for y in 0..size {
            for x in 0..size {
                let inside = |r: Region| {
                    let (rows, columns) = r.at(size);
                    rows.contains(&y) && columns.contains(&x)
                };
                let colour = if layout::EYES.iter().any(|&eye| inside(eye)) {
                    iris
                } else if y < 18 && (8..56).contains(&x) {
                    hair
                } else if (18..54).contains(&y) && (10..54).contains(&x) {
                    skin
                } else {
                    background
                };
                rgb[(y * size + x) * 3..][..3].copy_from_slice(&colour);
            }
        }
        rgb
    }

    #[test]
    fn reads_known_colours_from_a_painted_face() {
        let rgb = painted(
            [250, 250, 250],
            [240, 120, 180],
            [252, 226, 210],
            [40, 90, 220],
        );
        let face = measure(&rgb, 64);
        assert!(face.hair.distance(&Lab::from_rgb([240, 120, 180])) < 0.5);
        assert_eq!(face.hair_colour(), "pink");
        assert!(face.eyes.distance(&Lab::from_rgb([40, 90, 220])) < 0.5);
        assert_eq!(face.eye_colour(), "blue");
        assert!((face.skin_lightness - Lab::from_rgb([252, 226, 210]).l).abs() < 0.5);
        assert!((face.background_lightness - Lab::from_rgb([250, 250, 250]).l).abs() < 0.5);
        // The skin rectangle minus the eyes: 36 x 44 - 2 x (9 x 15) pixels of 64 x 64.
        let skin_pixels = 36.0 * 44.0 - 2.0 * 9.0 * 15.0;
        assert!(
            (face.face_fill - skin_pixels / 4096.0).abs() < 0.01,
            "{}",
            face.face_fill
        );
    }

    #[test]
    fn outlines_and_highlights_do_not_colour_the_eyes() {
        let mut rgb = painted([250; 3], [30; 3], [252, 226, 210], [200, 40, 50]);
        // Black outline along the top row of each eye region, white highlight in the middle.
        for eye in layout::EYES {
            let (rows, columns) = eye.at(64);
            for x in columns.clone() {
                rgb[(rows.start * 64 + x) * 3..][..3].copy_from_slice(&[0, 0, 0]);
            }
            let (y, x) = (rows.start + 4, columns.start + 5);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                rgb[((y + dy) * 64 + x + dx) * 3..][..3].copy_from_slice(&[255, 255, 255]);
            }
        }
        let face = measure(&rgb, 64);
        assert_eq!(face.eye_colour(), "red");
        assert!(face.eyes.distance(&Lab::from_rgb([200, 40, 50])) < 0.5);
        assert_eq!(face.hair_colour(), "black");
    }

    #[test]
    fn scales_with_the_image() {
        // The same painting at 128 px (each pixel doubled) measures the same.
        let small = painted([240; 3], [250, 150, 40], [250, 230, 215], [40, 160, 90]);
        let mut large = vec![0u8; 128 * 128 * 3];
        for y in 0..128 {
            for x in 0..128 {
                let from = ((y / 2) * 64 + x / 2) * 3;
                large[(y * 128 + x) * 3..][..3].copy_from_slice(&small[from..from + 3]);
            }
        }
        let (a, b) = (measure(&small, 64), measure(&large, 128));
        assert_eq!(a.hair_colour(), b.hair_colour());
        assert_eq!(b.eye_colour(), "green");
        assert!((a.face_fill - b.face_fill).abs() < 0.02);
    }
}
