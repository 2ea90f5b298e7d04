//! Stride-1 convolutions (the ResNet GAN's 3x3 and 1x1 layers) and their gradients without a
//! patch matrix. With a few images zero-padded and laid out channel by channel
//! (`[channels, images, padded height, padded width]`), output position `(y, x)` of an image
//! sits at flat index `q = y * padded_width + x` and reads input `q + ky * padded_width + kx`
//! for kernel offset `(ky, kx)`: the convolution is a sum of `k x k` matrix products of
//! `weight[:, :, ky, kx]` with the padded input shifted by that offset, a view, not a copy.
//!
//! im2col's patch matrix is `k x k` times the input (4.7 MB for one 64x64 image of 32 channels
//! at 3x3), written out and then read back by gemm's packing; the padded input is 1.06 times
//! the input and stays in cache. The flat indices between rows (`x >= output width`) and
//! between images compute values that are thrown away, which adds 6% to the work at 64x64
//! (3x3), 13% at 32x32, 27% at 16x16 and 56% at 8x8: small maps keep im2col (`flex.rs` picks).

use rayon::prelude::*;

use super::buffer::zeros;
use super::gemm::{Matrix, multiply};
use super::patches::Patches;
use super::products::{chunk_images, sum_over_chunks, with_scratch};

/// A chunk of images in the padded channel-major layout.
#[derive(Debug, Clone, Copy)]
struct Padded {
    images: usize,
    channels: usize,
    height: usize,
    width: usize,
    padding: [usize; 2],
    kernel: [usize; 2],
    /// The convolution's output side: `padded - kernel + 1` along each axis.
    grid: [usize; 2],
}

impl Padded {
    fn new(p: &Patches, images: usize) -> Self {
        assert_eq!(p.stride, [1, 1], "stride 1 only");
        let padded = Self {
            images,
            channels: p.channels,
            height: p.height,
            width: p.width,
            padding: p.padding,
            kernel: p.kernel,
            grid: p.grid,
        };
        assert_eq!(
            padded.grid,
            [
                padded.rows() + 1 - p.kernel[0],
                padded.cols() + 1 - p.kernel[1]
            ],
            "the grid of a stride-1 convolution"
        );
        padded
    }

    fn rows(&self) -> usize {
        self.height + 2 * self.padding[0]
    }

    fn cols(&self) -> usize {
        self.width + 2 * self.padding[1]
    }

    fn plane(&self) -> usize {
        self.rows() * self.cols()
    }

    /// Values of the padded chunk.
    fn len(&self) -> usize {
        self.channels * self.images * self.plane()
    }

    /// Flat positions a product spans: up to the last image's last output position.
    fn span(&self) -> usize {
        (self.images - 1) * self.plane() + (self.grid[0] - 1) * self.cols() + self.grid[1]
    }

    /// Where kernel offset `(ky, kx)` reads from, relative to the output position.
    fn offset(&self, ky: usize, kx: usize) -> usize {
        ky * self.cols() + kx
    }

