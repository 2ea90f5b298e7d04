//! The DCGAN run's checkpoint: a header with where training stands, then the generator,
//! discriminator, both Adam states and the generator's moving average (empty when the run
//! keeps none), framed by [`crate::checkpoint`]. Files of versions 1 (no average) and 2 load.

use std::path::{Path, PathBuf};

use facegan_model::DcganConfig;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self as file, parse_header};
pub use crate::checkpoint::{CheckpointError, FILE, PREVIOUS};

/// Where training stands; enough to continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Epoch to continue in (0-based).
    pub epoch: usize,
    /// Next batch within that epoch.
    pub batch: usize,
    /// Optimisation steps done so far.
    pub step: u64,
    /// State of the run's SplitMix64 (noise, flips, labels).
    pub rng_state: u64,
    /// Training time so far, across resumes.
    pub elapsed_s: f64,
    pub model: DcganConfig,
}

#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub generator: Vec<u8>,
    pub discriminator: Vec<u8>,
    pub generator_optimizer: Vec<u8>,
    pub discriminator_optimizer: Vec<u8>,
    /// The moving average of the generator (see `average.rs`); empty when the run keeps none.
    pub generator_average: Vec<u8>,
}

impl Checkpoint {
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("meta serialises");
        file::encode(&[
            &meta,
            &self.generator,
            &self.discriminator,
            &self.generator_optimizer,
            &self.discriminator_optimizer,
            &self.generator_average,
        ])
    }

    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, CheckpointError> {
        Self::from_sections(file::decode(bytes, path)?, path)
    }

    fn from_sections(sections: Vec<Vec<u8>>, path: &Path) -> Result<Self, CheckpointError> {
        // Version 1 files end before the average.
        if sections.len() != 5 {
            file::expect_sections(&sections, 6, path)?;
        }
        let mut sections = sections.into_iter();
        let mut next = || sections.next().unwrap_or_default();
        Ok(Self {
            meta: parse_header(&next(), path)?,
            generator: next(),
            discriminator: next(),
            generator_optimizer: next(),
            discriminator_optimizer: next(),
            generator_average: next(),
        })
    }
}

/// Reads and verifies one checkpoint file.
pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    file::load(path, Checkpoint::from_sections)
}

/// The newest whole checkpoint in `run_dir` (the previous one when the current is damaged).
pub fn load_latest(run_dir: &Path) -> anyhow::Result<Option<(Checkpoint, PathBuf)>> {
    file::load_latest(run_dir, Checkpoint::from_sections)
}

/// Writes `checkpoint` into `run_dir` atomically, keeping the one it replaces as the previous.
pub fn save(run_dir: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    file::save(run_dir, &checkpoint.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            meta: CheckpointMeta {
                epoch: 2,
                batch: 5,
                step: 17,
                rng_state: 99,
                elapsed_s: 1.5,
                model: DcganConfig::new(),
            },
            generator: vec![1, 2, 3],
            discriminator: vec![4; 10],
            generator_optimizer: vec![],
            discriminator_optimizer: vec![9; 3],
            generator_average: vec![7; 4],
        }
    }

    #[test]
    fn round_trips() {
        let checkpoint = sample();
        let back = Checkpoint::from_bytes(&checkpoint.to_bytes(), Path::new("x")).unwrap();
        assert_eq!(back.meta, checkpoint.meta);
        assert_eq!(back.discriminator, checkpoint.discriminator);
        assert_eq!(
            back.discriminator_optimizer,
            checkpoint.discriminator_optimizer
        );
        assert_eq!(back.generator_average, checkpoint.generator_average);
    }

    /// Versions 1 and 2 had no section count: magic, version, then the sections.
    fn legacy_file(version: u32, sections: &[&[u8]]) -> Vec<u8> {
        let mut bytes = b"FACEGANC".to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        for section in sections {
            bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
            bytes.extend_from_slice(section);
        }
        bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        bytes
    }

    #[test]
    fn reads_versions_1_and_2() {
        let c = sample();
        let meta = serde_json::to_vec(&c.meta).unwrap();
        let four: [&[u8]; 5] = [
            &meta,
            &c.generator,
            &c.discriminator,
            &c.generator_optimizer,
            &c.discriminator_optimizer,
        ];
        let v1 = Checkpoint::from_bytes(&legacy_file(1, &four), Path::new("x")).unwrap();
        assert_eq!(v1.discriminator_optimizer, c.discriminator_optimizer);
        assert!(v1.generator_average.is_empty());

        let mut five = four.to_vec();
        five.push(&c.generator_average);
        let v2 = Checkpoint::from_bytes(&legacy_file(2, &five), Path::new("x")).unwrap();
        assert_eq!(v2.meta, c.meta);
        assert_eq!(v2.generator_average, c.generator_average);
    }

    #[test]
    fn refuses_a_file_of_another_mode() {
        let bytes = crate::checkpoint::encode(&[b"{}", &[1], &[2]]);
        let error = Checkpoint::from_bytes(&bytes, Path::new("run/checkpoint.fgc")).unwrap_err();
        assert!(
            matches!(
                error,
                CheckpointError::Sections {
                    expected: 6,
                    found: 3,
                    ..
                }
            ),
            "{error}"
        );
    }
}
