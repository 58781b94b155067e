//! Which MIDI part plays which NES voice, and why: the part choice of ordinary MIDI import.
//!
//! 1. **Drums** go to the noise, all merged: channel 10 (General MIDI), a percussive program
//!    (Agogo, Woodblock, Taiko, Melodic Tom, Synth Drum, Reverse Cymbal), a track named as
//!    drums, or a part that behaves as a drum kit (at least 16 notes, nine in ten on the GM kick,
//!    snare, hi-hat, crash and ride keys, at least two of them or a hi-hat or cymbal alone).
//! 2. **Duplicates and echoes** are set aside: a part whose notes (onset, pitch class) are, for
//!    at least 80%, another part's notes delayed by 0 to 12 frames (half a second), with about
//!    as many notes, copies that part. It is used only when no other part is left for a voice.
//! 3. **Triangle**: the bass. A part with a GM bass program (33-40) or named "bass" is
//!    preferred; otherwise, with two or more parts left, the lowest by mean pitch.
//! 4. **Pulses**: the two most salient of the rest. Salience = frames in which the part sounds
//!    x its GM family's weight (lead 3, brass/reed/pipe 2, piano/organ/guitar/ethnic/no program
//!    1, strings/ensemble 0.8, bass 0.7, pad/effects 0.5, percussive/sound effects 0.3)
//!    x a pitch factor (1 + (mean pitch - 60) / 60, within 0.5..1.5): a lead that sounds half as
//!    long still wins over two guitar parts, and a melody over its accompaniment.
//!
//! Every part gets a line in the import notes saying where it went and why.

use crate::score::Voice;

/// A note with its frames: sounding over `start..end`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Note {
    pub start: usize,
    pub end: usize,
    pub key: u8,
    pub vel: u8,
}

/// A (track, channel) pair's notes and its program (the last program change before its first
/// note, else its first).
pub(crate) struct Part {
    pub track: usize,
    pub channel: u8,
    pub program: Option<u8>,
    pub notes: Vec<Note>,
}

/// General MIDI's drum channel (10, index 9).
pub(crate) const DRUM_CHANNEL: u8 = 9;
/// GM kit keys a drum part keeps to: kicks, snares, hi-hats, crash, ride.
const KIT_KEYS: [u8; 9] = [35, 36, 38, 40, 42, 44, 46, 49, 51];
/// Longest delay, in frames, of an echo.
const MAX_ECHO: usize = 12;

impl Part {
    pub fn mean_pitch(&self) -> f64 {
        self.notes.iter().map(|n| n.key as f64).sum::<f64>() / self.notes.len().max(1) as f64
    }

    /// Frames in which at least one note sounds.
    fn sounding_frames(&self) -> usize {
        let (mut total, mut covered_to) = (0, 0);
        for n in &self.notes {
            let from = n.start.max(covered_to);
            if n.end > from {
                total += n.end - from;
                covered_to = n.end;
            }
        }
        total
    }

    pub fn describe(&self, names: &[String]) -> String {
        let name = names.get(self.track).map(String::as_str).unwrap_or("");
        let program = self.program.map_or(String::new(), |p| {
            format!(", program {} ({})", p + 1, family(p).0)
        });
        format!(
            "track {} '{}' channel {}{program} ({} notes)",
            self.track,
            name,
            self.channel + 1,
            self.notes.len()
        )
    }

