//! XDoG line extraction (Winnemöller et al. 2012, "XDoG: an eXtended difference-of-Gaussians
//! compendium"): the difference of two blurs marks edges, and a soft threshold turns the dark
//! side of each edge into an ink stroke. Unlike Canny it keeps stroke width and tapering, so
//! the result reads as line art rather than as an edge map.

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageBuffer, Luma, RgbImage};
use serde::{Deserialize, Serialize};

/// The filter's parameters. The defaults were picked by eye on the 64 px anime faces: thin,
/// closed outlines of eyes, face and hair, with flat dark hair left mostly white.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Xdog {
    /// Blur of the finer Gaussian, in pixels of the upscaled working image.
    pub sigma: f32,
    /// Ratio of the coarser Gaussian's sigma to the finer one's (1.6 approximates a Laplacian).
    pub k: f32,
    /// Weight of the coarse blur: just below 1 keeps flat regions white whatever their tone.
    pub tau: f32,
    /// Threshold on the difference: below it is ink.
    pub epsilon: f32,
    /// Sharpness of the ink edge (tanh slope); large values give nearly binary strokes.
    pub phi: f32,
    /// The filter runs on the image enlarged this many times, then shrinks back: at 64 px a
    /// one-pixel stroke is otherwise all the filter can draw, and it aliases.
    pub upscale: u32,
}

impl Default for Xdog {
    fn default() -> Self {
        Self {
            sigma: 1.2,
            k: 1.6,
            tau: 0.99,
            epsilon: -0.01,
            phi: 100.0,
            upscale: 2,
        }
    }
}

type GrayF32 = ImageBuffer<Luma<f32>, Vec<f32>>;

impl Xdog {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.sigma > 0.0,
            "--sigma must be positive, found {}",
            self.sigma
        );
        anyhow::ensure!(self.k > 1.0, "--k must be above 1, found {}", self.k);
        anyhow::ensure!(self.phi > 0.0, "--phi must be positive, found {}", self.phi);
        anyhow::ensure!(
            (1..=8).contains(&self.upscale),
            "--upscale must be 1 to 8, found {}",
            self.upscale
        );
        Ok(())
    }

    /// The line drawing of `face`, the same size: white paper (255) with dark strokes.
    pub fn sketch(&self, face: &RgbImage) -> GrayImage {
        let (width, height) = face.dimensions();
        let gray = GrayF32::from_fn(width, height, |x, y| {
            let [r, g, b] = face.get_pixel(x, y).0;
            // Rec. 601 luma, as in most line-art extraction.
            Luma([(0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)) / 255.0])
        });
        let work = if self.upscale > 1 {
            imageops::resize(
                &gray,
                width * self.upscale,
                height * self.upscale,
                FilterType::CatmullRom,
            )
        } else {
            gray
        };
        let fine = gaussian_blur(&work, self.sigma);
        let coarse = gaussian_blur(&work, self.sigma * self.k);
        let lines = GrayF32::from_fn(work.width(), work.height(), |x, y| {
            let difference = fine.get_pixel(x, y).0[0] - self.tau * coarse.get_pixel(x, y).0[0];
            Luma([self.tone(difference)])
        });
        let lines = if self.upscale > 1 {
            imageops::resize(&lines, width, height, FilterType::Triangle)
        } else {
            lines
        };
        GrayImage::from_fn(width, height, |x, y| {
            Luma([(lines.get_pixel(x, y).0[0].clamp(0.0, 1.0) * 255.0).round() as u8])
        })
    }

    /// Paper (1) above the threshold, a soft ramp to ink (0) below it.
    fn tone(&self, difference: f32) -> f32 {
        if difference >= self.epsilon {
            1.0
        } else {
            (1.0 + (self.phi * (difference - self.epsilon)).tanh()).max(0.0)
        }
    }
}

/// A separable Gaussian blur with the kernel cut at 4 sigma and edge pixels repeated. The
/// `image` crate's blur cuts small kernels at about 1.5 sigma, which is fine for looks but skews
/// a difference of two Gaussians, the very thing XDoG thresholds.
fn gaussian_blur(image: &GrayF32, sigma: f32) -> GrayF32 {
    let radius = (4.0 * sigma).ceil() as i64;
    let weights: Vec<f32> = (-radius..=radius)
        .map(|d| (-0.5 * (d as f32 / sigma).powi(2)).exp())
        .collect();
    let total: f32 = weights.iter().sum();
    let (width, height) = (i64::from(image.width()), i64::from(image.height()));
    let pass = |source: &GrayF32, horizontal: bool| {
        GrayF32::from_fn(image.width(), image.height(), |x, y| {
            let mut sum = 0.0;
            for (weight, d) in weights.iter().zip(-radius..=radius) {
                let (sx, sy) = if horizontal {
                    ((i64::from(x) + d).clamp(0, width - 1), i64::from(y))
                } else {
                    (i64::from(x), (i64::from(y) + d).clamp(0, height - 1))
                };
                sum += weight * source.get_pixel(sx as u32, sy as u32).0[0];
            }
            Luma([sum / total])
        })
    };
    pass(&pass(image, true), false)
}

/// Fraction of pixels darker than mid-grey: how much of a sketch is ink.
pub fn ink_fraction(sketch: &GrayImage) -> f64 {
    let ink = sketch.pixels().filter(|p| p.0[0] < 128).count();
    ink as f64 / (sketch.width() * sketch.height()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A light background with a filled dark disc and a mid-tone bar: shapes with edges.
    fn shapes(size: u32) -> RgbImage {
        RgbImage::from_fn(size, size, |x, y| {
            let (dx, dy) = (x as f32 - 24.0, y as f32 - 28.0);
            if dx * dx + dy * dy < 14.0 * 14.0 {
                Rgb([40, 30, 90])
            } else if (44..54).contains(&x) && (8..56).contains(&y) {
                Rgb([150, 120, 110])
            } else {
                Rgb([235, 225, 220])
            }
        })
    }

    #[test]
    fn outlines_shapes_with_dark_strokes_on_white() {
        let sketch = Xdog::default().sketch(&shapes(64));
        let ink = ink_fraction(&sketch);
        assert!((0.02..0.35).contains(&ink), "ink fraction {ink}");
        // Paper stays white: flat regions, dark ones included, carry no ink.
        assert_eq!(sketch.get_pixel(2, 2).0[0], 255, "background");
        assert!(sketch.get_pixel(24, 28).0[0] > 200, "inside the dark disc");
        // The disc's outline is drawn: some pixel on its rim is ink.
        let rim_ink = (0..360).step_by(5).any(|degrees| {
            let angle = (degrees as f32).to_radians();
            let (x, y) = (24.0 + 14.0 * angle.cos(), 28.0 + 14.0 * angle.sin());
            [-1.0f32, 0.0, 1.0].iter().any(|d| {
                let (x, y) = ((x + d * angle.cos()) as u32, (y + d * angle.sin()) as u32);
                sketch.get_pixel(x, y).0[0] < 128
            })
        });
        assert!(rim_ink, "the disc has no outline");
    }

    #[test]
    fn is_deterministic() {
        let face = shapes(64);
        let a = Xdog::default().sketch(&face);
        let b = Xdog::default().sketch(&face);
        assert_eq!(a.as_raw(), b.as_raw());
    }

    #[test]
    fn a_flat_image_is_blank_paper() {
        for tone in [0u8, 128, 255] {
            let flat = RgbImage::from_pixel(64, 64, Rgb([tone; 3]));
            assert_eq!(
                ink_fraction(&Xdog::default().sketch(&flat)),
                0.0,
                "tone {tone}"
            );
        }
    }
}
