//! `nesmm compile`: a score file -> an APU register stream dump.

use anyhow::Context;
use clap::Args;
use nesmm::compile::{compile, CompileOptions, Dynamics};
use nesmm::{ApuStream, Region};
use std::path::PathBuf;

/// Compile a score to APU register writes, one line per 60 Hz (or 50 Hz) frame.
#[derive(Args)]
pub struct CompileArgs {
    /// The song: a NES-MDB .seprsco.pkl / .exprsco.pkl (or any score format nesmm reads).
    pub song: PathBuf,
    /// Where to write the stream as text (`init ...`, then `frame $40xx=$vv ...` lines).
    #[arg(long, value_name = "FILE")]
    pub stream_out: PathBuf,
    /// Compile for a PAL console (50.007 Hz frames, PAL periods); NTSC otherwise.
    #[arg(long)]
    pub pal: bool,
    /// Volume 15 on every note with the score's timbre, instead of the default instruments
    /// (seprsco) or the score's own dynamics (exprsco).
    #[arg(long)]
    pub flat: bool,
}

/// Writes/frame figures of a stream: (mean, max).
fn writes_per_frame(stream: &ApuStream) -> (f64, usize) {
    let max = stream.frames().map(<[_]>::len).max().unwrap_or(0);
    let mean = stream.write_count() as f64 / stream.len().max(1) as f64;
    (mean, max)
}

pub fn run(args: CompileArgs) -> anyhow::Result<()> {
    super::output_path::expect_extension(
        &args.stream_out,
        "compile --stream-out",
        "an APU stream dump (text)",
        &["txt"],
    )?;
    let score = super::info::load_song(&args.song)?;
    let opts = CompileOptions {
        region: if args.pal { Region::Pal } else { Region::Ntsc },
        dynamics: args.flat.then_some(Dynamics::Flat),
    };
    let stream = compile(&score, &opts).with_context(|| {
        format!(
            "cannot compile {}; fix the value named below in the score",
            args.song.display()
        )
    })?;
    nesmm::io::write_atomic(&args.stream_out, stream.to_text().as_bytes()).with_context(|| {
        format!(
            "cannot write {}; check that its folder is writable",
            args.stream_out.display()
        )
    })?;
    let (mean, max) = writes_per_frame(&stream);
    println!(
        "{}: {} {} frames ({:.1} s), {} writes + {} init, {:.2} writes/frame mean, {} max, \
         dynamics {:?}{} -> {}",
        score.name,
        stream.region.name(),
        stream.len(),
        stream.duration_secs(),
        stream.write_count(),
        stream.init.len(),
        mean,
        max,
        opts.dynamics_for(&score),
        stream
            .loop_frame
            .map_or(String::new(), |l| format!(", loops to frame {l}")),
        args.stream_out.display()
    );
    Ok(())
}
