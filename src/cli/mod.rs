//! Subcommands. Each file holds one command's clap `Args` and its `run`, which only parses
//! options, calls the library and reports.

mod build;
pub mod compile;
mod convert;
mod eval;
mod export_ca65;
mod generate;
mod info;
mod interpolate;
mod nsf;
mod render;
mod stats;
mod train;
mod vary;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "nesmm",
    version,
    about = "Write NES music and burn it into cartridges",
    long_about = "Learn NES music from NES-MDB, compile scores to APU register writes, and build \
                  iNES ROMs and NSFs that play them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run: boxing would buy nothing
pub enum Command {
    Info(info::InfoArgs),
    Convert(convert::ConvertArgs),
    Compile(compile::CompileArgs),
    Train(train::TrainArgs),
    Eval(eval::EvalArgs),
    Generate(generate::GenerateArgs),
    Stats(stats::StatsArgs),
    Vary(vary::VaryArgs),
    Interpolate(interpolate::InterpolateArgs),
    Render(render::RenderArgs),
    Build(build::BuildArgs),
    Nsf(nsf::NsfArgs),
    ExportCa65(export_ca65::ExportCa65Args),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Info(a) => info::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Stats(a) => stats::run(a),
        Command::Vary(a) => vary::run(a),
        Command::Interpolate(a) => interpolate::run(a),
        Command::Render(a) => render::run(a),
        Command::Build(a) => build::run(a),
        Command::Nsf(a) => nsf::run(a),
        Command::ExportCa65(a) => export_ca65::run(a),
    }
}
