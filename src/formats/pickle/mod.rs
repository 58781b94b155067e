//! NES-MDB's score pickles: Python 2 pickles, protocol 0 (text opcodes), of the tuple
//! `(rate, nsamps, score)` where `score` is a numpy `uint8` array of shape `(N, 4)` (seprsco) or
//! `(N, 4, 3)` (exprsco) rebuilt through `numpy.core.multiarray._reconstruct`.
//!
//! The reader is a small opcode machine for exactly the opcodes such files use (see the Python
//! `pickletools` module for their meaning). It never trusts a claimed size: every value it builds
//! is bounded by the bytes it has read, nesting is limited, and every error names the file and
//! the byte offset. The writer emits the same bytes Python 2's cPickle (protocol 0) wrote for
//! NES-MDB, so an unmodified song round-trips byte for byte.

mod machine;
mod write;

use crate::error::{Error, Result};
use crate::score::{Cell, Frame, Score, Voice};
use machine::{Machine, Value};
use std::path::Path;

pub use write::{nsamps_for, write_pickle};

/// Which NES-MDB score format a pickle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickleKind {
    /// Separated score: `uint8[N, 4]`, notes only.
    Seprsco,
    /// Expressive score: `uint8[N, 4, 3]`, (note, velocity, timbre).
    Exprsco,
}

impl PickleKind {
    /// The file-name suffix NES-MDB uses (`.seprsco.pkl`, `.exprsco.pkl`).
    pub fn suffix(self) -> &'static str {
        match self {
            PickleKind::Seprsco => ".seprsco.pkl",
            PickleKind::Exprsco => ".exprsco.pkl",
        }
    }

    /// The kind a file name claims by its suffix, if any.
    pub fn from_file_name(name: &str) -> Option<PickleKind> {
        if name.ends_with(".seprsco.pkl") {
            Some(PickleKind::Seprsco)
        } else if name.ends_with(".exprsco.pkl") {
            Some(PickleKind::Exprsco)
        } else {
            None
        }
    }
}