    /// Why this part is percussion, if it is.
    fn percussion(&self, name: &str) -> Option<&'static str> {
        let name = name.to_ascii_lowercase();
        if self.channel == DRUM_CHANNEL {
            return Some("GM drum channel 10");
        }
        if matches!(self.program, Some(113 | 115..=119)) {
            return Some("a percussive GM program");
        }
        if ["drum", "perc", "kit"].iter().any(|w| name.contains(w)) {
            return Some("named as drums");
        }
        let on_kit = self
            .notes
            .iter()
            .filter(|n| KIT_KEYS.contains(&n.key))
            .count();
        let distinct = KIT_KEYS
            .iter()
            .filter(|k| self.notes.iter().any(|n| n.key == **k))
            .count();
        // One kit key alone could be a pedal bass on C2, unless it is a cymbal.
        let cymbal_only = distinct == 1
            && self
                .notes
                .iter()
                .all(|n| [42, 44, 46, 49, 51].contains(&n.key));
        (self.notes.len() >= 16
            && on_kit * 10 >= self.notes.len() * 9
            && (distinct >= 2 || cymbal_only))
            .then_some("plays the GM drum-kit keys only")
    }

    /// The delay (frames) at which this part copies `other`, if it does.
    fn copies(&self, other: &Part) -> Option<usize> {
        let (a, b) = (self.notes.len(), other.notes.len());
        if a < 4 || a * 10 < b * 9 || a * 9 > b * 10 {
            return None;
        }
        let theirs: std::collections::HashSet<(usize, u8)> =
            other.notes.iter().map(|n| (n.start, n.key % 12)).collect();
        (0..=MAX_ECHO).find(|&d| {
            let hits = self
                .notes
                .iter()
                .filter(|n| n.start >= d && theirs.contains(&(n.start - d, n.key % 12)))
                .count();
            hits * 5 >= a * 4
        })
    }
}

/// A GM program's family name and its weight for salience.
fn family(program: u8) -> (&'static str, f64) {
    match program {
        0..=7 => ("piano", 1.0),
        8..=15 => ("chromatic percussion", 1.0),
        16..=23 => ("organ", 1.0),
        24..=31 => ("guitar", 1.0),
        32..=39 => ("bass", 0.7),
        40..=47 => ("strings", 0.8),
        48..=55 => ("ensemble", 0.8),
        56..=63 => ("brass", 2.0),
        64..=71 => ("reed", 2.0),
        72..=79 => ("pipe", 2.0),
        80..=87 => ("synth lead", 3.0),
        88..=95 => ("synth pad", 0.5),
        96..=103 => ("synth effects", 0.5),
        104..=111 => ("ethnic", 1.0),
        112..=119 => ("percussive", 0.3),
        _ => ("sound effects", 0.3),
    }
}

fn salience(p: &Part) -> f64 {
    let weight = p.program.map_or(1.0, |pr| family(pr).1);
    let pitch = (1.0 + (p.mean_pitch() - 60.0) / 60.0).clamp(0.5, 1.5);
    p.sounding_frames() as f64 * weight * pitch
}

