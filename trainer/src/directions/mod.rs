//! `facegan directions`: fits the latent directions that steer a generator's faces (hair and
//! eye colour, skin and background lightness, face size, and the strongest unsupervised
//! ones), writes them next to the generator, and measures on held-out faces how well named
//! colours are reached and how little else changes.

mod evaluate;
mod figure;
mod fit;
pub mod reach;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use facegan_model::attributes::{ATTRIBUTE_NAMES, Attributes, Lab, measure, median_lab};
use facegan_model::directions::{ColourPart, Direction, Directions, FORMAT, Swatch, VERSION};
use facegan_model::fingerprint::fingerprint;
use facegan_model::latent_for_seed;
use facegan_model::weights::load_face_generator;
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::atomic_file::write_atomically;
use crate::backend::{self, BackendChoice};
use crate::generate::{faces_for_latents, generator_file};

/// Held-out faces (for R^2 and the evaluation) start at this seed; fits use seeds from 0.
pub const HELD_OUT_SEED: u64 = 1_000_000;
/// Held-out faces that score each fit (R^2).
const HELD_OUT: usize = 2000;
/// A named colour gets a swatch when at least this many fitted faces carry it.
const MIN_SWATCH_FACES: usize = 10;
/// Faces whose first-layer activations go into the principal components.
const PRINCIPAL_FACES: usize = 4000;

#[derive(Debug, Clone, clap::Args)]
pub struct DirectionsArgs {
    /// Generator (.fgw) to fit directions for; without it, the built-in one.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Where to write the directions [default: next to --weights, as NAME.directions.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Faces drawn and measured for the fit (seeds 0 to N-1).
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// Unsupervised directions (GANSpace: principal components of the first layer).
    #[arg(long, default_value_t = 6)]
    pub principal: usize,
    /// Held-out faces (seeds from 1,000,000) on which each named colour is asked for and
    /// the result measured (0 = skip the evaluation).
    #[arg(long, default_value_t = 200)]
    pub evaluate: usize,
    /// A name for a direction, given after looking at what it does: `--label pca1="head tilt"`.
    #[arg(long, value_name = "NAME=TEXT", value_parser = parse_label)]
    pub label: Vec<(String, String)>,
    /// Also draw what the directions do to face `--figure-seed` into this PNG: a row through
    /// the hair swatches, one through the eye swatches (each starting with the face itself),
    /// then a strip per slider direction from -3 to +3, in the table's order.
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// The face of --figure (by default a seed the fit never saw).
    #[arg(long, default_value_t = HELD_OUT_SEED + 3)]
    pub figure_seed: u64,
    /// Also write every fitted face's seed and measurements here (CSV).
    #[arg(long)]
    pub measurements: Option<PathBuf>,
    /// Where to run the generator.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let (name, label) = text
        .split_once('=')
        .ok_or_else(|| format!("{text}: expected NAME=TEXT"))?;
    Ok((name.to_string(), label.to_string()))
}

/// The directions file that belongs to a generator file: `X.fgw` -> `X.directions.json`.
pub fn directions_path(weights: &Path) -> PathBuf {
    weights.with_extension("directions.json")
}

/// What people see each attribute direction do.
fn attribute_label(name: &str) -> &'static str {
    match name {
        "hair_l" => "hair lightness",
        "hair_a" => "hair green to red",
        "hair_b" => "hair blue to yellow",
        "eyes_l" => "eye lightness",
        "eyes_a" => "eyes green to red",
        "eyes_b" => "eyes blue to yellow",
        "skin_l" => "skin lightness",
        "background_l" => "background lightness",
        "face_fill" => "face size",
        _ => unreachable!("every attribute has a label"),
    }
}

