//! The two data movements of a convolution as a matrix product: `im2col` lays every
//! kernel-sized patch of some images out as a column, and `col2im` adds columns back into
//! images (the transpose of `im2col`). `products.rs` runs them on a few images at a time, so a
//! product spans `images x grid height x grid width` columns, wide enough for gemm's fast kernels.

/// How a batch of images `[batch, channels, height, width]` is cut into patches: kernels of
/// `kernel` pixels at `stride`, with `padding` zero pixels around, on a grid of `grid`
/// positions. Rows of the patch matrix are `(channel, kernel row, kernel column)`, the order of
/// a convolution weight's last three dimensions; columns are `(image, grid row, grid column)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patches {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub grid: [usize; 2],
}

impl Patches {
    /// Rows of the patch matrix: `channels x kernel height x kernel width`.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Columns of the patch matrix: `batch x grid height x grid width`.
    pub fn columns(&self) -> usize {
        self.batch * self.grid[0] * self.grid[1]
    }

    /// Whether every image is one patch: a kernel the image's size, no padding, one grid
    /// position (the DCGAN's 4x4 -> 1 logit, and its projection's gradients). The patch
    /// matrix is then the images themselves, transposed.
    pub fn whole_images(&self) -> bool {
        self.grid == [1, 1] && self.padding == [0, 0] && self.kernel == [self.height, self.width]
    }

    /// The grid positions `lo..hi` along `axis` whose kernel offset `k` falls inside the image
    /// (not in the padding); position `g` reads image coordinate `g * stride + k - padding`.
    fn inside(&self, axis: usize, k: usize) -> (usize, usize) {
        let limit = if axis == 0 { self.height } else { self.width };
        let (stride, padding, grid) = (self.stride[axis], self.padding[axis], self.grid[axis]);
        let lo = padding.saturating_sub(k).div_ceil(stride);
        // The first position past the image: (limit + padding - k) / stride rounded up.
        let hi = (limit + padding)
            .saturating_sub(k)
            .div_ceil(stride)
            .min(grid);
        (lo.min(hi), hi)
    }

    /// The image coordinate position `g` of kernel offset `k` reads along `axis`; `g` must be
    /// within [`Self::inside`].
    fn source(&self, axis: usize, g: usize, k: usize) -> usize {
        g * self.stride[axis] + k - self.padding[axis]
    }

    /// The kernel offsets `lo..hi` along `axis` that grid position `g` reads inside the image
    /// (not in the padding): the transpose of [`Self::inside`].
    fn kernel_inside(&self, axis: usize, g: usize) -> (usize, usize) {
        let limit = if axis == 0 { self.height } else { self.width };
        let start = g * self.stride[axis];
        let lo = self.padding[axis].saturating_sub(start);
        let hi = (limit + self.padding[axis])
            .saturating_sub(start)
            .min(self.kernel[axis]);
        (lo.min(hi), hi)
    }
}

/// The patch matrix `[rows, columns]` of `images` (`[batch, channels, height, width]`).
pub fn im2col(images: &[f32], patches: &Patches) -> Vec<f32> {
    let mut matrix = vec![0.0; patches.rows() * patches.columns()];
    im2col_into(images, patches, &mut matrix);
    matrix
}

/// [`im2col`] into `matrix`, every entry written (padding as zeros). Sequential: callers run
/// one batch chunk per core.
pub fn im2col_into(images: &[f32], patches: &Patches, matrix: &mut [f32]) {
    assert_eq!(matrix.len(), patches.rows() * patches.columns());
    im2col_rows(images, patches, 0, matrix);
}

