use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{InstanceNorm, InstanceNormConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu, tanh};
use burn::tensor::{Device, Tensor};

use super::TranslatorConfig;
use crate::model::WEIGHT_INIT;

/// One encoder stage: stride-2 convolution (of the features and the colour code), instance
/// norm, LeakyReLU 0.2.
#[derive(Module, Debug)]
struct Down {
    conv: Conv2d,
    /// None on the first stage (pix2pix) and at the 1x1 bottleneck, where a norm over one
    /// pixel would zero everything.
    norm: Option<InstanceNorm>,
}

/// One decoder stage: stride-2 transposed convolution, instance norm, ReLU.
#[derive(Module, Debug)]
struct Up {
    conv: ConvTranspose2d,
    norm: InstanceNorm,
}

/// A U-Net from `[n, input, s, s]` plus a colour code `[n, code]` to `[n, output, s, s]` in
/// [-1, 1]. The encoder halves the side down to 1x1; the decoder doubles it back, each stage
/// seeing the mirrored encoder stage's features (the skips carry the sketch's lines straight
/// through). The colour code is tiled over the image and joined to every encoder stage's
/// input, as BicycleGAN's "add to all" does, so no stage can ignore it outright.
#[derive(Module, Debug)]
pub struct UNet {
    down: Vec<Down>,
    up: Vec<Up>,
    output: ConvTranspose2d,
    code_size: usize,
}

fn down_conv(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_initializer(WEIGHT_INIT)
        .init(device)
}

fn up_conv(c_in: usize, c_out: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_initializer(WEIGHT_INIT)
        .init(device)
}

impl TranslatorConfig {
    /// Builds a freshly initialised U-Net. Panics on an invalid config: call
    /// [`TranslatorConfig::validate`] first where the config comes from a user.
    pub fn init_unet(&self, device: &Device) -> UNet {
        self.validate().expect("invalid translator config");
        let depth = self.depth();
        let code = self.code_size;
        let mut down = Vec::with_capacity(depth);
        let mut channels = self.input_channels;
        for stage in 0..depth {
            let out = self.stage_width(stage);
            let inner = stage == 0 || stage == depth - 1;
            down.push(Down {
                conv: down_conv(channels + code, out, device),
                norm: (!inner).then(|| InstanceNormConfig::new(out).init(device)),
            });
            channels = out;
        }
        // Decoder stage i undoes encoder stage depth-1-i; after the first it also takes that
        // encoder stage's output as a skip.
        let mut up = Vec::with_capacity(depth - 1);
        for stage in (1..depth).rev() {
            let skip = if stage == depth - 1 {
                0
            } else {
                self.stage_width(stage)
            };
            let out = self.stage_width(stage - 1);
            up.push(Up {
                conv: up_conv(self.stage_width(stage) + skip, out, device),
                norm: InstanceNormConfig::new(out).init(device),
            });
        }
        UNet {
            down,
            up,
            output: up_conv(2 * self.stage_width(0), self.output_channels, device),
            code_size: code,
        }
    }
}

impl UNet {
    /// `[n, input, s, s]`, `[n, code]` -> `[n, output, s, s]`
    pub fn forward(&self, input: Tensor<4>, code: Tensor<2>) -> Tensor<4> {
        assert!(
            self.code_size > 0,
            "this U-Net takes no colour code: use forward_plain"
        );
        self.forward_with(input, Some(code))
    }

    /// `[n, input, s, s]` -> `[n, output, s, s]`, for a U-Net without a colour code (CycleGAN's
    /// face-to-sketch direction).
    pub fn forward_plain(&self, input: Tensor<4>) -> Tensor<4> {
        assert_eq!(self.code_size, 0, "this U-Net needs a colour code");
        self.forward_with(input, None)
    }

    fn forward_with(&self, input: Tensor<4>, code: Option<Tensor<2>>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = input;
        // [n, in, s, s] -> [n, w, s/2, s/2] -> [n, 2w, s/4, s/4] -> ... -> [n, w_max, 1, 1]
        for stage in &self.down {
            let [n, _, h, w] = x.dims();
            let x_in = if let Some(code) = &code {
                // [n, code] -> [n, code, h, w], joined to the features along channels
                let tiled = code.clone().reshape([n, self.code_size, 1, 1]).expand([
                    n,
                    self.code_size,
                    h,
                    w,
                ]);
                Tensor::cat(vec![x, tiled], 1)
            } else {
                x
            };
            let y = stage.conv.forward(x_in);
            let y = match &stage.norm {
                Some(norm) => norm.forward(y),
                None => y,
            };
            x = leaky_relu(y, 0.2);
            skips.push(x.clone());
        }
        // The bottleneck is the last skip; every decoder stage joins the mirrored one.
        skips.pop();
        // [n, w_max, 1, 1] -> [n, w_max, 2, 2] -> ... -> [n, w, s/2, s/2]
        for (i, stage) in self.up.iter().enumerate() {
            let joined = if i == 0 {
                x
            } else {
                Tensor::cat(vec![x, skips.pop().expect("one skip per stage")], 1)
            };
            x = relu(stage.norm.forward(stage.conv.forward(joined)));
        }
        // [n, 2w, s/2, s/2] -> [n, output, s, s]
        let joined = Tensor::cat(vec![x, skips.pop().expect("the first stage's skip")], 1);
        tanh(self.output.forward(joined))
    }

    pub fn code_size(&self) -> usize {
        self.code_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_sketch_and_a_code_to_an_image_of_the_same_side() {
        let device = Device::flex();
        for size in [32, 64] {
            let config = TranslatorConfig::new()
                .with_image_size(size)
                .with_width(8)
                .with_max_width(16);
            let unet = config.init_unet(&device);
            let sketch = Tensor::<4>::ones([2, 1, size, size], &device);
            let code = Tensor::<2>::zeros([2, 27], &device);
            let face = unet.forward(sketch, code);
            assert_eq!(face.dims(), [2, 3, size, size]);
            let values = face.into_data().try_to_vec::<f32>().unwrap();
            assert!(values.iter().all(|v| v.abs() <= 1.0));
        }
    }

    #[test]
    fn the_default_fits_the_pages_second_model_budget() {
        // The page's 6 MB (gzip) holds the wasm (2.9 MB), the face generator (1 MB) and this
        // model in int8, about one byte a parameter.
        let params = TranslatorConfig::new()
            .init_unet(&Device::flex())
            .num_params();
        println!("default U-Net: {params} parameters");
        assert!(params < 1_800_000, "{params} parameters");
    }

    #[test]
    fn the_colour_code_changes_the_output() {
        let device = Device::flex();
        let unet = TranslatorConfig::new()
            .with_width(8)
            .with_max_width(16)
            .init_unet(&device);
        let sketch = Tensor::<4>::random(
            [1, 1, 64, 64],
            burn::tensor::Distribution::Uniform(-1.0, 1.0),
            &device,
        );
        let a = unet.forward(sketch.clone(), Tensor::zeros([1, 27], &device));
        let b = unet.forward(sketch, Tensor::ones([1, 27], &device));
        let difference = (a - b).abs().max().into_scalar::<f32>();
        assert!(difference > 1e-4, "difference {difference}");
    }
}
