//! `nesmm build`: score files -> a playable iNES ROM.

use anyhow::Context;
use clap::Args;
use nesmm::rom::pipeline::{build_rom_from_files, LoopMode, RomRequest};
use nesmm::Region;
use std::path::{Path, PathBuf};

/// Build an iNES ROM (NROM, or UxROM when the songs need more than 32 KiB) that plays the songs.
/// Right and Left on controller 1 change songs.
#[derive(Args)]
pub struct BuildArgs {
    /// Songs, in ROM order: NES-MDB .seprsco.pkl / .exprsco.pkl (or any score format nesmm reads).
    #[arg(required = true)]
    pub songs: Vec<PathBuf>,
    /// The ROM to write (e.g. roms/album.nes).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Build for a PAL console (50 Hz, PAL periods, PAL timing in the header).
    #[arg(long)]
    pub pal: bool,
    /// Loop every song (to its loop point, or to its start).
    #[arg(long, conflicts_with = "no_loop")]
    pub r#loop: bool,
    /// Stop every song at its end.
    #[arg(long)]
    pub no_loop: bool,
    /// Album title stored in the ROM.
    #[arg(long, default_value = "nesmm")]
    pub title: String,
}

pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let req = RomRequest {
        region: if args.pal { Region::Pal } else { Region::Ntsc },
        loop_mode: if args.r#loop {
            LoopMode::Loop
        } else if args.no_loop {
            LoopMode::NoLoop
        } else {
            LoopMode::AsScore
        },
        title: args.title.clone(),
    };
    let paths: Vec<&Path> = args.songs.iter().map(PathBuf::as_path).collect();
    let rom = build_rom_from_files(&paths, &req)
        .context("cannot build the ROM; fix the file named above, or put fewer songs in one ROM")?;
    nesmm::io::write_atomic(&args.output, &rom.bytes).with_context(|| {
        format!(
            "cannot write {}; check that its folder is writable",
            args.output.display()
        )
    })?;
    println!(
        "{}: {}, {} KiB PRG, {} {} song(s), {} bytes of song data, {} bytes of player",
        args.output.display(),
        rom.mapper.name(),
        rom.prg_size / 1024,
        rom.region.name().to_uppercase(),
        rom.songs.len(),
        rom.data_bytes,
        rom.player_bytes
    );
    for (i, s) in rom.songs.iter().enumerate() {
        println!(
            "  {i:3} {:<48} {:6} frames {:6} bytes",
            s.name, s.frames, s.data_bytes
        );
    }
    Ok(())
}
