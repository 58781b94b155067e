//! Subcommands. Each file holds one command's clap `Args` and its `run`, which only parses
//! options, calls the library and reports.

mod build;
mod compile;
mod convert;
mod dataset_args;
mod demo;
mod eval;
mod eval_transformer;
mod export_ca65;
mod fit_cache;
mod generate;
mod generate_transformer;
mod import_args;
mod info;
mod interpolate;
mod loop_args;
mod model_arg;
mod nsf;
mod output_path;
mod plot;
mod render;
mod song_inputs;
mod stats;
mod train;
mod train_transformer;
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

/// Subcommands in the order a newcomer meets them: make music, learn, inspect, compile, build.
#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run: boxing would buy nothing
pub enum Command {
    Demo(demo::DemoArgs),
    Generate(generate::GenerateArgs),
    Vary(vary::VaryArgs),
    Interpolate(interpolate::InterpolateArgs),
    Train(train::TrainArgs),
    Eval(eval::EvalArgs),
    FitCache(fit_cache::FitCacheArgs),
    Stats(stats::StatsArgs),
    Info(info::InfoArgs),
    Convert(convert::ConvertArgs),
    Plot(plot::PlotArgs),
    Compile(compile::CompileArgs),
    Render(render::RenderArgs),
    Build(build::BuildArgs),
    Nsf(nsf::NsfArgs),
    ExportCa65(export_ca65::ExportCa65Args),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Vary(a) => vary::run(a),
        Command::Interpolate(a) => interpolate::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::FitCache(a) => fit_cache::run(a),
        Command::Stats(a) => stats::run(a),
        Command::Info(a) => info::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Render(a) => render::run(a),
        Command::Build(a) => build::run(a),
        Command::Nsf(a) => nsf::run(a),
        Command::ExportCa65(a) => export_ca65::run(a),
    }
}
