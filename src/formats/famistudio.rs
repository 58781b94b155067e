//! FamiStudio's own text format (FamiStudio 3.3 and later; formats doc section 2): the same
//! arrangement as the FamiTracker export (see [`crate::formats::famitracker`]) written as
//! FamiStudio objects, one per line with `Key="value"` attributes.
//!
//! The song uses FamiStudio's FamiTracker tempo mode (speed 1, tempo 60 for 24 rows a second),
//! so a note's `Time` is its row. Instruments carry their volume and duty envelopes (per engine
//! frame, like FamiTracker macros); a note carries its volume and, when its instrument has no
//! duty envelope, its duty; a `Note` without `Value` changes only the volume or duty. The loop
//! point is the song's `LoopPoint`; a frame cut short is a `PatternCustomSettings`. `Version` is
//! left out so every FamiStudio from 3.3 on reads the file as its own version
//! (<https://famistudio.org/doc/export/#famistudio-text>).

use crate::error::Result;
use crate::formats::famitracker::{
    arrange, famistudio_note_name, Arrangement, Instrument, NoteField, TrackerCell,
};
use crate::score::{Score, Voice};
use std::fmt::Write;

/// `Key="value"` with quotes doubled (FamiStudio's escaping).
fn attr(key: &str, value: impl ToString) -> String {
    format!("{key}=\"{}\"", value.to_string().replace('"', "\"\""))
}

fn envelope_line(kind: &str, values: &[u8]) -> String {
    let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!(
        "\t\tEnvelope {} {} {}",
        attr("Type", kind),
        attr("Length", values.len()),
        attr("Values", list.join(","))
    )
}

/// FamiStudio's note name for a note field on `voice` (noise digit h is value 32 + h).
fn note_value(voice: Voice, n: u8) -> String {
    match voice {
        Voice::Noise => famistudio_note_name(31 + n),
        _ => famistudio_note_name(n),
    }
}

/// The `Note` lines of one pattern.
fn pattern_notes(
    voice: Voice,
    cells: &[TrackerCell],
    played: usize,
    instruments: &[Instrument],
) -> Vec<String> {
    let mut out = Vec::new();
    for (t, c) in cells.iter().enumerate().take(played) {
        let mut parts = vec![attr("Time", t)];
        match c.note {
            NoteField::Note(n) => {
                let end = (t + 1..played)
                    .find(|&u| cells[u].note != NoteField::Empty)
                    .unwrap_or(played);
                parts.push(attr("Value", note_value(voice, n)));
                parts.push(attr("Duration", end - t));
                if let Some(i) = c.instrument {
                    parts.push(attr("Instrument", &instruments[usize::from(i)].name));
                }
            }
            NoteField::Cut => parts.push(attr("Value", "Stop")),
            NoteField::Release => parts.push(attr("Value", "Release")),
            NoteField::Empty => {}
        }
        if let Some(v) = c.volume {
            parts.push(attr("Volume", v));
        }
        if let Some(d) = c.duty {
            parts.push(attr("DutyCycle", d));
        }
        if parts.len() > 1 {
            out.push(format!("\t\t\t\tNote {}", parts.join(" ")));
        }
    }
    out
}

/// The FamiStudio text of an arrangement.
pub fn arrangement_text(a: &Arrangement) -> String {
    let mut out = String::new();
    let name = if a.name.trim().is_empty() {
        "song"
    } else {
        a.name.as_str()
    };
    writeln!(
        out,
        "Project {} {} {}",
        attr("TempoMode", "FamiTracker"),
        attr("Name", name),
        attr("Author", "nesmm")
    )
    .ok();
    for inst in &a.instruments {
        writeln!(out, "\tInstrument {}", attr("Name", &inst.name)).ok();
        writeln!(out, "{}", envelope_line("Volume", &inst.volume.values)).ok();
        if let Some(d) = &inst.duty {
            writeln!(out, "{}", envelope_line("DutyCycle", &d.values)).ok();
        }
    }
    let beat = [24, 16, 12, 8, 4]
        .into_iter()
        .find(|&b| a.rows.is_multiple_of(b))
        .unwrap_or(a.rows);
    writeln!(
        out,
        "\tSong {} {} {} {} {} {} {}",
        attr("Name", name),
        attr("Length", a.frame_rows.len()),
        attr("LoopPoint", a.loop_frame.map_or(-1, |l| l as i64)),
        attr("PatternLength", a.rows),
        attr("BeatLength", beat),
        attr("FamiTrackerTempo", a.tempo),
        attr("FamiTrackerSpeed", a.speed)
    )
    .ok();
    for (f, &n) in a.frame_rows.iter().enumerate() {
        if n < a.rows {
            writeln!(
                out,
                "\t\tPatternCustomSettings {} {}",
                attr("Time", f),
                attr("Length", n)
            )
            .ok();
        }
    }
    for (ch, voice) in a.channels.iter().zip(Voice::ALL) {
        let kind = ["Square1", "Square2", "Triangle", "Noise"][voice.index()];
        writeln!(out, "\t\tChannel {}", attr("Type", kind)).ok();
        // A pattern is played for as many rows as the shortest frame using it... all frames
        // using a pattern have the same length: the flow effect that shortens one is in it.
        for (p, cells) in ch.patterns.iter().enumerate() {
            let played = ch
                .order
                .iter()
                .position(|&q| q == p)
                .map_or(a.rows, |f| a.frame_rows[f]);
            writeln!(out, "\t\t\tPattern {}", attr("Name", format!("P{p}"))).ok();
            for line in pattern_notes(voice, cells, played, &a.instruments) {
                writeln!(out, "{line}").ok();
            }
        }
        for (f, &p) in ch.order.iter().enumerate() {
            writeln!(
                out,
                "\t\t\tPatternInstance {} {}",
                attr("Time", f),
                attr("Pattern", format!("P{p}"))
            )
            .ok();
        }
    }
    writeln!(out, "\t\tChannel {}", attr("Type", "DPCM")).ok();
    out
}

/// A score as FamiStudio text, with what it could not hold.
pub fn write_famistudio(score: &Score) -> Result<(String, Vec<String>)> {
    let a = arrange(score)?;
    Ok((arrangement_text(&a), a.warnings.clone()))
}
