//! A safe face for the `gemm` crate's matrix product, the one place facegan calls unsafe code.
//! Burn's flex backend offers the same kernel only through `float_matmul`, which picks its own
//! threading: on this project's 2-core machines gemm's internal threads measured 40-110 GFLOP/s
//! on the convolutions' shapes against 75-160 GFLOP/s single-threaded, so the convolutions
//! (`products.rs`) run one single-threaded product per core, each on its own images.
#![allow(unsafe_code)]

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// `data` as `rows` rows of `cols` contiguous values.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transposed view of the same values (no copy).
    pub fn transposed(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `first..first + count` of the view (no copy).
    pub fn rows(self, first: usize, count: usize) -> Self {
        assert!(first + count <= self.rows, "rows past the view");
        Self {
            data: &self.data[(first * self.row_stride).min(self.data.len())..],
            rows: count,
            ..self
        }
    }

    /// The index one past the last element the view reads (0 when empty).
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }
}

/// `dst = lhs x rhs`, or `dst += lhs x rhs` when `accumulate`; `dst` is row-major
/// `[lhs.rows, rhs.cols]`. Single-threaded: the callers spread whole products over the cores.
pub fn multiply(dst: &mut [f32], lhs: Matrix, rhs: Matrix, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "inner dimensions");
    assert_eq!(dst.len(), m * n, "destination size");
    assert!(lhs.extent() <= lhs.data.len(), "lhs view out of bounds");
    assert!(rhs.extent() <= rhs.data.len(), "rhs view out of bounds");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    // SAFETY: every element gemm reads lies within `lhs.data` and `rhs.data` (the extents are
    // checked above), and every element it writes, `dst[r * n + c]` for r < m, c < n, within
    // `dst`, whose length is checked; `dst` is a unique borrow, so it aliases neither input.
    // With `read_dst` false gemm never reads `dst`, so stale contents do not matter.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: Matrix, rhs: Matrix) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] = (0..lhs.cols)
                    .map(|i| {
                        lhs.data[r * lhs.row_stride + i * lhs.col_stride]
                            * rhs.data[i * rhs.row_stride + c * rhs.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn products_of_plain_and_transposed_views_match_the_definition() {
        let a: Vec<f32> = (0..35).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..35).map(|i| (i as f32 * 0.61).cos()).collect();
        let cases = [
            (Matrix::row_major(&a, 5, 7), Matrix::row_major(&b, 7, 5)),
            (
                Matrix::row_major(&a, 7, 5).transposed(),
                Matrix::row_major(&b, 7, 5),
            ),
            (
                Matrix::row_major(&a, 5, 7),
                Matrix::row_major(&b, 5, 7).transposed(),
            ),
        ];
        // A block of rows of a transposed view (a strided view that starts mid-data).
        let block = Matrix::row_major(&a, 7, 5).transposed().rows(2, 3);
        assert_eq!(
            naive(block, Matrix::row_major(&b, 7, 5)),
            naive(
                Matrix::row_major(&a, 7, 5).transposed(),
                Matrix::row_major(&b, 7, 5)
            )[2 * 5..5 * 5]
        );
        for (lhs, rhs) in cases {
            let want = naive(lhs, rhs);
            let mut got = vec![f32::NAN; want.len()];
            multiply(&mut got, lhs, rhs, false);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "{g} vs {w}");
            }
            multiply(&mut got, lhs, rhs, true);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - 2.0 * w).abs() < 1e-5, "{g} vs 2 x {w}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_view_past_its_data_is_refused() {
        let a = vec![0.0; 6];
        let mut dst = vec![0.0; 9];
        let view = Matrix::row_major(&a, 3, 3);
        multiply(&mut dst, view, view, false);
    }
}
