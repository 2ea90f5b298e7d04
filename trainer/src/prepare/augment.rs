use image::RgbImage;

/// Extra copies of each crop, as the smug-face project made them; each doubles the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Augment {
    /// Mirror left-right.
    Flip,
    /// A mild Gaussian blur (sigma 0.8 pixels).
    Blur,
}

impl Augment {
    pub fn suffix(self) -> &'static str {
        match self {
            Augment::Flip => "flip",
            Augment::Blur => "blur",
        }
    }

    pub fn apply(self, image: &RgbImage) -> RgbImage {
        match self {
            Augment::Flip => image::imageops::flip_horizontal(image),
            Augment::Blur => image::imageops::blur(image, 0.8),
        }
    }
}
