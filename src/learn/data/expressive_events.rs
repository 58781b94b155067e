//! Expressive event tokens: the note events of [`super::events`] plus each voice's dynamics,
//! so a model can write NES-MDB's exprsco scores (velocity 0-15 on P1, P2 and NO; pulse duty
//! 0-3 and noise mode 0-1 as the timbre).
//!
//! The coding extends the note coding without renumbering it: ids below
//! [`EventVocab::size`] mean what they mean there, so a note model's vocabulary is the first
//! part of this one. Then come `VELOCITY(voice, 0..=15)` for P1, P2, NO and `TIMBRE(voice, t)`
//! for P1, P2 (duty 0..=3) and NO (mode 0..=1). In a frame where some voice's cell changes,
//! each voice in score order gives: its `TIMBRE` when the timbre differs from the voice's last
//! one, its `VELOCITY` when it sounds at another velocity than its last sounding one, then
//! its note event as in [`super::events`]. A voice's velocity and timbre carry over rests and
//! notes until a token changes them, so a tune played at one volume and duty pays for them once.
//!
//! Lossless on NES-MDB's exprsco, where velocity is 0 exactly when the note is 0: [`decode`]
//! gives back every cell. A rest's timbre is coded too (it is whatever the score holds).

use super::events::{encode_changes, Event, EventVocab};
use crate::score::{Cell, Frame, Voice};

/// The voices with a volume, in the order of their velocity tokens.
const VELOCITY_VOICES: [Voice; 3] = [Voice::Pulse1, Voice::Pulse2, Voice::Noise];
/// Velocity values per voice (0..=15).
const VELOCITIES: u16 = 16;

/// What one expressive token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpressiveEvent {
    /// A note-coding token ([`super::events`]).
    Note(Event),
    /// The voice's velocity from here on.
    Velocity(Voice, u8),
    /// The voice's timbre from here on.
    Timbre(Voice, u8),
}

/// Token ids of the expressive coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpressiveVocab;

fn velocity_base() -> u16 {
    EventVocab::size() as u16
}

fn timbre_base() -> u16 {
    velocity_base() + VELOCITY_VOICES.len() as u16 * VELOCITIES
}

/// First timbre id of voice `v` (the triangle has none).
fn timbre_first(v: Voice) -> u16 {
    timbre_base()
        + Voice::ALL[..v.index()]
            .iter()
            .map(|u| u16::from(timbres(*u)))
            .sum::<u16>()
}

/// Timbre values of voice `v`: 4 duties, 2 noise modes, none on the triangle.
fn timbres(v: Voice) -> u8 {
    if v == Voice::Triangle {
        0
    } else {
        v.max_timbre() + 1
    }
}

impl ExpressiveVocab {
    /// Number of token ids: the note coding's, 48 velocities, 10 timbres.
    pub fn size() -> usize {
        timbre_first(Voice::Noise) as usize + usize::from(timbres(Voice::Noise))
    }

    /// The id of `e`; None for a value the voice cannot hold.
    pub fn id(e: ExpressiveEvent) -> Option<u16> {
        match e {
            ExpressiveEvent::Note(n) => EventVocab::id(n),
            ExpressiveEvent::Velocity(v, x) => {
                let slot = VELOCITY_VOICES.iter().position(|&u| u == v)? as u16;
                (u16::from(x) < VELOCITIES)
                    .then(|| velocity_base() + slot * VELOCITIES + u16::from(x))
            }
            ExpressiveEvent::Timbre(v, t) => {
                (t < timbres(v)).then(|| timbre_first(v) + u16::from(t))
            }
        }
    }

    /// The event of token `id`; None past the vocabulary.
    pub fn event(id: u16) -> Option<ExpressiveEvent> {
        if id < velocity_base() {
            return EventVocab::event(id).map(ExpressiveEvent::Note);
        }
        if id < timbre_base() {
            let k = id - velocity_base();
            let v = VELOCITY_VOICES[usize::from(k / VELOCITIES)];
            return Some(ExpressiveEvent::Velocity(v, (k % VELOCITIES) as u8));
        }
        if usize::from(id) >= Self::size() {
            return None;
        }
        let v = Voice::ALL
            .into_iter()
            .rev()
            .find(|&v| timbres(v) > 0 && id >= timbre_first(v))?;
        Some(ExpressiveEvent::Timbre(v, (id - timbre_first(v)) as u8))
    }

    /// Frames a token advances time by (waits only).
    pub fn frames(id: u16) -> usize {
        if id < velocity_base() {
            EventVocab::frames(id)
        } else {
            0
        }
    }

    /// Whether `id` is a dynamics token (a velocity or a timbre), not a note-coding one.
    pub fn is_dynamics(id: u16) -> bool {
        id >= velocity_base() && usize::from(id) < Self::size()
    }
}