    /// The padded input shifted by kernel offset `(ky, kx)`: `[channels, span]`.
    fn shifted<'a>(&self, padded: &'a [f32], ky: usize, kx: usize) -> Matrix<'a> {
        Matrix {
            data: &padded[self.offset(ky, kx)..],
            rows: self.channels,
            cols: self.span(),
            row_stride: self.images * self.plane(),
            col_stride: 1,
        }
    }

    /// `images` (`[images, channels, height, width]`) into `out`, padded, channel-major.
    fn fill(&self, images: &[f32], out: &mut [f32]) {
        assert_eq!(
            images.len(),
            self.images * self.channels * self.height * self.width
        );
        assert_eq!(out.len(), self.len());
        let (cols, [pad_y, pad_x]) = (self.cols(), self.padding);
        for (i, plane) in out.chunks_exact_mut(self.plane()).enumerate() {
            let (channel, image) = (i / self.images, i % self.images);
            let source = &images[(image * self.channels + channel) * self.height * self.width..]
                [..self.height * self.width];
            plane[..pad_y * cols].fill(0.0);
            plane[(pad_y + self.height) * cols..].fill(0.0);
            let rows = plane[pad_y * cols..].chunks_exact_mut(cols);
            for (row, source) in rows.zip(source.chunks_exact(self.width)) {
                row[..pad_x].fill(0.0);
                row[pad_x..pad_x + self.width].copy_from_slice(source);
                row[pad_x + self.width..].fill(0.0);
            }
        }
    }

    /// `images` into `out` as [`Self::fill`] does, but position-major:
    /// `[images, padded height, padded width, channels]`.
    fn fill_channels_last(&self, images: &[f32], out: &mut [f32]) {
        assert_eq!(out.len(), self.len());
        let (cols, [pad_y, pad_x], c) = (self.cols(), self.padding, self.channels);
        let image_len = self.channels * self.height * self.width;
        for (image, plane) in out.chunks_exact_mut(self.plane() * c).enumerate() {
            let source = &images[image * image_len..][..image_len];
            plane[..pad_y * cols * c].fill(0.0);
            plane[(pad_y + self.height) * cols * c..].fill(0.0);
            for y in 0..self.height {
                let row = &mut plane[(pad_y + y) * cols * c..][..cols * c];
                row[..pad_x * c].fill(0.0);
                row[(pad_x + self.width) * c..].fill(0.0);
                let row = &mut row[pad_x * c..][..self.width * c];
                for channel in 0..c {
                    let source = &source[(channel * self.height + y) * self.width..][..self.width];
                    for (x, &value) in source.iter().enumerate() {
                        row[x * c + channel] = value;
                    }
                }
            }
        }
    }

    /// `maps` (`[images, channels', grid]`) -> `out` `[span, channels']` (position-major),
    /// zero between rows and images, so that the thrown-away positions weigh nothing.
    fn spread(&self, maps: &[f32], out: &mut [f32]) {
        let [grid_h, grid_w] = self.grid;
        let channels = out.len() / self.span();
        out.fill(0.0);
        for (i, map) in maps.chunks_exact(grid_h * grid_w).enumerate() {
            let (image, channel) = (i / channels, i % channels);
            let target = &mut out[image * self.plane() * channels..];
            for (y, row) in map.chunks_exact(grid_w).enumerate() {
                let target = &mut target[y * self.cols() * channels..];
                for (x, &value) in row.iter().enumerate() {
                    target[x * channels + channel] = value;
                }
            }
        }
    }

    /// `[channels', span]` product rows (channel-major) -> `out` `[images, channels', grid]`,
    /// dropping the positions between rows and images.
    fn crop(&self, product: &[f32], out: &mut [f32]) {
        let [grid_h, grid_w] = self.grid;
        let span = self.span();
        let channels = out.len() / (self.images * grid_h * grid_w);
        for (i, map) in out.chunks_exact_mut(grid_h * grid_w).enumerate() {
            let (image, channel) = (i / channels, i % channels);
            let source = &product[channel * span + image * self.plane()..];
            for (y, row) in map.chunks_exact_mut(grid_w).enumerate() {
                row.copy_from_slice(&source[y * self.cols()..][..grid_w]);
            }
        }
    }
}

/// How a convolution's weight `[out, in, kh, kw]` enters the products.
#[derive(Debug, Clone, Copy)]
pub enum Taps<'a> {
    /// As it is: `[out, in]` at each offset (a convolution's forward).
    Forward(&'a [f32], [usize; 4]),
    /// Flipped in space with its two channel axes swapped: `[in, out]` at offset
    /// `(kh - 1 - ky, kw - 1 - kx)` (a convolution's input gradient, itself a stride-1
    /// convolution of the output gradient).
    Adjoint(&'a [f32], [usize; 4]),
}

impl<'a> Taps<'a> {
    /// Output channels of the products.
    pub(super) fn out_channels(&self) -> usize {
        match *self {
            Self::Forward(_, [c_out, ..]) => c_out,
            Self::Adjoint(_, [_, c_in, ..]) => c_in,
        }
    }

    /// Kernel offset `(ky, kx)`'s `[out channels, in channels]` matrix.
    pub(super) fn at(&self, ky: usize, kx: usize) -> Matrix<'a> {
        match *self {
            Self::Forward(weight, [c_out, c_in, kh, kw]) => Matrix {
                data: &weight[ky * kw + kx..],
                rows: c_out,
                cols: c_in,
                row_stride: c_in * kh * kw,
                col_stride: kh * kw,
            },
            Self::Adjoint(weight, [c_out, c_in, kh, kw]) => Matrix {
                data: &weight[(kh - 1 - ky) * kw + (kw - 1 - kx)..],
                rows: c_in,
                cols: c_out,
                row_stride: kh * kw,
                col_stride: c_in * kh * kw,
            },
        }
    }

    /// Rows of products that split over the cores for one image: groups of at least 8
    /// (gemm's kernels are 8 or 16 rows tall).
    fn split(&self, threads: usize) -> Vec<Self> {
        let rows = self.out_channels().div_ceil(threads).max(8);
        match *self {
            Self::Forward(weight, [_, c_in, kh, kw]) => weight
                .chunks(rows * c_in * kh * kw)
                .map(|part| Self::Forward(part, [part.len() / (c_in * kh * kw), c_in, kh, kw]))
                .collect(),
            // Its rows are strided through the weight; one image's input gradient is rare
            // (training batches), so it stays whole.
            Self::Adjoint(..) => vec![*self],
        }
    }
}

