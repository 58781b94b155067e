//! File formats a [`Score`] is read from and written to, chosen by file name.
//!
//! | extension | format |
//! |---|---|
//! | `.seprsco.pkl` | NES-MDB separated score (notes only) |
//! | `.exprsco.pkl` | NES-MDB expressive score (note, velocity, timbre) |
//! | other `.pkl` | NES-MDB pickle; read: seprsco or exprsco by its shape; write: seprsco |
//! | `.mid`, `.midi`, `.rmi` | Standard MIDI file (bare or in a RIFF RMID wrapper), read leniently |
//! | `.vgm`, `.vgz` | VGM APU register log (`.vgz`: gzip-compressed, read and written in place) |
//! | `.nsf`, `.nsfe` | NES Sound Format: read only, one track played on a 6502 ([`nsf_import`]) |
//! | `.txt` | APU register stream dump ([`crate::apu_stream::ApuStream::to_text`]); read: a
//! FamiTracker text export when its content is one ([`famitracker`]); write: FamiTracker or
//! FamiStudio text with [`save_tracker_text`] |
//!
//! A file whose name has none of these extensions is recognised by its first bytes when they
//! are one of the formats above. A missing file is reported as missing before anything else.

pub mod famistudio;
pub mod famitracker;
pub mod frame_grid;
pub mod midi;
mod midi_import;
pub mod midi_lenient;
mod midi_parse;
mod midi_parts;
mod midi_timing;
pub mod nesmdb;
pub mod nsf_file;
pub mod nsf_import;
pub mod nsfe;
pub mod pickle;
pub mod vgm;
mod vgm_apu;
pub mod vgm_score;
pub mod vgz;

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
    /// `.vgm`, `.vgz`.
    Vgm,
    /// `.nsf`, `.nsfe` (read only).
    Nsf,
    /// `.txt`: an APU register stream dump.
    StreamText,
}

/// The extensions [`FileFormat::from_path`] accepts, for messages.
pub const SUPPORTED_EXTENSIONS: &str =
    ".seprsco.pkl, .exprsco.pkl, .pkl, .mid, .midi, .rmi, .vgm, .vgz, .nsf, .nsfe, .txt";

/// The score formats (everything but the `.txt` stream dump), for messages.
pub const SCORE_EXTENSIONS: &str =
    ".seprsco.pkl, .exprsco.pkl, .pkl, .mid, .midi, .rmi, .vgm, .vgz, .nsf, .nsfe (read only)";

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
        } else if ext(".mid") || ext(".midi") || ext(".rmi") {
            Ok(FileFormat::Midi)
        } else if ext(".vgm") || ext(".vgz") {
            Ok(FileFormat::Vgm)
        } else if ext(".nsf") || ext(".nsfe") {
            Ok(FileFormat::Nsf)
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
            FileFormat::Nsf => "NSF (NES Sound Format)",
            FileFormat::StreamText => "APU stream text dump",
        }
    }

    /// The format `bytes` (a file's start) are in, when they say so: for names without a
    /// known extension.
    pub fn sniff(bytes: &[u8]) -> Option<FileFormat> {
        let starts = |magic: &[u8]| bytes.starts_with(magic);
        if starts(b"MThd") || (starts(b"RIFF") && bytes.get(8..12) == Some(b"RMID")) {
            Some(FileFormat::Midi)
        } else if starts(b"Vgm ") || starts(&[0x1F, 0x8B]) {
            Some(FileFormat::Vgm)
        } else if starts(b"NESM\x1A") || starts(b"NSFE") {
            Some(FileFormat::Nsf)
        } else if starts(&[0x80, 0x02]) {
            Some(FileFormat::Seprsco)
        } else {
            None
        }
    }

    /// The format of an existing input file: by its name, else by its first bytes. A missing
    /// or unreadable file is reported as such before its name is judged.
    pub fn of_input(path: &Path) -> Result<FileFormat> {
        use std::io::Read;
        let mut head = Vec::with_capacity(12);
        std::fs::File::open(path)
            .and_then(|f| f.take(12).read_to_end(&mut head))
            .map_err(|e| Error::io(path, e))?;
        FileFormat::from_path(path).or_else(|e| FileFormat::sniff(&head).ok_or(e))
    }
}

/// Why a `.txt` stream dump cannot be a score source or target.
fn stream_text_is_not_a_score(path: &Path) -> Error {
    Error::Unsupported(format!(
        "{}: a .txt stream dump holds APU register writes, not a score (a FamiTracker text \
         export is read as one; write one with `--to famitracker`); convert between \
         scores ({SCORE_EXTENSIONS}), or compile a score to get a stream",
        path.display()
    ))
}