pub fn run(args: &DirectionsArgs) -> anyhow::Result<()> {
    ensure!(
        args.count >= 500,
        "--count must be at least 500 for a fit, found {}",
        args.count
    );
    let out = match (&args.out, &args.weights) {
        (Some(out), _) => out.clone(),
        (None, Some(weights)) => directions_path(weights),
        (None, None) => {
            anyhow::bail!("say where to write the built-in generator's directions: --out FILE")
        }
    };
    let device = backend::select(args.backend)?.device;
    let (bytes, name) = generator_file(args.weights.as_deref())?;
    let (generator, config) =
        load_face_generator(&bytes, &device).with_context(|| format!("cannot load {name}"))?;
    let latent_size = config.latent_size();

    let seeds = |start: u64, n: usize| (start..start + n as u64).collect::<Vec<_>>();
    let measured = |seeds: &[u64]| -> anyhow::Result<(DMatrix<f64>, Vec<Attributes>)> {
        let latents: Vec<Vec<f32>> = seeds
            .iter()
            .map(|&s| latent_for_seed(s, latent_size))
            .collect();
        let faces = faces_for_latents(&generator, &config, &latents, &device)?;
        let attributes = faces
            .par_iter()
            .map(|face| measure(face, config.image_size()))
            .collect();
        let z = DMatrix::from_fn(latents.len(), latent_size, |i, j| f64::from(latents[i][j]));
        Ok((z, attributes))
    };
    log::info!("drawing and measuring {} faces of {name}", args.count);
    let fit_seeds = seeds(0, args.count);
    let (z, attributes) = measured(&fit_seeds)?;
    let (z_held, attributes_held) = measured(&seeds(HELD_OUT_SEED, HELD_OUT))?;
    if let Some(path) = &args.measurements {
        let rows = fit_seeds
            .iter()
            .map(|s| s.to_string())
            .zip(attributes.iter().copied());
        crate::measure::write_csv(path, "seed", rows)?;
    }

    let model = fit::LinearModel::fit(&z, &attribute_matrix(&attributes));
    let r2 = model.r2(&z_held, &attribute_matrix(&attributes_held));
    let labels: BTreeMap<&str, &str> = args
        .label
        .iter()
        .map(|(n, l)| (n.as_str(), l.as_str()))
        .collect();
    let mut directions: Vec<Direction> = model
        .conditional_directions()
        .into_iter()
        .zip(ATTRIBUTE_NAMES)
        .zip(&r2)
        .map(|(((vector, gain), name), &r2)| Direction {
            name: name.to_string(),
            label: labels
                .get(name)
                .map_or(attribute_label(name), |l| l)
                .to_string(),
            gain: gain as f32,
            r2: r2 as f32,
            vector: rounded(&vector),
        })
        .collect();

    if args.principal > 0 {
        let n = PRINCIPAL_FACES.min(args.count);
        let latents: Vec<f32> = fit_seeds[..n]
            .iter()
            .flat_map(|&s| latent_for_seed(s, latent_size))
            .collect();
        let input =
            Tensor::<4>::from_data(TensorData::new(latents, [n, latent_size, 1, 1]), &device);
        let activations = generator.valid().first_layer(input).flatten::<2>(1, 3);
        let [_, features] = activations.dims();
        let values = activations
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("cannot read activations: {e:?}"))?;
        let activations = DMatrix::from_fn(n, features, |i, j| f64::from(values[i * features + j]));
        let z_first = z.rows(0, n).into_owned();
        for (i, (vector, share)) in
            fit::principal_directions(&z_first, &activations, args.principal)
                .into_iter()
                .enumerate()
        {
            let name = format!("pca{}", i + 1);
            let moves = describe_moves(&model.weights, &vector, &attributes);
            let label = labels.get(name.as_str()).map_or_else(
                || {
                    format!(
                        "unsupervised {} ({:.0}% of the first layer; moves {moves})",
                        i + 1,
                        100.0 * share
                    )
                },
                |l| l.to_string(),
            );
            directions.push(Direction {
                name,
                label,
                gain: 0.0,
                r2: 0.0,
                vector: rounded(&vector),
            });
        }
    }
    for name in labels.keys() {
        ensure!(
            directions.iter().any(|d| d.name == *name),
            "--label {name}=...: no direction of that name (known: {})",
            directions
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let file = Directions {
        format: FORMAT.to_string(),
        version: VERSION,
        generator_fingerprint: fingerprint(&bytes),
        generator: config.describe(),
        latent_size,
        directions,
        hair_colours: swatches(ColourPart::Hair, &attributes),
        eye_colours: swatches(ColourPart::Eyes, &attributes),
    };
    write_atomically(&out, file.to_json())?;
    print_fit(&file, &attributes);
    log::info!("wrote {}", out.display());

    if let Some(path) = &args.figure {
        figure::write(&generator, &config, &file, args.figure_seed, path, &device)?;
    }
    if args.evaluate > 0 {
        let latents: Vec<Vec<f32>> = seeds(HELD_OUT_SEED, args.evaluate)
            .iter()
            .map(|&s| latent_for_seed(s, latent_size))
            .collect();
        evaluate::run(&generator, &config, &file, &latents, &device)?;
    }
    Ok(())
}

/// A unit vector's components to 4 decimals: a file a third the size, directions within
/// 0.0003 of unit length (edits are applied with the stored vector, everywhere alike).
fn rounded(vector: &[f64]) -> Vec<f32> {
    vector
        .iter()
        .map(|&v| ((v * 1e4).round() / 1e4) as f32)
        .collect()
}

fn attribute_matrix(attributes: &[Attributes]) -> DMatrix<f64> {
    DMatrix::from_fn(attributes.len(), ATTRIBUTE_NAMES.len(), |i, k| {
        f64::from(attributes[i].values()[k])
    })
}

/// The two attributes a unit move along `vector` changes most, in their standard deviations.
fn describe_moves(weights: &DMatrix<f64>, vector: &[f64], attributes: &[Attributes]) -> String {
    let matrix = attribute_matrix(attributes);
    let mut changes: Vec<(f64, &str)> = ATTRIBUTE_NAMES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let change: f64 = weights.row(k).iter().zip(vector).map(|(w, v)| w * v).sum();
            let column = matrix.column(k);
            let spread = column.variance().sqrt().max(1e-9);
            (change / spread, attribute_label(name))
        })
        .collect();
    changes.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    changes[..2]
        .iter()
        .map(|(change, label)| format!("{label} {change:+.2} sd"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A swatch per name of `part` that at least [`MIN_SWATCH_FACES`] faces carry: the median
/// colour of those whose colour sits well inside the bin (still named so 4 units away along
/// each Lab axis), so that moving towards it does not stop on a bin's edge.
fn swatches(part: ColourPart, attributes: &[Attributes]) -> Vec<Swatch> {
    let inside = |c: Lab, name: &str| {
        let margin = 4.0;
        [(margin, 0.0, 0.0), (0.0, margin, 0.0), (0.0, 0.0, margin)]
            .iter()
            .flat_map(|&(l, a, b)| {
                [
                    Lab::new(c.l + l, c.a + a, c.b + b),
                    Lab::new(c.l - l, c.a - a, c.b - b),
                ]
            })
            .all(|n| part.name_of(n) == name)
    };
    part.offered_names()
        .iter()
        .filter_map(|&name| {
            let members: Vec<Lab> = attributes
                .iter()
                .map(|a| part.measured(a))
                .filter(|&c| part.name_of(c) == name)
                .collect();
            let interior: Vec<Lab> = members
                .iter()
                .copied()
                .filter(|&c| inside(c, name))
                .collect();
            let chosen = if interior.len() >= MIN_SWATCH_FACES {
                interior
            } else {
                members
            };
            (chosen.len() >= MIN_SWATCH_FACES).then(|| {
                let typical = median_lab(&chosen);
                Swatch {
                    name: name.to_string(),
                    lab: [typical.l, typical.a, typical.b],
                }
            })
        })
        .collect()
}

fn print_fit(file: &Directions, attributes: &[Attributes]) {
    println!("direction      gain/unit   R^2 (held out)  label");
    for d in &file.directions {
        println!("{:<14} {:>9.2} {:>15.2}  {}", d.name, d.gain, d.r2, d.label);
    }
    for part in ColourPart::ALL {
        let shares: Vec<String> = file
            .swatches(part)
            .iter()
            .map(|s| {
                let n = attributes
                    .iter()
                    .filter(|a| part.name_of(part.measured(a)) == s.name)
                    .count();
                format!(
                    "{} {:.1}%",
                    s.name,
                    100.0 * n as f64 / attributes.len() as f64
                )
            })
            .collect();
        println!(
            "{} colours of the fitted faces: {}",
            part.id(),
            shares.join(", ")
        );
    }
}
