//! Checkpoint files: named sections, self-checking, written atomically, one format for every
//! model the driver runs.
//!
//! Layout (little-endian, version 4): magic `FACEGANC`, `u32` version, `u32` section count,
//! then each section as `u16` name length + UTF-8 name + `u64` length + bytes, then a CRC-32 of
//! everything before it. The section [`STATE`] is the JSON [`RunState`]; the model names the
//! others (module records, optimiser states, pools). Files of versions 1-3 (positional
//! sections, see [`super::legacy`]) still load. A save writes a temporary file beside the
//! checkpoint, syncs it, moves the current checkpoint to `checkpoint.prev.fgc` and renames the
//! new one into place, so a crash at any moment leaves at least one whole file.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::legacy;

pub const FILE: &str = "checkpoint.fgc";
pub const PREVIOUS: &str = "checkpoint.prev.fgc";
pub(super) const MAGIC: &[u8; 8] = b"FACEGANC";
pub const VERSION: u32 = 4;
/// The section holding the run's [`RunState`].
pub const STATE: &str = "run";
/// Longest section name a file may declare (names are short identifiers).
const MAX_NAME: usize = 64;

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
    #[error(
        "checkpoint {path} has version {found}; this build of facegan reads versions 1 to {expected}"
    )]
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
    #[error("checkpoint {path} has a damaged section name: {reason}")]
    Name { path: PathBuf, reason: String },
    #[error("checkpoint {path} has no section {name:?} (it has: {found})")]
    Missing {
        path: PathBuf,
        name: String,
        found: String,
    },
}

/// Where a run stands: enough to continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The model that wrote the checkpoint ("dcgan", "pix2pix", "cyclegan", ...).
    pub kind: String,
    /// Epoch to continue in (0-based).
    pub epoch: usize,
    /// Next batch within that epoch.
    pub batch: usize,
    /// Optimisation steps done so far.
    pub step: u64,
    /// State of the run's SplitMix64 (noise, flips, labels, pools).
    pub rng_state: u64,
    /// Training time so far, across resumes.
    pub elapsed_s: f64,
    /// The model's architecture, which a resumed run must match.
    pub architecture: serde_json::Value,
}

/// A checkpoint read back: the run's state and the model's sections by name.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub meta: RunState,
    pub sections: Sections,
}

/// Named byte sections of one checkpoint; a missing name is an error naming the file.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    path: PathBuf,
    map: BTreeMap<String, Vec<u8>>,
}

impl Sections {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            map: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, name: &str, bytes: Vec<u8>) {
        self.map.insert(name.to_owned(), bytes);
    }

    /// Takes the section `name` out, or says which sections the file has.
    pub fn take(&mut self, name: &str) -> Result<Vec<u8>, CheckpointError> {
        self.map
            .remove(name)
            .ok_or_else(|| CheckpointError::Missing {
                path: self.path.clone(),
                name: name.to_owned(),
                found: self.names().join(", "),
            })
    }

    /// Takes the section `name` out if the file has it.
    pub fn take_optional(&mut self, name: &str) -> Option<Vec<u8>> {
        self.map.remove(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.map.keys().map(String::as_str).collect()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The bytes of a version-4 file holding `state` and `sections`.
pub fn encode(state: &RunState, sections: &[(&str, &[u8])]) -> Vec<u8> {
    let state = serde_json::to_vec(state).expect("the run state serialises");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(sections.len() as u32 + 1).to_le_bytes());
    for (name, section) in
        std::iter::once((STATE, state.as_slice())).chain(sections.iter().copied())
    {
        assert!(name.len() <= MAX_NAME, "section name {name:?} is too long");
        bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
        bytes.extend_from_slice(section);
    }
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Reads fixed-size fields off a byte slice, naming the length a truncated file needed.
pub(super) struct Reader<'a> {
    pub bytes: &'a [u8],
    pub offset: usize,
    pub path: &'a Path,
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, count: usize) -> Result<&'a [u8], CheckpointError> {
        // The smallest whole file has these bytes and a checksum after them.
        let end = self.offset.saturating_add(count);
        match self.bytes.get(self.offset..end) {
            Some(slice) if self.bytes.len() >= end.saturating_add(4) => {
                self.offset = end;
                Ok(slice)
            }
            _ => Err(CheckpointError::Truncated {
                path: self.path.to_path_buf(),
                expected: end.saturating_add(4),
                found: self.bytes.len(),
            }),
        }
    }

    pub fn u16(&mut self) -> Result<u16, CheckpointError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    pub fn u32(&mut self) -> Result<u32, CheckpointError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub fn u64(&mut self) -> Result<u64, CheckpointError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// Checks that exactly the checksum is left and that it matches.
    pub fn finish(self) -> Result<(), CheckpointError> {
        if self.bytes.len() != self.offset + 4 {
            return Err(CheckpointError::Truncated {
                path: self.path.to_path_buf(),
                expected: self.offset + 4,
                found: self.bytes.len(),
            });
        }
        let expected = u32::from_le_bytes(self.bytes[self.offset..].try_into().expect("4 bytes"));
        let found = crc32fast::hash(&self.bytes[..self.offset]);
        if expected == found {
            Ok(())
        } else {
            Err(CheckpointError::Checksum {
                path: self.path.to_path_buf(),
                expected,
                found,
            })
        }
    }
}

