//! Checkpoint files: self-checking, written atomically, shared by every training mode.
//!
//! Layout (little-endian): magic `FACEGANC`, `u32` version, `u32` section count (version 3;
//! versions 1 and 2, DCGAN only, had a fixed 5 and 6), then each section as `u64` length + bytes,
//! then a CRC-32 of everything before it. The first section is the mode's JSON header; the rest
//! are module records and optimiser states in the order the mode defines. A save writes
//! `checkpoint.fgc.tmp`, syncs it, moves the current checkpoint to `checkpoint.prev.fgc` and
//! renames the new one into place, so a crash at any moment leaves at least one whole file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE: &str = "checkpoint.fgc";
pub const PREVIOUS: &str = "checkpoint.prev.fgc";
const MAGIC: &[u8; 8] = b"FACEGANC";
const VERSION: u32 = 3;
/// Sections of versions 1 and 2, which did not record their count.
const LEGACY_SECTIONS: [usize; 2] = [5, 6];

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
    #[error("checkpoint {path} holds {found} sections where {expected} were expected")]
    Sections {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
}

/// The framed file of `sections` (the first being the header).
pub fn encode(sections: &[&[u8]]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for section in sections {
        bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
        bytes.extend_from_slice(section);
    }
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// The sections of a framed file, after checking magic, version, lengths and checksum.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Vec<Vec<u8>>, CheckpointError> {
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
    let (count, mut offset) = match version {
        1 | 2 => (LEGACY_SECTIONS[version as usize - 1], 12),
        VERSION => {
            let Some(count) = bytes.get(12..16) else {
                return Err(truncated(16));
            };
            (
                u32::from_le_bytes(count.try_into().expect("4 bytes")) as usize,
                16,
            )
        }
        found => {
            return Err(CheckpointError::Version {
                path,
                expected: VERSION,
                found,
            });
        }
    };
    let mut sections = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let Some(length) = bytes.get(offset..offset + 8) else {
            return Err(truncated(offset + 8 + 4));
        };
        let length = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
        let end = offset.saturating_add(8).saturating_add(length);
        if bytes.len() < end.saturating_add(4) {
            return Err(truncated(end.saturating_add(4)));
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
    Ok(sections)
}

/// Reads and verifies one checkpoint file, then lets `parse` make sense of its sections.
pub fn load<T>(
    path: &Path,
    parse: impl Fn(Vec<Vec<u8>>, &Path) -> Result<T, CheckpointError>,
) -> Result<T, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(decode(&bytes, path)?, path)
}

/// The newest whole checkpoint in `run_dir`: the current one, or the previous one when the
/// current one is damaged (with a warning naming what is wrong). `None` for a fresh run.
pub fn load_latest<T>(
    run_dir: &Path,
    parse: impl Fn(Vec<Vec<u8>>, &Path) -> Result<T, CheckpointError>,
) -> anyhow::Result<Option<(T, PathBuf)>> {
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
        match load(&path, &parse) {
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

/// Writes `bytes` as the checkpoint of `run_dir` atomically, keeping the one it replaces as
/// the previous.
pub fn save(run_dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let current = run_dir.join(FILE);
    let temporary = run_dir.join(format!("{FILE}.tmp"));
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    if current.exists() {
        fs::rename(&current, run_dir.join(PREVIOUS))?;
    }
    fs::rename(&temporary, &current)?;
    // Make the renames themselves durable.
    File::open(run_dir)?.sync_all()
}

/// A JSON header section, or the error naming the file.
pub fn parse_header<T: serde::de::DeserializeOwned>(
    section: &[u8],
    path: &Path,
) -> Result<T, CheckpointError> {
    serde_json::from_slice(section).map_err(|source| CheckpointError::Meta {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks the section count a mode expects.
pub fn expect_sections(
    sections: &[Vec<u8>],
    expected: usize,
    path: &Path,
) -> Result<(), CheckpointError> {
    if sections.len() == expected {
        Ok(())
    } else {
        Err(CheckpointError::Sections {
            path: path.to_path_buf(),
            expected,
            found: sections.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_number_of_sections() {
        let sections: [&[u8]; 4] = [b"{}", &[1, 2, 3], &[], &[9; 40]];
        let back = decode(&encode(&sections), Path::new("x")).unwrap();
        assert_eq!(back, sections.map(<[u8]>::to_vec).to_vec());
    }

    #[test]
    fn refuses_every_truncation_and_a_flipped_bit() {
        let bytes = encode(&[b"{\"a\":1}", &[4; 10], &[]]);
        for cut in 0..bytes.len() {
            let error = decode(&bytes[..cut], Path::new("x")).unwrap_err();
            assert!(
                matches!(error, CheckpointError::Truncated { .. }),
                "cut at {cut}: {error}"
            );
        }
        let mut corrupt = bytes.clone();
        corrupt[26] ^= 1; // inside the header section
        assert!(matches!(
            decode(&corrupt, Path::new("x")),
            Err(CheckpointError::Checksum { .. })
        ));
        let mut future = bytes;
        future[8] = 9;
        assert!(matches!(
            decode(&future, Path::new("x")),
            Err(CheckpointError::Version { found: 9, .. })
        ));
    }
}
