//! The songs `build`, `nsf` and `export-ca65` take: score files, compiled through the one
//! compile path ([`compile_song`]: region and `--loop` / `--no-loop` applied alike), or APU
//! stream dumps from `nesmm compile --stream-out`, played as they were compiled.

use anyhow::Context;
use clap::Args;
use nesmm::compile::{compile_song, LoopMode};
use nesmm::formats::vgm::{read_vgm, stream_to_vgm, Gd3};
use nesmm::formats::vgm_score::vgm_to_score;
use nesmm::{ApuStream, Region, Score};
use std::path::{Path, PathBuf};

/// The songs of `build`, `nsf` and `export-ca65`, their region and what they do at their end.
#[derive(Args, Debug, Clone)]
pub struct SongsArgs {
    /// The songs, in track order: score files (NES-MDB .seprsco.pkl / .exprsco.pkl, MIDI, or
    /// any score format nesmm reads) or stream dumps written by `nesmm compile --stream-out`.
    #[arg(required = true)]
    pub songs: Vec<PathBuf>,
    /// Build for a PAL console (50 Hz, PAL periods; scores are compiled for PAL, dumps must be
    /// PAL); NTSC otherwise.
    #[arg(long)]
    pub pal: bool,
    #[command(flatten)]
    pub looping: super::loop_args::LoopArgs,
}

impl SongsArgs {
    pub fn region(&self) -> Region {
        if self.pal {
            Region::Pal
        } else {
            Region::Ntsc
        }
    }

    /// The songs as streams ([`load_streams`]).
    pub fn load_streams(&self) -> anyhow::Result<Vec<ApuStream>> {
        load_streams(&self.songs, self.region(), self.looping.mode())
    }
}

/// First bytes of a stream dump ([`ApuStream::to_text`]).
const DUMP_HEADER: &[u8] = b"# nesmm apu stream";

/// One song to build: the score it came from (none for a stream dump) and what it plays.
pub struct SongInput {
    pub path: PathBuf,
    pub score: Option<Score>,
    pub stream: ApuStream,
}

impl SongInput {
    /// The score to draw for this song: its own, or for a dump the stream read back the way
    /// NES-MDB reads an APU log (what the ROM plays, at 24 Hz).
    pub fn score_to_show(&self) -> anyhow::Result<Score> {
        if let Some(score) = &self.score {
            return Ok(score.clone());
        }
        let name = &self.stream.name;
        let vgm = stream_to_vgm(&self.stream, &Gd3::for_song(name));
        let log = read_vgm(&vgm, &self.path)
            .with_context(|| format!("cannot read back the stream dump {}", self.path.display()))?;
        Ok(vgm_to_score(&log, name))
    }
}

/// Loads `paths` in order: a stream dump as it is (it must be for `region`, and `looping`
/// must keep it as compiled), anything else through `load_score` and [`compile_song`].
pub fn load_song_inputs(
    paths: &[PathBuf],
    region: Region,
    looping: LoopMode,
    load_score: &dyn Fn(&Path) -> anyhow::Result<Score>,
) -> anyhow::Result<Vec<SongInput>> {
    paths
        .iter()
        .map(|p| load_song_input(p, region, looping, load_score))
        .collect()
}

fn load_song_input(
    path: &Path,
    region: Region,
    looping: LoopMode,
    load_score: &dyn Fn(&Path) -> anyhow::Result<Score>,
) -> anyhow::Result<SongInput> {
    let bytes = nesmm::io::read_file(path)
        .with_context(|| format!("cannot read the song {}; check the path", path.display()))?;
    if bytes.starts_with(DUMP_HEADER) {
        if looping != LoopMode::AsScore {
            anyhow::bail!(
                "{}: a stream dump loops or stops as it was compiled; --loop and --no-loop \
                 apply to score files\nhint: give the score instead, or leave out \
                 --loop/--no-loop",
                path.display()
            );
        }
        let text = String::from_utf8_lossy(&bytes);
        let stream =
            ApuStream::from_text(&text, &path.display().to_string()).with_context(|| {
                format!(
                    "cannot read the stream dump {}; write it again with `nesmm compile`",
                    path.display()
                )
            })?;
        if stream.region != region {
            anyhow::bail!(
                "{} was compiled for {} but {} was asked for; drop or add --pal to match, or \
                 compile the score again for the other region",
                path.display(),
                stream.region.name().to_uppercase(),
                region.name().to_uppercase()
            );
        }
        return Ok(SongInput {
            path: path.to_path_buf(),
            score: None,
            stream,
        });
    }
    let score = load_score(path)?;
    let stream = compile_song(&score, region, looping).with_context(|| {
        format!(
            "cannot compile {}; fix the value named below in the score",
            path.display()
        )
    })?;
    Ok(SongInput {
        path: path.to_path_buf(),
        score: Some(score),
        stream,
    })
}

/// The streams of `paths` as `nsf` and `export-ca65` read them ([`load_score_or_hint`]).
pub fn load_streams(
    paths: &[PathBuf],
    region: Region,
    looping: LoopMode,
) -> anyhow::Result<Vec<ApuStream>> {
    let songs = load_song_inputs(paths, region, looping, &load_score_or_hint)?;
    Ok(songs.into_iter().map(|s| s.stream).collect())
}

/// How `nsf` and `export-ca65` read a score: any format nesmm reads, with a hint that a
/// stream dump does too.
pub fn load_score_or_hint(path: &Path) -> anyhow::Result<Score> {
    nesmm::formats::load_score(path).with_context(|| {
        format!(
            "cannot read the song {}; give a score nesmm reads (NES-MDB .pkl, MIDI, VGM) or a \
             stream dump from `nesmm compile --stream-out`",
            path.display()
        )
    })
}