/// Rows `first..` of [`im2col`] into `matrix` (whole rows), so that cores can share one
/// image's patch matrix.
pub fn im2col_rows(images: &[f32], patches: &Patches, first: usize, matrix: &mut [f32]) {
    let p = *patches;
    assert_eq!(images.len(), p.batch * p.channels * p.height * p.width);
    let columns = p.columns();
    if columns == 0 {
        return;
    }
    assert_eq!(matrix.len() % columns, 0, "whole rows");
    assert!(
        first + matrix.len() / columns <= p.rows(),
        "rows past the matrix"
    );
    let [grid_h, grid_w] = p.grid;
    let [kernel_h, kernel_w] = p.kernel;
    // A stride-1 convolution whose grid is as wide as the image (3x3 with padding 1): a patch
    // row is the image shifted by a constant offset, so whole planes copy at once.
    let shifted = p.stride == [1, 1] && grid_w == p.width;
    for (row, out) in matrix.chunks_exact_mut(columns).enumerate() {
        let row = first + row;
        let channel = row / (kernel_h * kernel_w);
        let (kh, kw) = ((row / kernel_w) % kernel_h, row % kernel_w);
        let (y_lo, y_hi) = p.inside(0, kh);
        let (x_lo, x_hi) = p.inside(1, kw);
        for image in 0..p.batch {
            let plane = &images[(image * p.channels + channel) * p.height * p.width..]
                [..p.height * p.width];
            let out = &mut out[image * grid_h * grid_w..][..grid_h * grid_w];
            if shifted {
                shifted_copy(out, plane, &p, [kh, kw], [y_lo, y_hi], [x_lo, x_hi]);
                continue;
            }
            for (gy, out) in out.chunks_exact_mut(grid_w).enumerate() {
                if !(y_lo..y_hi).contains(&gy) {
                    out.fill(0.0); // a padding row
                    continue;
                }
                let source = &plane[p.source(0, gy, kh) * p.width..][..p.width];
                zero(&mut out[..x_lo]);
                zero(&mut out[x_hi..]);
                if x_lo < x_hi {
                    let start = p.source(1, x_lo, kw);
                    gather(&mut out[x_lo..x_hi], &source[start..], p.stride[1]);
                }
            }
        }
    }
}

/// The patch matrix transposed, `[columns, rows]`: one patch per row, every entry written
/// (padding as zeros). The weight gradient multiplies the maps by this matrix; given
/// [`im2col`]'s layout, gemm had to transpose it while packing, one scalar at a time (9% of
/// a DCGAN training step on an AMD EPYC Zen 4, 2026-12-04), where a patch row is built from
/// runs of `kernel width` contiguous pixels at stride 1 along the row.
pub fn im2col_transposed_into(images: &[f32], patches: &Patches, matrix: &mut [f32]) {
    let p = *patches;
    assert_eq!(images.len(), p.batch * p.channels * p.height * p.width);
    assert_eq!(matrix.len(), p.rows() * p.columns());
    let rows = p.rows();
    if rows == 0 {
        return;
    }
    let [grid_h, grid_w] = p.grid;
    let [kernel_h, kernel_w] = p.kernel;
    let plane_len = p.height * p.width;
    let mut patch_rows = matrix.chunks_exact_mut(rows);
    for image in images.chunks_exact(p.channels * plane_len) {
        for gy in 0..grid_h {
            for gx in 0..grid_w {
                let patch = patch_rows.next().expect("one patch per grid position");
                // The kernel columns inside the image, and the pixel the first one reads.
                let (kw_lo, kw_hi) = p.kernel_inside(1, gx);
                let x0 = (gx * p.stride[1] + kw_lo).wrapping_sub(p.padding[1]);
                for (c, plane) in image.chunks_exact(plane_len).enumerate() {
                    for kh in 0..kernel_h {
                        let out = &mut patch[(c * kernel_h + kh) * kernel_w..][..kernel_w];
                        let y = (gy * p.stride[0] + kh).checked_sub(p.padding[0]);
                        match y.filter(|&y| y < p.height) {
                            Some(y) if kw_lo < kw_hi => {
                                zero(&mut out[..kw_lo]);
                                zero(&mut out[kw_hi..]);
                                let run = &plane[y * p.width + x0..][..kw_hi - kw_lo];
                                copy_run(&mut out[kw_lo..kw_hi], run);
                            }
                            _ => out.fill(0.0), // a padding row
                        }
                    }
                }
            }
        }
    }
}

/// `out.copy_from_slice(run)` for the few values of one kernel row: a `memmove` call each
/// measured 5% of a DCGAN training step, so the widths the models use are fixed-size copies.
#[inline]
fn copy_run(out: &mut [f32], run: &[f32]) {
    match (out, run) {
        (&mut [ref mut a, ref mut b, ref mut c, ref mut d], &[e, f, g, h]) => {
            (*a, *b, *c, *d) = (e, f, g, h)
        }
        (&mut [ref mut a, ref mut b, ref mut c], &[e, f, g]) => (*a, *b, *c) = (e, f, g),
        (out, run) => out.copy_from_slice(run),
    }
}

