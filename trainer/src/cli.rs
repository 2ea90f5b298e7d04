//! The command line: one subcommand per command, each parsed into that command's own options
//! (defined beside the command). Flag spellings are a contract: scripts depend on them. Only
//! `main.rs` uses this module.

use clap::{Parser, Subcommand};

use crate::{
    backend, bench, directions, export, generate, measure, prepare, run, sketch, train, translate,
};

#[derive(Debug, Parser)]
#[command(
    name = "facegan",
    version,
    about = "Train GANs on anime faces and generate new ones"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn a folder of scraped pictures into a clean face data set.
    Prepare(prepare::PrepareArgs),
    /// Find anime faces in images with an LBP cascade and print their boxes.
    Detect(prepare::DetectArgs),
    /// Turn a folder of faces into line drawings (XDoG), named like the faces: the sketch side
    /// of the sketch-to-face models.
    Sketch(sketch::SketchArgs),
    /// Train a model on a folder of images (resumes automatically when RUN_DIR has a checkpoint).
    Train(Box<train::TrainArgs>),
    /// Generate faces from exported weights.
    Generate(generate::GenerateArgs),
    /// Fit the latent directions that steer a generator's faces (hair and eye colour, skin,
    /// background, face size, unsupervised ones) and measure them on held-out faces.
    Directions(directions::DirectionsArgs),
    /// Measure hair and eye colour, skin and background lightness and face size of a folder
    /// of prepared faces.
    Measure(measure::MeasureArgs),
    /// Faces for a drawing from exported sketch-to-face weights, one colouring per seed.
    Translate(translate::apply::TranslateArgs),
    /// Score sketch-to-face weights on held-out sketch/face pairs (mean L1; outputs for FID).
    Evaluate(translate::evaluate::EvaluateArgs),
    /// Export a run's generator (or sketch-to-face translator) as a compact `.fgw` file (f16 or
    /// int8) for the web page.
    Export(export::ExportArgs),
    /// Measure training throughput and generator latency, Burn's kernels against facegan's.
    Bench(bench::BenchArgs),
    /// Serve this machine's device to `facegan train --devices ws://HOST:PORT` elsewhere (built
    /// with `--features remote`).
    ServeDevice(backend::ServeArgs),
    /// Write a run's report.html (plots of its losses, speed, diversity and FID, its sample
    /// grids, its config); several runs are overlaid in one report.
    Report(run::report::ReportArgs),
}

impl Command {
    /// Whether the command trains without naming a GPU, so that loading its checkpoint must not
    /// need a GPU adapter.
    pub fn trains_without_naming_a_gpu(&self) -> bool {
        match self {
            Self::Train(args) => !args.names_a_gpu(),
            _ => false,
        }
    }

    /// Runs the command.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Prepare(args) => prepare::run(&args),
            Self::Detect(args) => prepare::detect_command(&args),
            Self::Sketch(args) => sketch::run(&args),
            Self::Train(args) => train::run(&args),
            Self::Generate(args) => generate::run(&args),
            Self::Directions(args) => directions::run(&args),
            Self::Measure(args) => measure::run(&args),
            Self::Translate(args) => translate::apply::run(&args),
            Self::Evaluate(args) => translate::evaluate::run(&args),
            Self::Export(args) => export::run(&args),
            Self::Bench(args) => bench::run(&args),
            Self::Report(args) => run::report::run(&args),
            Self::ServeDevice(args) => backend::serve(&args),
        }
    }
}
