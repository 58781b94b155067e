//! Instruments found in a score, and the cheapest way to play each note with one of them.
//!
//! A note's shape is its velocity envelope over its first [`SHAPE_FRAMES`] frames, scaled so its
//! peak is 15 (the volume column then sets the note's loudness, FamiTracker's volume rule being
//! macro x column / 15). The shapes of a voice class (pulses, noise) are clustered by k-means;
//! each centre becomes a volume macro, with the duty pattern most of its notes share as a duty
//! macro. A note then takes the instrument that reproduces it exactly with the fewest volume
//! column and `Vxx` writes; the flat instrument (volume 15, no duty macro) always can.

use super::{channel_volume, Instrument, InstrumentUse, Macro, RowClock};
use crate::score::{Cell, Score, Voice};
use std::collections::HashMap;

/// Frames of a note's start that shape an instrument.
pub const SHAPE_FRAMES: usize = 16;
/// Most volume shapes per voice class.
const PULSE_SHAPES: usize = 4;
const NOISE_SHAPES: usize = 3;
/// A velocity rise of at least this much inside a held pitch is a new attack (a new note).
const REATTACK_RISE: u8 = 2;

/// Volume shape -> (notes with it, duty pattern -> notes with it).
type ShapeCounts = HashMap<Vec<u8>, (usize, HashMap<Vec<u8>, usize>)>;

/// The flat instrument, number 00: volume 15, no duty macro.
pub fn flat_instrument() -> Instrument {
    Instrument {
        name: "flat".into(),
        volume: Macro::once(vec![15]),
        duty: None,
        used_for: InstrumentUse::Any,
    }
}

/// Splits a run of cells of one voice into notes: `(start, end)` ranges of sounding cells, a new
/// one where the pitch changes or the velocity rises by [`REATTACK_RISE`] or more.
pub fn split_notes(cells: &[Cell]) -> Vec<(usize, usize)> {
    let mut notes = Vec::new();
    let mut start = None;
    for (i, c) in cells.iter().enumerate() {
        let new_note = match i.checked_sub(1).map(|p| cells[p]) {
            _ if c.is_rest() => false,
            None => true,
            Some(p) => p.is_rest() || p.note != c.note || c.velocity >= p.velocity + REATTACK_RISE,
        };
        if c.is_rest() || new_note {
            if let Some(s) = start.take() {
                notes.push((s, i));
            }
        }
        if new_note {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        notes.push((s, cells.len()));
    }
    notes
}

/// The first [`SHAPE_FRAMES`] of a sequence, its last value held past its end.
fn held(values: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut v: Vec<u8> = values.take(SHAPE_FRAMES).collect();
    let last = v.last().copied().unwrap_or(0);
    v.resize(SHAPE_FRAMES, last);
    v
}

/// A note's volume shape scaled to peak 15, or `None` for a silent note.
fn volume_shape(note: &[Cell]) -> Option<Vec<u8>> {
    let v = held(note.iter().map(|c| c.velocity));
    let peak = *v.iter().max()?;
    (peak > 0).then(|| {
        v.iter()
            .map(|&x| ((u32::from(x) * 15 + u32::from(peak) / 2) / u32::from(peak)) as u8)
            .collect()
    })
}

/// Trailing repeats removed: a macro keeps its last value anyway.
fn trimmed(mut v: Vec<u8>) -> Vec<u8> {
    while v.len() > 1 && v[v.len() - 1] == v[v.len() - 2] {
        v.pop();
    }
    v
}

fn distance(a: &[u8], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).powi(2))
        .sum()
}

