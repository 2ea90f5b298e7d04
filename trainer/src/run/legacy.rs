//! Checkpoints written before sections had names (versions 1-3), read into the named form so
//! that runs started by older builds resume. Versions 1 and 2 were DCGAN only (5 and 6
//! sections, no count); version 3 recorded the count, and its JSON header said which model
//! wrote it (`mode` for the translators, nothing for the DCGAN).

use std::path::Path;

use super::checkpoint::{Checkpoint, CheckpointError, Reader, RunState, Sections};

const DCGAN: [&str; 5] = [
    "generator",
    "discriminator",
    "generator_optimizer",
    "discriminator_optimizer",
    "generator_average",
];
const PIX2PIX: [&str; 4] = [
    "sketch_to_face",
    "discriminator",
    "sketch_to_face_optimizer",
    "discriminator_optimizer",
];
const CYCLEGAN: [&str; 10] = [
    "sketch_to_face",
    "face_to_sketch",
    "sketch_critic",
    "face_critic",
    "sketch_to_face_optimizer",
    "face_to_sketch_optimizer",
    "sketch_critic_optimizer",
    "face_critic_optimizer",
    "sketch_pool",
    "face_pool",
];

pub(super) fn decode(mut reader: Reader, version: u32) -> Result<Checkpoint, CheckpointError> {
    let path = reader.path;
    let count = match version {
        1 => 5,
        2 => 6,
        _ => reader.u32()? as usize,
    };
    let mut positional = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        let length = usize::try_from(reader.u64()?).unwrap_or(usize::MAX);
        positional.push(reader.take(length)?.to_vec());
    }
    reader.finish()?;
    let Some(header) = positional.first() else {
        return Err(CheckpointError::Sections {
            path: path.to_path_buf(),
            expected: 1,
            found: 0,
        });
    };
    let header: serde_json::Value =
        serde_json::from_slice(header).map_err(|source| CheckpointError::Meta {
            path: path.to_path_buf(),
            source,
        })?;
    let kind = header
        .get("mode")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("dcgan")
        .to_owned();
    let names: &[&str] = match kind.as_str() {
        "pix2pix" => &PIX2PIX,
        "cyclegan" => &CYCLEGAN,
        _ => &DCGAN,
    };
    // A version-1 DCGAN file ends before the generator's moving average.
    let allowed = if kind == "dcgan" {
        vec![names.len(), names.len() + 1]
    } else {
        vec![names.len() + 1]
    };
    if !allowed.contains(&positional.len()) {
        return Err(CheckpointError::Sections {
            path: path.to_path_buf(),
            expected: names.len() + 1,
            found: positional.len(),
        });
    }
    let meta = state(&kind, header, path)?;
    let mut sections = Sections::new(path);
    for (name, bytes) in names.iter().zip(positional.into_iter().skip(1)) {
        // Runs without a moving average stored an empty section for it.
        if !bytes.is_empty() || *name != "generator_average" {
            sections.insert(name, bytes);
        }
    }
    Ok(Checkpoint { meta, sections })
}

/// The run state of an old header: the same counters, the architecture under `model`.
fn state(kind: &str, header: serde_json::Value, path: &Path) -> Result<RunState, CheckpointError> {
    #[derive(serde::Deserialize)]
    struct Old {
        epoch: usize,
        batch: usize,
        step: u64,
        #[serde(default)]
        rng_state: u64,
        elapsed_s: f64,
        model: serde_json::Value,
    }
    let old: Old = serde_json::from_value(header).map_err(|source| CheckpointError::Meta {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(RunState {
        kind: kind.to_owned(),
        epoch: old.epoch,
        batch: old.batch,
        step: old.step,
        rng_state: old.rng_state,
        elapsed_s: old.elapsed_s,
        architecture: old.model,
    })
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint::decode as decode_any;
    use super::*;

    /// Versions 1 and 2 had no section count: magic, version, then the sections.
    fn legacy_file(version: u32, sections: &[&[u8]]) -> Vec<u8> {
        let mut bytes = b"FACEGANC".to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        if version == 3 {
            bytes.extend_from_slice(&(sections.len() as u32).to_le_bytes());
        }
        for section in sections {
            bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
            bytes.extend_from_slice(section);
        }
        bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        bytes
    }

    const DCGAN_HEADER: &[u8] = br#"{"epoch":2,"batch":5,"step":17,"rng_state":99,"elapsed_s":1.5,"model":{"image_size":32}}"#;

    #[test]
    fn reads_dcgan_versions_1_2_and_3_by_name() {
        let four: [&[u8]; 5] = [DCGAN_HEADER, &[1, 2, 3], &[4; 10], &[], &[9; 3]];
        let mut v1 = decode_any(&legacy_file(1, &four), Path::new("x")).unwrap();
        assert_eq!(v1.meta.kind, "dcgan");
        assert_eq!((v1.meta.epoch, v1.meta.batch, v1.meta.step), (2, 5, 17));
        assert_eq!(v1.meta.architecture["image_size"], 32);
        assert_eq!(v1.sections.take("discriminator_optimizer").unwrap(), [9; 3]);
        assert!(v1.sections.take_optional("generator_average").is_none());

        let mut five = four.to_vec();
        five.push(&[7; 4]);
        for version in [2, 3] {
            let mut file = decode_any(&legacy_file(version, &five), Path::new("x")).unwrap();
            assert_eq!(file.meta.rng_state, 99);
            assert_eq!(file.sections.take("generator").unwrap(), [1, 2, 3]);
            assert_eq!(file.sections.take("generator_average").unwrap(), [7; 4]);
        }
    }

    #[test]
    fn reads_version_3_translators_by_name() {
        let header = br#"{"mode":"cyclegan","epoch":0,"batch":1,"step":1,"rng_state":3,"elapsed_s":0.1,"model":{}}"#;
        let mut sections: Vec<&[u8]> = vec![header];
        let bodies: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i]).collect();
        sections.extend(bodies.iter().map(Vec::as_slice));
        let mut file = decode_any(&legacy_file(3, &sections), Path::new("x")).unwrap();
        assert_eq!(file.meta.kind, "cyclegan");
        assert_eq!(file.sections.take("face_critic").unwrap(), [3]);
        assert_eq!(file.sections.take("face_pool").unwrap(), [9]);

        // A pix2pix header with CycleGAN's sections is refused with both counts.
        let header =
            br#"{"mode":"pix2pix","epoch":0,"batch":1,"step":1,"elapsed_s":0.1,"model":{}}"#;
        sections[0] = header;
        let error =
            decode_any(&legacy_file(3, &sections), Path::new("run/checkpoint.fgc")).unwrap_err();
        assert!(
            matches!(
                error,
                CheckpointError::Sections {
                    expected: 5,
                    found: 11,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_version_3_file_without_sections_is_refused_not_indexed() {
        let error = decode_any(&legacy_file(3, &[]), Path::new("x")).unwrap_err();
        assert!(
            matches!(
                error,
                CheckpointError::Sections {
                    expected: 1,
                    found: 0,
                    ..
                }
            ),
            "{error}"
        );
    }
}
