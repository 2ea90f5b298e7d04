//! Training data of the translators: for pix2pix each sketch with the face of the same name,
//! for CycleGAN two unrelated folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::ensure;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::image::from_byte;
use facegan_model::translate::{CODE_SIZE, colour_code};

use crate::data::{ImageSet, Skipped, decode_files, find_images, load_folder};

/// Sketches and faces: when paired, index `i` of one goes with index `i` of the other.
#[derive(Debug)]
pub struct TranslationSet {
    pub sketches: ImageSet,
    pub faces: ImageSet,
    /// The pairs' names (path under the folder, without extension), in order; empty when the
    /// two folders are unpaired.
    pub names: Vec<String>,
}

impl TranslationSet {
    pub fn is_paired(&self) -> bool {
        !self.names.is_empty()
    }

    /// Pairs, or the smaller of the two domains when unpaired: the images one epoch uses.
    pub fn len(&self) -> usize {
        self.sketches.len().min(self.faces.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[n, 1, s, s]` sketches in [-1, 1] (the grey level of the stored RGB).
    pub fn sketch_batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let size = self.sketches.size;
        let mut values = Vec::with_capacity(indices.len() * size * size);
        for &index in indices {
            values.extend(self.sketches.image(index).chunks_exact(3).map(|pixel| {
                let grey = (u16::from(pixel[0]) + u16::from(pixel[1]) + u16::from(pixel[2])) / 3;
                from_byte(grey as u8)
            }));
        }
        Tensor::from_data(
            TensorData::new(values, [indices.len(), 1, size, size]),
            device,
        )
    }

    /// `[n, 3, s, s]` faces in [-1, 1].
    pub fn face_batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        crate::data::batch_tensor(&self.faces, indices, &vec![false; indices.len()], device)
    }

    /// `[n, CODE_SIZE]` colour codes of the faces.
    pub fn code_batch(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        let values: Vec<f32> = indices
            .iter()
            .flat_map(|&index| colour_code(self.faces.image(index), self.faces.size))
            .collect();
        Tensor::from_data(TensorData::new(values, [indices.len(), CODE_SIZE]), device)
    }
}

/// What pairing found besides the pairs.
#[derive(Debug, Default)]
pub struct PairingReport {
    /// Sketches with no face of the same name, and faces with no sketch.
    pub unmatched_sketches: usize,
    pub unmatched_faces: usize,
    /// Files of a pair that did not decode (the pair is dropped).
    pub skipped: Vec<Skipped>,
}

/// The name a file pairs by: its path under `root`, without extension, with `/` separators.
fn pair_key(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file).with_extension("");
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Loads the two folders for CycleGAN, unpaired; `max_images` (0 = all) caps each.
pub fn load_unpaired(
    sketches: &Path,
    faces: &Path,
    size: usize,
    max_images: usize,
) -> anyhow::Result<(TranslationSet, PairingReport)> {
    let (sketch_set, mut skipped) = load_folder(sketches, size, max_images)?;
    let (face_set, face_skipped) = load_folder(faces, size, max_images)?;
    skipped.extend(face_skipped);
    let set = TranslationSet {
        sketches: sketch_set,
        faces: face_set,
        names: Vec::new(),
    };
    Ok((
        set,
        PairingReport {
            skipped,
            ..PairingReport::default()
        },
    ))
}

/// Loads every sketch under `sketches` with the face of the same name under `faces`, resized
/// to `size`; `max_pairs` (0 = all) caps the pairs, in name order.
pub fn load_pairs(
    sketches: &Path,
    faces: &Path,
    size: usize,
    max_pairs: usize,
) -> anyhow::Result<(TranslationSet, PairingReport)> {
    let face_files: BTreeMap<String, PathBuf> = find_images(faces)?
        .into_iter()
        .map(|file| (pair_key(faces, &file), file))
        .collect();
    let sketch_files: BTreeMap<String, PathBuf> = find_images(sketches)?
        .into_iter()
        .map(|file| (pair_key(sketches, &file), file))
        .collect();
    let mut names: Vec<String> = sketch_files
        .keys()
        .filter(|key| face_files.contains_key(*key))
        .cloned()
        .collect();
    let mut report = PairingReport {
        unmatched_sketches: sketch_files.len() - names.len(),
        unmatched_faces: face_files.len() - names.len(),
        ..PairingReport::default()
    };
    ensure!(
        !names.is_empty(),
        "no sketch under {} has a face of the same name under {} (pairs match by path without \
         extension, as `facegan sketch` writes them)",
        sketches.display(),
        faces.display()
    );
    if max_pairs > 0 {
        names.truncate(max_pairs);
    }
    let pick = |files: &BTreeMap<String, PathBuf>| -> Vec<PathBuf> {
        names.iter().map(|name| files[name].clone()).collect()
    };
    let decoded_sketches = decode_files(&pick(&sketch_files), size);
    let decoded_faces = decode_files(&pick(&face_files), size);
    let (mut sketch_pixels, mut face_pixels, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for ((name, sketch), face) in names.into_iter().zip(decoded_sketches).zip(decoded_faces) {
        match (sketch, face) {
            (Ok(sketch), Ok(face)) => {
                sketch_pixels.extend_from_slice(&sketch);
                face_pixels.extend_from_slice(&face);
                kept.push(name);
            }
            (sketch, face) => report
                .skipped
                .extend(sketch.err().into_iter().chain(face.err())),
        }
    }
    ensure!(
        !kept.is_empty(),
        "no pair of {} and {} decodes (first problem: {})",
        sketches.display(),
        faces.display(),
        report
            .skipped
            .first()
            .map(|s| format!("{}: {}", s.path.display(), s.reason))
            .unwrap_or_default()
    );
    let set = TranslationSet {
        sketches: ImageSet {
            size,
            pixels: sketch_pixels,
        },
        faces: ImageSet {
            size,
            pixels: face_pixels,
        },
        names: kept,
    };
    Ok((set, report))
}