/// Choices for reading a file that holds more than one song or no fixed length (an NSF).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOptions {
    /// 1-based track of an NSF; `None`: the file's starting track.
    pub track: Option<u16>,
    /// Longest time to play an NSF track, in seconds; `None`: until it ends or loops (at
    /// most [`nsf_import::DEFAULT_MAX_SECONDS`]).
    pub seconds: Option<f64>,
}

/// A score read from a file, with what the reader decided and warned about on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub score: Score,
    /// One line per decision or warning (clipped MIDI bytes, where each MIDI part went, DMC
    /// writes ignored, how an NSF track ended); empty when there is nothing to say.
    pub notes: Vec<String>,
    /// The file is in one of NES-MDB's own forms (a pickle, a VGM log, a MIDI in its layout),
    /// so a MIDI written from it should keep that layout ([`midi::MidiLayout`]).
    pub nesmdb_form: bool,
}

/// Reads a score from `path`, choosing the format by its name (see [`FileFormat::from_path`]).
pub fn load_score(path: &Path) -> Result<Score> {
    load_score_with(path, &ImportOptions::default()).map(|l| l.score)
}

/// [`load_score`] with the choices of [`ImportOptions`], keeping the reader's notes.
pub fn load_score_with(path: &Path, opts: &ImportOptions) -> Result<Loaded> {
    let format = FileFormat::of_input(path)?;
    let bytes = crate::io::read_file(path)?;
    let plain = |score: Score| {
        Ok(Loaded {
            score,
            notes: Vec::new(),
            nesmdb_form: true,
        })
    };
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
                _ => plain(score),
            }
        }
        FileFormat::Midi => {
            let (score, import) = midi::read_midi(&bytes, path)?;
            Ok(Loaded {
                score,
                notes: import.notes,
                nesmdb_form: import.nesmdb_layout,
            })
        }
        FileFormat::Vgm => {
            let bytes = vgz::inflate_if_gzip(bytes, path)?;
            let log = vgm::read_vgm(&bytes, path)?;
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            let name = name.strip_suffix(".vgm").unwrap_or(&name);
            Ok(Loaded {
                score: vgm_score::vgm_to_score(&log, name),
                notes: vgm::dmc_note(&log).into_iter().collect(),
                nesmdb_form: true,
            })
        }
        FileFormat::StreamText if famitracker::is_famitracker_text(&bytes) => {
            let read = famitracker::read_famitracker(&bytes, path)?;
            Ok(Loaded {
                score: read.score,
                notes: read.dropped,
                nesmdb_form: false,
            })
        }
        FileFormat::Nsf => nsf_import::import_file(&bytes, path, opts),
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

/// Writes `score` to `path` atomically, in the format its name asks for (a MIDI in NES-MDB's
/// layout).
pub fn save_score(score: &Score, path: &Path) -> Result<()> {
    save_score_as(score, path, midi::MidiLayout::NesMdb)
}

/// [`save_score`] with the layout a MIDI output gets.
pub fn save_score_as(score: &Score, path: &Path, layout: midi::MidiLayout) -> Result<()> {
    let format = FileFormat::from_path(path)?;
    // Never write a file that no reader (ours or NES-MDB's) would accept.
    score
        .validate()
        .map_err(|e| Error::Unsupported(format!("{}: not written: {e}", path.display())))?;
    let bytes = match format {
        FileFormat::Seprsco => pickle::write_pickle(score, PickleKind::Seprsco),
        FileFormat::Exprsco => pickle::write_pickle(score, PickleKind::Exprsco),
        FileFormat::Midi => midi::write_midi_as(score, layout)?,
        // A VGM holds register writes: compile the score (NTSC, default dynamics) and log them
        // on the score's own time grid, so that reading it back gives the score.
        FileFormat::Vgm => {
            let stream = crate::compile::compile_song(
                score,
                crate::region::Region::Ntsc,
                crate::compile::LoopMode::AsScore,
            )?;
            let vgm = frame_grid::score_stream_to_vgm(score, &stream);
            if vgz::is_vgz_name(path) {
                vgz::deflate(&vgm)
            } else {
                vgm
            }
        }
        FileFormat::Nsf => {
            return Err(Error::Unsupported(format!(
                "{}: scores are not written as NSF by `convert`; build one with `nesmm nsf`",
                path.display()
            )))
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
