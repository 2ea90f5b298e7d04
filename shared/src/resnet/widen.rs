//! Growing a trained generator: a wider ResNet generator that draws the same images (Net2Net's
//! widening, Chen et al. 2016), so that a run can gain capacity without starting again.
//!
//! Every channel of the wider network copies one of the narrow network's: each old channel
//! keeps its place and the new ones copy old ones picked at random. A layer that writes a
//! channel copies its weights (and BatchNorm its scale, shift and statistics); a layer that
//! reads a copied channel shares the old weight out among the copies, so their sum is what the
//! narrow layer saw. The shares are random per weight, not halves: copies with equal outgoing
//! weights would get equal gradients and stay copies for ever.

use burn::module::{Param, RunningState};
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, TensorData};

use super::{ResnetConfig, ResnetGenerator};
use crate::latent::SplitMix64;

/// Which old channel each channel of a wider layer copies.
#[derive(Debug, Clone, PartialEq)]
struct ChannelMap {
    /// `source[j]`: the old channel that new channel `j` copies (`j` itself for the old ones).
    source: Vec<usize>,
    /// The number of old channels.
    old: usize,
}

impl ChannelMap {
    /// `old` channels grown to `new` (at least `old`): the extra ones copy old channels drawn
    /// without repeats while there are any left.
    fn new(old: usize, new: usize, rng: &mut SplitMix64) -> Self {
        assert!(new >= old, "cannot narrow {old} channels to {new}");
        let mut source: Vec<usize> = (0..old).collect();
        let mut pool = Vec::new();
        while source.len() < new {
            if pool.is_empty() {
                pool = (0..old).collect();
            }
            source.push(pool.swap_remove(rng.below(pool.len())));
        }
        Self { source, old }
    }

    /// The same channels: the map of a layer the grown run does not widen.
    fn identity(channels: usize) -> Self {
        Self {
            source: (0..channels).collect(),
            old: channels,
        }
    }
}

/// A tensor's values and shape on the host, where the widening is plain index arithmetic.
struct HostTensor {
    values: Vec<f32>,
    shape: Vec<usize>,
}

impl HostTensor {
    fn of<const D: usize>(tensor: Tensor<D>) -> Self {
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .try_to_vec::<f32>()
            .expect("generator tensors are f32");
        Self { values, shape }
    }

    fn tensor<const D: usize>(self, device: &Device) -> Tensor<D> {
        Tensor::from_data(TensorData::new(self.values, self.shape), device)
    }

    /// Axis `axis` rebuilt from `map`: each new channel a copy of its source. With `rng`, a
    /// reading axis: each weight is scaled by its share among the copies of its source (random,
    /// summing to one over the copies of each weight).
    fn widen(self, axis: usize, map: &ChannelMap, rng: Option<&mut SplitMix64>) -> Self {
        assert_eq!(self.shape[axis], map.old, "axis {axis} of {:?}", self.shape);
        let outer: usize = self.shape[..axis].iter().product();
        let inner: usize = self.shape[axis + 1..].iter().product();
        let new = map.source.len();
        let mut values = Vec::with_capacity(outer * new * inner);
        for o in 0..outer {
            for &i in &map.source {
                let start = (o * map.old + i) * inner;
                values.extend_from_slice(&self.values[start..start + inner]);
            }
        }
        if let Some(rng) = rng {
            let mut shares = vec![0.0f32; new];
            let mut totals = vec![0.0f32; map.old];
            for o in 0..outer {
                for e in 0..inner {
                    totals.fill(0.0);
                    for (j, &i) in map.source.iter().enumerate() {
                        shares[j] = rng.uniform(0.5, 1.5) as f32;
                        totals[i] += shares[j];
                    }
                    for (j, &i) in map.source.iter().enumerate() {
                        // x / x is exactly 1: a channel without copies keeps its weight.
                        values[(o * new + j) * inner + e] *= shares[j] / totals[i];
                    }
                }
            }
        }
        let mut shape = self.shape;
        shape[axis] = new;
        Self { values, shape }
    }
}

impl ResnetGenerator {
    /// This generator grown to `wider`'s width: a generator of `wider` that draws the same
    /// images from the same latents (to float rounding), with batch statistics as in training
    /// and with running ones as in inference; `rng` picks the copied channels and the shares.
    ///
    /// Panics unless `wider` has this generator's image size, latent size and depth and a
    /// width at least as large.
    pub fn widened(&self, wider: &ResnetConfig, rng: &mut SplitMix64) -> ResnetGenerator {
        let device = self.project.weight.device();
        let mut grown = wider.init_generator(&device);
        assert_eq!(
            grown.blocks.len(),
            self.blocks.len(),
            "a wider generator has as many blocks"
        );
        // One map per resolution: a residual sum needs both its terms copied alike.
        let width = |block: &super::UpBlock| block.conv2.weight.dims()[0];
        let maps: Vec<ChannelMap> = (0..wider.doublings())
            .map(|stage| {
                let first = stage * wider.depth;
                ChannelMap::new(width(&self.blocks[first]), width(&grown.blocks[first]), rng)
            })
            .collect();

        // [latent, 8g, 4, 4]: the projection writes the first resolution's channels.
        let project = HostTensor::of(self.project.weight.val()).widen(1, &maps[0], None);
        grown.project.weight = Param::initialized(grown.project.weight.id, project.tensor(&device));
        for (index, (block, wide)) in self.blocks.iter().zip(&mut grown.blocks).enumerate() {
            let input = &maps[index.saturating_sub(1) / wider.depth];
            let output = &maps[index / wider.depth];
            widen_norm(&mut wide.norm1, &block.norm1, input);
            widen_conv(&mut wide.conv1, &block.conv1, output, input, rng);
            widen_norm(&mut wide.norm2, &block.norm2, output);
            widen_conv(&mut wide.conv2, &block.conv2, output, output, rng);
            if let (Some(wide), Some(narrow)) = (&mut wide.shortcut, &block.shortcut) {
                widen_conv(wide, narrow, output, input, rng);
            }
        }
        let last = maps.last().expect("at least one resolution");
        widen_norm(&mut grown.norm, &self.norm, last);
        widen_conv(
            &mut grown.output,
            &self.output,
            &ChannelMap::identity(3),
            last,
            rng,
        );
        grown
    }
}