/// k-means over shapes (weights = how many notes have each shape). Starts from the most common
/// shape, then the farthest ones, so it is deterministic. Returns the members of each cluster.
fn cluster(shapes: &[(Vec<u8>, usize)], k: usize) -> Vec<Vec<usize>> {
    if shapes.is_empty() {
        return Vec::new();
    }
    let as_f = |s: &Vec<u8>| s.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let first = (0..shapes.len()).max_by_key(|&i| (shapes[i].1, std::cmp::Reverse(i)));
    let mut centres = vec![as_f(&shapes[first.unwrap_or(0)].0)];
    while centres.len() < k.min(shapes.len()) {
        let far = (0..shapes.len())
            .map(|i| {
                let d = centres
                    .iter()
                    .map(|c| distance(&shapes[i].0, c))
                    .fold(f64::INFINITY, f64::min);
                (d, i)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        match far {
            Some((d, i)) if d > 0.0 => centres.push(as_f(&shapes[i].0)),
            _ => break,
        }
    }
    let mut members = vec![Vec::new(); centres.len()];
    for _ in 0..20 {
        members = vec![Vec::new(); centres.len()];
        for (i, (s, _)) in shapes.iter().enumerate() {
            let best = (0..centres.len())
                .min_by(|&a, &b| distance(s, &centres[a]).total_cmp(&distance(s, &centres[b])))
                .unwrap_or(0);
            members[best].push(i);
        }
        let mut moved = false;
        for (c, m) in centres.iter_mut().zip(&members) {
            let weight: usize = m.iter().map(|&i| shapes[i].1).sum();
            if weight == 0 {
                continue;
            }
            let mean: Vec<f64> = (0..SHAPE_FRAMES)
                .map(|f| {
                    m.iter()
                        .map(|&i| f64::from(shapes[i].0[f]) * shapes[i].1 as f64)
                        .sum::<f64>()
                        / weight as f64
                })
                .collect();
            moved |= mean != *c;
            *c = mean;
        }
        if !moved {
            break;
        }
    }
    members.retain(|m| !m.is_empty());
    members
}

/// Designs the instruments of `score`: the flat one first, then per voice class a few volume
/// shapes, each with the duty pattern most of its notes share (and a variant without duty macro
/// when some of its notes need `Vxx`).
pub fn design_instruments(score: &Score, clock: RowClock) -> Vec<Instrument> {
    let mut out = vec![flat_instrument()];
    for (used_for, voices, k, label) in [
        (
            InstrumentUse::Pulse,
            &[Voice::Pulse1, Voice::Pulse2][..],
            PULSE_SHAPES,
            "pulse",
        ),
        (
            InstrumentUse::Noise,
            &[Voice::Noise][..],
            NOISE_SHAPES,
            "noise",
        ),
    ] {
        // shape -> (notes with it, duty pattern -> count)
        let mut shapes: ShapeCounts = HashMap::new();
        for &voice in voices {
            let cells: Vec<Cell> = score.frames.iter().map(|f| f[voice.index()]).collect();
            for (s, e) in split_notes(&cells) {
                let note = &cells[s..e];
                let Some(shape) = volume_shape(note) else {
                    continue;
                };
                let entry = shapes.entry(shape).or_default();
                entry.0 += 1;
                *entry
                    .1
                    .entry(trimmed(held(note.iter().map(|c| c.timbre))))
                    .or_default() += 1;
            }
        }
        let mut list: Vec<(Vec<u8>, usize)> =
            shapes.iter().map(|(s, v)| (s.clone(), v.0)).collect();
        list.sort();
        for (n, members) in cluster(&list, k).into_iter().enumerate() {
            let weight: usize = members.iter().map(|&i| list[i].1).sum();
            let mean: Vec<u8> = (0..SHAPE_FRAMES)
                .map(|f| {
                    let sum: usize = members
                        .iter()
                        .map(|&i| usize::from(list[i].0[f]) * list[i].1)
                        .sum();
                    ((sum + weight / 2) / weight) as u8
                })
                .collect();
            let peak = mean.iter().copied().max().unwrap_or(0).max(1);
            let volume: Vec<u8> = mean
                .iter()
                .map(|&x| ((u32::from(x) * 15 + u32::from(peak) / 2) / u32::from(peak)) as u8)
                .collect();
            let mut duties: HashMap<&Vec<u8>, usize> = HashMap::new();
            for &i in &members {
                for (d, c) in &shapes[&list[i].0].1 {
                    *duties.entry(d).or_default() += c;
                }
            }
            let total: usize = duties.values().sum();
            let (duty, duty_count) = duties
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(d, c)| (d.clone(), c))
                .unwrap_or((vec![0], 0));
            let volume = Macro::once(trimmed(clock.expand(&trimmed(volume))));
            let name = format!("{label} {}", n + 1);
            out.push(Instrument {
                name: name.clone(),
                volume: volume.clone(),
                duty: Some(Macro::once(trimmed(clock.expand(&duty)))),
                used_for,
            });
            if duty_count < total {
                out.push(Instrument {
                    name: format!("{name} Vxx"),
                    volume,
                    duty: None,
                    used_for,
                });
            }
        }
    }
    out
}

/// How one note is played: its instrument, the volume column on each of its rows (always on
/// the first) and the `Vxx` on each row (when the instrument has no duty macro).
#[derive(Debug, Clone, PartialEq)]
pub struct NotePlan {
    pub instrument: u8,
    pub volumes: Vec<Option<u8>>,
    pub duties: Vec<Option<u8>>,
}

/// Volume columns that reproduce `velocities` under the per-row macro volumes, changing the
/// column as rarely as possible (each change keeps the column valid for the longest stretch),
/// or `None` where the macro is too quiet for a velocity.
fn volume_columns(macro_volumes: &[u8], velocities: &[u8]) -> Option<Vec<Option<u8>>> {
    let fits = |k: usize, c: u8| channel_volume(macro_volumes[k], c) == velocities[k];
    let mut out = vec![None; velocities.len()];
    let mut current: Option<u8> = None;
    for (k, slot) in out.iter_mut().enumerate() {
        if current.is_some_and(|c| fits(k, c)) {
            continue;
        }
        let reach = |c: u8| (k..velocities.len()).take_while(|&j| fits(j, c)).count();
        let best = (0..=15u8).rev().max_by_key(|&c| reach(c))?;
        if reach(best) == 0 {
            return None;
        }
        *slot = Some(best);
        current = Some(best);
    }
    Some(out)
}

/// The cheapest exact plan for a note (cells of one voice, all sounding), or the flat one.
pub fn plan_note(
    voice: Voice,
    note: &[Cell],
    instruments: &[Instrument],
    clock: RowClock,
) -> NotePlan {
    if voice == Voice::Triangle {
        return NotePlan {
            instrument: 0,
            volumes: vec![None; note.len()],
            duties: vec![None; note.len()],
        };
    }
    let wanted = if voice == Voice::Noise {
        InstrumentUse::Noise
    } else {
        InstrumentUse::Pulse
    };
    let velocities: Vec<u8> = note.iter().map(|c| c.velocity).collect();
    let mut best: Option<(usize, NotePlan)> = None;
    for (i, inst) in instruments.iter().enumerate() {
        if inst.used_for != InstrumentUse::Any && inst.used_for != wanted {
            continue;
        }
        let macro_volumes: Vec<u8> = (0..note.len())
            .map(|k| inst.volume_at_row(clock, k))
            .collect();
        let Some(volumes) = volume_columns(&macro_volumes, &velocities) else {
            continue;
        };
        let duties: Vec<Option<u8>> = if inst.duty.is_some() {
            if (0..note.len()).any(|k| inst.duty_at_row(clock, k) != Some(note[k].timbre)) {
                continue;
            }
            vec![None; note.len()]
        } else {
            (0..note.len())
                .map(|k| (k == 0 || note[k].timbre != note[k - 1].timbre).then_some(note[k].timbre))
                .collect()
        };
        let cost = volumes
            .iter()
            .chain(&duties)
            .filter(|x| x.is_some())
            .count();
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((
                cost,
                NotePlan {
                    instrument: i as u8,
                    volumes,
                    duties,
                },
            ));
        }
    }
    best.map(|b| b.1).unwrap_or_else(|| {
        // The flat instrument is always first and always fits; kept for an empty list.
        NotePlan {
            instrument: 0,
            volumes: velocities.iter().map(|&v| Some(v)).collect(),
            duties: note.iter().map(|c| Some(c.timbre)).collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn cell(note: u8, velocity: u8, timbre: u8) -> Cell {
        Cell::new(note, velocity, timbre)
    }

    #[test]
    fn notes_split_at_pitch_rest_and_reattack() {
        let c = [
            cell(60, 15, 2),
            cell(60, 12, 2),
            cell(60, 15, 2), // re-attack
            cell(62, 15, 2),
            Cell::REST,
            cell(62, 9, 1),
        ];
        assert_eq!(split_notes(&c), vec![(0, 2), (2, 3), (3, 4), (5, 6)]);
    }

    #[test]
    fn every_velocity_up_to_the_macro_is_reachable() {
        for m in 0..=15u8 {
            for v in 0..=m {
                assert!((0..=15).any(|c| channel_volume(m, c) == v), "{m} {v}");
            }
        }
    }

    #[test]
    fn a_decaying_song_gets_a_decaying_instrument_that_plays_it_exactly() {
        let clock = RowClock::new(1, 60, 60.0);
        let env = [15u8, 12, 9, 7, 5, 4, 3, 3];
        let mut s = Score::new("t", 24.0);
        for rep in 0..6 {
            for &v in &env {
                let mut f = [Cell::REST; 4];
                f[0] = cell(60 + rep, v, 2);
                f[1] = cell(48, v.saturating_sub(3), 1);
                s.frames.push(f);
            }
        }
        let inst = design_instruments(&s, clock);
        let plan = plan_note(
            Voice::Pulse1,
            &s.frames[..8].iter().map(|f| f[0]).collect::<Vec<_>>(),
            &inst,
            clock,
        );
        let chosen = &inst[plan.instrument as usize];
        assert_ne!(plan.instrument, 0, "{inst:?}");
        assert!(chosen.duty.is_some());
        // Only the first row needs a volume column: the macro carries the decay.
        assert_eq!(
            plan.volumes.iter().filter(|v| v.is_some()).count(),
            1,
            "{plan:?}"
        );
        for (k, &v) in env.iter().enumerate() {
            let col = plan.volumes[..=k].iter().rev().find_map(|x| *x).unwrap();
            assert_eq!(channel_volume(chosen.volume_at_row(clock, k), col), v);
        }
    }
}
