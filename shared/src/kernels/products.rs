//! The three matrix products every convolution and its gradients are made of, on NCHW `f32`
//! slices, each over a few images at a time with one single-threaded gemm product per core:
//!
//! - [`patch_product`]: `W x im2col(images)`: a convolution's forward, and a transposed
//!   convolution's input gradient;
//! - [`scatter_product`]: `col2im(W^T x maps)`: a convolution's input gradient, and a transposed
//!   convolution's forward;
//! - [`weight_product`]: `maps x im2col(images)^T` summed over the batch: both weight gradients.
//!
//! Images go in chunks so that a product spans at least [`TARGET_COLUMNS`] columns (two images
//! of a 16x16 grid, thirty-two of a 4x4 one) while each core still gets whole chunks.

use std::cell::RefCell;

use rayon::prelude::*;

use super::buffer::zeros;
use super::gemm::{Matrix, multiply};
use super::patches::{
    Patches, col2im_add_channels, im2col_into, im2col_rows, im2col_transposed_into,
};

/// Columns (grid positions over the chunk's images) a product should span: narrower ones fall
/// to gemm's slow edge kernels. `facegan bench` on 2 cores, first kernels (Intel): 64 gave 42
/// images/s, 256 46-47, 512 44, 1024 46. Today's kernels on an AMD EPYC (2026-12-01,
/// `bench/compare_pytorch.sh`): 512 against 256 keeps training where it was (DCGAN 115-117
/// images/s against 108-116; ResNet 107-111 against 110-111) and takes the DCGAN generator at
/// batch 64 from 50-55 ms to 46-49 ms, which put it ahead of PyTorch's (1.07-1.08x, from
/// 0.92-0.99x). Grids of 32x32 and up hold one image a chunk either way.
const TARGET_COLUMNS: usize = 512;

thread_local! {
    /// Each core's working memory (patch matrix, staging matrix), kept between calls: fresh
    /// buffers of these sizes come from the OS as zeroed pages, and faulting them in measured
    /// several percent of a training step.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` on this thread's two scratch buffers of `columns` and `staging` values, whose
/// contents are left over from earlier calls: `f` must write before it reads.
pub(super) fn with_scratch<R>(
    columns: usize,
    staging: usize,
    f: impl FnOnce(&mut [f32], &mut [f32]) -> R,
) -> R {
    SCRATCH.with(|scratch| {
        // No rayon call runs inside `f`, so this thread cannot re-enter while it is borrowed.
        let mut scratch = scratch.borrow_mut();
        let [a, b] = &mut *scratch;
        if a.len() < columns {
            a.resize(columns, 0.0);
        }
        if b.len() < staging {
            b.resize(staging, 0.0);
        }
        f(&mut a[..columns], &mut b[..staging])
    })
}

/// How many images each chunk holds.
pub(super) fn chunk_images(batch: usize, positions: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let wide_enough = TARGET_COLUMNS.div_ceil(positions.max(1));
    let per_thread = batch.div_ceil(threads).max(1);
    wide_enough.clamp(1, per_thread)
}

/// `p` restricted to `images` images.
fn with_batch(p: &Patches, images: usize) -> Patches {
    Patches {
        batch: images,
        ..*p
    }
}

/// `[images, channels, positions]` -> `[channels, images x positions]`, into `out`.
fn channels_major(maps: &[f32], channels: usize, positions: usize, out: &mut [f32]) {
    let images = maps.len() / (channels * positions);
    for (image, map) in maps.chunks_exact(channels * positions).enumerate() {
        for (channel, plane) in map.chunks_exact(positions).enumerate() {
            out[(channel * images + image) * positions..][..positions].copy_from_slice(plane);
        }
    }
}

/// `maps` (`[images, channels, positions]`) as a `[channels, images x positions]` matrix: the
/// maps themselves for one image, else gathered into `staging` (as long as `maps`).
fn maps_matrix<'a>(
    maps: &'a [f32],
    channels: usize,
    positions: usize,
    staging: &'a mut [f32],
) -> Matrix<'a> {
    let columns = maps.len() / channels.max(1);
    if maps.len() == channels * positions {
        return Matrix::row_major(maps, channels, columns);
    }
    channels_major(maps, channels, positions, staging);
    Matrix::row_major(staging, channels, columns)
}

/// `[channels, images x positions]` -> `[images, channels, positions]`, into `out`.
fn images_major(matrix: &[f32], channels: usize, positions: usize, out: &mut [f32]) {
    let images = out.len() / (channels * positions);
    for (image, map) in out.chunks_exact_mut(channels * positions).enumerate() {
        for (channel, plane) in map.chunks_exact_mut(positions).enumerate() {
            plane.copy_from_slice(&matrix[(channel * images + image) * positions..][..positions]);
        }
    }
}