/// `wide` (a convolution `[out, in, k, k]` of the grown network) set from `narrow`: its
/// output channels copied by `output`, its input channels shared out by `input`.
fn widen_conv(
    wide: &mut Conv2d,
    narrow: &Conv2d,
    output: &ChannelMap,
    input: &ChannelMap,
    rng: &mut SplitMix64,
) {
    let device = wide.weight.device();
    let weight = HostTensor::of(narrow.weight.val())
        .widen(0, output, None)
        .widen(1, input, Some(rng));
    wide.weight = Param::initialized(wide.weight.id, weight.tensor(&device));
    if let (Some(wide), Some(narrow)) = (&mut wide.bias, &narrow.bias) {
        let bias = HostTensor::of(narrow.val()).widen(0, output, None);
        *wide = Param::initialized(wide.id, bias.tensor(&device));
    }
}

/// `wide` set from `narrow`, each channel's scale, shift and running statistics copied by `map`.
fn widen_norm(wide: &mut BatchNorm, narrow: &BatchNorm, map: &ChannelMap) {
    let device = wide.gamma.device();
    let copy = |tensor: Tensor<1>| HostTensor::of(tensor).widen(0, map, None).tensor(&device);
    wide.gamma = Param::initialized(wide.gamma.id, copy(narrow.gamma.val()));
    wide.beta = Param::initialized(wide.beta.id, copy(narrow.beta.val()));
    wide.running_mean = RunningState::new(copy(narrow.running_mean.value()));
    wide.running_var = RunningState::new(copy(narrow.running_var.value()));
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;

    fn config(width: usize) -> ResnetConfig {
        ResnetConfig::new()
            .with_image_size(32)
            .with_generator_width(width)
            .with_latent_size(16)
            .with_depth(2)
    }

    fn worst_difference(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    #[test]
    fn copies_keep_their_places_and_spread_over_the_old_channels() {
        let mut rng = SplitMix64::new(3);
        let map = ChannelMap::new(4, 10, &mut rng);
        assert_eq!(&map.source[..4], &[0, 1, 2, 3]);
        // Six extra channels over four old ones: each old channel copied once before any twice.
        let mut counts = [0; 4];
        for &i in &map.source[4..8] {
            counts[i] += 1;
        }
        assert_eq!(counts, [1, 1, 1, 1], "{:?}", map.source);
    }

    #[test]
    fn shares_of_each_weight_sum_to_it() {
        let mut rng = SplitMix64::new(1);
        let map = ChannelMap::new(2, 3, &mut rng);
        let copied = map.source[2];
        // [2 outputs, 2 inputs]
        let narrow = HostTensor {
            values: vec![1.0, 2.0, 3.0, 4.0],
            shape: vec![2, 2],
        };
        let wide = narrow.widen(1, &map, Some(&mut rng));
        assert_eq!(wide.shape, vec![2, 3]);
        for o in 0..2 {
            let row = &wide.values[o * 3..o * 3 + 3];
            let old = [1.0, 2.0, 3.0, 4.0][o * 2 + copied];
            assert!((row[copied] + row[2] - old).abs() < 1e-6, "{row:?}");
            assert_ne!(row[copied], row[2], "shares are random, not halves");
            let other = 1 - copied;
            assert_eq!(row[other], [1.0, 2.0, 3.0, 4.0][o * 2 + other]);
        }
    }

    #[test]
    fn a_widened_generator_draws_the_same_images() {
        let device = Device::flex();
        device.seed(11);
        let latents: Vec<Tensor<4>> = (0..2)
            .map(|_| Tensor::random([16, 16, 1, 1], Distribution::Normal(0.0, 1.0), &device))
            .collect();
        // Running statistics of its own, so inference does not see fresh ones (0 and 1).
        let narrow = config(4)
            .init_generator(&device)
            .with_standing_statistics(&latents);
        let wide = narrow.widened(&config(6), &mut SplitMix64::new(7));
        assert_eq!(wide.project.weight.dims(), [16, 24, 4, 4]);
        assert_eq!(wide.output.weight.dims(), [3, 6, 3, 3]);

        let z = latents[0].clone();
        let inference = worst_difference(narrow.forward(z.clone()), wide.forward(z.clone()));
        assert!(inference < 1e-4, "inference differs by {inference}");

        // Training: batch statistics, on the autodiff device.
        let training = device.clone().autodiff();
        let on = |g: &ResnetGenerator| {
            use burn::module::Module;
            g.clone()
                .fork(&training)
                .train()
                .forward(z.clone().to_device(&training))
        };
        let batch = worst_difference(on(&narrow), on(&wide));
        let path = worst_difference(on(&narrow), narrow.forward(z.clone()));
        assert!(
            path > 0.01,
            "the training path must use batch statistics ({path})"
        );
        assert!(batch < 1e-4, "training differs by {batch}");
    }
}