/// The song name a pickle path implies: the file name without `.seprsco.pkl`,
/// `.exprsco.pkl` or `.pkl`.
pub fn song_name(origin: &Path) -> String {
    let file = origin
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [".seprsco.pkl", ".exprsco.pkl", ".pkl"] {
        if let Some(stem) = file.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    file
}

/// Reads an NES-MDB pickle (seprsco or exprsco, told apart by the array's shape). `origin`
/// names the file in errors and gives the song name.
pub fn read_pickle(bytes: &[u8], origin: &Path) -> Result<Score> {
    let mut m = Machine::new(bytes, origin);
    let top = m.run()?;
    let end = m.pos;
    let fail = |what: String| Error::format(origin, format!("pickle: {what}"));
    let Value::Tuple(items, _) = &top else {
        return Err(fail(format!(
            "holds a {}, not the NES-MDB tuple (rate, nsamps, score)",
            top.kind()
        )));
    };
    let [rate, nsamps, array] = &items[..] else {
        return Err(fail(format!(
            "holds a tuple of {} items, not (rate, nsamps, score)",
            items.len()
        )));
    };
    let rate = match rate {
        Value::Float(r) => *r,
        Value::Int(r) => *r as f64,
        other => return Err(fail(format!("rate is a {}, not a number", other.kind()))),
    };
    let nsamps = match nsamps {
        Value::Int(n) if *n >= 0 => *n as u64,
        other => {
            return Err(fail(format!(
                "nsamps is {} {:?}, not a sample count",
                other.kind(),
                other
            )))
        }
    };
    let array = match array {
        Value::Array(Some(a)) => a,
        Value::Array(None) => return Err(fail("score array was never given its data".into())),
        other => {
            return Err(fail(format!(
                "score is a {}, not a numpy array",
                other.kind()
            )))
        }
    };
    let (n, depth) = match array.shape[..] {
        [n, 4] => (n, 1),
        [n, 4, 3] => (n, 3),
        _ => {
            return Err(fail(format!(
                "score shape {:?} is neither (N, 4) (seprsco) nor (N, 4, 3) (exprsco)",
                array.shape
            )))
        }
    };
    let need = n.checked_mul(4 * depth);
    if need != Some(array.data.len()) {
        return Err(fail(format!(
            "score shape {:?} needs {} bytes but its data holds {}",
            array.shape,
            need.map_or("more than usize".to_string(), |b| b.to_string()),
            array.data.len()
        )));
    }
    if !(rate.is_finite() && rate > 0.0) {
        return Err(fail(format!("rate {rate} is not a positive frame rate")));
    }
    let expected = (nsamps as f64 / 44100.0 * rate) as i128;
    if (expected - n as i128).abs() > 1 {
        return Err(fail(format!(
            "{n} frames, but nsamps {nsamps} at {rate} Hz implies {expected}"
        )));
    }
    let data = array.data.as_slice();
    // Byte index of element (frame, voice, field) in C or Fortran order.
    let index = |f: usize, v: usize, k: usize| {
        if array.fortran {
            f + n * (v + 4 * k)
        } else {
            (f * 4 + v) * depth + k
        }
    };
    let cell = |voice: Voice, note: u8, f: usize| {
        if depth == 1 {
            Cell::from_note(voice, note)
        } else {
            let v = voice.index();
            Cell {
                note,
                velocity: data[index(f, v, 1)],
                timbre: data[index(f, v, 2)],
            }
        }
    };
    let frames: Vec<Frame> = if array.fortran {
        (0..n)
            .map(|f| Voice::ALL.map(|voice| cell(voice, data[index(f, voice.index(), 0)], f)))
            .collect()
    } else if depth == 1 {
        // The common case, kept tight: C order, one byte per cell.
        data.chunks_exact(4)
            .map(|c| Voice::ALL.map(|voice| Cell::from_note(voice, c[voice.index()])))
            .collect()
    } else {
        data.chunks_exact(12)
            .map(|c| {
                Voice::ALL.map(|voice| {
                    let k = voice.index() * 3;
                    Cell {
                        note: c[k],
                        velocity: c[k + 1],
                        timbre: c[k + 2],
                    }
                })
            })
            .collect()
    };
    let score = Score {
        name: song_name(origin),
        rate,
        expressive: depth == 3,
        frames,
        source_samples: Some(nsamps),
        loop_frame: None,
    };
    score
        .validate()
        .map_err(|e| Error::format(origin, format!("pickle (ends at byte {end}): {e}")))?;
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use write::push_python_str_repr;

    fn origin() -> &'static Path {
        Path::new("song.seprsco.pkl")
    }

    #[test]
    fn round_trips_synthetic_scores_both_kinds() {
        let mut s = Score::from_notes("song", 24.0, &[[60, 0, 40, 3], [61, 33, 0, 16], [0; 4]]);
        for kind in [PickleKind::Seprsco, PickleKind::Exprsco] {
            let bytes = write_pickle(&s, kind);
            let back = read_pickle(&bytes, origin()).unwrap();
            assert_eq!(back.frames, s.frames);
            assert_eq!(back.expressive, kind == PickleKind::Exprsco);
            assert_eq!(back.source_samples, Some(nsamps_for(&s)));
        }
        s.frames[0][0].velocity = 7;
        s.frames[0][0].timbre = 2;
        let back = read_pickle(&write_pickle(&s, PickleKind::Exprsco), origin()).unwrap();
        assert_eq!(
            back.frames[0][0],
            Cell {
                note: 60,
                velocity: 7,
                timbre: 2
            }
        );
    }

    #[test]
    fn reads_fortran_order_arrays() {
        let mut s = Score::from_notes("song", 24.0, &[[60, 34, 40, 3], [61, 92, 0, 16]]);
        s.frames[1][0].timbre = 2;
        s.frames[0][3].velocity = 5;
        for kind in [PickleKind::Seprsco, PickleKind::Exprsco] {
            let depth = if kind == PickleKind::Exprsco { 3 } else { 1 };
            let c_order = write_pickle(&s, kind);
            let cut = c_order.windows(7).position(|w| w == b"tbI00\nS").unwrap();
            // Column-major: frame index fastest, then voice, then field.
            let mut fortran = Vec::new();
            for k in 0..depth {
                for v in 0..4 {
                    for f in &s.frames {
                        fortran.push([f[v].note, f[v].velocity, f[v].timbre][k]);
                    }
                }
            }
            let mut bytes = c_order[..cut].to_vec();
            bytes.extend_from_slice(b"tbI01\nS");
            push_python_str_repr(&mut bytes, &fortran);
            bytes.extend_from_slice(b"\ntbtp6\n.");
            let back = read_pickle(&bytes, origin()).unwrap();
            if depth == 3 {
                assert_eq!(back.frames, s.frames);
            } else {
                assert_eq!(back.note_matrix(), s.note_matrix());
            }
        }
    }

    #[test]
    fn song_name_strips_format_suffixes() {
        assert_eq!(song_name(Path::new("/a/b/x_1.seprsco.pkl")), "x_1");
        assert_eq!(song_name(Path::new("x.exprsco.pkl")), "x");
        assert_eq!(song_name(Path::new("x.pkl")), "x");
    }
}