/// `dst [n, rhs.cols]` = `lhs [n, inner]` x `rhs`, the `n` rows of `lhs` split over the
/// cores: the products of whole-image patches, where each image is one row.
fn split_rows_product(dst: &mut [f32], lhs: &[f32], inner: usize, rhs: Matrix) {
    if dst.is_empty() || inner == 0 {
        return; // `dst` holds zeros already
    }
    let rows = lhs.len() / inner;
    let per_core = rows.div_ceil(rayon::current_num_threads().max(1)).max(1);
    dst.par_chunks_mut(per_core * rhs.cols)
        .zip(lhs.par_chunks(per_core * inner))
        .for_each(|(dst, lhs)| {
            let lhs = Matrix::row_major(lhs, lhs.len() / inner, inner);
            multiply(dst, lhs, rhs, false);
        });
}

/// `[batch, out_channels, grid]` = `weight [out_channels, p.rows()]` x `im2col(images)`.
pub fn patch_product(images: &[f32], p: &Patches, weight: &[f32], out_channels: usize) -> Vec<f32> {
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let chunk = chunk_images(p.batch, positions);
    let weight = Matrix::row_major(weight, out_channels, p.rows());
    let mut output = zeros(p.batch * out_channels * positions);
    if output.is_empty() {
        return output;
    }
    if p.whole_images() {
        // [batch, out_channels] = images [batch, rows] x weight^T
        split_rows_product(&mut output, images, p.rows(), weight.transposed());
        return output;
    }
    output
        .par_chunks_mut(chunk * out_channels * positions)
        .zip(images.par_chunks(chunk * image_len))
        .for_each(|(out, images)| {
            let patches = with_batch(p, images.len() / image_len);
            let staging = if patches.batch == 1 { 0 } else { out.len() };
            with_scratch(
                patches.rows() * patches.columns(),
                staging,
                |columns, product| {
                    im2col_into(images, &patches, columns);
                    let columns = Matrix::row_major(columns, patches.rows(), patches.columns());
                    if patches.batch == 1 {
                        multiply(out, weight, columns, false);
                    } else {
                        multiply(product, weight, columns, false);
                        images_major(product, out_channels, positions, out);
                    }
                },
            );
        });
    output
}

/// [`patch_product`] of a single image, spread over the cores: they share the patch matrix
/// (each writing some of its rows), then each multiplies some of the output channels. The
/// batch-of-one forward (`facegan generate`, the ResNet generator's latency); flex's own
/// convolution measured slower there.
pub fn single_patch_product(
    image: &[f32],
    p: &Patches,
    weight: &[f32],
    out_channels: usize,
) -> Vec<f32> {
    assert_eq!(p.batch, 1, "one image");
    let positions = p.grid[0] * p.grid[1];
    let threads = rayon::current_num_threads().max(1);
    let mut output = zeros(out_channels * positions);
    if output.is_empty() {
        return output;
    }
    let mut columns = zeros(p.rows() * positions);
    let rows_per_task = p.rows().div_ceil(threads).max(1);
    columns
        .par_chunks_mut(rows_per_task * positions)
        .enumerate()
        .for_each(|(task, rows)| im2col_rows(image, p, task * rows_per_task, rows));
    let columns = Matrix::row_major(&columns, p.rows(), positions);
    // Output channels in groups of at least 8 (gemm's kernels are 8 or 16 rows tall).
    let channels_per_task = out_channels.div_ceil(threads).max(8);
    output
        .par_chunks_mut(channels_per_task * positions)
        .zip(weight.par_chunks(channels_per_task * p.rows()))
        .for_each(|(out, weight)| {
            let weight = Matrix::row_major(weight, weight.len() / p.rows(), p.rows());
            multiply(out, weight, columns, false);
        });
    output
}

/// Values of the product [`scatter_product`] writes and col2im reads back at once (512 KB,
/// a Zen 3 core's L2 cache): whole, a chunk's product is 2-8 MB in the DCGAN generator's
/// layers, and col2im's reads of it measured a quarter of the generator's time at batch 64
/// (AMD EPYC, AVX2, 2026-12-02). Smaller blocks repack gemm's right-hand side more often.
/// `generator_latency 20 ours 64 dcgan`, three runs each: whole products 288-294 ms, 512 KB
/// blocks 212-214, 1 MB 230-242.
const BLOCK_VALUES: usize = 1 << 17;

