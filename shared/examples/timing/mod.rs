//! What the timing examples share (a folder without `main.rs`, so Cargo does not take it for an
//! example of its own).

use std::time::Instant;

/// Median milliseconds of `runs` calls of `f`, after one warm-up.
pub fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}
