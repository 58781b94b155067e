//! The FamiTracker 0.4.6 text of an [`Arrangement`], in the layout the strictest readers accept
//! (formats doc 1.1-1.3 and 1.10): the 0.4.2 header, comment lines before each block, fields
//! split by single spaces, cells joined by ` : ` at fixed offsets, five channels (DPCM empty),
//! a `COLUMNS` line after `TRACK`, hex numbers as `%02X`, upper-case sharps only.

use super::{arrange, note_text, Arrangement, Flow, TrackerCell, HEADER};
use crate::error::Result;
use crate::score::{Score, Voice};
use std::fmt::Write;

/// Effect columns per channel: pulse 1, pulse 2, triangle, noise, DPCM. Pulses and noise need
/// one for `Vxx` and one for the flow effect; triangle and DPCM only the flow effect.
pub const COLUMNS: [usize; 5] = [2, 2, 1, 2, 1];

/// A quoted string field (`"` doubled inside), with line breaks made spaces.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace(['\r', '\n'], " ").replace('"', "\"\""))
}

fn flow_text(flow: Option<Flow>) -> String {
    match flow {
        None => "...".into(),
        Some(Flow::Jump(f)) => format!("B{f:02X}"),
        Some(Flow::Halt) => "C00".into(),
        Some(Flow::Skip) => "D00".into(),
    }
}

/// One channel's cell on a row: note, instrument, volume, effects.
fn cell_text(voice: Option<Voice>, cell: &TrackerCell, columns: usize) -> String {
    let mut s = match voice {
        Some(v) => note_text(v, cell.note),
        None => "...".into(),
    };
    match cell.instrument {
        Some(i) => write!(s, " {i:02X}"),
        None => write!(s, " .."),
    }
    .ok();
    match cell.volume {
        Some(v) => write!(s, " {v:X}"),
        None => write!(s, " ."),
    }
    .ok();
    if columns == 2 {
        match cell.duty {
            Some(d) => write!(s, " V{d:02X}"),
            None => write!(s, " ..."),
        }
        .ok();
    }
    write!(s, " {}", flow_text(cell.flow)).ok();
    s
}

/// The text of `arrangement`.
pub fn arrangement_text(a: &Arrangement) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(HEADER.into());
    line(String::new());
    line("# Song information".into());
    line(format!("TITLE {}", quoted(&a.name)));
    line(format!("AUTHOR {}", quoted("nesmm")));
    line(format!("COPYRIGHT {}", quoted("")));
    line(String::new());
    line("# Song comment".into());
    line(format!(
        "COMMENT {}",
        quoted(&format!(
            "Written by nesmm: one row per score frame (speed {}, tempo {} = {} rows/s).",
            a.speed,
            a.tempo,
            super::rows_per_second(a.speed, a.tempo)
        ))
    ));
    line(String::new());
    line("# Global settings".into());
    for (k, v) in [
        ("MACHINE", 0),
        ("FRAMERATE", 0),
        ("EXPANSION", 0),
        ("VIBRATO", 1),
        ("SPLIT", 32),
    ] {
        line(format!("{k} {v}"));
    }
    line(String::new());
    // Macro numbers: volume macros in instrument order, then duty macros.
    line("# Macros".into());
    let mut volume_index = Vec::new();
    let mut duty_index = Vec::new();
    let (mut nv, mut nd) = (0, 0);
    for inst in &a.instruments {
        volume_index.push(nv);
        line(macro_line(0, nv, &inst.volume));
        nv += 1;
        duty_index.push(inst.duty.as_ref().map(|d| {
            line(macro_line(4, nd, d));
            nd += 1;
            nd - 1
        }));
    }
    line(String::new());
    line("# DPCM samples".into());
    line(String::new());
    line("# Instruments".into());
    for (i, inst) in a.instruments.iter().enumerate() {
        line(format!(
            "INST2A03 {i} {} -1 -1 -1 {} {}",
            volume_index[i],
            duty_index[i].map_or(-1, |d| d as i64),
            quoted(&inst.name)
        ));
    }
    line(String::new());
    line("# Tracks".into());
    line(String::new());
    line(format!(
        "TRACK {} {} {} {}",
        a.rows,
        a.speed,
        a.tempo,
        quoted(&a.name)
    ));
    line(format!(
        "COLUMNS : {}",
        COLUMNS.map(|c| c.to_string()).join(" ")
    ));
    line(String::new());
    // DPCM: empty patterns carrying the flow effects of the other channels.
    let dpcm = dpcm_track(a);
    for f in 0..a.frame_rows.len() {
        let mut l = format!("ORDER {f:02X} :");
        for ch in &a.channels {
            write!(l, " {:02X}", ch.order[f]).ok();
        }
        write!(l, " {:02X}", dpcm.1[f]).ok();
        line(l);
    }
    line(String::new());
    let patterns = a
        .channels
        .iter()
        .map(|c| c.patterns.len())
        .chain([dpcm.0.len()])
        .max()
        .unwrap_or(0);
    for p in 0..patterns {
        line(format!("PATTERN {p:02X}"));
        for r in 0..a.rows {
            let mut l = format!("ROW {r:02X}");
            for (ch, voice) in a.channels.iter().zip(Voice::ALL) {
                let cell = ch.patterns.get(p).map_or(TrackerCell::EMPTY, |pat| pat[r]);
                write!(
                    l,
                    " : {}",
                    cell_text(Some(voice), &cell, COLUMNS[voice.index()])
                )
                .ok();
            }
            let cell = dpcm.0.get(p).map_or(TrackerCell::EMPTY, |pat| pat[r]);
            write!(l, " : {}", cell_text(None, &cell, COLUMNS[4])).ok();
            line(l);
        }
        line(String::new());
    }
    line("# End of export".into());
    out
}

/// DPCM patterns (distinct flow layouts) and its order.
fn dpcm_track(a: &Arrangement) -> (Vec<Vec<TrackerCell>>, Vec<usize>) {
    let mut patterns: Vec<Vec<TrackerCell>> = Vec::new();
    let mut order = Vec::new();
    for &p in &a.channels[0].order {
        let pattern: Vec<TrackerCell> = a.channels[0].patterns[p]
            .iter()
            .map(|c| TrackerCell {
                flow: c.flow,
                ..TrackerCell::EMPTY
            })
            .collect();
        let i = patterns
            .iter()
            .position(|q| *q == pattern)
            .unwrap_or_else(|| {
                patterns.push(pattern);
                patterns.len() - 1
            });
        order.push(i);
    }
    (patterns, order)
}

fn macro_line(kind: u8, index: usize, m: &super::Macro) -> String {
    let opt = |x: Option<usize>| x.map_or(-1, |v| v as i64);
    let values: Vec<String> = m.values.iter().map(|v| v.to_string()).collect();
    format!(
        "MACRO {kind} {index} {} {} 0 : {}",
        opt(m.loop_point),
        opt(m.release),
        values.join(" ")
    )
}

/// A score as FamiTracker text, with what it could not hold (see [`arrange`]).
pub fn write_famitracker(score: &Score) -> Result<(String, Vec<String>)> {
    let a = arrange(score)?;
    Ok((arrangement_text(&a), a.warnings.clone()))
}
