//! LeakyReLU's gradient on slices, for the flex backward step in `flex.rs`.

use rayon::prelude::*;

/// Values per parallel task: large enough that the task overhead is noise.
const TASK: usize = 1 << 16;

/// `grad` where `x >= 0`, `slope * grad` elsewhere (the condition of flex's forward).
pub fn leaky_relu_grad(x: &[f32], grad: &[f32], slope: f32) -> Vec<f32> {
    assert_eq!(x.len(), grad.len());
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(TASK)
        .zip(x.par_chunks(TASK).zip(grad.par_chunks(TASK)))
        .for_each(|(out, (x, grad))| {
            for ((o, &x), &g) in out.iter_mut().zip(x).zip(grad) {
                *o = if x >= 0.0 { g } else { slope * g };
            }
        });
    out
}
