//! One convolution of a network described by its settings, and the module built from them:
//! what the per-layer timings (`facegan bench --layers`, the `conv_layers` example) walk
//! through, whatever the network.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::{Device, Tensor};

use crate::kernels::{conv_transpose2d, conv2d};

/// One convolution of a network, as its module is configured: transposed or not, channels,
/// the input's side, kernel, stride and padding (no bias, no dilation, one group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvLayer {
    pub transposed: bool,
    pub c_in: usize,
    pub c_out: usize,
    /// Side of the square input map.
    pub side: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// Extra rows and columns of a transposed convolution's output.
    pub padding_out: usize,
}

impl ConvLayer {
    /// Side of the output map.
    pub fn output_side(&self) -> usize {
        if self.transposed {
            (self.side - 1) * self.stride + self.kernel + self.padding_out - 2 * self.padding
        } else {
            (self.side + 2 * self.padding - self.kernel) / self.stride + 1
        }
    }

    /// Floating-point operations (two per multiply-add) of the forward for one image: a
    /// transposed convolution does `c_in x c_out x k x k` per input pixel, a convolution per
    /// output pixel.
    pub fn flops(&self) -> f64 {
        let positions = if self.transposed {
            self.side * self.side
        } else {
            self.output_side() * self.output_side()
        };
        2.0 * (positions * self.c_in * self.c_out * self.kernel * self.kernel) as f64
    }

    /// The layer's module with fresh weights (Burn's default initialisation).
    pub fn module(&self, device: &Device) -> ConvModule {
        let k = [self.kernel, self.kernel];
        if self.transposed {
            ConvModule::Transposed(
                ConvTranspose2dConfig::new([self.c_in, self.c_out], k)
                    .with_stride([self.stride; 2])
                    .with_padding([self.padding; 2])
                    .with_padding_out([self.padding_out; 2])
                    .with_bias(false)
                    .init(device),
            )
        } else {
            let p = self.padding;
            ConvModule::Plain(
                Conv2dConfig::new([self.c_in, self.c_out], k)
                    .with_stride([self.stride; 2])
                    .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                    .with_bias(false)
                    .init(device),
            )
        }
    }
}

/// A [`ConvLayer`]'s module.
#[derive(Debug)]
pub enum ConvModule {
    Plain(Conv2d),
    Transposed(ConvTranspose2d),
}

impl ConvModule {
    /// `[n, c_in, side, side]` -> `[n, c_out, side', side']`, through facegan's kernels where
    /// they apply.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Plain(conv) => conv2d(conv, x),
            Self::Transposed(conv) => conv_transpose2d(conv, x),
        }
    }

    /// The convolution's kernel.
    pub fn weight(&self) -> &Param<Tensor<4>> {
        match self {
            Self::Plain(conv) => &conv.weight,
            Self::Transposed(conv) => &conv.weight,
        }
    }
}
