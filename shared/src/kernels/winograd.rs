//! 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of outputs comes
//! from a 4x4 block of the padded input through 16 products per channel pair where a direct
//! convolution takes 36. Input blocks and weights are transformed into 16 "frequencies"
//! (`B^T d B`, `G g G^T`), each frequency is one matrix product `[blocks, in] x [in, out]`,
//! and the 16 results go back to 2x2 outputs (`A^T m A`). The transforms are additions only
//! (and halves for the weights), so f32 loses little: outputs and gradients within about 1e-6
//! relative of Burn's (`shared/tests/cpu_kernels.rs`).
//!
//! The products are 2.25 times fewer multiply-adds, but the transformed inputs are four times
//! the input: where maps are large and channels few (the ResNet GAN's 64x64 layers) moving
//! them costs what the products save, so `flex.rs` sends only the 16x16 and 32x32 layers here,
//! forward and input gradient (the input gradient of a stride-1 convolution is another one,
//! with the adjoint weights: [`Taps::Adjoint`]); the weight gradients stay with the shifted
//! products.

use rayon::prelude::*;

use super::buffer::zeros;
use super::gemm::{Matrix, multiply};
use super::patches::Patches;
use super::products::{chunk_images, with_scratch};
use super::stride_one::Taps;

/// Frequencies per block: the 4x4 transformed tile.
const FREQUENCIES: usize = 16;

/// Values a tile's transformed inputs or products hold at most (512 KB): they stay in a
/// core's L2 cache between the transform that writes them and the products that read them.
const TILE_VALUES: usize = 1 << 17;

/// Distance between the frequencies' matrices: an odd number of 64-byte cache lines, so that
/// the 16 a block writes or reads fall on different cache sets (at a power-of-two distance
/// they evicted each other).
fn spaced(values: usize) -> usize {
    (values.div_ceil(16) | 1) * 16
}

/// Whether `p` is a convolution this file computes: a 3x3 kernel at stride 1 with padding of
/// at most 2 (the adjoint of padding `q` pads by `2 - q`).
pub fn fits(p: &Patches) -> bool {
    p.kernel == [3, 3] && p.stride == [1, 1] && p.padding[0] <= 2 && p.padding[1] <= 2
}

/// `[batch, out channels, grid]`: the 3x3 stride-1 convolution of `images` (`[batch,
/// p.channels, p.height, p.width]`, cut as `p` says) with `taps`; as
/// [`super::stride_one::shifted_product`], by Winograd's F(2x2, 3x3).
///
/// Channels last inside: a tile's padded input as `[row, column, channel]`, so that each
/// block's transform is one pass over the channels (vectorised), its frequencies as
/// `[blocks, channels]`, and each frequency's product `[blocks, in] x [in, out]`, tall
/// enough for gemm's widest kernels.
pub fn winograd_product(images: &[f32], p: &Patches, taps: Taps) -> Vec<f32> {
    assert!(fits(p), "a 3x3 stride-1 convolution, found {p:?}");
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let c_out = taps.out_channels();
    let mut output = zeros(p.batch * c_out * positions);
    if output.is_empty() || image_len == 0 {
        return output;
    }
    let weights = transformed_weights(taps, p.channels);
    let blocks = Blocks::new(p);
    let [down, across] = blocks.across;
    let per_image = down * across;
    let widest = p.channels.max(c_out);
    // Small maps: several images a tile, so that each product is tall enough for gemm's
    // widest kernels; large maps: one image a chunk, cut into tiles of block rows that stay
    // in the cache.
    let chunk = chunk_images(p.batch, per_image);
    output
        .par_chunks_mut(chunk * c_out * positions)
        .zip(images.par_chunks(chunk * image_len))
        .for_each(|(out, images)| {
            let count = images.len() / image_len;
            let tile_rows = if count > 1 {
                down
            } else {
                (TILE_VALUES / (FREQUENCIES * widest * across)).clamp(1, down)
            };
            let mut padded = Vec::new();
            let mut staged = Vec::new();
            for top in (0..down).step_by(tile_rows) {
                let rows = top..(top + tile_rows).min(down);
                let image_blocks = rows.len() * across;
                let tile = count * image_blocks;
                let (in_spacing, out_spacing) = (spaced(tile * p.channels), spaced(tile * c_out));
                with_scratch(
                    FREQUENCIES * in_spacing,
                    FREQUENCIES * out_spacing,
                    |inputs, products| {
                        for (i, image) in images.chunks_exact(image_len).enumerate() {
                            blocks.pad_channels_last(image, p.channels, rows.clone(), &mut padded);
                            blocks.transform_inputs(
                                &padded,
                                p.channels,
                                rows.len(),
                                i * image_blocks,
                                in_spacing,
                                inputs,
                            );
                        }
                        for f in 0..FREQUENCIES {
                            multiply(
                                &mut products[f * out_spacing..][..tile * c_out],
                                Matrix::row_major(
                                    &inputs[f * in_spacing..][..tile * p.channels],
                                    tile,
                                    p.channels,
                                ),
                                Matrix::row_major(
                                    &weights[f * p.channels * c_out..][..p.channels * c_out],
                                    p.channels,
                                    c_out,
                                ),
                                false,
                            );
                        }
                        for (i, out) in out.chunks_exact_mut(c_out * positions).enumerate() {
                            let products = Frequencies {
                                values: products,
                                spacing: out_spacing,
                                channels: c_out,
                            };
                            blocks.transform_outputs(
                                products,
                                rows.clone(),
                                i * image_blocks,
                                &mut staged,
                                out,
                            );
                        }
                    },
                );
            }
        });
    output
}

