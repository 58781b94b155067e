//! The event codings a Transformer reads and writes: notes only ([`super::events`], NES-MDB's
//! seprsco) or notes with each voice's velocity and timbre ([`super::expressive_events`],
//! exprsco). Both take a song as frames of four cells; the note coding reads only the notes,
//! so one training, evaluation and sampling path serves both.

use super::{events, expressive_events};
use crate::score::{Cell, Frame, Voice};
use serde::{Deserialize, Serialize};

/// Which coding a model uses; stored in its `config.json` (absent = `notes`, as written before
/// the expressive coding existed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    /// Note-ons, note-offs and waits ([`events::EventVocab`]).
    #[default]
    Notes,
    /// The note coding's tokens, then velocity and timbre tokens
    /// ([`expressive_events::ExpressiveVocab`]).
    Expressive,
}

impl Coding {
    /// The name in `config.json` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Notes => "notes",
            Coding::Expressive => "expressive",
        }
    }

    /// The coding called `name`.
    pub fn from_name(name: &str) -> Option<Coding> {
        [Coding::Notes, Coding::Expressive]
            .into_iter()
            .find(|c| c.name() == name)
    }

    /// Number of token ids.
    pub fn vocab(self) -> usize {
        match self {
            Coding::Notes => events::EventVocab::size(),
            Coding::Expressive => expressive_events::ExpressiveVocab::size(),
        }
    }

    /// Whether the coding carries velocity and timbre (a score it decodes is expressive).
    pub fn is_expressive(self) -> bool {
        self == Coding::Expressive
    }

    /// The tokens of `frames`: `START ... END` when `whole`, else an excerpt.
    pub fn encode(self, frames: &[Frame], whole: bool) -> Result<Vec<u16>, String> {
        match self {
            Coding::Notes => events::encode(&note_matrix(frames), whole).map_err(|e| e.to_string()),
            Coding::Expressive => {
                expressive_events::encode(frames, whole).map_err(|e| e.to_string())
            }
        }
    }

    /// The frames `tokens` describe. The note coding's cells are as a seprsco implies them
    /// ([`Cell::from_note`]).
    pub fn decode(self, tokens: &[u16]) -> Vec<Frame> {
        match self {
            Coding::Notes => frames_of_notes(&events::decode(tokens)),
            Coding::Expressive => expressive_events::decode(tokens),
        }
    }

    /// Frames token `id` advances time by (waits only; the same ids in both codings).
    pub fn frames(id: u16) -> usize {
        expressive_events::ExpressiveVocab::frames(id)
    }
}

/// The number of token kinds ([`kind`]).
pub const KINDS: usize = 8;

/// A token's kind: the note-ons of P1, P2, TR, NO (0-3), note-offs (4), waits (5), START and
/// END (6), velocity and timbre (7). Sampling truncates within kinds; the song cache predicts
/// each kind from the song's own earlier tokens of that kind.
pub fn kind(t: u16) -> usize {
    use events::{Event, EventVocab};
    if expressive_events::ExpressiveVocab::is_dynamics(t) {
        return 7;
    }
    match EventVocab::event(t) {
        Some(Event::NoteOn(v, _)) => v.index(),
        Some(Event::NoteOff(_)) => 4,
        Some(Event::Wait(_)) => 5,
        _ => 6,
    }
}

/// The notes of each frame.
pub fn note_matrix(frames: &[Frame]) -> Vec<[u8; 4]> {
    frames
        .iter()
        .map(|f| std::array::from_fn(|i| f[i].note))
        .collect()
}

/// Frames of a seprsco note matrix ([`Cell::from_note`]).
pub fn frames_of_notes(notes: &[[u8; 4]]) -> Vec<Frame> {
    notes
        .iter()
        .map(|n| std::array::from_fn(|i| Cell::from_note(Voice::ALL[i], n[i])))
        .collect()
}

/// `frames` without leading and trailing frames where no voice sounds
/// ([`events::trim_silence`] on cells).
pub fn trim_silence(frames: &[Frame]) -> &[Frame] {
    events::trim_where(frames, |f| f.iter().any(|c| c.note != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_codings_round_trip_and_share_time() {
        let mut frames: Vec<Frame> = vec![[Cell::REST; 4]; 2];
        frames.extend(vec![
            [
                Cell::new(60, 9, 2),
                Cell::REST,
                Cell::new(40, 0, 0),
                Cell::new(3, 4, 1)
            ];
            5
        ]);
        frames.extend(vec![
            [
                Cell::new(60, 7, 2),
                Cell::REST,
                Cell::REST,
                Cell::REST
            ];
            4
        ]);
        let expressive = Coding::Expressive.encode(&frames, true).unwrap();
        assert_eq!(Coding::Expressive.decode(&expressive), frames);
        let notes = Coding::Notes.encode(&frames, true).unwrap();
        assert_eq!(
            note_matrix(&Coding::Notes.decode(&notes)),
            note_matrix(&frames)
        );
        let time = |t: &[u16]| t.iter().map(|&x| Coding::frames(x)).sum::<usize>();
        assert_eq!(time(&expressive), frames.len());
        assert_eq!(time(&notes), frames.len());
        assert!(Coding::Expressive.vocab() > Coding::Notes.vocab());
        assert_eq!(trim_silence(&frames).len(), 9);
        for c in [Coding::Notes, Coding::Expressive] {
            assert_eq!(Coding::from_name(c.name()), Some(c));
        }
        let bad = [[Cell::new(60, 0, 0), Cell::REST, Cell::REST, Cell::REST]];
        assert!(Coding::Expressive.encode(&bad, true).is_err());
        assert!(Coding::Notes.encode(&bad, true).is_ok());
    }
}
