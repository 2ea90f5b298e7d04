//! 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of outputs comes
//! from a 4x4 block of the padded input through 16 products per channel pair where a direct
//! convolution takes 36. Input blocks and weights are transformed into 16 "frequencies"
//! (`B^T d B`, `G g G^T`), each frequency is one matrix product `[out, in] x [in, blocks]`,
//! and the 16 results go back to 2x2 outputs (`A^T m A`). The transforms are additions only
//! (and halves for the weights), so f32 loses little: outputs and gradients within about 1e-6
//! relative of Burn's (`shared/tests/cpu_kernels.rs`).
//!
//! The products are 2.25 times fewer multiply-adds, but the transformed inputs are four times
//! the input: where maps are large and channels few (the ResNet GAN's 64x64 layers) moving
//! them costs about what the products save, so `flex.rs` sends only the 16x16 and 32x32
//! layers here, forward and input gradient (the input gradient of a stride-1 convolution is
//! another one, with the adjoint weights: [`Taps::Adjoint`]); the weight gradients stay with
//! the shifted products.

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
/// Channel planes throughout, blocks along the rows: each frequency of a tile is `[channels,
/// blocks]`, so the transforms run along a plane's rows (vectorised over the blocks of a block
/// row, with no transposes), and each frequency's product `[out, in] x [in, blocks]` has the
/// tile's blocks as gemm's long side, the one its widest kernels want.
pub fn winograd_product(images: &[f32], p: &Patches, taps: Taps) -> Vec<f32> {
    assert!(fits(p), "a 3x3 stride-1 convolution, found {p:?}");
    let positions = p.grid[0] * p.grid[1];
    let plane = p.height * p.width;
    let image_len = p.channels * plane;
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
    // Small maps: several images a tile, so that each product is long enough for gemm's
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
            let mut lines = Lines::new(across);
            for top in (0..down).step_by(tile_rows) {
                let rows = top..(top + tile_rows).min(down);
                let image_blocks = rows.len() * across;
                let tile = count * image_blocks;
                let (in_spacing, out_spacing) = (spaced(tile * p.channels), spaced(tile * c_out));
                with_scratch(
                    FREQUENCIES * in_spacing,
                    FREQUENCIES * out_spacing,
                    |inputs, products| {
                        let mut frequencies = split_frequencies(inputs, in_spacing);
                        for (i, image) in images.chunks_exact(image_len).enumerate() {
                            for (k, channel) in image.chunks_exact(plane).enumerate() {
                                let first = k * tile + i * image_blocks;
                                blocks.transform_inputs(
                                    channel,
                                    rows.clone(),
                                    first,
                                    &mut lines,
                                    &mut frequencies,
                                );
                            }
                        }
                        for f in 0..FREQUENCIES {
                            multiply(
                                &mut products[f * out_spacing..][..c_out * tile],
                                Matrix::row_major(
                                    &weights[f * c_out * p.channels..][..c_out * p.channels],
                                    c_out,
                                    p.channels,
                                ),
                                Matrix::row_major(
                                    &inputs[f * in_spacing..][..p.channels * tile],
                                    p.channels,
                                    tile,
                                ),
                                false,
                            );
                        }
                        for (i, out) in out.chunks_exact_mut(c_out * positions).enumerate() {
                            for (o, channel) in out.chunks_exact_mut(positions).enumerate() {
                                let frequencies = Frequencies {
                                    values: products,
                                    spacing: out_spacing,
                                    first: o * tile + i * image_blocks,
                                };
                                blocks.transform_outputs(
                                    frequencies,
                                    rows.clone(),
                                    &mut lines,
                                    channel,
                                );
                            }
                        }
                    },
                );
            }
        });
    output
}

/// `[16, out, in]`: each channel pair's 3x3 kernel `g` as `G g G^T`, with
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
                    weights[(y * 4 + x) * pairs + o * c_in + i] = value;
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

/// A thread's lines for the transforms of one block row: the four padded input rows it reads
/// split into even and odd columns, its products' `A^T m` as eight lines, and the two output
/// rows it writes.
struct Lines {
    even: [Vec<f32>; 4],
    odd: [Vec<f32>; 4],
    /// `A^T m` over a block row: row 0's four columns, then row 1's.
    sums: [Vec<f32>; 8],
    outputs: [Vec<f32>; 2],
}

impl Lines {
    /// Lines for block rows of `across` blocks: `2 x across + 2` padded columns (one past the
    /// padding when the grid's width is odd), `2 x across` output columns.
    fn new(across: usize) -> Self {
        let half = across + 1;
        Self {
            even: std::array::from_fn(|_| vec![0.0; half]),
            odd: std::array::from_fn(|_| vec![0.0; half]),
            sums: std::array::from_fn(|_| vec![0.0; across]),
            outputs: std::array::from_fn(|_| vec![0.0; 2 * across]),
        }
    }
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