/// One patch-matrix row of one image for a stride-1 convolution whose grid has the image's
/// width: grid position `i` (row-major) reads plane value `i + (kh - pad_h) * width + kw - pad_w`,
/// so the valid rows are one contiguous copy (per-row copies of 4-64 values measured a
/// seventh of the ResNet generator's time in `memmove` calls); the columns that fell across a
/// row edge are zeroed after.
fn shifted_copy(
    out: &mut [f32],
    plane: &[f32],
    p: &Patches,
    [kh, kw]: [usize; 2],
    [y_lo, y_hi]: [usize; 2],
    [x_lo, x_hi]: [usize; 2],
) {
    let width = p.width;
    out[..y_lo * width].fill(0.0);
    out[y_hi * width..].fill(0.0);
    if y_lo >= y_hi || x_lo >= x_hi {
        out[y_lo * width..y_hi * width].fill(0.0);
        return;
    }
    // Where the block's first valid value comes from, and where it goes: the copy spans from
    // the first valid position to the last, the edge columns between included.
    let first = y_lo * width + x_lo;
    let last = (y_hi - 1) * width + x_hi; // one past
    let source = p.source(0, y_lo, kh) * width + p.source(1, x_lo, kw);
    out[first..last].copy_from_slice(&plane[source..source + (last - first)]);
    for gy in y_lo..y_hi {
        let row = &mut out[gy * width..(gy + 1) * width];
        zero(&mut row[..x_lo]);
        zero(&mut row[x_hi..]);
    }
}

/// Zeros a row's padding: nearly always zero or one value, where a `memset` call (what
/// `fill` becomes) measured 2% of a training step in call overhead alone.
#[inline]
fn zero(values: &mut [f32]) {
    match values {
        [] => {}
        [one] => *one = 0.0,
        more => more.fill(0.0),
    }
}

/// `out[i] = source[i * stride]`, with the strides convolutions use spelled out so the
/// compiler can vectorise them.
#[inline]
fn gather(out: &mut [f32], source: &[f32], stride: usize) {
    match stride {
        1 => out.copy_from_slice(&source[..out.len()]),
        2 => out
            .iter_mut()
            .zip(source.iter().step_by(2))
            .for_each(|(o, s)| *o = *s),
        _ => out
            .iter_mut()
            .zip(source.iter().step_by(stride))
            .for_each(|(o, s)| *o = *s),
    }
}

/// Images `[batch, channels, height, width]` whose pixels are the sums of the patch matrix's
/// entries that `im2col` would have copied from them.
pub fn col2im(matrix: &[f32], patches: &Patches) -> Vec<f32> {
    let p = *patches;
    let mut images = vec![0.0; p.batch * p.channels * p.height * p.width];
    col2im_add(matrix, patches, &mut images);
    images
}

/// Adds [`col2im`] of `matrix` to `images`. Sequential: callers run one batch chunk per core.
///
/// At stride `s` along a row, one kernel column's values land `s` apart: added in place they
/// are strided scalar adds (a quarter of the DCGAN generator's time at stride 2 on an AVX2
/// machine). So each plane is first summed phase by phase, pixel `x = q * s + r` of row `y` at
/// `[y][r][q]`, where every kernel column's values are one contiguous (vectorised) add, and
/// interleaved into the plane once.
pub fn col2im_add(matrix: &[f32], patches: &Patches, images: &mut [f32]) {
    col2im_add_channels(matrix, patches, 0, images);
}