/// Where each part goes.
#[derive(Debug, Default)]
pub(crate) struct Choice {
    /// Parts merged into the noise, with why each is percussion.
    pub drums: Vec<(usize, &'static str)>,
    /// Melodic voices, in voice order, with why.
    pub voices: Vec<(Voice, usize, String)>,
    /// Parts not played, with why.
    pub dropped: Vec<(usize, String)>,
}

/// Chooses voices for `parts` by the rule of the module documentation.
pub(crate) fn choose(parts: &[Part], names: &[String]) -> Choice {
    let mut choice = Choice::default();
    let name = |i: usize| names.get(parts[i].track).map(String::as_str).unwrap_or("");
    let mut melodic = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match part.percussion(name(i)) {
            Some(why) => choice.drums.push((i, why)),
            None => melodic.push(i),
        }
    }
    // Copies: a part copying one that starts no later (and is no copy itself) is set aside.
    melodic.sort_by_key(|&i| (parts[i].notes.first().map_or(usize::MAX, |n| n.start), i));
    let mut originals: Vec<usize> = Vec::new();
    let mut copies: Vec<(usize, String)> = Vec::new();
    for &i in &melodic {
        let of = originals
            .iter()
            .find_map(|&o| parts[i].copies(&parts[o]).map(|d| (o, d)));
        match of {
            Some((o, 0)) => copies.push((i, format!("duplicates track {}", parts[o].track))),
            Some((o, d)) => copies.push((
                i,
                format!("echoes track {} {d} frames later", parts[o].track),
            )),
            None => originals.push(i),
        }
    }
    let mut pool = originals;
    // Triangle: a bass by program or name, else the lowest part of two or more.
    let is_bass = |i: usize| {
        matches!(parts[i].program, Some(32..=39)) || name(i).to_ascii_lowercase().contains("bass")
    };
    let lowest = |c: &[usize]| {
        c.iter()
            .copied()
            .min_by(|&a, &b| parts[a].mean_pitch().total_cmp(&parts[b].mean_pitch()))
    };
    let basses: Vec<usize> = pool.iter().copied().filter(|&i| is_bass(i)).collect();
    let triangle = match lowest(&basses) {
        Some(b) => Some((b, "a bass (program or name)".to_string())),
        None if pool.len() >= 2 => {
            lowest(&pool).map(|l| (l, "the lowest part by mean pitch".to_string()))
        }
        _ => None,
    };
    if let Some((t, why)) = triangle {
        pool.retain(|&i| i != t);
        choice.voices.push((Voice::Triangle, t, why));
    }
    // Pulses: most salient first; copies only when nothing else is left.
    pool.sort_by(|&a, &b| salience(&parts[b]).total_cmp(&salience(&parts[a])));
    let mut ranked: Vec<(usize, String)> = pool
        .iter()
        .map(|&i| (i, format!("salience {:.0}", salience(&parts[i]))))
        .collect();
    ranked.extend(
        copies
            .iter()
            .map(|(i, why)| (*i, format!("{why}, used as no other part is left"))),
    );
    for (k, (i, why)) in ranked.into_iter().enumerate() {
        match k {
            0 => choice
                .voices
                .push((Voice::Pulse1, i, format!("the most salient part ({why})"))),
            1 => choice
                .voices
                .push((Voice::Pulse2, i, format!("the next most salient ({why})"))),
            _ => {
                let why = copies
                    .iter()
                    .find(|(c, _)| *c == i)
                    .map_or(format!("less salient than the pulses ({why})"), |(_, w)| {
                        w.clone()
                    });
                choice.dropped.push((i, why));
            }
        }
    }
    choice.voices.sort_by_key(|(v, _, _)| v.index());
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(track: usize, channel: u8, program: Option<u8>, keys: &[(usize, u8)]) -> Part {
        Part {
            track,
            channel,
            program,
            notes: keys
                .iter()
                .map(|&(start, key)| Note {
                    start,
                    end: start + 2,
                    key,
                    vel: 100,
                })
                .collect(),
        }
    }

    #[test]
    fn echoes_and_kits_are_recognised() {
        let arp: Vec<(usize, u8)> = (0..32).map(|i| (i * 3, 60 + (i % 4) as u8 * 4)).collect();
        let echo: Vec<(usize, u8)> = arp.iter().map(|&(s, k)| (s + 5, k + 12)).collect();
        assert_eq!(
            part(1, 1, None, &echo).copies(&part(0, 0, None, &arp)),
            Some(5)
        );
        let other: Vec<(usize, u8)> = (0..32).map(|i| (i * 2, 50 + (i % 7) as u8)).collect();
        assert_eq!(
            part(0, 0, None, &other).copies(&part(1, 1, None, &arp)),
            None
        );
        let kit: Vec<(usize, u8)> = (0..32).map(|i| (i * 3, [36, 42, 38, 42][i % 4])).collect();
        assert!(part(0, 3, None, &kit).percussion("").is_some());
        assert!(part(0, 3, None, &arp).percussion("Lead").is_none());
        assert!(part(0, 3, None, &arp).percussion("Drums 2").is_some());
        assert!(part(0, 3, Some(118), &arp).percussion("").is_some());
    }
}