    /// One channel's plane (`[height, width]`) -> its blocks in block rows `rows`, each 4x4
    /// input block as `B^T d B` with `B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0],
    /// [0, 1, 0, -1]]`: frequency `f` of the row's blocks at `frequencies[f][first..]`, the
    /// next block row `across` further on.
    fn transform_inputs(
        &self,
        plane: &[f32],
        rows: std::ops::Range<usize>,
        first: usize,
        lines: &mut Lines,
        frequencies: &mut [&mut [f32]; FREQUENCIES],
    ) {
        let across = self.across[1];
        let half = across + 1;
        let [pad_y, pad_x] = self.padding;
        for (n, by) in rows.enumerate() {
            // The block row's four padded input rows, as even and odd columns: a block's
            // columns 0-3 are even[bx], odd[bx], even[bx + 1], odd[bx + 1].
            for r in 0..4 {
                let y = (2 * by + r).checked_sub(pad_y).filter(|&y| y < self.height);
                split_columns(
                    y.map(|y| &plane[y * self.width..][..self.width]),
                    pad_x,
                    &mut lines.even[r][..half],
                    &mut lines.odd[r][..half],
                );
            }
            // B^T d: the rows, in place (row r of the result from rows 0-3 of the block).
            for columns in [&mut lines.even, &mut lines.odd] {
                let [v0, v1, v2, v3] = columns.each_mut().map(|v| &mut v[..half]);
                transform_rows(v0, v1, v2, v3);
            }
            // (B^T d) B: the columns, into the 16 frequencies.
            let at = first + n * across;
            for r in 0..4 {
                let [t0, t1, t2, t3] = &mut frequencies[4 * r..4 * r + 4] else {
                    unreachable!("four frequencies a row")
                };
                let [t0, t1, t2, t3] = [t0, t1, t2, t3].map(|f| &mut f[at..][..across]);
                transform_columns(
                    &lines.even[r][..half],
                    &lines.odd[r][..half],
                    t0,
                    t1,
                    t2,
                    t3,
                );
            }
        }
    }

    /// The products of one output channel -> its plane (`[grid]`) in block rows `rows`: each
    /// block's 16 frequencies as `A^T m A`, with `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
    fn transform_outputs(
        &self,
        frequencies: Frequencies,
        rows: std::ops::Range<usize>,
        lines: &mut Lines,
        plane: &mut [f32],
    ) {
        let [grid_h, grid_w] = self.grid;
        let across = self.across[1];
        for (n, by) in rows.enumerate() {
            let at = frequencies.first + n * across;
            let m: [&[f32]; FREQUENCIES] = std::array::from_fn(|f| {
                &frequencies.values[f * frequencies.spacing + at..][..across]
            });
            // A^T m: two rows of four, each a line over the row's blocks (passes over whole
            // slices, which vectorise; one loop over all 16 frequencies did not).
            let (t0, t1) = lines.sums.split_at_mut(4);
            for col in 0..4 {
                combine(
                    &mut t0[col][..across],
                    [m[col], m[4 + col], m[8 + col]],
                    |a, b, c| a + b + c,
                );
                combine(
                    &mut t1[col][..across],
                    [m[4 + col], m[8 + col], m[12 + col]],
                    |a, b, c| a - b - c,
                );
            }
            // (A^T m) A: each row's four lines into a pair of output columns per block.
            for (row, sums) in lines.outputs.iter_mut().zip([0, 4]) {
                let [s0, s1, s2, s3] = std::array::from_fn(|c| &lines.sums[sums + c][..across]);
                for ((((pair, &s0), &s1), &s2), &s3) in row[..2 * across]
                    .chunks_exact_mut(2)
                    .zip(s0)
                    .zip(s1)
                    .zip(s2)
                    .zip(s3)
                {
                    pair[0] = s0 + s1 + s2;
                    pair[1] = s1 - s2 - s3;
                }
            }
            for (line, y) in lines.outputs.iter().zip(2 * by..) {
                if y < grid_h {
                    plane[y * grid_w..][..grid_w].copy_from_slice(&line[..grid_w]);
                }
            }
        }
    }
}