/// [`col2im_add`] of the patch-matrix rows of channels `first..`, as many as `matrix` holds
/// (whole channels): it adds to those channels of `images` only.
pub fn col2im_add_channels(matrix: &[f32], patches: &Patches, first: usize, images: &mut [f32]) {
    let p = *patches;
    let columns = p.columns();
    let [grid_h, grid_w] = p.grid;
    let [kernel_h, kernel_w] = p.kernel;
    let channel_rows = kernel_h * kernel_w * columns;
    let plane_len = p.height * p.width;
    assert_eq!(images.len(), p.batch * p.channels * plane_len);
    if plane_len == 0 || channel_rows == 0 {
        return;
    }
    assert_eq!(matrix.len() % channel_rows, 0, "whole channels");
    let count = matrix.len() / channel_rows;
    assert!(first + count <= p.channels, "channels past the images");
    let stride = p.stride[1];
    let phase_len = p.width.div_ceil(stride);
    let mut phases = if stride > 1 {
        vec![0.0; p.height * stride * phase_len]
    } else {
        Vec::new()
    };
    let planes = images
        .chunks_exact_mut(p.channels * plane_len)
        .flat_map(|image| image.chunks_exact_mut(plane_len).skip(first).take(count));
    for (index, plane) in planes.enumerate() {
        // `channel` counts from `first`: the matrix holds those channels' rows only.
        let (image, channel) = (index / count, index % count);
        phases.fill(0.0);
        for kh in 0..kernel_h {
            let (y_lo, y_hi) = p.inside(0, kh);
            for kw in 0..kernel_w {
                let (x_lo, x_hi) = p.inside(1, kw);
                if x_lo >= x_hi {
                    continue;
                }
                let row = (channel * kernel_h + kh) * kernel_w + kw;
                let source = &matrix[row * columns + image * grid_h * grid_w..][..grid_h * grid_w];
                let x = p.source(1, x_lo, kw);
                for gy in y_lo..y_hi {
                    let y = p.source(0, gy, kh);
                    let values = &source[gy * grid_w..][x_lo..x_hi];
                    let target = if stride == 1 {
                        &mut plane[y * p.width + x..]
                    } else {
                        &mut phases[(y * stride + x % stride) * phase_len + x / stride..]
                    };
                    add(&mut target[..values.len()], values);
                }
            }
        }
        if stride > 1 {
            interleave_add(plane, &phases, p.width, stride);
        }
    }
}

/// `target += values`, element by element.
#[inline]
fn add(target: &mut [f32], values: &[f32]) {
    target.iter_mut().zip(values).for_each(|(t, v)| *t += *v);
}

