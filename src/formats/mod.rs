//! File formats a [`Score`] is read from and written to, chosen by file name.
//!
//! | extension | format |
//! |---|---|
//! | `.seprsco.pkl` | NES-MDB separated score (notes only) |
//! | `.exprsco.pkl` | NES-MDB expressive score (note, velocity, timbre) |
//! | other `.pkl` | NES-MDB pickle; read: seprsco or exprsco by its shape; write: seprsco |
//! | `.mid`, `.midi` | Standard MIDI file |
//! | `.vgm` | VGM APU register log |
//! | `.txt` | APU register stream dump ([`crate::apu_stream::ApuStream::to_text`]); read: a
//! FamiTracker text export when its content is one ([`famitracker`]); write: FamiTracker or
//! FamiStudio text with [`save_tracker_text`] |

pub mod famistudio;
pub mod famitracker;
pub mod midi;
mod midi_import;
pub mod nesmdb;
pub mod pickle;
pub mod vgm;
pub mod vgm_score;

pub use midi_import::{drum_to_noise, scale_velocity};

use crate::error::{Error, Result};
use crate::score::Score;
use pickle::PickleKind;
use std::path::Path;

/// A file format the tool knows, chosen by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// `.seprsco.pkl` (and any other `.pkl`, read by content).
    Seprsco,
    /// `.exprsco.pkl`.
    Exprsco,
    /// `.mid`, `.midi`.
    Midi,
    /// `.vgm`.
    Vgm,
    /// `.txt`: an APU register stream dump.
    StreamText,
}

/// The extensions [`FileFormat::from_path`] accepts, for messages.
pub const SUPPORTED_EXTENSIONS: &str = ".seprsco.pkl, .exprsco.pkl, .pkl, .mid, .midi, .vgm, .txt";

impl FileFormat {
    /// The format a file name stands for. A plain `.pkl` is [`FileFormat::Seprsco`] here;
    /// [`load_score`] reads its content to tell seprsco from exprsco.
    pub fn from_path(path: &Path) -> Result<FileFormat> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let ext = |e: &str| name.ends_with(e);
        if ext(".exprsco.pkl") {
            Ok(FileFormat::Exprsco)
        } else if ext(".pkl") {
            Ok(FileFormat::Seprsco)
        } else if ext(".mid") || ext(".midi") {
            Ok(FileFormat::Midi)
        } else if ext(".vgm") {
            Ok(FileFormat::Vgm)
        } else if ext(".txt") {
            Ok(FileFormat::StreamText)
        } else {
            Err(Error::format(
                path,
                format!(
                    "unknown file type; name it with one of the supported extensions: \
                     {SUPPORTED_EXTENSIONS}"
                ),
            ))
        }
    }

    /// A short human name.
    pub fn description(self) -> &'static str {
        match self {
            FileFormat::Seprsco => "NES-MDB seprsco pickle",
            FileFormat::Exprsco => "NES-MDB exprsco pickle",
            FileFormat::Midi => "MIDI file",
            FileFormat::Vgm => "VGM register log",
            FileFormat::StreamText => "APU stream text dump",
        }
    }
}

/// Why a `.txt` stream dump cannot be a score source or target.
fn stream_text_is_not_a_score(path: &Path) -> Error {
    Error::Unsupported(format!(
        "{}: a .txt stream dump holds APU register writes, not a score (a FamiTracker text \
         export is read as one; write one with `--to famitracker`); convert between \
         scores ({SUPPORTED_EXTENSIONS} minus .txt), or compile a score to get a stream",
        path.display()
    ))
}

/// Reads a score from `path`, choosing the format by its name (see [`FileFormat::from_path`]).
pub fn load_score(path: &Path) -> Result<Score> {
    let format = FileFormat::from_path(path)?;
    let bytes = crate::io::read_file(path)?;
    match format {
        FileFormat::Seprsco | FileFormat::Exprsco => {
            let score = pickle::read_pickle(&bytes, path)?;
            let claimed = PickleKind::from_file_name(&path.to_string_lossy());
            match (claimed, score.expressive) {
                (Some(PickleKind::Seprsco), true) | (Some(PickleKind::Exprsco), false) => {
                    Err(Error::format(
                        path,
                        format!(
                            "the name says {} but the pickle holds a {} array; rename the file",
                            format.description(),
                            if score.expressive {
                                "(N, 4, 3) exprsco"
                            } else {
                                "(N, 4) seprsco"
                            }
                        ),
                    ))
                }
                _ => Ok(score),
            }
        }
        FileFormat::Midi => Ok(midi::read_midi(&bytes, path)?.0),
        FileFormat::Vgm => {
            let log = vgm::read_vgm(&bytes, path)?;
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            Ok(vgm_score::vgm_to_score(&log, &name))
        }
        FileFormat::StreamText if famitracker::is_famitracker_text(&bytes) => {
            Ok(famitracker::read_famitracker(&bytes, path)?.score)
        }
        FileFormat::StreamText => Err(stream_text_is_not_a_score(path)),
    }
}

