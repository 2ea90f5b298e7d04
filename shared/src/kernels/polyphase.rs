//! Strided convolutions as stride-1 ones (the "polyphase" form): the DCGAN's 4x4 stride-2
//! layers, both ways, without a patch matrix. Output `(y, x)` of a stride-`s` convolution reads
//! padded input `(s y + ky, s x + kx)`; writing `ky = s dy + py` (likewise `kx`), that is pixel
//! `(y + dy, x + dx)` of the input's phase `(py, px)`, the plane of every `s`-th pixel from
//! `(py, px)` on. With the `s x s` phases as channels (channel `c`'s phase `(py, px)` becomes
//! channel `(c s + py) s + px`: a space-to-depth of the padded input) the convolution is a
//! stride-1 one with a `k / s` kernel, which `stride_one.rs` runs as shifted products.
//!
//! The patch matrix of a 4x4 stride-2 layer holds the input four times over, written by
//! im2col and read back by gemm's packing (and, for the transposed layers, added back by
//! col2im); the phases are the input once. A DCGAN training profile put im2col and col2im at a
//! fifth of the time. `flex.rs` picks where the phases pay.

use rayon::prelude::*;

use super::buffer::{TASK, zeros};
use super::patches::Patches;
use super::stride_one::{Taps, shifted_product, shifted_weight_product};

/// A strided convolution and the stride-1 convolution over its phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    /// The strided convolution, as its input is cut.
    strided: Patches,
    /// The stride-1 convolution of the phases: `channels x s x s` channels of
    /// `padded side / s`, no padding, a `kernel / s` kernel, the same grid.
    phased: Patches,
}

impl Phases {
    /// The phases of `p`, if it has them: the same stride `s >= 2` along both axes, a kernel
    /// and a padded input that `s` divides.
    pub fn of(p: &Patches) -> Option<Self> {
        let s = p.stride[0];
        let rows = p.height + 2 * p.padding[0];
        let cols = p.width + 2 * p.padding[1];
        let divides = [p.kernel[0], p.kernel[1], rows, cols]
            .iter()
            .all(|n| n % s == 0);
        if s < 2 || p.stride[1] != s || !divides {
            return None;
        }
        let kernel = [p.kernel[0] / s, p.kernel[1] / s];
        let phased = Patches {
            batch: p.batch,
            channels: p.channels * s * s,
            height: rows / s,
            width: cols / s,
            kernel,
            stride: [1, 1],
            padding: [0, 0],
            grid: [rows / s + 1 - kernel[0], cols / s + 1 - kernel[1]],
        };
        // Both grids are (padded - kernel) / s + 1 when s divides both.
        debug_assert_eq!(phased.grid, p.grid);
        Some(Self {
            strided: *p,
            phased,
        })
    }

    /// The stride-1 convolution over the phases.
    pub fn phased(&self) -> &Patches {
        &self.phased
    }

    fn stride(&self) -> usize {
        self.strided.stride[0]
    }

    /// `images` (`[batch, channels, height, width]`) padded and split into phases:
    /// `[batch, channels x s x s, padded height / s, padded width / s]`.
    pub fn split(&self, images: &[f32]) -> Vec<f32> {
        let (p, q, s) = (&self.strided, &self.phased, self.stride());
        assert_eq!(images.len(), p.batch * p.channels * p.height * p.width);
        let mut phases = zeros(q.batch * q.channels * q.height * q.width);
        let plane = q.height * q.width;
        // One (image, channel) per task: its s x s phase planes, from its input plane.
        phases
            .par_chunks_mut(s * s * plane)
            .zip(images.par_chunks(p.height * p.width))
            .with_min_len((TASK / (s * s * plane).max(1)).max(1))
            .for_each(|(out, image)| {
                for (y, row) in image.chunks_exact(p.width).enumerate() {
                    let padded_y = y + p.padding[0];
                    let (py, a) = (padded_y % s, padded_y / s);
                    for (x, &value) in row.iter().enumerate() {
                        let padded_x = x + p.padding[1];
                        let phase = py * s + padded_x % s;
                        out[phase * plane + a * q.width + padded_x / s] = value;
                    }
                }
            });
        phases
    }

