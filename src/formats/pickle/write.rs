//! Writing NES-MDB pickles byte for byte as Python 2's cPickle (protocol 0) wrote them.

use super::PickleKind;
use crate::score::Score;

/// C's `%.17g`, which Python 2's cPickle writes FLOAT arguments with (`24.0` -> `24`).
fn format_g17(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exp.abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        trim(format!("{x:.decimals$}"))
    }
}

/// Appends Python 2's `repr(bytes)` (the STRING opcode argument).
pub(super) fn push_python_str_repr(out: &mut Vec<u8>, s: &[u8]) {
    let quote = if s.contains(&b'\'') && !s.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.reserve(s.len() * 4 + 2);
    out.push(quote);
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c == quote => out.extend_from_slice(&[b'\\', c]),
            c if !(0x20..0x7f).contains(&c) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 15)],
                ]);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// The `nsamps` a score is written with: its recorded source length, else the smallest sample
/// count with `int(nsamps / 44100 * rate) == N`.
pub fn nsamps_for(score: &Score) -> u64 {
    if let Some(n) = score.source_samples {
        return n;
    }
    let frames = score.len() as u64;
    let rate = score.rate;
    if !(rate.is_finite() && rate > 0.0) {
        // No sample count fits a rate that validation rejects; write the frame count's worth.
        return frames;
    }
    let frames_at = |s: u64| (s as f64 / 44100.0 * rate) as u64;
    let mut s = (frames as f64 / rate * 44100.0).ceil().max(0.0) as u64;
    // Float rounding can land a sample or two off either way; settle on the smallest count.
    for _ in 0..8 {
        if s > 0 && frames_at(s - 1) >= frames {
            s -= 1;
        } else if frames_at(s) < frames {
            s = s.saturating_add(1);
        } else {
            break;
        }
    }
    s
}

/// Writes `score` as an NES-MDB pickle of `kind`, byte for byte the layout NES-MDB's Python 2
/// code produced. A seprsco keeps only the notes; an exprsco of a non-expressive score carries
/// its default velocities and timbres.
pub fn write_pickle(score: &Score, kind: PickleKind) -> Vec<u8> {
    let depth = match kind {
        PickleKind::Seprsco => 1,
        PickleKind::Exprsco => 3,
    };
    let mut data = Vec::with_capacity(score.len() * 4 * depth);
    for frame in &score.frames {
        for cell in frame {
            data.push(cell.note);
            if depth == 3 {
                data.push(cell.velocity);
                data.push(cell.timbre);
            }
        }
    }
    let mut out = Vec::with_capacity(data.len() * 3 + 256);
    out.extend_from_slice(format!("(F{}\n", format_g17(score.rate)).as_bytes());
    let nsamps = nsamps_for(score);
    if nsamps <= i64::MAX as u64 {
        out.extend_from_slice(format!("I{nsamps}\n").as_bytes());
    } else {
        out.extend_from_slice(format!("L{nsamps}L\n").as_bytes());
    }
    out.extend_from_slice(
        b"cnumpy.core.multiarray\n_reconstruct\np1\n(cnumpy\nndarray\np2\n(I0\ntS'b'\ntRp3\n(I1\n(",
    );
    out.extend_from_slice(format!("I{}\nI4\n", score.len()).as_bytes());
    if depth == 3 {
        out.extend_from_slice(b"I3\n");
    }
    out.extend_from_slice(
        b"tcnumpy\ndtype\np4\n(S'u1'\nI0\nI1\ntRp5\n(I3\nS'|'\nNNNI-1\nI-1\nI0\ntbI00\nS",
    );
    push_python_str_repr(&mut out, &data);
    out.extend_from_slice(b"\ntbtp6\n.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsamps_of_unplayable_rates_does_not_hang() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
            let s = Score::from_notes("x", rate, &[[0u8; 4]; 3]);
            let _ = write_pickle(&s, PickleKind::Seprsco);
        }
    }

    #[test]
    fn nsamps_gives_back_the_frame_count() {
        for (n, rate) in [
            (0usize, 24.0),
            (1, 24.0),
            (522, 24.0),
            (36424, 24.0),
            (77, 60.0988),
        ] {
            let s = Score::from_notes("x", rate, &vec![[0u8; 4]; n]);
            let ns = nsamps_for(&s);
            assert_eq!(
                (ns as f64 / 44100.0 * rate) as usize,
                n,
                "n={n} rate={rate}"
            );
            if ns > 0 {
                assert!((((ns - 1) as f64 / 44100.0 * rate) as usize) < n);
            }
        }
    }

    #[test]
    fn float_format_matches_c_g17() {
        assert_eq!(format_g17(24.0), "24");
        assert_eq!(format_g17(60.0988), "60.098799999999997");
        assert_eq!(format_g17(0.5), "0.5");
        assert_eq!(format_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_g17(1e22), "1e+22");
    }
}
