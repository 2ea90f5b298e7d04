//! Checkpoints: one self-checking file per save, written atomically.
//!
//! Layout (little-endian): magic `FACEGANC`, `u32` version, six sections each as `u64` length +
//! bytes (meta JSON, generator record, discriminator record, generator Adam state,
//! discriminator Adam state, averaged generator record or nothing), then a CRC-32 of everything
//! before it. Version 1 files (the first five sections) still load. A save writes
//! `checkpoint.fgc.tmp`, syncs it, moves the current checkpoint to `checkpoint.prev.fgc` and
//! renames the new one into place, so a crash at any moment leaves at least one whole file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use facegan_model::DcganConfig;
use serde::{Deserialize, Serialize};

pub const FILE: &str = "checkpoint.fgc";
pub const PREVIOUS: &str = "checkpoint.prev.fgc";
const MAGIC: &[u8; 8] = b"FACEGANC";
const VERSION: u32 = 2;
/// Sections of each version, from version 1 on.
const SECTIONS: [usize; 2] = [5, 6];

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

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a facegan checkpoint (expected magic {expected:?}, found {found:?})")]
    Magic {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("checkpoint {path} has version {found}, expected 1 to {expected}")]
    Version {
        path: PathBuf,
        expected: u32,
        found: u32,
    },
    #[error("checkpoint {path} is truncated: expected at least {expected} bytes, found {found}")]
    Truncated {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error("checkpoint {path} is corrupt: checksum {found:08x}, expected {expected:08x}")]
    Checksum {
        path: PathBuf,
        expected: u32,
        found: u32,
    },
    #[error("checkpoint {path} has an unreadable header: {source}")]
    Meta {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl Checkpoint {
    fn sections(&self) -> [&[u8]; 5] {
        [
            &self.generator,
            &self.discriminator,
            &self.generator_optimizer,
            &self.discriminator_optimizer,
            &self.generator_average,
        ]
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("meta serialises");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        for section in std::iter::once(meta.as_slice()).chain(self.sections()) {
            bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
            bytes.extend_from_slice(section);
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, CheckpointError> {
        let path = path.to_path_buf();
        let truncated = |expected: usize| CheckpointError::Truncated {
            path: path.clone(),
            expected,
            found: bytes.len(),
        };
        if bytes.len() < 12 {
            return Err(truncated(12));
        }
        if &bytes[..8] != MAGIC {
            return Err(CheckpointError::Magic {
                path,
                expected: String::from_utf8_lossy(MAGIC).into_owned(),
                found: String::from_utf8_lossy(&bytes[..8]).into_owned(),
            });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(1..=VERSION).contains(&version) {
            return Err(CheckpointError::Version {
                path,
                expected: VERSION,
                found: version,
            });
        }
        let mut offset = 12;
        let count = SECTIONS[version as usize - 1];
        let mut sections = Vec::with_capacity(count);
        for _ in 0..count {
            let Some(length) = bytes.get(offset..offset + 8) else {
                return Err(truncated(offset + 8 + 4));
            };
            let length = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
            let end = offset + 8 + length;
            if bytes.len() < end + 4 {
                return Err(truncated(end + 4));
            }
            sections.push(bytes[offset + 8..end].to_vec());
            offset = end;
        }
        if bytes.len() != offset + 4 {
            return Err(truncated(offset + 4));
        }
        let expected = u32::from_le_bytes(bytes[offset..].try_into().expect("4 bytes"));
        let found = crc32fast::hash(&bytes[..offset]);
        if expected != found {
            return Err(CheckpointError::Checksum {
                path,
                expected,
                found,
            });
        }
        let mut sections = sections.into_iter();
        // All sections of the file's version were read above; version 1 has no average.
        let mut next = || sections.next().unwrap_or_default();
        let meta = serde_json::from_slice(&next()).map_err(|source| CheckpointError::Meta {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            meta,
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
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Checkpoint::from_bytes(&bytes, path)
}

/// The newest whole checkpoint in `run_dir`: the current one, or the previous one when the
/// current one is damaged (with a warning naming what is wrong). `None` for a fresh run.
pub fn load_latest(run_dir: &Path) -> anyhow::Result<Option<(Checkpoint, PathBuf)>> {
    let current = run_dir.join(FILE);
    let previous = run_dir.join(PREVIOUS);
    if !current.exists() && !previous.exists() {
        return Ok(None);
    }
    let mut problems = Vec::new();
    for path in [current, previous] {
        if !path.exists() {
            continue;
        }
        match load(&path) {
            Ok(checkpoint) => {
                if !problems.is_empty() {
                    log::warn!(
                        "{}; resuming from {} instead",
                        problems.join("; "),
                        path.display()
                    );
                }
                return Ok(Some((checkpoint, path)));
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    anyhow::bail!(
        "no usable checkpoint in {}: {}. Move the run folder away to start afresh.",
        run_dir.display(),
        problems.join("; ")
    )
}

/// Writes `checkpoint` into `run_dir` atomically, keeping the one it replaces as the previous.
pub fn save(run_dir: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    let current = run_dir.join(FILE);
    let temporary = run_dir.join(format!("{FILE}.tmp"));
    {
        let mut file = File::create(&temporary)?;
        file.write_all(&checkpoint.to_bytes())?;
        file.sync_all()?;
    }
    if current.exists() {
        fs::rename(&current, run_dir.join(PREVIOUS))?;
    }
    fs::rename(&temporary, &current)?;
    // Make the renames themselves durable.
    File::open(run_dir)?.sync_all()
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

    #[test]
    fn reads_version_1_without_an_average() {
        // A version 1 file is the same layout less the last section.
        let checkpoint = sample();
        let meta = serde_json::to_vec(&checkpoint.meta).unwrap();
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        for section in
            std::iter::once(meta.as_slice()).chain(checkpoint.sections().into_iter().take(4))
        {
            bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
            bytes.extend_from_slice(section);
        }
        bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        let back = Checkpoint::from_bytes(&bytes, Path::new("x")).unwrap();
        assert_eq!(back.generator, checkpoint.generator);
        assert_eq!(
            back.discriminator_optimizer,
            checkpoint.discriminator_optimizer
        );
        assert!(back.generator_average.is_empty());
    }

    #[test]
    fn refuses_every_truncation_and_a_flipped_bit() {
        let bytes = sample().to_bytes();
        for cut in 0..bytes.len() {
            let error = Checkpoint::from_bytes(&bytes[..cut], Path::new("x")).unwrap_err();
            assert!(
                matches!(error, CheckpointError::Truncated { .. }),
                "cut at {cut}: {error}"
            );
        }
        let mut corrupt = bytes.clone();
        corrupt[20] ^= 1;
        assert!(matches!(
            Checkpoint::from_bytes(&corrupt, Path::new("x")),
            Err(CheckpointError::Checksum { .. })
        ));
    }
}
