use clap::Parser;

use facegan_trainer::cli::{Cli, Command};
use facegan_trainer::{bench, export, generate, prepare, sketch, train, translate};

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .format_timestamp(None)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prepare(args) => prepare::run(&args),
        Command::Detect(args) => prepare::detect_command(&args),
        Command::Sketch(args) => sketch::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Translate(args) => translate::apply::run(&args),
        Command::Evaluate(args) => translate::evaluate::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
