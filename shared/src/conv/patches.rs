//! The two data movements of a convolution done as one matrix product over the whole batch:
//! `im2col` lays every kernel-sized patch of a batch of images out as a column, and `col2im`
//! adds columns back into images (the transpose of `im2col`). Burn's flex backend does both per
//! image, so its matrix products are a few pixels wide; here a product spans
//! `batch x grid height x grid width` columns, wide enough for gemm's fast kernels.

use rayon::prelude::*;

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

    /// The image coordinate of kernel offset `k` at grid position `g` along axis `axis`, if it
    /// falls inside the image (not in the padding).
    fn source(&self, axis: usize, g: usize, k: usize) -> Option<usize> {
        let limit = if axis == 0 { self.height } else { self.width };
        (g * self.stride[axis] + k)
            .checked_sub(self.padding[axis])
            .filter(|&i| i < limit)
    }
}

/// The patch matrix `[rows, columns]` of `images` (`[batch, channels, height, width]`).
pub fn im2col(images: &[f32], patches: &Patches) -> Vec<f32> {
    let p = *patches;
    assert_eq!(images.len(), p.batch * p.channels * p.height * p.width);
    let columns = p.columns();
    let [grid_h, grid_w] = p.grid;
    let [kernel_h, kernel_w] = p.kernel;
    let mut matrix = vec![0.0; p.rows() * columns];
    if columns == 0 {
        return matrix;
    }
    matrix
        .par_chunks_mut(columns)
        .enumerate()
        .for_each(|(row, out)| {
            let channel = row / (kernel_h * kernel_w);
            let (kh, kw) = ((row / kernel_w) % kernel_h, row % kernel_w);
            for image in 0..p.batch {
                let plane = &images[(image * p.channels + channel) * p.height * p.width..]
                    [..p.height * p.width];
                let out = &mut out[image * grid_h * grid_w..][..grid_h * grid_w];
                for gy in 0..grid_h {
                    let Some(y) = p.source(0, gy, kh) else {
                        continue; // a padding row: zeros
                    };
                    let source = &plane[y * p.width..][..p.width];
                    let out = &mut out[gy * grid_w..][..grid_w];
                    for (gx, value) in out.iter_mut().enumerate() {
                        if let Some(x) = p.source(1, gx, kw) {
                            *value = source[x];
                        }
                    }
                }
            }
        });
    matrix
}

/// Images `[batch, channels, height, width]` whose pixels are the sums of the patch matrix's
/// entries that `im2col` would have copied from them.
pub fn col2im(matrix: &[f32], patches: &Patches) -> Vec<f32> {
    let p = *patches;
    let columns = p.columns();
    assert_eq!(matrix.len(), p.rows() * columns);
    let [grid_h, grid_w] = p.grid;
    let [kernel_h, kernel_w] = p.kernel;
    let plane_len = p.height * p.width;
    let mut images = vec![0.0; p.batch * p.channels * plane_len];
    if plane_len == 0 {
        return images;
    }
    // One plane per task: planes never overlap, so the sums need no synchronisation.
    images
        .par_chunks_mut(plane_len)
        .enumerate()
        .for_each(|(index, plane)| {
            let (image, channel) = (index / p.channels, index % p.channels);
            for kh in 0..kernel_h {
                for kw in 0..kernel_w {
                    let row = (channel * kernel_h + kh) * kernel_w + kw;
                    let source =
                        &matrix[row * columns + image * grid_h * grid_w..][..grid_h * grid_w];
                    for gy in 0..grid_h {
                        let Some(y) = p.source(0, gy, kh) else {
                            continue;
                        };
                        let target = &mut plane[y * p.width..][..p.width];
                        let source = &source[gy * grid_w..][..grid_w];
                        for (gx, value) in source.iter().enumerate() {
                            if let Some(x) = p.source(1, gx, kw) {
                                target[x] += value;
                            }
                        }
                    }
                }
            }
        });
    images
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

    #[test]
    fn im2col_copies_each_patch_pixel_or_a_padding_zero() {
        let p = patches();
        let images: Vec<f32> = (0..p.batch * p.channels * p.height * p.width)
            .map(|i| i as f32 + 1.0)
            .collect();
        let matrix = im2col(&images, &p);
        for row in 0..p.rows() {
            let (c, kh, kw) = (row / 6, (row / 2) % 3, row % 2);
            for column in 0..p.columns() {
                let (b, gy, gx) = (column / 9, (column / 3) % 3, column % 3);
                let (y, x) = (gy as isize * 2 + kh as isize - 1, gx as isize + kw as isize);
                let inside = (0..5).contains(&y) && (0..4).contains(&x);
                let want = if inside {
                    images[((b * 3 + c) * 5 + y as usize) * 4 + x as usize]
                } else {
                    0.0
                };
                assert_eq!(
                    matrix[row * p.columns() + column],
                    want,
                    "row {row}, column {column}"
                );
            }
        }
    }

    /// `col2im` is the transpose of `im2col`: <im2col(a), m> = <a, col2im(m)> for any a, m.
    #[test]
    fn col2im_is_the_transpose_of_im2col() {
        let p = patches();
        let a: Vec<f32> = (0..p.batch * p.channels * p.height * p.width)
            .map(|i| ((i * 7) % 11) as f32 - 5.0)
            .collect();
        let m: Vec<f32> = (0..p.rows() * p.columns())
            .map(|i| ((i * 5) % 13) as f32 - 6.0)
            .collect();
        let left: f32 = im2col(&a, &p).iter().zip(&m).map(|(x, y)| x * y).sum();
        let right: f32 = a.iter().zip(col2im(&m, &p)).map(|(x, y)| x * y).sum();
        assert_eq!(left, right);
    }
}