/// `[batch, out channels, grid]`: the stride-1 convolution of `images` (`[batch, p.channels,
/// p.height, p.width]`, cut as `p` says) with `taps`.
pub fn shifted_product(images: &[f32], p: &Patches, taps: Taps) -> Vec<f32> {
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let c_out = taps.out_channels();
    let mut output = zeros(p.batch * c_out * positions);
    if output.is_empty() || image_len == 0 {
        return output;
    }
    if p.batch == 1 {
        single_image(images, p, taps, &mut output);
        return output;
    }
    let chunk = chunk_images(p.batch, positions);
    output
        .par_chunks_mut(chunk * c_out * positions)
        .zip(images.par_chunks(chunk * image_len))
        .for_each(|(out, images)| {
            let layout = Padded::new(p, images.len() / image_len);
            with_scratch(layout.len(), c_out * layout.span(), |padded, product| {
                layout.fill(images, padded);
                sum_of_shifts(&layout, padded, taps, product);
                layout.crop(product, out);
            });
        });
    output
}

/// One image: the cores share its padded copy and each computes some output channels.
fn single_image(image: &[f32], p: &Patches, taps: Taps, output: &mut [f32]) {
    let layout = Padded::new(p, 1);
    let mut padded = zeros(layout.len());
    layout.fill(image, &mut padded);
    let positions = p.grid[0] * p.grid[1];
    let parts = taps.split(rayon::current_num_threads().max(1));
    let mut outputs: Vec<&mut [f32]> = Vec::with_capacity(parts.len());
    let mut rest = output;
    for part in &parts {
        let (head, tail) = rest.split_at_mut(part.out_channels() * positions);
        outputs.push(head);
        rest = tail;
    }
    parts.into_par_iter().zip(outputs).for_each(|(taps, out)| {
        with_scratch(0, taps.out_channels() * layout.span(), |_, product| {
            sum_of_shifts(&layout, &padded, taps, product);
            layout.crop(product, out);
        });
    });
}

/// `product` (`[out channels, span]`) = the sum over kernel offsets of the offset's weights
/// times the padded input shifted by it.
fn sum_of_shifts(layout: &Padded, padded: &[f32], taps: Taps, product: &mut [f32]) {
    let [kh, kw] = layout.kernel;
    for ky in 0..kh {
        for kx in 0..kw {
            let first = ky == 0 && kx == 0;
            multiply(
                product,
                taps.at(ky, kx),
                layout.shifted(padded, ky, kx),
                !first,
            );
        }
    }
}

