//! The `.fgw` file: a generator alone, compact enough for the web.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content                                                                 |
//! |-------|-------------------------------------------------------------------------|
//! | 8     | magic `FACEGANW`                                                        |
//! | 4     | format version, `u32` (currently 2; version 1 files still load)         |
//! | 4     | header length `h`, `u32`                                                |
//! | h     | JSON header: architecture, its config, tensor names, shapes, encodings    |
//! | rest  | every tensor in header order, row-major, in its [`Encoding`]            |
//!
//! Three architectures live in such files: the DCGAN generator (`dcgan-generator`, config
//! [`DcganConfig`]), the ResNet generator (`resnet-generator`, config [`ResnetConfig`]) and the
//! sketch-to-face U-Net (`unet-translator`, config [`TranslatorConfig`], plus the palette of
//! colour codes its seeds pick from). Loading rebuilds
//! the network from the header's config and refuses any difference in version, architecture,
//! tensor list, shape or byte length, naming expected and found values.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use half::f16;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use crate::fingerprint::fingerprint;
use crate::translate::{CODE_SIZE, EncoderHeader, SketchEncoder};
use crate::{
    ConfigError, DcganConfig, FaceGenerator, Generator, GeneratorConfig, ResnetConfig,
    ResnetGenerator, TranslatorConfig, UNet,
};

pub const MAGIC: &[u8; 8] = b"FACEGANW";
pub const FORMAT_VERSION: u32 = 2;
/// Version 1: every tensor f16, no `encoding` field.
const FIRST_VERSION: u32 = 1;
pub const ARCHITECTURE: &str = "dcgan-generator";
pub const RESNET_ARCHITECTURE: &str = "resnet-generator";
pub const TRANSLATOR_ARCHITECTURE: &str = "unet-translator";
pub const ENCODER_ARCHITECTURE: &str = "sketch-encoder";
const PREAMBLE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("not a facegan weights file: expected magic {expected:?}, found {found:?}")]
    Magic { expected: String, found: String },
    #[error("unsupported weights format version: expected 1 to {expected}, found {found}")]
    Version { expected: u32, found: u32 },
    #[error("weights file is truncated: expected at least {expected} bytes, found {found}")]
    Truncated { expected: usize, found: usize },
    #[error("weights file has the wrong length: expected {expected} bytes, found {found}")]
    Length { expected: usize, found: usize },
    #[error("weights header is not valid JSON: {0}")]
    Header(#[from] serde_json::Error),
    #[error("wrong architecture: expected {expected:?}, found {found:?}")]
    Architecture { expected: String, found: String },
    #[error("weights config is invalid: {0}")]
    Config(#[from] ConfigError),
    #[error("weights hold {found} tensors where the architecture has {expected}")]
    TensorCount { expected: usize, found: usize },
    #[error(
        "tensor #{index}: expected {expected_name} with shape {expected_shape:?}, found {found_name} with shape {found_shape:?}"
    )]
    Tensor {
        index: usize,
        expected_name: String,
        expected_shape: Vec<usize>,
        found_name: String,
        found_shape: Vec<usize>,
    },
    #[error("the palette has a code of {found} values where {expected} are expected")]
    Palette { expected: usize, found: usize },
    #[error(
        "the sketch encoder belongs to another face generator: it was trained for the generator \
         file with fingerprint {expected} ({describe}), the page's has {found}; train an encoder \
         for this generator (facegan train --model encoder --generator ...)"
    )]
    EncoderGenerator {
        expected: String,
        found: String,
        describe: String,
    },
}

/// How a tensor's values are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// IEEE half floats: 2 bytes a value.
    #[default]
    F16,
    /// Symmetric 8-bit: one f32 scale per slice along the first axis (`max |w| / 127` of the
    /// slice), then one `i8` a value; half the size of f16 for the convolution kernels, which
    /// are nearly all of a generator's bytes.
    Q8,
}

