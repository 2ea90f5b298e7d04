//! `facegan generate`: faces, grids and morphs from exported weights.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::weights::load_face_generator;
use facegan_model::{FaceGenerator, GeneratorConfig, latent_for_seed, slerp};

use facegan_model::directions::{ColourPart, Directions, format_edit, parse_edit};

use crate::backend::{self, BackendChoice};
use crate::directions::directions_path;
use crate::directions::reach::reach_colours;
use crate::face_gan::render_faces;
use crate::render::{grid, save_png_atomically, write_gif};

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Exported generator (.fgw); without it, the default weights built into facegan
    /// (weights/anime-faces-64.fgw, the page's model).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Seed of the first face; face i uses seed S+i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of faces (more than one makes --out a grid).
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Write all faces as one grid PNG (or, with --interpolate, the morph GIF) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one PNG per face into this folder, named seed_<S>.png.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Morph from SEED_A to SEED_B along a spherical interpolation into an animated GIF.
    #[arg(long, num_args = 2, value_names = ["SEED_A", "SEED_B"])]
    pub interpolate: Option<Vec<u64>>,
    /// Frames of the morph.
    #[arg(long, default_value_t = 16)]
    pub steps: usize,
    /// Scale every latent by this factor in (0, 1] (the truncation trick): lower gives
    /// cleaner but less varied faces; 1 draws them as trained.
    #[arg(long, default_value_t = 1.0)]
    pub truncation: f32,
    /// Give every face this hair colour (a name from the directions file: black, brown,
    /// blonde, orange, red, pink, purple, blue, green, silver for the built-in generator),
    /// reached by moving along the hair directions until the measured colour is it.
    #[arg(long, value_name = "COLOUR")]
    pub hair: Option<String>,
    /// Give every face this eye colour (brown, gold, red, purple, blue, green).
    #[arg(long, value_name = "COLOUR")]
    pub eyes: Option<String>,
    /// Move every face along a direction: `--edit hair_l=1.5` (repeatable; names and what
    /// they do: `facegan directions`' table, or the directions file).
    #[arg(long, value_name = "NAME=AMOUNT")]
    pub edit: Vec<String>,
    /// Directions file for --hair, --eyes and --edit [default: next to --weights as
    /// NAME.directions.json; the built-in one for the built-in generator].
    #[arg(long)]
    pub directions: Option<PathBuf>,
    /// Where to run the generator.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

/// Faces run through the generator at once; bounds memory for large --count.
const CHUNK: usize = 64;

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    ensure!(
        args.out.is_some() || args.out_dir.is_some(),
        "say where to write: --out FILE and/or --out-dir DIR"
    );
    ensure!(
        args.truncation > 0.0 && args.truncation <= 1.0,
        "--truncation must be in (0, 1], found {}",
        args.truncation
    );
    let device = backend::select(args.backend)?.device;
    let (generator, config) = match &args.weights {
        Some(path) => load_weights(path, &device)?,
        None => load_default_weights(&device)?,
    };

    if let Some(pair) = &args.interpolate {
        let out = args
            .out
            .as_ref()
            .context("--interpolate writes a GIF: give --out morph.gif")?;
        ensure!(
            args.steps >= 2,
            "--steps must be at least 2, found {}",
            args.steps
        );
        let ends = [pair[0], pair[1]];
        let frames = morph(
            &generator,
            &config,
            ends,
            args.steps,
            args.truncation,
            &device,
        )?;
        let size = config.image_size() as u32;
        let frames: Vec<_> = frames
            .into_iter()
            .map(|pixels| image::RgbImage::from_raw(size, size, pixels).expect("whole frame"))
            .collect();
        write_gif(&frames, out, 80)?;
        log::info!(
            "wrote {} ({} frames, seed {} -> {})",
            out.display(),
            args.steps,
            pair[0],
            pair[1]
        );
        return Ok(());
    }

    ensure!(args.count >= 1, "--count must be at least 1");
    let seeds: Vec<u64> = (0..args.count as u64).map(|i| args.seed + i).collect();
    let faces = if args.hair.is_some() || args.eyes.is_some() || !args.edit.is_empty() {
        edited_faces_for_seeds(args, &generator, &config, &seeds, &device)?
    } else {
        faces_for_truncated_seeds(&generator, &config, &seeds, args.truncation, &device)?
    };
    if let Some(out) = &args.out {
        let columns = (args.count as f64).sqrt().ceil() as usize;
        let picture = if args.count == 1 {
            let size = config.image_size() as u32;
            image::RgbImage::from_raw(size, size, faces[0].clone()).expect("whole face")
        } else {
            grid(&faces, config.image_size(), columns)
        };
        save_png_atomically(&picture, out)?;
        log::info!(
            "wrote {} ({} faces from seed {})",
            out.display(),
            args.count,
            args.seed
        );
    }
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let size = config.image_size() as u32;
        for (seed, face) in seeds.iter().zip(faces) {
            let picture = image::RgbImage::from_raw(size, size, face).expect("whole face");
            save_png_atomically(&picture, &dir.join(format!("seed_{seed}.png")))?;
        }
        log::info!("wrote {} faces to {}", args.count, dir.display());
    }
    Ok(())
}