/// `[map channels, p.channels, kh, kw]`: the weight gradient of a stride-1 convolution, the
/// sum over the batch of `maps` (its output gradient `[batch, map channels, grid]`) times the
/// padded input shifted by each kernel offset. Summed in a fixed order, as `weight_product`.
/// Both operands go in position-major (their inner dimension is the positions): `facegan
/// bench --model resnet` trained at 63.6 images/s so against 60.1 channel-major (three runs
/// each), gemm packing contiguous rows instead of gathering across planes.
pub fn shifted_weight_product(
    maps: &[f32],
    map_channels: usize,
    images: &[f32],
    p: &Patches,
) -> Vec<f32> {
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let map_len = map_channels * positions;
    let [kh, kw] = p.kernel;
    let taps = kh * kw;
    let tap_len = map_channels * p.channels;
    if p.batch == 0 || map_len == 0 || image_len == 0 {
        return vec![0.0; tap_len * taps];
    }
    let chunk = chunk_images(p.batch, positions);
    let [maps, images] =
        [(maps, map_len), (images, image_len)].map(|(x, len)| x.chunks(chunk * len));
    let chunks: Vec<(&[f32], &[f32])> = maps.zip(images).collect();
    // Per kernel offset, `[map channels, p.channels]`.
    let total = sum_over_chunks(&chunks, tap_len * taps, |sums, maps, images| {
        let layout = Padded::new(p, images.len() / image_len);
        with_scratch(
            layout.len(),
            map_channels * layout.span(),
            |padded, spread| {
                layout.fill_channels_last(images, padded);
                layout.spread(maps, spread);
                let maps = Matrix::row_major(spread, layout.span(), map_channels).transposed();
                for (tap, sum) in sums.chunks_exact_mut(tap_len).enumerate() {
                    let offset = layout.offset(tap / kw, tap % kw) * p.channels;
                    let shifted = Matrix::row_major(
                        &padded[offset..][..layout.span() * p.channels],
                        layout.span(),
                        p.channels,
                    );
                    multiply(sum, maps, shifted, true);
                }
            },
        );
    });
    // [taps, out, in] -> [out, in, taps]
    let mut weight = vec![0.0; tap_len * taps];
    for (tap, sums) in total.chunks_exact(tap_len).enumerate() {
        for (i, &value) in sums.iter().enumerate() {
            weight[i * taps + tap] = value;
        }
    }
    weight
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::kernels::patches::im2col;

    pub(in crate::kernels) fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.731).sin()).collect()
    }

    fn patches(batch: usize, channels: usize, side: [usize; 2], kernel: usize) -> Patches {
        let pad = (kernel - 1) / 2;
        Patches {
            batch,
            channels,
            height: side[0],
            width: side[1],
            kernel: [kernel; 2],
            stride: [1, 1],
            padding: [pad; 2],
            grid: [
                side[0] + 2 * pad + 1 - kernel,
                side[1] + 2 * pad + 1 - kernel,
            ],
        }
    }

    /// The convolution by its definition through im2col: `weight [c_out, rows] x patches`.
    fn by_definition(images: &[f32], p: &Patches, weight: &[f32], c_out: usize) -> Vec<f32> {
        let columns = im2col(images, p);
        let positions = p.grid[0] * p.grid[1];
        let mut out = vec![0.0; p.batch * c_out * positions];
        for image in 0..p.batch {
            for o in 0..c_out {
                for q in 0..positions {
                    out[(image * c_out + o) * positions + q] = (0..p.rows())
                        .map(|r| {
                            weight[o * p.rows() + r]
                                * columns[r * p.columns() + image * positions + q]
                        })
                        .sum();
                }
            }
        }
        out
    }

    pub(in crate::kernels) fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "at {i}: {g} vs {w}");
        }
    }

    #[test]
    fn forward_matches_the_patch_matrix_product() {
        // 3x3 and 1x1, several images and one, square and not.
        for (batch, c_in, c_out, side, kernel) in [
            (3, 4, 5, [6, 6], 3),
            (1, 4, 20, [5, 7], 3),
            (2, 3, 2, [4, 9], 1),
            (5, 2, 3, [3, 3], 3),
        ] {
            let p = patches(batch, c_in, side, kernel);
            let images = values(batch * c_in * side[0] * side[1], 1.0);
            let weight = values(c_out * p.rows(), 2.0);
            let shape = [c_out, c_in, kernel, kernel];
            let got = shifted_product(&images, &p, Taps::Forward(&weight, shape));
            assert_close(&got, &by_definition(&images, &p, &weight, c_out));
        }
    }

    #[test]
    fn the_adjoint_is_the_transpose_of_the_forward() {
        // <conv(x), g> = <x, conv^T(g)> for every x and g.
        for (batch, c_in, c_out, side, kernel) in [(2, 3, 4, [5, 6], 3), (1, 3, 2, [4, 4], 1)] {
            let p = patches(batch, c_in, side, kernel);
            let shape = [c_out, c_in, kernel, kernel];
            let x = values(batch * c_in * side[0] * side[1], 3.0);
            let weight = values(c_out * p.rows(), 4.0);
            let g = values(batch * c_out * p.grid[0] * p.grid[1], 5.0);
            let y = shifted_product(&x, &p, Taps::Forward(&weight, shape));
            let pad = kernel - 1 - p.padding[0];
            let adjoint = Patches {
                channels: c_out,
                height: p.grid[0],
                width: p.grid[1],
                padding: [pad; 2],
                grid: [side[0], side[1]],
                ..p
            };
            let x_grad = shifted_product(&g, &adjoint, Taps::Adjoint(&weight, shape));
            let lhs: f32 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
            let rhs: f32 = x.iter().zip(&x_grad).map(|(a, b)| a * b).sum();
            assert!(
                (lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn weight_gradient_matches_the_patch_matrix_product() {
        for (batch, c_in, c_out, side, kernel) in [(3, 2, 3, [5, 4], 3), (2, 3, 2, [3, 3], 1)] {
            let p = patches(batch, c_in, side, kernel);
            let images = values(batch * c_in * side[0] * side[1], 6.0);
            let positions = p.grid[0] * p.grid[1];
            let maps = values(batch * c_out * positions, 7.0);
            let columns = im2col(&images, &p);
            let mut want = vec![0.0; c_out * p.rows()];
            for o in 0..c_out {
                for r in 0..p.rows() {
                    want[o * p.rows() + r] = (0..batch * positions)
                        .map(|col| {
                            let (image, q) = (col / positions, col % positions);
                            maps[(image * c_out + o) * positions + q]
                                * columns[r * p.columns() + col]
                        })
                        .sum();
                }
            }
            assert_close(&shifted_weight_product(&maps, c_out, &images, &p), &want);
        }
    }
}
