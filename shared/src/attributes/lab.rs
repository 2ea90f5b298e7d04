//! sRGB to CIELAB (D65), the space the attributes are measured in: its distances and axes are
//! close to what people see, so "lighter hair" or "bluer eyes" are straight lines in it.
//! Twenty lines, so no colour crate (the page's download budget pays for every dependency).

/// A CIELAB colour: `l` lightness 0-100, `a` green(-) to red(+), `b` blue(-) to yellow(+).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

impl Lab {
    pub fn new(l: f32, a: f32, b: f32) -> Self {
        Self { l, a, b }
    }

    /// Colourfulness, `sqrt(a^2 + b^2)`.
    pub fn chroma(&self) -> f32 {
        libm::hypotf(self.a, self.b)
    }

    /// Hue angle in degrees, 0-360 (red about 40, yellow 90, green 140, blue 280).
    pub fn hue(&self) -> f32 {
        libm::atan2f(self.b, self.a).to_degrees().rem_euclid(360.0)
    }

    /// CIE76 colour difference.
    pub fn distance(&self, other: &Lab) -> f32 {
        let (dl, da, db) = (self.l - other.l, self.a - other.a, self.b - other.b);
        libm::sqrtf(dl * dl + da * da + db * db)
    }

    pub fn from_rgb(rgb: [u8; 3]) -> Self {
        let [r, g, b] = rgb.map(linear);
        // sRGB primaries to XYZ, divided by the D65 white point.
        let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
        let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
        let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
        let (fx, fy, fz) = (lab_f(x), lab_f(y), lab_f(z));
        Self::new(116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))
    }

    /// The nearest 8-bit sRGB colour, for swatches.
    pub fn to_rgb(&self) -> [u8; 3] {
        let fy = (self.l + 16.0) / 116.0;
        let (fx, fz) = (fy + self.a / 500.0, fy - self.b / 200.0);
        let (x, y, z) = (
            lab_f_inverse(fx) * 0.950_47,
            lab_f_inverse(fy),
            lab_f_inverse(fz) * 1.088_83,
        );
        let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
        let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
        let b = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
        [r, g, b].map(|c| {
            let c = c.clamp(0.0, 1.0);
            let encoded = if c <= 0.003_130_8 {
                12.92 * c
            } else {
                1.055 * libm::powf(c, 1.0 / 2.4) - 0.055
            };
            (encoded * 255.0).round() as u8
        })
    }
}

fn linear(byte: u8) -> f32 {
    let c = f32::from(byte) / 255.0;
    if c <= 0.040_45 {
        c / 12.92
    } else {
        libm::powf((c + 0.055) / 1.055, 2.4)
    }
}

const EPSILON: f32 = 216.0 / 24389.0;
const KAPPA: f32 = 24389.0 / 27.0;

fn lab_f(t: f32) -> f32 {
    if t > EPSILON {
        libm::cbrtf(t)
    } else {
        (KAPPA * t + 16.0) / 116.0
    }
}

fn lab_f_inverse(f: f32) -> f32 {
    if f * f * f > EPSILON {
        f * f * f
    } else {
        (116.0 * f - 16.0) / KAPPA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_colours() {
        let white = Lab::from_rgb([255, 255, 255]);
        assert!((white.l - 100.0).abs() < 0.01 && white.chroma() < 0.01);
        assert!(Lab::from_rgb([0, 0, 0]).l.abs() < 0.01);
        // Reference values of sRGB red and blue in CIELAB (D65).
        let red = Lab::from_rgb([255, 0, 0]);
        assert!((red.l - 53.24).abs() < 0.1 && (red.a - 80.09).abs() < 0.2);
        let blue = Lab::from_rgb([0, 0, 255]);
        assert!((blue.b + 107.86).abs() < 0.2 && (blue.hue() - 306.3).abs() < 0.5);
    }

    #[test]
    fn round_trips_through_rgb() {
        for rgb in [[12, 200, 99], [255, 128, 0], [40, 40, 40], [180, 90, 220]] {
            assert_eq!(Lab::from_rgb(rgb).to_rgb(), rgb);
        }
    }
}
