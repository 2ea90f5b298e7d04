use clap::Parser;

use facegan_trainer::cli::Cli;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .format_timestamp(None)
        .init();
    if let Err(error) = Cli::parse().command.run() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
