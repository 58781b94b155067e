//! `nesmm nsf`: songs (score files, or APU stream dumps from `nesmm compile`) -> an NSF, or an
//! NSFe when the output ends in `.nsfe`.

use anyhow::Context;
use clap::Args;
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use std::path::{Path, PathBuf};

/// Build an NSF (or NSFe) music file playing the songs with the ROM's player.
#[derive(Args)]
pub struct NsfArgs {
    #[command(flatten)]
    pub input: super::song_inputs::SongsArgs,
    /// Output file: `.nsf`, or `.nsfe` for NSFe with track titles and times.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Album title (31 ASCII characters in an NSF header).
    #[arg(long, default_value = "nesmm")]
    pub title: String,
    /// Artist.
    #[arg(long, default_value = "")]
    pub artist: String,
    /// Copyright line.
    #[arg(long, default_value = "")]
    pub copyright: String,
}

fn is_nsfe(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("nsfe"))
}

pub fn run(args: NsfArgs) -> anyhow::Result<()> {
    super::output_path::expect_extension(&args.output, "nsf", "an NSF or NSFe", &["nsf", "nsfe"])?;
    let (region, songs) = (args.input.region(), args.input.load_streams()?);
    let opts = NsfOptions {
        region,
        title: args.title.clone(),
        artist: args.artist.clone(),
        copyright: args.copyright.clone(),
    };
    let built = build_nsf(&songs, &opts).context("cannot build the NSF")?;
    let bytes = if is_nsfe(&args.output) {
        built.nsfe().to_bytes()?
    } else {
        built.nsf.to_bytes()?
    };
    nesmm::io::write_atomic(&args.output, &bytes).with_context(|| {
        format!(
            "cannot write {}; check that its folder is writable",
            args.output.display()
        )
    })?;
    println!(
        "{}: {} songs, {} {}, {} bytes (INIT ${:04X}, PLAY ${:04X})",
        args.output.display(),
        songs.len(),
        opts.region.name(),
        if is_nsfe(&args.output) { "NSFe" } else { "NSF" },
        bytes.len(),
        built.nsf.header.init_addr,
        built.nsf.header.play_addr
    );
    Ok(())
}