/// A checkpoint of any version, after checking magic, version, lengths and checksum.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
    let mut reader = Reader {
        bytes,
        offset: 0,
        path,
    };
    // Magic and version are read before the checksum is known to be there.
    if bytes.len() < 12 {
        return Err(CheckpointError::Truncated {
            path: path.to_path_buf(),
            expected: 12,
            found: bytes.len(),
        });
    }
    reader.offset = 12;
    if &bytes[..8] != MAGIC {
        return Err(CheckpointError::Magic {
            path: path.to_path_buf(),
            expected: String::from_utf8_lossy(MAGIC).into_owned(),
            found: String::from_utf8_lossy(&bytes[..8]).into_owned(),
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    match version {
        VERSION => decode_named(reader),
        1..=3 => legacy::decode(reader, version),
        found => Err(CheckpointError::Version {
            path: path.to_path_buf(),
            expected: VERSION,
            found,
        }),
    }
}

fn decode_named(mut reader: Reader) -> Result<Checkpoint, CheckpointError> {
    let path = reader.path;
    let count = reader.u32()?;
    let mut sections = Sections::new(path);
    for _ in 0..count {
        let name_length = usize::from(reader.u16()?);
        let damaged = |reason: String| CheckpointError::Name {
            path: path.to_path_buf(),
            reason,
        };
        if name_length == 0 || name_length > MAX_NAME {
            return Err(damaged(format!(
                "a name of {name_length} bytes (1 to {MAX_NAME} allowed)"
            )));
        }
        let name = std::str::from_utf8(reader.take(name_length)?)
            .map_err(|_| damaged("a name that is not UTF-8".into()))?
            .to_owned();
        let length = usize::try_from(reader.u64()?).unwrap_or(usize::MAX);
        let section = reader.take(length)?.to_vec();
        if sections.map.insert(name.clone(), section).is_some() {
            return Err(damaged(format!("{name:?} appears twice")));
        }
    }
    reader.finish()?;
    let state = sections.take(STATE)?;
    let meta = parse_state(&state, path)?;
    Ok(Checkpoint { meta, sections })
}

pub(super) fn parse_state(bytes: &[u8], path: &Path) -> Result<RunState, CheckpointError> {
    serde_json::from_slice(bytes).map_err(|source| CheckpointError::Meta {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and verifies one checkpoint file.
pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, path)
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

/// Writes `bytes` as the checkpoint of `run_dir` atomically, keeping the one it replaces as
/// the previous.
pub fn save(run_dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let current = run_dir.join(FILE);
    let mut temporary = tempfile::Builder::new()
        .prefix(".checkpoint")
        .suffix(".tmp")
        .tempfile_in(run_dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    if current.exists() {
        fs::rename(&current, run_dir.join(PREVIOUS))?;
    }
    temporary.persist(&current).map_err(|error| error.error)?;
    // Make the renames themselves durable.
    File::open(run_dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn state() -> RunState {
        RunState {
            kind: "test".into(),
            epoch: 2,
            batch: 5,
            step: 17,
            rng_state: 99,
            elapsed_s: 1.5,
            architecture: serde_json::json!({"width": 8}),
        }
    }

    #[test]
    fn round_trips_named_sections_in_any_order() {
        let bytes = encode(&state(), &[("b", &[1, 2, 3]), ("a", &[]), ("c", &[9; 40])]);
        let mut back = decode(&bytes, Path::new("x")).unwrap();
        assert_eq!(back.meta, state());
        assert_eq!(back.sections.take("c").unwrap(), vec![9; 40]);
        assert_eq!(back.sections.take("a").unwrap(), Vec::<u8>::new());
        assert_eq!(back.sections.take("b").unwrap(), vec![1, 2, 3]);
        let error = back.sections.take("b").unwrap_err().to_string();
        assert!(error.contains("no section \"b\""), "{error}");
    }

    #[test]
    fn refuses_every_truncation_and_a_flipped_bit() {
        let bytes = encode(&state(), &[("a", &[4; 10]), ("b", &[])]);
        for cut in 0..bytes.len() {
            let error = decode(&bytes[..cut], Path::new("x")).unwrap_err();
            assert!(
                matches!(error, CheckpointError::Truncated { .. }),
                "cut at {cut}: {error}"
            );
        }
        let mut corrupt = bytes.clone();
        corrupt[30] ^= 1; // inside the state section
        assert!(matches!(
            decode(&corrupt, Path::new("x")),
            Err(CheckpointError::Checksum { .. })
        ));
        let mut future = bytes;
        future[8] = 9;
        let error = decode(&future, Path::new("x")).unwrap_err();
        assert!(
            matches!(error, CheckpointError::Version { found: 9, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("reads versions 1 to 4"),
            "{error}"
        );
    }
}