/// What may come next in an expressive token stream, for a sampler: never a velocity of 0
/// (a rest's is implied) and no note-on of a pulse or the noise before a velocity for that
/// voice (it would sound at volume 0, which the coding cannot hold: [`encode`] refuses it).
#[derive(Debug, Clone, Default)]
pub struct Grammar {
    velocity_set: [bool; 4],
}

impl Grammar {
    /// Takes token `id` into account.
    pub fn push(&mut self, id: u16) {
        if let Some(ExpressiveEvent::Velocity(v, x)) = ExpressiveVocab::event(id) {
            self.velocity_set[v.index()] = x > 0;
        }
    }

    /// Whether `id` may come next.
    pub fn allows(&self, id: u16) -> bool {
        match ExpressiveVocab::event(id) {
            Some(ExpressiveEvent::Velocity(_, x)) => x > 0,
            Some(ExpressiveEvent::Note(Event::NoteOn(v, _))) => {
                !v.has_velocity() || self.velocity_set[v.index()]
            }
            _ => true,
        }
    }

    /// Sets the logits of the ids that may not come next to minus infinity.
    pub fn mask(&self, logits: &mut [f32]) {
        for (id, l) in logits.iter_mut().enumerate() {
            if !self.allows(id as u16) {
                *l = f32::NEG_INFINITY;
            }
        }
    }
}

/// Why a frame cannot be coded: the cell of `voice` in `frame`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCell {
    pub frame: usize,
    pub voice: Voice,
    pub cell: Cell,
    pub why: &'static str,
}

impl std::fmt::Display for BadCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.cell;
        write!(
            f,
            "frame {}: {} (note {}, velocity {}, timbre {}): {}",
            self.frame,
            self.voice.label(),
            c.note,
            c.velocity,
            c.timbre,
            self.why
        )
    }
}

impl std::error::Error for BadCell {}

/// A voice's dynamics as the coding carries them: the last sounding velocity and the timbre.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Dynamics {
    velocity: u8,
    timbre: u8,
}

/// The tokens of `frames` (four cells a frame): `START ... END` when `whole`, else an
/// excerpt (every voice silent, velocity 0 and timbre 0 before its first frame).
pub fn encode(frames: &[Frame], whole: bool) -> Result<Vec<u16>, BadCell> {
    let mut dynamics = [Dynamics::default(); 4];
    encode_changes(frames, [Cell::REST; 4], whole, |t, prev, frame, tokens| {
        for v in Voice::ALL {
            let (old, new) = (prev[v.index()], frame[v.index()]);
            let bad = |why| BadCell {
                frame: t,
                voice: v,
                cell: new,
                why,
            };
            let d = &mut dynamics[v.index()];
            if new.timbre != d.timbre {
                let id = ExpressiveVocab::id(ExpressiveEvent::Timbre(v, new.timbre));
                tokens.push(id.ok_or(bad("timbre out of the voice's range"))?);
                d.timbre = new.timbre;
            }
            // Velocity is 0 exactly on rests, and always on the triangle: nothing to code.
            if (new.note == 0 || !v.has_velocity()) != (new.velocity == 0) {
                return Err(bad(
                    "velocity must be 0 exactly on rests and on the triangle",
                ));
            }
            if new.note != 0 && v.has_velocity() && new.velocity != d.velocity {
                let id = ExpressiveVocab::id(ExpressiveEvent::Velocity(v, new.velocity));
                tokens.push(id.ok_or(bad("velocity above 15"))?);
                d.velocity = new.velocity;
            }
            if old.note != new.note {
                let e = if new.note == 0 {
                    Event::NoteOff(v)
                } else {
                    Event::NoteOn(v, new.note)
                };
                tokens.push(EventVocab::id(e).ok_or(bad("note outside the voice's range"))?);
            }
        }
        Ok(())
    })
}