    /// The adjoint of [`Self::split`]: phases back into `[batch, channels, height, width]`,
    /// the padding dropped.
    pub fn merge(&self, phases: &[f32]) -> Vec<f32> {
        let (p, q, s) = (&self.strided, &self.phased, self.stride());
        assert_eq!(phases.len(), q.batch * q.channels * q.height * q.width);
        let mut images = zeros(p.batch * p.channels * p.height * p.width);
        let plane = q.height * q.width;
        images
            .par_chunks_mut(p.height * p.width)
            .zip(phases.par_chunks(s * s * plane))
            .with_min_len((TASK / (p.height * p.width).max(1)).max(1))
            .for_each(|(image, source)| {
                for (y, row) in image.chunks_exact_mut(p.width).enumerate() {
                    let padded_y = y + p.padding[0];
                    let (py, a) = (padded_y % s, padded_y / s);
                    for (x, value) in row.iter_mut().enumerate() {
                        let padded_x = x + p.padding[1];
                        let phase = py * s + padded_x % s;
                        *value = source[phase * plane + a * q.width + padded_x / s];
                    }
                }
            });
        images
    }

    /// A weight `[maps, channels, kh, kw]` as the phased convolution's,
    /// `[maps, channels x s x s, kh / s, kw / s]`: tap `(dy, dx)` of phase channel
    /// `(c s + py) s + px` is tap `(s dy + py, s dx + px)` of channel `c`.
    pub fn weight(&self, weight: &[f32]) -> Vec<f32> {
        let mut phased = vec![0.0; weight.len()];
        self.each_tap(weight.len(), |strided, phase| {
            phased[phase] = weight[strided]
        });
        phased
    }

    /// The inverse of [`Self::weight`].
    pub fn unweight(&self, phased: &[f32]) -> Vec<f32> {
        let mut weight = vec![0.0; phased.len()];
        self.each_tap(phased.len(), |strided, phase| {
            weight[strided] = phased[phase]
        });
        weight
    }

    /// The phased weight's dimensions for `maps` maps.
    pub fn weight_dims(&self, maps: usize) -> [usize; 4] {
        let [kh, kw] = self.phased.kernel;
        [maps, self.phased.channels, kh, kw]
    }

    /// Calls `f(strided index, phased index)` for every tap of a weight of `len` values.
    fn each_tap(&self, len: usize, mut f: impl FnMut(usize, usize)) {
        let s = self.stride();
        let [kh, kw] = self.strided.kernel;
        let channels = self.strided.channels;
        let [ph, pw] = self.phased.kernel;
        for map_channel in 0..len / (kh * kw) {
            let (map, c) = (map_channel / channels, map_channel % channels);
            for ky in 0..kh {
                for kx in 0..kw {
                    let strided = (map_channel * kh + ky) * kw + kx;
                    let phase_channel = (c * s + ky % s) * s + kx % s;
                    let phase =
                        ((map * channels * s * s + phase_channel) * ph + ky / s) * pw + kx / s;
                    f(strided, phase);
                }
            }
        }
    }
}

/// `[batch, maps, grid]`: the strided convolution of `images` with `weight`
/// (`[maps, channels, kh, kw]`), through its phases.
pub fn phased_product(images: &[f32], phases: &Phases, weight: &[f32], maps: usize) -> Vec<f32> {
    let phased_weight = phases.weight(weight);
    let taps = Taps::Forward(&phased_weight, phases.weight_dims(maps));
    shifted_product(&phases.split(images), phases.phased(), taps)
}

/// `[batch, channels, height, width]`: the adjoint of [`phased_product`] applied to `maps`
/// (`[batch, maps, grid]`): the strided convolution's input gradient, or the transposed
/// convolution of `maps`.
pub fn phased_adjoint(
    maps: &[f32],
    phases: &Phases,
    weight: &[f32],
    map_channels: usize,
) -> Vec<f32> {
    let q = phases.phased();
    let [kh, kw] = q.kernel;
    let adjoint = Patches {
        channels: map_channels,
        height: q.grid[0],
        width: q.grid[1],
        padding: [kh - 1, kw - 1],
        grid: [q.height, q.width],
        ..*q
    };
    let phased_weight = phases.weight(weight);
    let taps = Taps::Adjoint(&phased_weight, phases.weight_dims(map_channels));
    phases.merge(&shifted_product(maps, &adjoint, taps))
}