/// Adds `phases` (per row, `stride` runs of `width.div_ceil(stride)` values: run `r` holds
/// the pixels `x` with `x % stride == r`) to the rows of `plane`, `width` pixels each.
fn interleave_add(plane: &mut [f32], phases: &[f32], width: usize, stride: usize) {
    let phase_len = width.div_ceil(stride);
    for (row, phases) in plane
        .chunks_exact_mut(width)
        .zip(phases.chunks_exact(stride * phase_len))
    {
        if stride == 2 {
            let (even, odd) = phases.split_at(phase_len);
            let mut pairs = row.chunks_exact_mut(2);
            for ((pair, e), o) in (&mut pairs).zip(even).zip(odd) {
                pair[0] += e;
                pair[1] += o;
            }
            if let [last] = pairs.into_remainder() {
                *last += even[phase_len - 1];
            }
        } else {
            for (x, pixel) in row.iter_mut().enumerate() {
                *pixel += phases[(x % stride) * phase_len + x / stride];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patches() -> Patches {
        Patches {
            batch: 2,
            channels: 3,
            height: 5,
            width: 4,
            kernel: [3, 2],
            stride: [2, 1],
            padding: [1, 0],
            grid: [3, 3],
        }
    }

    /// Stride-1 cuttings whose grid is as wide as the image (the whole-plane copy), with
    /// padding 1 and 2, and one without padding.
    fn shifted_patches() -> [Patches; 3] {
        let p = Patches {
            batch: 2,
            channels: 2,
            height: 5,
            width: 6,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
            grid: [5, 6],
        };
        let wide = Patches {
            kernel: [5, 5],
            padding: [2, 2],
            ..p
        };
        let pointwise = Patches {
            kernel: [1, 1],
            padding: [0, 0],
            ..p
        };
        [p, wide, pointwise]
    }

    /// The index in the images of the pixel that patch-matrix entry `(row, column)` reads,
    /// straight from the definition; `None` where it falls in the padding.
    fn pixel_read(p: &Patches, row: usize, column: usize) -> Option<usize> {
        let [kh_n, kw_n] = p.kernel;
        let [gh, gw] = p.grid;
        let (c, kh, kw) = (row / (kh_n * kw_n), (row / kw_n) % kh_n, row % kw_n);
        let (b, gy, gx) = (column / (gh * gw), (column / gw) % gh, column % gw);
        let y = (gy * p.stride[0] + kh).checked_sub(p.padding[0])?;
        let x = (gx * p.stride[1] + kw).checked_sub(p.padding[1])?;
        (y < p.height && x < p.width).then(|| ((b * p.channels + c) * p.height + y) * p.width + x)
    }

    /// Every cutting the tests below use.
    fn every_cutting() -> impl Iterator<Item = Patches> {
        [patches()]
            .into_iter()
            .chain(shifted_patches())
            .chain(strided_patches())
    }

    /// Asserts that `build` lays out, for numbered images, every patch pixel (or a padding
    /// zero) of patch-matrix entry `(row, column)` at `index(p, row, column)`.
    fn assert_patch_matrix(
        build: impl Fn(&[f32], &Patches) -> Vec<f32>,
        index: impl Fn(&Patches, usize, usize) -> usize,
    ) {
        for p in every_cutting() {
            let images: Vec<f32> = (0..p.batch * p.channels * p.height * p.width)
                .map(|i| i as f32 + 1.0)
                .collect();
            let matrix = build(&images, &p);
            for row in 0..p.rows() {
                for column in 0..p.columns() {
                    let want = pixel_read(&p, row, column).map_or(0.0, |pixel| images[pixel]);
                    assert_eq!(
                        matrix[index(&p, row, column)],
                        want,
                        "{p:?}: row {row}, column {column}"
                    );
                }
            }
        }
    }

    #[test]
    fn im2col_copies_each_patch_pixel_or_a_padding_zero() {
        assert_patch_matrix(im2col, |p, row, column| row * p.columns() + column);
    }

    #[test]
    fn the_transposed_patch_matrix_holds_each_patch_in_a_row() {
        let build = |images: &[f32], p: &Patches| {
            let mut matrix = vec![f32::NAN; p.rows() * p.columns()];
            im2col_transposed_into(images, p, &mut matrix);
            matrix
        };
        assert_patch_matrix(build, |p, row, column| column * p.rows() + row);
    }

    /// Cuttings at column strides 2 and 3 (the phase-by-phase sums), DCGAN's 4x4 stride-2
    /// kernel with padding 1 at even and odd widths among them.
    fn strided_patches() -> [Patches; 3] {
        let dcgan = Patches {
            batch: 2,
            channels: 3,
            height: 8,
            width: 8,
            kernel: [4, 4],
            stride: [2, 2],
            padding: [1, 1],
            grid: [4, 4],
        };
        let odd = Patches {
            height: 7,
            width: 9,
            grid: [3, 4],
            ..dcgan
        };
        let three = Patches {
            height: 6,
            width: 10,
            kernel: [3, 5],
            stride: [1, 3],
            padding: [1, 2],
            grid: [6, 3],
            ..dcgan
        };
        [dcgan, odd, three]
    }

    /// `col2im_add` adds every matrix entry to the pixel `im2col` would have read it from, onto
    /// what the images held before.
    #[test]
    fn col2im_adds_each_entry_to_its_pixel() {
        for p in every_cutting() {
            let m: Vec<f32> = (0..p.rows() * p.columns())
                .map(|i| ((i * 5) % 13) as f32 - 6.0)
                .collect();
            let before: Vec<f32> = (0..p.batch * p.channels * p.height * p.width)
                .map(|i| (i % 7) as f32)
                .collect();
            let mut want = before.clone();
            for row in 0..p.rows() {
                for column in 0..p.columns() {
                    if let Some(pixel) = pixel_read(&p, row, column) {
                        want[pixel] += m[row * p.columns() + column];
                    }
                }
            }
            let mut got = before;
            col2im_add(&m, &p, &mut got);
            assert_eq!(got, want, "{p:?}");
        }
    }

    /// `col2im` is the transpose of `im2col`: <im2col(a), m> = <a, col2im(m)> for any a, m.
    #[test]
    fn col2im_is_the_transpose_of_im2col() {
        for p in [patches()].into_iter().chain(strided_patches()) {
            let a: Vec<f32> = (0..p.batch * p.channels * p.height * p.width)
                .map(|i| ((i * 7) % 11) as f32 - 5.0)
                .collect();
            let m: Vec<f32> = (0..p.rows() * p.columns())
                .map(|i| ((i * 5) % 13) as f32 - 6.0)
                .collect();
            let left: f32 = im2col(&a, &p).iter().zip(&m).map(|(x, y)| x * y).sum();
            let right: f32 = a.iter().zip(col2im(&m, &p)).map(|(x, y)| x * y).sum();
            assert_eq!(left, right, "{p:?}");
        }
    }
}