/// `[16, in, out]`: each channel pair's 3x3 kernel `g` as `G g G^T`, with
/// `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]`.
fn transformed_weights(taps: Taps, c_in: usize) -> Vec<f32> {
    let c_out = taps.out_channels();
    let at: Vec<Matrix> = (0..9).map(|k| taps.at(k / 3, k % 3)).collect();
    let pairs = c_out * c_in;
    let mut weights = vec![0.0; FREQUENCIES * pairs];
    for o in 0..c_out {
        for i in 0..c_in {
            let g: [f32; 9] = std::array::from_fn(|k| {
                let m = &at[k];
                m.data[o * m.row_stride + i * m.col_stride]
            });
            // G g (4x3), then (G g) G^T (4x4).
            let mut rows = [[0.0f32; 3]; 4];
            for x in 0..3 {
                let [a, b, c] = [g[x], g[3 + x], g[6 + x]];
                rows[0][x] = a;
                rows[1][x] = 0.5 * (a + b + c);
                rows[2][x] = 0.5 * (a - b + c);
                rows[3][x] = c;
            }
            for (y, [a, b, c]) in rows.into_iter().enumerate() {
                let row = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
                for (x, value) in row.into_iter().enumerate() {
                    weights[(y * 4 + x) * pairs + i * c_out + o] = value;
                }
            }
        }
    }
    weights
}

/// The 2x2 output blocks of a 3x3 stride-1 convolution and the 4x4 input blocks they read.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    height: usize,
    width: usize,
    padding: [usize; 2],
    grid: [usize; 2],
    /// Blocks down and across one image: the grid in 2x2 steps, the last one cut short when
    /// a side is odd.
    across: [usize; 2],
}

impl Blocks {
    fn new(p: &Patches) -> Self {
        Self {
            height: p.height,
            width: p.width,
            padding: p.padding,
            grid: p.grid,
            across: [p.grid[0].div_ceil(2), p.grid[1].div_ceil(2)],
        }
    }

    /// The padded rows' length: enough for the last block's 4 columns (one past the padding
    /// when the grid's width is odd).
    fn padded_width(&self) -> usize {
        2 * self.across[1] + 2
    }

    /// The padded input rows that block rows `rows` read, channels last, into `out`
    /// (`[2 x rows + 2, padded width, channels]`).
    fn pad_channels_last(
        &self,
        image: &[f32],
        channels: usize,
        rows: std::ops::Range<usize>,
        out: &mut Vec<f32>,
    ) {
        let cols = self.padded_width();
        let [pad_y, pad_x] = self.padding;
        let lines = 2 * rows.len() + 2;
        out.clear();
        out.resize(lines * cols * channels, 0.0);
        for line in 0..lines {
            let Some(y) = (2 * rows.start + line).checked_sub(pad_y) else {
                continue;
            };
            if y >= self.height {
                continue;
            }
            let target = &mut out[(line * cols + pad_x) * channels..][..self.width * channels];
            for channel in 0..channels {
                let source = &image[(channel * self.height + y) * self.width..][..self.width];
                for (x, &value) in source.iter().enumerate() {
                    target[x * channels + channel] = value;
                }
            }
        }
    }

    /// `padded` (from [`Self::pad_channels_last`], `rows` block rows) -> `out`: frequency `f`
    /// at `f x spacing` as `[blocks, channels]`, every 4x4 input block as `B^T d B`, with
    /// `B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
    fn transform_inputs(
        &self,
        padded: &[f32],
        channels: usize,
        rows: usize,
        first: usize,
        spacing: usize,
        out: &mut [f32],
    ) {
        let cols = self.padded_width();
        let across = self.across[1];
        for by in 0..rows {
            for bx in 0..across {
                let block = first + by * across + bx;
                // d[r][c]: the block's input at row r, column c, over the channels.
                let d: [[&[f32]; 4]; 4] = std::array::from_fn(|r| {
                    std::array::from_fn(|c| {
                        &padded[((2 * by + r) * cols + 2 * bx + c) * channels..][..channels]
                    })
                });
                let targets: [&mut [f32]; FREQUENCIES] = split_frequencies(out, spacing)
                    .map(|frequency| &mut frequency[block * channels..][..channels]);
                for k in 0..channels {
                    let v: [[f32; 4]; 4] =
                        std::array::from_fn(|r| std::array::from_fn(|c| d[r][c][k]));
                    // B^T d: rows.
                    let t: [[f32; 4]; 4] = [
                        std::array::from_fn(|c| v[0][c] - v[2][c]),
                        std::array::from_fn(|c| v[1][c] + v[2][c]),
                        std::array::from_fn(|c| v[2][c] - v[1][c]),
                        std::array::from_fn(|c| v[1][c] - v[3][c]),
                    ];
                    // (B^T d) B: columns.
                    for (r, [t0, t1, t2, t3]) in t.into_iter().enumerate() {
                        targets[r * 4][k] = t0 - t2;
                        targets[r * 4 + 1][k] = t1 + t2;
                        targets[r * 4 + 2][k] = t2 - t1;
                        targets[r * 4 + 3][k] = t1 - t3;
                    }
                }
            }
        }
    }