/// Faces for `seeds` with --edit, --hair and --eyes applied; logs each face's resolved edit,
/// which `--edit` reproduces.
fn edited_faces_for_seeds(
    args: &GenerateArgs,
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    seeds: &[u64],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let directions = load_directions(args.directions.as_deref(), args.weights.as_deref())?;
    let edit = parse_edit(&args.edit.join(",")).map_err(|e| anyhow::anyhow!("--edit {e}"))?;
    let latents: Vec<Vec<f32>> = seeds
        .iter()
        .map(|&s| truncate(latent_for_seed(s, config.latent_size()), args.truncation))
        .collect();
    let mut targets = Vec::new();
    for (part, name) in [
        (ColourPart::Hair, &args.hair),
        (ColourPart::Eyes, &args.eyes),
    ] {
        if let Some(name) = name {
            targets.push((part, directions.swatch(part, name)?));
        }
    }
    let reached = reach_colours(
        generator,
        config,
        &directions,
        &latents,
        &edit,
        &targets,
        device,
    )?;
    let mut faces = Vec::with_capacity(reached.len());
    for (seed, face) in seeds.iter().zip(reached) {
        let status = if face.reached {
            ""
        } else {
            " (colour not reached)"
        };
        log::info!(
            "seed {seed}: hair {}, eyes {}{status}; --edit {}",
            face.attributes.hair_colour(),
            face.attributes.eye_colour(),
            format_edit(&face.edit)
        );
        faces.push(face.face);
    }
    Ok(faces)
}

/// The built-in generator's directions, fitted by `facegan directions` on it.
const DEFAULT_DIRECTIONS: &[u8] = include_bytes!("../../weights/anime-faces-64.directions.json");

/// Reads the directions for the generator at `weights` (`None`: the built-in one) and checks
/// they belong to it.
pub fn load_directions(
    directions: Option<&Path>,
    weights: Option<&Path>,
) -> anyhow::Result<Directions> {
    let (generator_bytes, generator_name) = generator_file(weights)?;
    let (json, name) = match (directions, weights) {
        (Some(path), _) => (read_file(path)?, path.display().to_string()),
        (None, Some(weights)) => {
            let path = directions_path(weights);
            let json = read_file(&path).with_context(|| {
                format!(
                    "no directions for {}: make them with `facegan directions --weights {}`",
                    weights.display(),
                    weights.display()
                )
            })?;
            (json, path.display().to_string())
        }
        (None, None) => (
            DEFAULT_DIRECTIONS.to_vec(),
            "the built-in directions (weights/anime-faces-64.directions.json)".to_string(),
        ),
    };
    Directions::load(&json, &generator_bytes)
        .with_context(|| format!("cannot use {name} with {generator_name}"))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a `.fgw` file, naming it in any error.
pub fn load_weights(
    path: &Path,
    device: &Device,
) -> anyhow::Result<(FaceGenerator, GeneratorConfig)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read weights {}", path.display()))?;
    load_face_generator(&bytes, device)
        .with_context(|| format!("cannot load weights {}", path.display()))
}

/// The page's default generator, built into the binary so `facegan generate` works right
/// after install.
pub const DEFAULT_WEIGHTS: &[u8] = include_bytes!("../../weights/anime-faces-64.fgw");
const DEFAULT_WEIGHTS_NAME: &str = "weights/anime-faces-64.fgw";

/// A face generator's file (`None`: the built-in one) as bytes, with its name for messages.
pub fn generator_file(path: Option<&Path>) -> anyhow::Result<(Vec<u8>, String)> {
    Ok(match path {
        Some(path) => (
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_WEIGHTS.to_vec(),
            format!("the built-in generator ({DEFAULT_WEIGHTS_NAME})"),
        ),
    })
}

pub fn load_default_weights(device: &Device) -> anyhow::Result<(FaceGenerator, GeneratorConfig)> {
    load_face_generator(DEFAULT_WEIGHTS, device)
        .with_context(|| format!("cannot load the built-in weights {DEFAULT_WEIGHTS_NAME}"))
}

/// RGB8 faces for `seeds`, each seed's latent drawn independently (see `facegan_model::latent`).
pub fn faces_for_seeds(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    seeds: &[u64],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    faces_for_truncated_seeds(generator, config, seeds, 1.0, device)
}

/// [`faces_for_seeds`] with every latent scaled by `truncation` (see [`truncate`]).
fn faces_for_truncated_seeds(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    seeds: &[u64],
    truncation: f32,
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let latents: Vec<Vec<f32>> = seeds
        .iter()
        .map(|&s| truncate(latent_for_seed(s, config.latent_size()), truncation))
        .collect();
    faces_for_latents(generator, config, &latents, device)
}

/// RGB8 faces for latents (`[latent]` each), drawn in chunks.
pub fn faces_for_latents(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    latents: &[Vec<f32>],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut faces = Vec::with_capacity(latents.len());
    for chunk in latents.chunks(CHUNK) {
        let values: Vec<f32> = chunk.concat();
        let z = Tensor::from_data(
            TensorData::new(values, [chunk.len(), config.latent_size(), 1, 1]),
            device,
        );
        faces.extend(render_faces(
            generator.valid().forward(z),
            config.image_size(),
        )?);
    }
    Ok(faces)
}

/// The truncation trick (Brock et al. 2019) in its simplest form: latents pulled towards the
/// mean, where the generator saw most training signal, trading variety for cleaner faces.
fn truncate(latent: Vec<f32>, psi: f32) -> Vec<f32> {
    latent.into_iter().map(|z| z * psi).collect()
}

fn morph(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    [from, to]: [u64; 2],
    steps: usize,
    truncation: f32,
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    if from == to {
        bail!("--interpolate needs two different seeds, found {from} twice");
    }
    let a = latent_for_seed(from, config.latent_size());
    let b = latent_for_seed(to, config.latent_size());
    let latents: Vec<Vec<f32>> = (0..steps)
        .map(|i| truncate(slerp(&a, &b, i as f32 / (steps - 1) as f32), truncation))
        .collect();
    faces_for_latents(generator, config, &latents, device)
}
