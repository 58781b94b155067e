//! `nesmm export-ca65`: the ROM `nesmm build` makes, as a cc65 project (ca65 sources, nes.cfg,
//! Makefile) that builds the same bytes.

use clap::Args;
use nesmm::rom::export::{export_ca65, EXPORT_ROM_NAME};
use nesmm::rom::BuildOptions;
use std::path::PathBuf;

/// Write the ROM's player and song data as a ca65/ld65 project.
#[derive(Args)]
pub struct ExportCa65Args {
    #[command(flatten)]
    pub input: super::song_inputs::SongsArgs,
    /// The project folder (created if missing; files in it are replaced).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Album title shown by the on-screen player.
    #[arg(long, default_value = "nesmm")]
    pub title: String,
}

pub fn run(args: ExportCa65Args) -> anyhow::Result<()> {
    let (region, songs) = (args.input.region(), args.input.load_streams()?);
    let opts = BuildOptions {
        region,
        title: args.title.clone(),
        ..Default::default()
    };
    let export = export_ca65(&songs, &opts, &args.output).map_err(|e| {
        let hint = match e {
            nesmm::Error::Io { .. } => "check that the folder is writable",
            _ => "fix or shorten that song, or put fewer songs in one project",
        };
        anyhow::anyhow!(
            "cannot export the project to {}: {e}\nhint: {hint}",
            args.output.display()
        )
    })?;
    println!(
        "{}: {} files, {}; run `make -C {}` (cc65) to build {EXPORT_ROM_NAME} ({} bytes)",
        args.output.display(),
        export.files.len(),
        export.rom.mapper.name(),
        args.output.display(),
        export.rom.bytes.len()
    );
    Ok(())
}
