//! The ResNet discriminator (after SNGAN's): residual down-sampling blocks of spectrally
//! normalised 3x3 convolutions, ReLU, a sum over positions and a linear score. No BatchNorm,
//! so real and fake images can share one batch.
//!
//! One change from SNGAN for the CPU: a block halves the map between its two convolutions,
//! not after both, so the second runs on a quarter of the positions. That halves the
//! discriminator's arithmetic, to the DCGAN discriminator's at the same width (0.20 against
//! 0.21 GFLOP an image at 64 px), which makes an equal-time comparison an equal-step one too.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use facegan_model::ResnetConfig;
use facegan_model::kernels::{add, downsample, relu};

use super::spectral_norm::SnConv2d;

/// ReLU, 3x3 conv, (halving), ReLU, 3x3 conv, added to the (halved, 1x1-convolved where the
/// width changes) input. The first block of the network skips the first ReLU: its input is
/// the image.
#[derive(Module, Debug)]
pub struct DownBlock {
    conv1: SnConv2d,
    conv2: SnConv2d,
    shortcut: Option<SnConv2d>,
    downsample: bool,
    first: bool,
}

impl DownBlock {
    fn new(c_in: usize, c_out: usize, downsample: bool, first: bool, device: &Device) -> Self {
        Self {
            conv1: SnConv2d::new(c_in, c_out, 3, device),
            conv2: SnConv2d::new(c_out, c_out, 3, device),
            shortcut: (c_in != c_out || downsample).then(|| SnConv2d::new(c_in, c_out, 1, device)),
            downsample,
            first,
        }
    }

    /// `[n, c_in, h, w]` -> `[n, c_out, h/2, w/2]` (or `[n, c_out, h, w]` without halving)
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let halve = |x: Tensor<4>| if self.downsample { downsample(x) } else { x };
        let h = if self.first {
            x.clone()
        } else {
            relu(x.clone())
        };
        let h = halve(self.conv1.forward(h));
        let h = self.conv2.forward(relu(h));
        // Pooling commutes with a 1x1 convolution: pool first, convolve a quarter the pixels.
        let skip = halve(x);
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(skip),
            None => skip,
        };
        add(h, skip)
    }
}

/// Scores images `[n, 3, size, size]` with one unbounded logit each (hinge loss: > 1 real,
/// < -1 fake).
#[derive(Module, Debug)]
pub struct ResnetDiscriminator {
    blocks: Vec<DownBlock>,
    /// The linear score as a 1x1 convolution of the pooled features.
    output: SnConv2d,
}

/// Builds a freshly initialised discriminator for `config`.
pub fn init_discriminator(config: &ResnetConfig, device: &Device) -> ResnetDiscriminator {
    config.validate().expect("invalid ResNet config");
    let mut blocks = Vec::new();
    let mut c_in = 3;
    for stage in 0..config.doublings() {
        let c_out = config.discriminator_channels(stage);
        blocks.push(DownBlock::new(c_in, c_out, true, stage == 0, device));
        for _ in 1..config.depth {
            blocks.push(DownBlock::new(c_out, c_out, false, false, device));
        }
        c_in = c_out;
    }
    ResnetDiscriminator {
        blocks,
        output: SnConv2d::new(c_in, 1, 1, device),
    }
}

impl ResnetDiscriminator {
    /// `[n, 3, size, size]` -> `[n]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let n = images.dims()[0];
        // [n, 3, size, size] -> [n, d, size/2, size/2] -> ... -> [n, 8d, 4, 4]
        let features = self.blocks.iter().fold(images, |x, block| block.forward(x));
        // -> [n, 8d, 1, 1]: SNGAN sums (not averages) over positions.
        let pooled = relu(features).sum_dim(3).sum_dim(2);
        // -> [n, 1, 1, 1] -> [n]
        self.output.forward(pooled).reshape([n])
    }
}