impl Encoding {
    /// Bytes of a tensor of `shape` in this encoding.
    fn byte_len(self, shape: &[usize]) -> usize {
        let elements: usize = shape.iter().product();
        match self {
            Self::F16 => 2 * elements,
            Self::Q8 => 4 * shape.first().copied().unwrap_or(1) + elements,
        }
    }
}

/// Which encoding an exported generator uses for its tensors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Precision {
    /// Everything f16.
    #[default]
    Half,
    /// Convolution kernels q8, BatchNorm vectors f16.
    Int8,
}

impl Precision {
    fn encoding_for(self, shape: &[usize]) -> Encoding {
        match self {
            Self::Int8 if shape.len() >= 2 => Encoding::Q8,
            _ => Encoding::F16,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TensorEntry {
    name: String,
    shape: Vec<usize>,
    /// Absent in version 1 files, which are all f16.
    #[serde(default)]
    encoding: Encoding,
}

impl TensorEntry {
    fn same_tensor(&self, other: &Self) -> bool {
        self.name == other.name && self.shape == other.shape
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    architecture: String,
    /// The architecture's config ([`DcganConfig`] or [`TranslatorConfig`]).
    config: serde_json::Value,
    tensors: Vec<TensorEntry>,
    /// Translators only: colour codes of real faces as bytes (see `translate/colour_code.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    palette: Vec<Vec<u8>>,
}

/// Serialises a generator (weights and BatchNorm running statistics) to `.fgw` bytes, all f16.
pub fn save_generator(generator: &Generator, config: &DcganConfig) -> Vec<u8> {
    save_generator_as(generator, config, Precision::Half)
}

/// Serialises a generator with the given precision.
pub fn save_generator_as(
    generator: &Generator,
    config: &DcganConfig,
    precision: Precision,
) -> Vec<u8> {
    let config = serde_json::to_value(config).expect("config serialises");
    write_file(ARCHITECTURE, config, Vec::new(), generator, precision)
}

/// Serialises a ResNet generator with the given precision.
pub fn save_resnet_generator_as(
    generator: &ResnetGenerator,
    config: &ResnetConfig,
    precision: Precision,
) -> Vec<u8> {
    let config = serde_json::to_value(config).expect("config serialises");
    write_file(
        RESNET_ARCHITECTURE,
        config,
        Vec::new(),
        generator,
        precision,
    )
}

/// Serialises a generator of either architecture, the file's header naming which.
pub fn save_face_generator_as(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    precision: Precision,
) -> Vec<u8> {
    match (generator, config) {
        (FaceGenerator::Dcgan(g), GeneratorConfig::Dcgan(c)) => save_generator_as(g, c, precision),
        (FaceGenerator::Resnet(g), GeneratorConfig::Resnet(c)) => {
            save_resnet_generator_as(g, c, precision)
        }
        _ => panic!("a generator saved with another architecture's config"),
    }
}

/// Serialises a sketch-to-face U-Net with its palette: one colour code per entry, as the
/// bytes `colour_code` was computed from (`CODE_SIZE` each).
pub fn save_translator_as(
    unet: &UNet,
    config: &TranslatorConfig,
    palette: Vec<Vec<u8>>,
    precision: Precision,
) -> Vec<u8> {
    let config = serde_json::to_value(config).expect("config serialises");
    write_file(TRANSLATOR_ARCHITECTURE, config, palette, unet, precision)
}

fn write_file<M: Module>(
    architecture: &str,
    config: serde_json::Value,
    palette: Vec<Vec<u8>>,
    module: &M,
    precision: Precision,
) -> Vec<u8> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    for entry in &mut collector.entries {
        entry.encoding = precision.encoding_for(&entry.shape);
    }
    let mut data = Vec::new();
    let mut offset = 0;
    for entry in &collector.entries {
        let count: usize = entry.shape.iter().product();
        let values = &collector.values[offset..offset + count];
        offset += count;
        match entry.encoding {
            Encoding::F16 => {
                for value in values {
                    data.extend_from_slice(&f16::from_f32(*value).to_le_bytes());
                }
            }
            Encoding::Q8 => quantize(values, entry.shape[0], &mut data),
        }
    }
    let header = Header {
        architecture: architecture.to_string(),
        config,
        tensors: collector.entries,
        palette,
    };
    let header = serde_json::to_vec(&header).expect("header serialises");
    let mut bytes = Vec::with_capacity(PREAMBLE + header.len() + data.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&data);
    bytes
}

/// Appends `slices` f32 scales, then the values as i8 (see [`Encoding::Q8`]).
fn quantize(values: &[f32], slices: usize, out: &mut Vec<u8>) {
    let per_slice = values.len() / slices;
    let scales: Vec<f32> = values
        .chunks_exact(per_slice)
        .map(|slice| slice.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0)
        .collect();
    for scale in &scales {
        out.extend_from_slice(&scale.to_le_bytes());
    }
    for (slice, scale) in values.chunks_exact(per_slice).zip(&scales) {
        for value in slice {
            let q = if *scale > 0.0 {
                (value / scale).round().clamp(-127.0, 127.0) as i8
            } else {
                0
            };
            out.push(q as u8);
        }
    }
}

/// Reads one tensor's values from `bytes` (exactly its [`Encoding::byte_len`]).
fn decode(bytes: &[u8], encoding: Encoding, shape: &[usize]) -> Vec<f32> {
    match encoding {
        Encoding::F16 => bytes
            .chunks_exact(2)
            .map(|pair| f16::from_le_bytes([pair[0], pair[1]]).to_f32())
            .collect(),
        Encoding::Q8 => {
            let slices = shape[0];
            let (scales, values) = bytes.split_at(4 * slices);
            let per_slice = values.len() / slices;
            scales
                .chunks_exact(4)
                .map(|s| f32::from_le_bytes(s.try_into().expect("4 bytes")))
                .zip(values.chunks_exact(per_slice))
                .flat_map(|(scale, slice)| slice.iter().map(move |&q| f32::from(q as i8) * scale))
                .collect()
        }
    }
}

/// The architecture a `.fgw` file's header names ("dcgan-generator", "sketch-encoder", ...).
pub fn architecture_of(bytes: &[u8]) -> Result<String, WeightsError> {
    let all = [
        ARCHITECTURE,
        RESNET_ARCHITECTURE,
        TRANSLATOR_ARCHITECTURE,
        ENCODER_ARCHITECTURE,
    ];
    Ok(parse_header(bytes, &all)?.0.architecture)
}

/// Reads the config of a `.fgw` generator file without building anything.
pub fn read_config(bytes: &[u8]) -> Result<DcganConfig, WeightsError> {
    let (header, _) = parse_header(bytes, &[ARCHITECTURE])?;
    Ok(serde_json::from_value(header.config)?)
}

/// Rebuilds the generator stored in `.fgw` bytes on `device`.
pub fn load_generator(
    bytes: &[u8],
    device: &Device,
) -> Result<(Generator, DcganConfig), WeightsError> {
    let (header, data_start) = parse_header(bytes, &[ARCHITECTURE])?;
    let config: DcganConfig = serde_json::from_value(header.config.clone())?;
    config.validate()?;
    let generator = load_tensors(
        config.init_generator(device),
        &header,
        bytes,
        data_start,
        device,
    )?;
    Ok((generator, config))
}

/// Reads the architecture and config of a `.fgw` face generator file (either architecture)
/// without building anything.
pub fn read_face_config(bytes: &[u8]) -> Result<GeneratorConfig, WeightsError> {
    Ok(face_header(bytes)?.0)
}

/// The config a face generator file's header names, checked, with the parsed header.
fn face_header(bytes: &[u8]) -> Result<(GeneratorConfig, Header, usize), WeightsError> {
    let (header, data_start) = parse_header(bytes, &[ARCHITECTURE, RESNET_ARCHITECTURE])?;
    let config: GeneratorConfig = if header.architecture == ARCHITECTURE {
        let config: DcganConfig = serde_json::from_value(header.config.clone())?;
        config.validate()?;
        config.into()
    } else {
        let config: ResnetConfig = serde_json::from_value(header.config.clone())?;
        config.validate()?;
        config.into()
    };
    Ok((config, header, data_start))
}

/// Rebuilds the generator stored in `.fgw` bytes, whichever architecture its header names.
pub fn load_face_generator(
    bytes: &[u8],
    device: &Device,
) -> Result<(FaceGenerator, GeneratorConfig), WeightsError> {
    let (config, header, data_start) = face_header(bytes)?;
    // Each architecture's own module, as it was saved, not the enum around it.
    let generator = match &config {
        GeneratorConfig::Dcgan(c) => {
            load_tensors(c.init_generator(device), &header, bytes, data_start, device)?.into()
        }
        GeneratorConfig::Resnet(c) => {
            load_tensors(c.init_generator(device), &header, bytes, data_start, device)?.into()
        }
    };
    Ok((generator, config))
}

/// A translator's palette: colour codes in the networks' [-1, 1] range.
pub type Palette = Vec<[f32; CODE_SIZE]>;

/// Rebuilds the sketch-to-face U-Net stored in `.fgw` bytes on `device`, with its palette.
pub fn load_translator(
    bytes: &[u8],
    device: &Device,
) -> Result<(UNet, TranslatorConfig, Palette), WeightsError> {
    let (header, data_start) = parse_header(bytes, &[TRANSLATOR_ARCHITECTURE])?;
    let config: TranslatorConfig = serde_json::from_value(header.config.clone())?;
    config.validate()?;
    let palette = palette_of(&header)?;
    let unet = load_tensors(config.init_unet(device), &header, bytes, data_start, device)?;
    Ok((unet, config, palette))
}

/// The colour codes of a header's palette, each checked for length.
fn palette_of(header: &Header) -> Result<Palette, WeightsError> {
    header
        .palette
        .iter()
        .map(|entry| {
            if entry.len() != CODE_SIZE {
                return Err(WeightsError::Palette {
                    expected: CODE_SIZE,
                    found: entry.len(),
                });
            }
            Ok(std::array::from_fn(|i| crate::image::from_byte(entry[i])))
        })
        .collect()
}

/// Serialises a sketch encoder with the identity of its generator and a palette of colour
/// codes (bytes, `CODE_SIZE` each).
pub fn save_encoder_as(
    encoder: &SketchEncoder,
    header: &EncoderHeader,
    palette: Vec<Vec<u8>>,
    precision: Precision,
) -> Vec<u8> {
    let config = serde_json::to_value(header).expect("header serialises");
    write_file(ENCODER_ARCHITECTURE, config, palette, encoder, precision)
}

/// Rebuilds the sketch encoder stored in `.fgw` bytes, with its header and palette.
pub fn load_encoder(
    bytes: &[u8],
    device: &Device,
) -> Result<(SketchEncoder, EncoderHeader, Palette), WeightsError> {
    let (header, data_start) = parse_header(bytes, &[ENCODER_ARCHITECTURE])?;
    let config: EncoderHeader = serde_json::from_value(header.config.clone())?;
    config.encoder.validate()?;
    let palette = palette_of(&header)?;
    let encoder = load_tensors(
        config.encoder.init(device),
        &header,
        bytes,
        data_start,
        device,
    )?;
    Ok((encoder, config, palette))
}

/// Refuses an encoder for a generator file other than the one it was trained for.
pub fn check_encoder_generator(
    encoder: &EncoderHeader,
    generator_bytes: &[u8],
) -> Result<(), WeightsError> {
    let found = fingerprint(generator_bytes);
    if found != encoder.generator_fingerprint {
        return Err(WeightsError::EncoderGenerator {
            expected: encoder.generator_fingerprint.clone(),
            found,
            describe: encoder.generator.describe(),
        });
    }
    Ok(())
}

/// Checks the file's tensor list and length against `module` and loads its values into it.
fn load_tensors<M: Module>(
    module: M,
    header: &Header,
    bytes: &[u8],
    data_start: usize,
    device: &Device,
) -> Result<M, WeightsError> {
    let mut expected = Collector::shapes_only();
    module.visit(&mut expected);
    if expected.entries.len() != header.tensors.len() {
        return Err(WeightsError::TensorCount {
            expected: expected.entries.len(),
            found: header.tensors.len(),
        });
    }
    for (index, (want, got)) in expected.entries.iter().zip(&header.tensors).enumerate() {
        if !want.same_tensor(got) {
            return Err(WeightsError::Tensor {
                index,
                expected_name: want.name.clone(),
                expected_shape: want.shape.clone(),
                found_name: got.name.clone(),
                found_shape: got.shape.clone(),
            });
        }
    }
    let data_len: usize = header
        .tensors
        .iter()
        .map(|t| t.encoding.byte_len(&t.shape))
        .sum();
    let expected_len = data_start + data_len;
    if bytes.len() != expected_len {
        return Err(WeightsError::Length {
            expected: expected_len,
            found: bytes.len(),
        });
    }

    let mut values = Vec::new();
    let mut offset = data_start;
    for tensor in &header.tensors {
        let len = tensor.encoding.byte_len(&tensor.shape);
        values.extend(decode(
            &bytes[offset..offset + len],
            tensor.encoding,
            &tensor.shape,
        ));
        offset += len;
    }
    let mut loader = Loader {
        values,
        offset: 0,
        shapes: header.tensors.iter().map(|t| t.shape.clone()).collect(),
        device: device.clone(),
    };
    Ok(module.map(&mut loader))
}

/// The header of `bytes`, refused unless it names one of `architectures`.
fn parse_header(bytes: &[u8], architectures: &[&str]) -> Result<(Header, usize), WeightsError> {
    if bytes.len() < PREAMBLE {
        return Err(WeightsError::Truncated {
            expected: PREAMBLE,
            found: bytes.len(),
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(WeightsError::Magic {
            expected: String::from_utf8_lossy(MAGIC).into_owned(),
            found: String::from_utf8_lossy(&bytes[..8]).into_owned(),
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if !(FIRST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(WeightsError::Version {
            expected: FORMAT_VERSION,
            found: version,
        });
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let data_start = PREAMBLE + header_len;
    if bytes.len() < data_start {
        return Err(WeightsError::Truncated {
            expected: data_start,
            found: bytes.len(),
        });
    }
    let header: Header = serde_json::from_slice(&bytes[PREAMBLE..data_start])?;
    if !architectures.contains(&header.architecture.as_str()) {
        return Err(WeightsError::Architecture {
            expected: architectures.join(" or "),
            found: header.architecture,
        });
    }
    Ok((header, data_start))
}

/// Walks a module in its fixed field order, naming each float tensor by its path.
#[derive(Default)]
struct Collector {
    path: Vec<String>,
    entries: Vec<TensorEntry>,
    values: Vec<f32>,
    skip_values: bool,
}

impl Collector {
    fn shapes_only() -> Self {
        Self {
            skip_values: true,
            ..Self::default()
        }
    }
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.entries.push(TensorEntry {
            name: self.path.join("."),
            shape: param.lazy_shape().to_vec(),
            encoding: Encoding::F16,
        });
        if !self.skip_values {
            let data = param.val().into_data();
            self.values
                .extend(data.try_to_vec::<f32>().expect("generator tensors are f32"));
        }
    }
}

/// Replaces each float tensor, in visiting order, with the next one read from the file.
struct Loader {
    values: Vec<f32>,
    offset: usize,
    shapes: VecDeque<Vec<usize>>,
    device: Device,
}

impl ModuleMapper for Loader {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let shape = self.shapes.pop_front().expect("shapes were checked");
        let count: usize = shape.iter().product();
        let values = self.values[self.offset..self.offset + count].to_vec();
        self.offset += count;
        let tensor = Tensor::from_data(TensorData::new(values, shape), &self.device);
        Param::initialized(param.id, tensor)
    }
}
