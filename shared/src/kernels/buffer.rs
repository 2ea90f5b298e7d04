//! Output buffers and element-wise passes for the kernels, spread over the cores.
//! `vec![0.0; n]` zeroes on the calling thread while the other cores wait, and Burn flex's
//! element-wise ops run on one thread: a profile of a DCGAN training step (2 cores) put these
//! serial passes at a sixth of the wall-clock time.

use rayon::prelude::*;

/// Values a parallel task should at least cover: below that rayon's overhead shows.
pub const TASK: usize = 1 << 15;

/// Below this many values one thread zeroes faster than rayon schedules a parallel fill.
const PARALLEL_ZEROS: usize = 1 << 18;

/// `len` zeros, written in parallel when `len` is large.
pub fn zeros(len: usize) -> Vec<f32> {
    if len < PARALLEL_ZEROS {
        vec![0.0; len]
    } else {
        rayon::iter::repeat_n(0.0, len).collect()
    }
}

/// `values[i] = f(values[i])` for every `i`, in parallel.
pub fn apply(values: &mut [f32], f: impl Fn(f32) -> f32 + Sync) {
    values.par_chunks_mut(TASK).for_each(|values| {
        for v in values {
            *v = f(*v);
        }
    });
}

/// `out[i] = f(x[i])` for every `i`, in parallel, into a new buffer.
pub fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    let mut out = zeros(x.len());
    out.par_chunks_mut(TASK)
        .zip(x.par_chunks(TASK))
        .for_each(|(out, x)| {
            for (o, &x) in out.iter_mut().zip(x) {
                *o = f(x);
            }
        });
    out
}

/// `values[i] = f(values[i], other[i])` for every `i`, in parallel.
pub fn zip_apply(values: &mut [f32], other: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) {
    assert_eq!(values.len(), other.len(), "zip_apply: lengths differ");
    values
        .par_chunks_mut(TASK)
        .zip(other.par_chunks(TASK))
        .for_each(|(values, other)| {
            for (v, &o) in values.iter_mut().zip(other) {
                *v = f(*v, o);
            }
        });
}

/// `out[i] = f(a[i], b[i])` for every `i`, in parallel, into a new buffer.
pub fn zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
    assert_eq!(a.len(), b.len(), "zip_map: lengths differ");
    let mut out = zeros(a.len());
    out.par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK).zip(b.par_chunks(TASK)))
        .for_each(|(out, (a, b))| {
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = f(a, b);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_of_every_size_are_zeros() {
        for len in [
            0,
            1,
            PARALLEL_ZEROS - 1,
            PARALLEL_ZEROS,
            3 * PARALLEL_ZEROS + 5,
        ] {
            let z = zeros(len);
            assert_eq!(z.len(), len);
            assert!(z.iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn passes_pair_values_by_index_across_task_boundaries() {
        let len = 2 * TASK + 7;
        let a: Vec<f32> = (0..len).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..len).map(|i| (i % 5) as f32).collect();
        let mapped = zip_map(&a, &b, |a, b| a - 2.0 * b);
        let mut applied = a.clone();
        zip_apply(&mut applied, &b, |a, b| a - 2.0 * b);
        let halved = map(&a, |a| a / 2.0);
        let mut halved_in_place = a.clone();
        apply(&mut halved_in_place, |a| a / 2.0);
        for i in 0..len {
            let want = i as f32 - 2.0 * (i % 5) as f32;
            assert_eq!(mapped[i], want, "zip_map at {i}");
            assert_eq!(applied[i], want, "zip_apply at {i}");
            assert_eq!(halved[i], i as f32 / 2.0, "map at {i}");
            assert_eq!(halved_in_place[i], i as f32 / 2.0, "apply at {i}");
        }
    }
}