/// The tracker text formats a score is exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerText {
    /// FamiTracker 0.4.6 text export ([`famitracker`]).
    FamiTracker,
    /// FamiStudio text ([`famistudio`]).
    FamiStudio,
}

/// Writes `score` to `path` atomically as tracker text; returns what the text could not hold.
pub fn save_tracker_text(score: &Score, path: &Path, format: TrackerText) -> Result<Vec<String>> {
    let not_written =
        |e: Error| Error::Unsupported(format!("{}: not written: {e}", path.display()));
    let (text, warnings) = match format {
        TrackerText::FamiTracker => famitracker::write_famitracker(score),
        TrackerText::FamiStudio => famistudio::write_famistudio(score),
    }
    .map_err(not_written)?;
    crate::io::write_atomic(path, text.as_bytes())?;
    Ok(warnings)
}

/// Writes `score` to `path` atomically, in the format its name asks for.
pub fn save_score(score: &Score, path: &Path) -> Result<()> {
    let format = FileFormat::from_path(path)?;
    // Never write a file that no reader (ours or NES-MDB's) would accept.
    score
        .validate()
        .map_err(|e| Error::Unsupported(format!("{}: not written: {e}", path.display())))?;
    let bytes = match format {
        FileFormat::Seprsco => pickle::write_pickle(score, PickleKind::Seprsco),
        FileFormat::Exprsco => pickle::write_pickle(score, PickleKind::Exprsco),
        FileFormat::Midi => midi::write_midi(score)?,
        // A VGM holds register writes: compile the score (NTSC, default dynamics) and log them.
        FileFormat::Vgm => {
            let stream =
                crate::compile::compile(score, &crate::compile::CompileOptions::default())?;
            vgm::stream_to_vgm(&stream, &vgm::Gd3::for_song(&score.name))
        }
        FileFormat::StreamText => return Err(stream_text_is_not_a_score(path)),
    };
    crate::io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        let f = |p: &str| FileFormat::from_path(Path::new(p));
        assert_eq!(f("a/x.seprsco.pkl").unwrap(), FileFormat::Seprsco);
        assert_eq!(f("x.EXPRSCO.pkl").unwrap(), FileFormat::Exprsco);
        assert_eq!(f("x.pkl").unwrap(), FileFormat::Seprsco);
        assert_eq!(f("x.mid").unwrap(), FileFormat::Midi);
        assert_eq!(f("x.midi").unwrap(), FileFormat::Midi);
        assert_eq!(f("x.vgm").unwrap(), FileFormat::Vgm);
        assert_eq!(f("x.txt").unwrap(), FileFormat::StreamText);
        let e = f("dir/song.wav").unwrap_err().to_string();
        assert!(
            e.contains("song.wav") && e.contains(".exprsco.pkl") && e.contains(".vgm"),
            "{e}"
        );
    }

    #[test]
    fn save_then_load_pickles_and_kind_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Score::from_notes("x", 24.0, &[[60, 62, 40, 5], [0, 62, 0, 0]]);
        s.expressive = true;
        s.frames[0][0].velocity = 9;
        let ex = dir.path().join("x.exprsco.pkl");
        save_score(&s, &ex).unwrap();
        let back = load_score(&ex).unwrap();
        assert_eq!(back.frames, s.frames);
        assert!(back.expressive);
        let plain = dir.path().join("y.pkl");
        save_score(&s, &plain).unwrap();
        let back = load_score(&plain).unwrap();
        assert!(!back.expressive);
        assert_eq!(back.note_matrix(), s.note_matrix());
        // An exprsco array under a seprsco name is refused with advice.
        let wrong = dir.path().join("z.seprsco.pkl");
        std::fs::copy(&ex, &wrong).unwrap();
        let e = load_score(&wrong).unwrap_err().to_string();
        assert!(e.contains("z.seprsco.pkl") && e.contains("rename"), "{e}");
        let e = save_score(&s, &dir.path().join("s.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.txt"), "{e}");
    }
}