    /// `products` -> block rows `rows` of `out` (`[channels, grid]`), the tile's blocks from
    /// `first` on: each block's 16 frequencies as `A^T m A`, with
    /// `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`, staged channels last in `staged` and then
    /// written channel by channel.
    fn transform_outputs(
        &self,
        products: Frequencies,
        rows: std::ops::Range<usize>,
        first: usize,
        staged: &mut Vec<f32>,
        out: &mut [f32],
    ) {
        let Frequencies {
            values: products,
            spacing,
            channels,
        } = products;
        let [grid_h, grid_w] = self.grid;
        let across = self.across[1];
        let width = 2 * across;
        // [2 x rows, 2 x across, channels]
        staged.clear();
        staged.resize(2 * rows.len() * width * channels, 0.0);
        for by in 0..rows.len() {
            for bx in 0..across {
                let block = first + by * across + bx;
                let m: [&[f32]; FREQUENCIES] = std::array::from_fn(|f| {
                    &products[f * spacing + block * channels..][..channels]
                });
                let (upper, lower) =
                    staged[(2 * by * width + 2 * bx) * channels..].split_at_mut(width * channels);
                let (y00, y01) = upper[..2 * channels].split_at_mut(channels);
                let (y10, y11) = lower[..2 * channels].split_at_mut(channels);
                for k in 0..channels {
                    let v: [f32; 16] = std::array::from_fn(|f| m[f][k]);
                    // A^T m: two rows of four.
                    let t0: [f32; 4] = std::array::from_fn(|c| v[c] + v[4 + c] + v[8 + c]);
                    let t1: [f32; 4] = std::array::from_fn(|c| v[4 + c] - v[8 + c] - v[12 + c]);
                    y00[k] = t0[0] + t0[1] + t0[2];
                    y01[k] = t0[1] - t0[2] - t0[3];
                    y10[k] = t1[0] + t1[1] + t1[2];
                    y11[k] = t1[1] - t1[2] - t1[3];
                }
            }
        }
        for line in 0..2 * rows.len() {
            let y = 2 * rows.start + line;
            if y >= grid_h {
                break;
            }
            let source = &staged[line * width * channels..][..grid_w * channels];
            for channel in 0..channels {
                let target = &mut out[(channel * grid_h + y) * grid_w..][..grid_w];
                for (x, value) in target.iter_mut().enumerate() {
                    *value = source[x * channels + channel];
                }
            }
        }
    }
}

/// A tile's 16 frequencies in one buffer, `spacing` apart, each `[blocks, channels]`.
#[derive(Debug, Clone, Copy)]
struct Frequencies<'a> {
    values: &'a [f32],
    spacing: usize,
    channels: usize,
}

/// `values` as the 16 frequencies' regions, `spacing` apart.
fn split_frequencies(values: &mut [f32], spacing: usize) -> [&mut [f32]; FREQUENCIES] {
    let mut parts = values.chunks_mut(spacing);
    std::array::from_fn(|_| parts.next().expect("16 frequencies of scratch"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::stride_one::shifted_product;
    use crate::kernels::stride_one::tests::{assert_close, values};

    fn patches(batch: usize, channels: usize, side: [usize; 2], padding: usize) -> Patches {
        Patches {
            batch,
            channels,
            height: side[0],
            width: side[1],
            kernel: [3, 3],
            stride: [1, 1],
            padding: [padding; 2],
            grid: [side[0] + 2 * padding - 2, side[1] + 2 * padding - 2],
        }
    }

    #[test]
    fn forward_and_adjoint_match_the_shifted_products() {
        // Even and odd sides, square and not, paddings 0-2, one image and several.
        for (batch, c_in, c_out, side, padding) in [
            (3, 4, 5, [6, 6], 1),
            (2, 3, 7, [5, 7], 1),
            (1, 8, 2, [8, 8], 1),
            (2, 2, 3, [7, 4], 0),
            (4, 5, 3, [3, 5], 2),
            // Several tiles of block rows, the last one short.
            (2, 64, 5, [37, 41], 1),
        ] {
            let weight = values(c_out * c_in * 9, 2.0);
            let shape = [c_out, c_in, 3, 3];
            // The adjoint reads `c_out` channels and writes `c_in`.
            for (taps, channels) in [
                (Taps::Forward(&weight, shape), c_in),
                (Taps::Adjoint(&weight, shape), c_out),
            ] {
                let p = patches(batch, channels, side, padding);
                let images = values(batch * channels * side[0] * side[1], 1.0);
                assert_close(
                    &winograd_product(&images, &p, taps),
                    &shifted_product(&images, &p, taps),
                );
            }
        }
    }
}