/// A row of `row` (`None`: a row of the padding) with `pad_x` zeros on its left, and zeros
/// past its end, as its even and odd columns. Straight from the row, as pairs of values, so
/// that it vectorises (a padded copy first cost a `memmove` a row).
fn split_columns(row: Option<&[f32]>, pad_x: usize, even: &mut [f32], odd: &mut [f32]) {
    let Some(row) = row else {
        even.fill(0.0);
        odd.fill(0.0);
        return;
    };
    // Column q = x + pad_x of the padded row is even[q / 2] or odd[q / 2]: the row's pairs
    // of values land in (even[i], odd[i]) from i = pad_x / 2 when pad_x is even, and in
    // (odd[i], even[i + 1]) when it is odd.
    let start = pad_x / 2;
    let (first, second, second_start) = if pad_x.is_multiple_of(2) {
        (even, odd, start)
    } else {
        (odd, even, start + 1)
    };
    let pairs = row.chunks_exact(2);
    let last = pairs.remainder().first().copied();
    let count = row.len() / 2;
    for ((pair, a), b) in pairs
        .zip(&mut first[start..])
        .zip(&mut second[second_start..])
    {
        *a = pair[0];
        *b = pair[1];
    }
    let mut first_end = start + count;
    if let Some(value) = last {
        first[first_end] = value;
        first_end += 1;
    }
    for (values, filled) in [
        (first, start..first_end),
        (second, second_start..second_start + count),
    ] {
        let (head, tail) = values.split_at_mut(filled.start);
        head.fill(0.0);
        tail[filled.len()..].fill(0.0);
    }
}

// The transforms' loops are functions of their own with each line a parameter of its own:
// Rust marks `&mut` parameters as not aliasing, so the loops vectorise; over slices held in
// locals LLVM would need a run-time overlap check per pair of lines, gives up and runs them a
// value at a time.

/// `B^T d` along the block row, in place: lines 0-3 (the rows of its blocks) become the
/// transform's rows `d0 - d2`, `d1 + d2`, `d2 - d1`, `d1 - d3`.
fn transform_rows(v0: &mut [f32], v1: &mut [f32], v2: &mut [f32], v3: &mut [f32]) {
    for (((a, b), c), d) in v0.iter_mut().zip(v1).zip(v2).zip(v3) {
        let (x0, x1, x2, x3) = (*a, *b, *c, *d);
        *a = x0 - x2;
        *b = x1 + x2;
        *c = x2 - x1;
        *d = x1 - x3;
    }
}

/// `(B^T d) B` of one transformed row over the block row: block bx's columns 0-3 are
/// `even[bx]`, `odd[bx]`, `even[bx + 1]`, `odd[bx + 1]` (`even` and `odd` one longer than the
/// outputs), and its frequencies `t0-t3[bx]`.
fn transform_columns(
    even: &[f32],
    odd: &[f32],
    t0: &mut [f32],
    t1: &mut [f32],
    t2: &mut [f32],
    t3: &mut [f32],
) {
    let (e0, e1) = (&even[..even.len() - 1], &even[1..]);
    let (o0, o1) = (&odd[..odd.len() - 1], &odd[1..]);
    for (((((((t0, t1), t2), t3), &e0), &e1), &o0), &o1) in t0
        .iter_mut()
        .zip(t1)
        .zip(t2)
        .zip(t3)
        .zip(e0)
        .zip(e1)
        .zip(o0)
        .zip(o1)
    {
        *t0 = e0 - e1;
        *t1 = o0 + e1;
        *t2 = e1 - o0;
        *t3 = o0 - o1;
    }
}

/// `out[i] = f(a[i], b[i], c[i])`.
fn combine(out: &mut [f32], [a, b, c]: [&[f32]; 3], f: impl Fn(f32, f32, f32) -> f32) {
    for (((out, &a), &b), &c) in out.iter_mut().zip(a).zip(b).zip(c) {
        *out = f(a, b, c);
    }
}

/// A tile's 16 frequencies in one buffer, `spacing` apart, each `[channels, blocks]`; one
/// channel's blocks from `first` on.
#[derive(Debug, Clone, Copy)]
struct Frequencies<'a> {
    values: &'a [f32],
    spacing: usize,
    first: usize,
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
    fn rows_split_into_the_padded_rows_even_and_odd_columns() {
        for width in 1..8usize {
            for pad_x in 0..3 {
                let row: Vec<f32> = (1..=width).map(|x| x as f32).collect();
                let half = (width + 2 * pad_x).div_ceil(2) + 1;
                let mut padded = vec![0.0; 2 * half];
                padded[pad_x..][..width].copy_from_slice(&row);
                let (mut even, mut odd) = (vec![f32::NAN; half], vec![f32::NAN; half]);
                split_columns(Some(&row), pad_x, &mut even, &mut odd);
                let interleaved: Vec<f32> =
                    even.iter().zip(&odd).flat_map(|(&e, &o)| [e, o]).collect();
                assert_eq!(interleaved, padded, "width {width}, padding {pad_x}");
                split_columns(None, pad_x, &mut even, &mut odd);
                assert!(even.iter().chain(&odd).all(|&v| v == 0.0));
            }
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
