//! One entry point for "write these songs to that file": the file name picks the stage.
//!
//! Score formats (`.seprsco.pkl`, `.exprsco.pkl`, `.mid`, `.vgm`) go through
//! [`crate::formats::save_score`]; `.wav` compiles and renders through the APU synth; `.nes`
//! compiles and builds a ROM; `.nsf` / `.nsfe` compile and build an NSF. Commands that make
//! songs (`generate`, the VAE's `vary` and `interpolate`) call this, so every output a user can
//! name works the same way everywhere.

use crate::compile::{compile_songs, LoopMode};
use crate::error::{Error, Result};
use crate::formats::save_score;
use crate::region::Region;
use crate::rom::nsf::{build_nsf, NsfOptions};
use crate::rom::pipeline::{build_rom_from_scores, RomRequest};
use crate::score::Score;
use crate::synth::{render, write_wav, RenderOptions};
use std::path::Path;

/// How songs are written when the target is audio, a ROM or an NSF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputOptions {
    /// Timing of `.wav`, `.nes`, `.nsf` outputs.
    pub region: Region,
    /// Album title for ROMs and NSFs.
    pub title: String,
    /// WAV sample rate.
    pub sample_rate: u32,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            region: Region::Ntsc,
            title: "nesmm".into(),
            sample_rate: 44_100,
        }
    }
}

/// What a file name asks [`write_songs`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Score,
    Wav,
    Rom,
    Nsf,
    Nsfe,
}

impl OutputKind {
    /// The kind a path's extension names (anything else is a score format, checked on save).
    pub fn from_path(path: &Path) -> OutputKind {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "wav" => OutputKind::Wav,
            "nes" => OutputKind::Rom,
            "nsf" => OutputKind::Nsf,
            "nsfe" => OutputKind::Nsfe,
            _ => OutputKind::Score,
        }
    }
}

/// Writes `scores` to `path` (atomically) in the form its extension names. A ROM or NSF holds
/// every score as a track; a WAV plays them one after another; a score format holds exactly
/// one song.
pub fn write_songs(scores: &[Score], path: &Path, opts: &OutputOptions) -> Result<()> {
    if scores.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: no songs to write",
            path.display()
        )));
    }
    match OutputKind::from_path(path) {
        OutputKind::Score => match scores {
            [one] => save_score(one, path),
            _ => Err(Error::Unsupported(format!(
                "{}: a score file holds one song, not {}; write a .nes or .nsf album, or one \
                 file per song",
                path.display(),
                scores.len()
            ))),
        },
        OutputKind::Wav => {
            let ropts = RenderOptions {
                sample_rate: opts.sample_rate,
            };
            let mut samples = Vec::new();
            for stream in compile_songs(scores, opts.region, LoopMode::AsScore)? {
                samples.extend(render(&stream, &ropts));
            }
            write_wav(path, &samples, opts.sample_rate)
        }
        OutputKind::Rom => {
            let rom = build_rom_from_scores(
                scores,
                &RomRequest {
                    region: opts.region,
                    loop_mode: LoopMode::AsScore,
                    title: opts.title.clone(),
                    ..RomRequest::default()
                },
            )?;
            crate::io::write_atomic(path, &rom.bytes)
        }
        OutputKind::Nsf | OutputKind::Nsfe => {
            let streams = compile_songs(scores, opts.region, LoopMode::AsScore)?;
            let built = build_nsf(
                &streams,
                &NsfOptions {
                    region: opts.region,
                    title: opts.title.clone(),
                    ..Default::default()
                },
            )?;
            let bytes = if OutputKind::from_path(path) == OutputKind::Nsfe {
                built.nsfe().to_bytes()?
            } else {
                built.nsf.to_bytes()?
            };
            crate::io::write_atomic(path, &bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> Score {
        let notes: Vec<[u8; 4]> = (0..48).map(|i| [60 + (i % 12) as u8, 0, 45, 4]).collect();
        Score::from_notes("t", 24.0, &notes)
    }

    #[test]
    fn every_kind_is_written_and_recognisable() {
        let dir = std::env::temp_dir().join(format!("nesmm-output-{}", std::process::id()));
        let opts = OutputOptions::default();
        for (name, magic) in [
            ("a.nes", &b"NES\x1a"[..]),
            ("a.nsf", b"NESM\x1a"),
            ("a.nsfe", b"NSFE"),
            ("a.wav", b"RIFF"),
            ("a.mid", b"MThd"),
            ("a.vgm", b"Vgm "),
        ] {
            let p = dir.join(name);
            write_songs(&[song()], &p, &opts).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            assert!(bytes.starts_with(magic), "{name}");
        }
        let e = write_songs(&[song(), song()], &dir.join("b.mid"), &opts).unwrap_err();
        assert!(e.to_string().contains("one song"), "{e}");
        assert!(!dir.join("b.mid").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