/// The frames `tokens` describe: the inverse of [`encode`]. Stops at `END`; `START` and ids
/// outside the vocabulary are skipped.
pub fn decode(tokens: &[u16]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut notes = [0u8; 4];
    let mut dynamics = [Dynamics::default(); 4];
    for &id in tokens {
        match ExpressiveVocab::event(id) {
            Some(ExpressiveEvent::Note(Event::End)) => break,
            Some(ExpressiveEvent::Note(Event::NoteOn(v, p))) => notes[v.index()] = p,
            Some(ExpressiveEvent::Note(Event::NoteOff(v))) => notes[v.index()] = 0,
            Some(ExpressiveEvent::Note(Event::Wait(n))) => {
                let frame: Frame = std::array::from_fn(|i| {
                    let (note, d) = (notes[i], dynamics[i]);
                    Cell {
                        note,
                        velocity: if note == 0 { 0 } else { d.velocity },
                        timbre: d.timbre,
                    }
                });
                frames.extend(std::iter::repeat_n(frame, usize::from(n)));
            }
            Some(ExpressiveEvent::Velocity(v, x)) => dynamics[v.index()].velocity = x,
            Some(ExpressiveEvent::Timbre(v, t)) => dynamics[v.index()].timbre = t,
            Some(ExpressiveEvent::Note(Event::Start)) | None => {}
        }
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn cell(note: u8, velocity: u8, timbre: u8) -> Cell {
        Cell::new(note, velocity, timbre)
    }

    #[test]
    fn the_grammar_keeps_sampled_notes_audible() {
        let id = |e| ExpressiveVocab::id(e).unwrap();
        let p1_on = id(ExpressiveEvent::Note(Event::NoteOn(Voice::Pulse1, 60)));
        let tr_on = id(ExpressiveEvent::Note(Event::NoteOn(Voice::Triangle, 40)));
        let mut g = Grammar::default();
        assert!(!g.allows(p1_on) && g.allows(tr_on));
        assert!(!g.allows(id(ExpressiveEvent::Velocity(Voice::Pulse1, 0))));
        g.push(id(ExpressiveEvent::Velocity(Voice::Pulse1, 9)));
        assert!(g.allows(p1_on));
        // Whatever it allows decodes to cells that code back.
        let tokens = [
            EventVocab::START,
            id(ExpressiveEvent::Velocity(Voice::Pulse1, 9)),
            p1_on,
            tr_on,
            id(ExpressiveEvent::Note(Event::Wait(3))),
        ];
        assert!(encode(&decode(&tokens), true).is_ok());
    }

    #[test]
    fn every_id_names_one_event_and_back() {
        for id in 0..ExpressiveVocab::size() as u16 {
            let e = ExpressiveVocab::event(id).unwrap();
            assert_eq!(ExpressiveVocab::id(e), Some(id), "{e:?}");
        }
        assert_eq!(ExpressiveVocab::event(ExpressiveVocab::size() as u16), None);
        assert_eq!(ExpressiveVocab::size(), EventVocab::size() + 48 + 10);
        assert_eq!(
            ExpressiveVocab::id(ExpressiveEvent::Velocity(Voice::Triangle, 3)),
            None
        );
        assert_eq!(
            ExpressiveVocab::id(ExpressiveEvent::Timbre(Voice::Noise, 2)),
            None
        );
        assert_eq!(
            ExpressiveVocab::id(ExpressiveEvent::Velocity(Voice::Pulse1, 16)),
            None
        );
    }

    #[test]
    fn an_envelope_codes_as_velocity_steps_and_back() {
        // P1 decays 15 14 12 at duty 2, rests, plays again at 12 (no velocity token: it is the
        // last one) with duty 1; TR sounds throughout; NO hits at 9 in mode 1.
        let mut frames = Vec::new();
        for v in [15, 14, 12] {
            frames.push([cell(60, v, 2), Cell::REST, cell(40, 0, 0), cell(5, 9, 1)]);
        }
        frames.push([cell(0, 0, 2), Cell::REST, cell(40, 0, 0), Cell::REST]);
        frames.push([cell(62, 12, 1), Cell::REST, cell(40, 0, 0), Cell::REST]);
        let tokens = encode(&frames, true).unwrap();
        assert_eq!(decode(&tokens), frames);
        let events: Vec<_> = tokens
            .iter()
            .map(|&t| ExpressiveVocab::event(t).unwrap())
            .collect();
        use ExpressiveEvent::*;
        assert_eq!(
            &events[..7],
            &[
                Note(Event::Start),
                Timbre(Voice::Pulse1, 2),
                Velocity(Voice::Pulse1, 15),
                Note(Event::NoteOn(Voice::Pulse1, 60)),
                Note(Event::NoteOn(Voice::Triangle, 40)),
                Timbre(Voice::Noise, 1),
                Velocity(Voice::Noise, 9),
            ]
        );
        let velocities = events.iter().filter(|e| matches!(e, Velocity(..))).count();
        assert_eq!(velocities, 4, "15, 14, 12 on P1 and 9 on NO: {events:?}");
        // The note coding's tokens alone give back the notes.
        let notes: Vec<u16> = tokens
            .iter()
            .copied()
            .filter(|&t| !ExpressiveVocab::is_dynamics(t))
            .collect();
        let want: Vec<[u8; 4]> = frames.iter().map(|f| f.map(|c| c.note)).collect();
        assert_eq!(super::super::events::decode(&notes), want);
    }

    #[test]
    fn a_velocity_on_a_rest_or_a_silent_note_is_refused() {
        let rest_with_volume = [cell(0, 3, 0), Cell::REST, Cell::REST, Cell::REST];
        assert!(encode(&[rest_with_volume], true).is_err());
        let silent_note = [cell(60, 0, 0), Cell::REST, Cell::REST, Cell::REST];
        assert!(encode(&[silent_note], true).is_err());
        let loud_triangle = [Cell::REST, Cell::REST, cell(40, 5, 0), Cell::REST];
        assert!(encode(&[loud_triangle], true).is_err());
    }
}
