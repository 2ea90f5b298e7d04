//! The sketch encoder: a drawing and a colour code in, a latent of the face generator out, so
//! that `G(E(sketch, code))` is always a face the generator can draw ("anime face" mode). It is
//! trained on the frozen generator's own samples (`facegan train --model encoder`): their
//! roughened sketches and colour codes in, their latents and images as targets.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::config::check_sizes;
use crate::model::WEIGHT_INIT;
use crate::{ConfigError, FaceGenerator, GeneratorConfig};

/// The encoder's shape.
#[derive(Config, Debug, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Side of the square sketches (the generator's image size).
    #[config(default = 64)]
    pub image_size: usize,
    /// Length of the latent it predicts (the generator's).
    #[config(default = 100)]
    pub latent_size: usize,
    /// Length of the colour code (`CODE_SIZE`).
    #[config(default = 27)]
    pub code_size: usize,
    /// Channels of the first convolution, doubled at each of the four stages.
    #[config(default = 16)]
    pub width: usize,
    /// Units of the hidden layer between the features and the latent.
    #[config(default = 128)]
    pub hidden: usize,
}

/// Strided convolutions take the sketch down to 4x4.
const FEATURE_SIDE: usize = 4;

impl EncoderConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if ![32, 64, 128].contains(&self.image_size) {
            return Err(ConfigError::ImageSize(self.image_size));
        }
        check_sizes(&[
            ("latent_size", self.latent_size),
            ("code_size", self.code_size),
            ("width", self.width),
            ("hidden", self.hidden),
        ])
    }

    /// Stride-2 stages from the image size down to 4x4.
    pub fn stages(&self) -> usize {
        (self.image_size / FEATURE_SIDE).trailing_zeros() as usize
    }

    /// Builds a freshly initialised encoder. Panics on an invalid config.
    pub fn init(&self, device: &Device) -> SketchEncoder {
        self.validate().expect("invalid encoder config");
        let mut channels = 1;
        let convs = (0..self.stages())
            .map(|stage| {
                let out = self.width << stage;
                let conv = Conv2dConfig::new([channels, out], [4, 4])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_initializer(WEIGHT_INIT)
                    .init(device);
                channels = out;
                conv
            })
            .collect();
        let features = channels * FEATURE_SIDE * FEATURE_SIDE;
        SketchEncoder {
            convs,
            hidden: LinearConfig::new(features + self.code_size, self.hidden).init(device),
            latent: LinearConfig::new(self.hidden, self.latent_size).init(device),
        }
    }
}

/// Sketch + colour code -> latent.
#[derive(Module, Debug)]
pub struct SketchEncoder {
    convs: Vec<Conv2d>,
    hidden: Linear,
    latent: Linear,
}

impl SketchEncoder {
    /// `[n, 1, s, s]` sketch in [-1, 1] (paper 1, ink -1), `[n, code]` colour code ->
    /// `[n, latent, 1, 1]`, the generator's input.
    pub fn forward(&self, sketch: Tensor<4>, code: Tensor<2>) -> Tensor<4> {
        let mut x = sketch;
        for conv in &self.convs {
            // [n, c, h, w] -> [n, 2c, h/2, w/2]
            x = leaky_relu(conv.forward(x), 0.2);
        }
        let [n, c, h, w] = x.dims();
        // [n, c * 4 * 4 + code]
        let x = Tensor::cat(vec![x.reshape([n, c * h * w]), code], 1);
        let x = leaky_relu(self.hidden.forward(x), 0.2);
        // [n, latent] -> [n, latent, 1, 1]
        let z = self.latent.forward(x);
        let latent = z.dims()[1];
        z.reshape([n, latent, 1, 1])
    }

    /// The "anime face" mode: `[n, 1, s, s]` drawings and `[n, code]` colour codes ->
    /// `[n, 3, s, s]` faces of `generator` (the one the encoder was trained for).
    pub fn face(&self, generator: &FaceGenerator, sketch: Tensor<4>, code: Tensor<2>) -> Tensor<4> {
        generator.forward(self.forward(sketch, code))
    }
}

/// What an encoder file's header holds: its shape and the generator it was trained for,
/// which it must be used with (checked by fingerprint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderHeader {
    pub encoder: EncoderConfig,
    pub generator: GeneratorConfig,
    /// [`crate::fingerprint`] of the generator's weights file.
    pub generator_fingerprint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_sketch_and_code_to_a_latent() {
        let device = Device::flex();
        let config = EncoderConfig::new()
            .with_image_size(32)
            .with_latent_size(10);
        let encoder = config.init(&device);
        let z = encoder.forward(
            Tensor::zeros([2, 1, 32, 32], &device),
            Tensor::zeros([2, 27], &device),
        );
        assert_eq!(z.dims(), [2, 10, 1, 1]);
        assert_eq!(config.stages(), 3);
    }
}
