//! The residual networks' resolution changes as single passes over the planes: Burn's flex
//! runs 2x2 average pooling's backward through a general 3-D pooling loop, and the broadcast
//! of a nearest-neighbour doubling through strided copies (together a sixth of a ResNet
//! training step). Each is the other's adjoint, so two loops serve all four directions. Planes
//! go to the cores in groups.

use rayon::prelude::*;

use super::buffer::{TASK, zeros};

/// Each plane's 2x2 blocks summed, times `scale`: `[planes, h, w]` -> `[planes, h/2, w/2]`
/// (`scale` 0.25 is average pooling; 1 is the gradient of doubling).
pub fn halve(x: &[f32], h: usize, w: usize, scale: f32) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    plane_by_plane(x, h * w, oh * ow, |plane, target| {
        for (row, out_row) in target.chunks_exact_mut(ow).enumerate() {
            let top = &plane[2 * row * w..2 * row * w + w];
            let bottom = &plane[(2 * row + 1) * w..(2 * row + 1) * w + w];
            for (column, value) in out_row.iter_mut().enumerate() {
                let c = 2 * column;
                *value = (top[c] + top[c + 1] + bottom[c] + bottom[c + 1]) * scale;
            }
        }
    })
}

/// Each value copied into a 2x2 block, times `scale`: `[planes, h, w]` -> `[planes, 2h, 2w]`
/// (`scale` 1 is nearest doubling; 0.25 is the gradient of average pooling).
pub fn double(x: &[f32], h: usize, w: usize, scale: f32) -> Vec<f32> {
    let ow = 2 * w;
    plane_by_plane(x, h * w, 4 * h * w, |plane, target| {
        for (row, values) in plane.chunks_exact(w).enumerate() {
            let (top, bottom) = target[2 * row * ow..(2 * row + 2) * ow].split_at_mut(ow);
            for (column, value) in values.iter().enumerate() {
                let v = value * scale;
                top[2 * column] = v;
                top[2 * column + 1] = v;
                bottom[2 * column] = v;
                bottom[2 * column + 1] = v;
            }
        }
    })
}

/// A new buffer of `out_plane` values per plane of `x` (`plane` values each), each written by
/// `resample(plane, target)`; planes go to the cores in groups of at least [`TASK`] values.
fn plane_by_plane(
    x: &[f32],
    plane: usize,
    out_plane: usize,
    resample: impl Fn(&[f32], &mut [f32]) + Sync,
) -> Vec<f32> {
    let planes = x.len() / plane.max(1);
    let mut out = zeros(planes * out_plane);
    let planes_per_task = (TASK / plane.max(1)).max(1);
    out.par_chunks_mut(planes_per_task * out_plane)
        .zip(x.par_chunks(planes_per_task * plane))
        .for_each(|(out, x)| {
            for (plane, target) in x.chunks_exact(plane).zip(out.chunks_exact_mut(out_plane)) {
                resample(plane, target);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_and_doubling_are_adjoint() {
        // <double(x), y> == <x, halve(y) with scale 1>, for any x and y.
        let x: Vec<f32> = (0..2 * 3 * 2).map(|i| i as f32 * 0.5 - 2.0).collect();
        let y: Vec<f32> = (0..2 * 6 * 4).map(|i| (i % 7) as f32 - 3.0).collect();
        let left: f32 = double(&x, 3, 2, 1.0)
            .iter()
            .zip(&y)
            .map(|(a, b)| a * b)
            .sum();
        let right: f32 = x
            .iter()
            .zip(&halve(&y, 6, 4, 1.0))
            .map(|(a, b)| a * b)
            .sum();
        assert!((left - right).abs() < 1e-4, "{left} vs {right}");
    }
}
