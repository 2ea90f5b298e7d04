//! `--lr-decay FROM:TO`: a run's last stretch at shrinking steps. The learning rates fall
//! linearly from their value at step FROM to nothing at step TO, where the run ends. A GAN's
//! generator keeps chasing its critic at a constant rate, so the faces of any one step carry
//! that step's noise; smaller steps let both settle (SNGAN's and BigGAN's recipes decay the
//! rates linearly for the same reason), and the moving average of G then averages a calmer
//! path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The steps (of the whole run, resumes included, 1-based) between which the rates decay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LrDecay {
    pub from: u64,
    pub to: u64,
}

impl LrDecay {
    /// The factor on every learning rate at `step`: 1 up to `from`, then smaller by an equal
    /// amount each step, down to `1 / (to - from + 1)` at `to`, the run's last step.
    pub fn scale(&self, step: u64) -> f64 {
        if step <= self.from {
            return 1.0;
        }
        let left = (self.to + 1).saturating_sub(step) as f64;
        left / (self.to + 1 - self.from) as f64
    }
}

impl FromStr for LrDecay {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("expected FROM:TO, two step numbers with FROM < TO, found {text:?}");
        let (from, to) = text.split_once(':').ok_or_else(usage)?;
        let number = |part: &str| part.trim().parse::<u64>().map_err(|_| usage());
        let (from, to) = (number(from)?, number(to)?);
        if from == 0 || from >= to {
            return Err(usage());
        }
        Ok(Self { from, to })
    }
}

impl fmt::Display for LrDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rates_fall_by_equal_steps_from_one_to_the_last_steps_share() {
        let decay: LrDecay = "10:13".parse().unwrap();
        let scales: Vec<f64> = (9..=13).map(|step| decay.scale(step)).collect();
        assert_eq!(scales, [1.0, 1.0, 0.75, 0.5, 0.25]);
    }

    #[test]
    fn only_two_ordered_positive_steps_parse() {
        assert_eq!(
            "8000:16000".parse::<LrDecay>(),
            Ok(LrDecay {
                from: 8000,
                to: 16000
            })
        );
        for bad in ["16000:8000", "5:5", "0:10", "10", "a:b", "10:"] {
            let error = bad.parse::<LrDecay>().unwrap_err();
            assert!(error.contains("FROM:TO") && error.contains(bad), "{error}");
        }
        assert_eq!(LrDecay { from: 3, to: 9 }.to_string(), "3:9");
    }
}