/// `[batch, p.channels, p.height, p.width]` = `col2im(weight^T x maps)`, where `maps` is
/// `[batch, map_channels, grid]` and `weight` is `[map_channels, p.rows()]`. A few output
/// channels at a time: each block's product is summed into the images while in cache.
pub fn scatter_product(maps: &[f32], map_channels: usize, weight: &[f32], p: &Patches) -> Vec<f32> {
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let map_len = map_channels * positions;
    let chunk = chunk_images(p.batch, positions);
    let weight = Matrix::row_major(weight, map_channels, p.rows());
    let taps = p.kernel[0] * p.kernel[1];
    let mut output = zeros(p.batch * image_len);
    if output.is_empty() || map_len == 0 || taps == 0 {
        return output;
    }
    if p.whole_images() {
        // [batch, rows] = maps [batch, map_channels] x weight: col2im of one patch an image
        // only reorders, and this product writes that order directly.
        split_rows_product(&mut output, maps, map_channels, weight);
        return output;
    }
    let weight = weight.transposed();
    output
        .par_chunks_mut(chunk * image_len)
        .zip(maps.par_chunks(chunk * map_len))
        .for_each(|(out, maps)| {
            let patches = with_batch(p, maps.len() / map_len);
            let columns = patches.columns();
            // At least 8 channels a block: 8 x 9-16 rows keep gemm's kernels busy.
            let block = (BLOCK_VALUES / (taps * columns)).max(8).min(p.channels);
            let staging = if patches.batch == 1 { 0 } else { maps.len() };
            with_scratch(block * taps * columns, staging, |product, staging| {
                let maps = maps_matrix(maps, map_channels, positions, staging);
                for first in (0..p.channels).step_by(block) {
                    let count = block.min(p.channels - first);
                    let product = &mut product[..count * taps * columns];
                    multiply(
                        product,
                        weight.rows(first * taps, count * taps),
                        maps,
                        false,
                    );
                    col2im_add_channels(product, &patches, first, out);
                }
            });
        });
    output
}

/// `[map_channels, p.rows()]` = the sum over the batch of `maps x im2col(images)^T`, where
/// `maps` is `[batch, map_channels, grid]`.
pub fn weight_product(maps: &[f32], map_channels: usize, images: &[f32], p: &Patches) -> Vec<f32> {
    let positions = p.grid[0] * p.grid[1];
    let image_len = p.channels * p.height * p.width;
    let map_len = map_channels * positions;
    let size = map_channels * p.rows();
    if p.batch == 0 || map_len == 0 || image_len == 0 {
        return vec![0.0; size];
    }
    let chunk = chunk_images(p.batch, positions);
    let [maps, images] =
        [(maps, map_len), (images, image_len)].map(|(x, len)| x.chunks(chunk * len));
    let chunks: Vec<(&[f32], &[f32])> = maps.zip(images).collect();
    if p.whole_images() {
        // maps^T [map_channels, images] x images [images, rows], chunk by chunk.
        return sum_over_chunks(&chunks, size, |sum, maps, images| {
            let count = images.len() / image_len;
            let maps = Matrix::row_major(maps, count, map_channels).transposed();
            multiply(sum, maps, Matrix::row_major(images, count, p.rows()), true);
        });
    }
    sum_over_chunks(&chunks, size, |sum, maps, images| {
        let patches = with_batch(p, images.len() / image_len);
        let staging = if patches.batch == 1 { 0 } else { maps.len() };
        with_scratch(
            patches.rows() * patches.columns(),
            staging,
            |columns, staging| {
                im2col_transposed_into(images, &patches, columns);
                let columns = Matrix::row_major(columns, patches.columns(), patches.rows());
                let maps = maps_matrix(maps, map_channels, positions, staging);
                multiply(sum, maps, columns, true);
            },
        );
    })
}

/// The sum of `size` values that `add` accumulates over every (maps, images) chunk: the weight
/// gradients' reduction over the batch. A fixed split of the chunks into one run per thread,
/// summed in order: the same sums in the same order every time. (Rayon's fold would group
/// chunks as its threads happen to steal them, so the last bits of a gradient, and a resumed
/// run, could differ.)
pub(super) fn sum_over_chunks(
    chunks: &[(&[f32], &[f32])],
    size: usize,
    add: impl Fn(&mut [f32], &[f32], &[f32]) + Sync,
) -> Vec<f32> {
    let per_run = chunks
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let partial: Vec<Vec<f32>> = chunks
        .par_chunks(per_run)
        .map(|run| {
            let mut sum = vec![0.0; size];
            for (maps, images) in run {
                add(&mut sum, maps, images);
            }
            sum
        })
        .collect();
    let mut runs = partial.into_iter();
    let mut total = runs.next().unwrap_or_else(|| vec![0.0; size]);
    for run in runs {
        total.iter_mut().zip(run).for_each(|(a, b)| *a += b);
    }
    total
}