/// `[maps, channels, kh, kw]`: the weight gradient of the strided convolution, `maps` its
/// output gradient (`[batch, map channels, grid]`), `images` its input.
pub fn phased_weight_product(
    maps: &[f32],
    map_channels: usize,
    images: &[f32],
    phases: &Phases,
) -> Vec<f32> {
    let phased = shifted_weight_product(maps, map_channels, &phases.split(images), phases.phased());
    phases.unweight(&phased)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::products::{patch_product, scatter_product, weight_product};

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.731).sin()).collect()
    }

    fn strided(batch: usize, channels: usize, side: [usize; 2], kernel: usize) -> Patches {
        let (stride, padding) = (2, 1);
        let grid = |n: usize| (n + 2 * padding - kernel) / stride + 1;
        Patches {
            batch,
            channels,
            height: side[0],
            width: side[1],
            kernel: [kernel; 2],
            stride: [stride; 2],
            padding: [padding; 2],
            grid: [grid(side[0]), grid(side[1])],
        }
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "at {i}: {g} vs {w}");
        }
    }

    /// The DCGAN's 4x4 stride-2 cut on even sides, and 2x2; several images, one, not square.
    const CASES: [(usize, usize, usize, [usize; 2], usize); 4] = [
        (3, 4, 5, [8, 8], 4),
        (1, 3, 6, [6, 10], 4),
        (2, 5, 3, [4, 4], 2),
        (5, 2, 16, [16, 16], 4),
    ];

    #[test]
    fn only_strides_that_divide_kernel_and_padded_input_have_phases() {
        assert!(Phases::of(&strided(1, 1, [8, 8], 4)).is_some());
        // Padded side 9 + 2 = 11 is odd.
        assert!(Phases::of(&strided(1, 1, [9, 8], 4)).is_none());
        // A 3x3 kernel at stride 2.
        assert!(Phases::of(&strided(1, 1, [8, 8], 3)).is_none());
        let stride_one = Patches {
            stride: [1, 1],
            grid: [7, 7],
            ..strided(1, 1, [8, 8], 4)
        };
        assert!(Phases::of(&stride_one).is_none());
    }

    #[test]
    fn split_and_merge_are_adjoint_and_merge_undoes_split() {
        let phases = Phases::of(&strided(2, 3, [6, 4], 4)).unwrap();
        let x = values(2 * 3 * 6 * 4, 1.0);
        assert_eq!(phases.merge(&phases.split(&x)), x);
        let q = phases.phased();
        let y = values(q.batch * q.channels * q.height * q.width, 2.0);
        let lhs: f32 = phases.split(&x).iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f32 = x.iter().zip(&phases.merge(&y)).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-3, "{lhs} vs {rhs}");
    }

    #[test]
    fn the_phased_weight_is_a_permutation() {
        let phases = Phases::of(&strided(1, 3, [8, 8], 4)).unwrap();
        let weight = values(5 * 3 * 16, 3.0);
        let phased = phases.weight(&weight);
        assert_ne!(phased, weight);
        assert_eq!(phases.unweight(&phased), weight);
    }

    #[test]
    fn forward_matches_the_patch_matrix_product() {
        for (batch, c_in, c_out, side, kernel) in CASES {
            let p = strided(batch, c_in, side, kernel);
            let phases = Phases::of(&p).unwrap();
            let images = values(batch * c_in * side[0] * side[1], 1.0);
            let weight = values(c_out * p.rows(), 2.0);
            assert_close(
                &phased_product(&images, &phases, &weight, c_out),
                &patch_product(&images, &p, &weight, c_out),
            );
        }
    }

    #[test]
    fn the_adjoint_matches_the_scatter_product() {
        for (batch, c_in, c_out, side, kernel) in CASES {
            let p = strided(batch, c_in, side, kernel);
            let phases = Phases::of(&p).unwrap();
            let maps = values(batch * c_out * p.grid[0] * p.grid[1], 4.0);
            let weight = values(c_out * p.rows(), 5.0);
            assert_close(
                &phased_adjoint(&maps, &phases, &weight, c_out),
                &scatter_product(&maps, c_out, &weight, &p),
            );
        }
    }

    #[test]
    fn weight_gradient_matches_the_patch_matrix_product() {
        for (batch, c_in, c_out, side, kernel) in CASES {
            let p = strided(batch, c_in, side, kernel);
            let phases = Phases::of(&p).unwrap();
            let images = values(batch * c_in * side[0] * side[1], 6.0);
            let maps = values(batch * c_out * p.grid[0] * p.grid[1], 7.0);
            assert_close(
                &phased_weight_product(&maps, c_out, &images, &phases),
                &weight_product(&maps, c_out, &images, &p),
            );
        }
    }
}
