//! Event tokens: a four-voice 24 Hz note matrix as note-on, note-off and wait events, the
//! coding of LakhNES's TX1 with waits counted in NES-MDB frames instead of audio samples.
//!
//! A song is `START`, then for every frame where some voice changes: one token per changed
//! voice in score order (P1, P2, TR, NO): `NOTE_ON(voice, pitch)` when the voice sounds a new
//! pitch, `NOTE_OFF(voice)` when it falls silent; then `WAIT(n)` up to the next such frame (or
//! the song's end); then `END`. A gap longer than [`MAX_WAIT`] frames is several waits. The
//! coding is lossless: [`decode`] gives back every frame, the song's length included.
//!
//! Why events: a frame model pays for "nothing changed" in four voices 24 times a second; an
//! event model pays once per note and once per wait (`../shared/docs/learning-anchors.md`).

use crate::score::Voice;

/// The longest single wait, in 24 Hz frames (4 s). Waits 1..=MAX_WAIT each have a token, so
/// every gap is coded exactly, a gap above MAX_WAIT by repeated waits.
pub const MAX_WAIT: usize = 96;

/// What one token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The song begins (never predicted; the model is conditioned on it).
    Start,
    /// The song ends.
    End,
    /// `voice` starts sounding `pitch` (MIDI note; noise 1..=16).
    NoteOn(Voice, u8),
    /// `voice` falls silent.
    NoteOff(Voice),
    /// Time moves on by this many frames (1..=MAX_WAIT).
    Wait(u16),
}

/// Token ids: START, END, then per voice its note-ons (over [`Voice::note_range`]), then the
/// four note-offs, then the waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventVocab;

/// First token id of each voice's note-ons.
const NOTE_BASE: u16 = 2;

fn pitches(v: Voice) -> u16 {
    let (lo, hi) = v.note_range();
    (hi - lo + 1) as u16
}

fn note_base(v: Voice) -> u16 {
    NOTE_BASE
        + Voice::ALL[..v.index()]
            .iter()
            .map(|&u| pitches(u))
            .sum::<u16>()
}

fn off_base() -> u16 {
    note_base(Voice::Noise) + pitches(Voice::Noise)
}

fn wait_base() -> u16 {
    off_base() + 4
}

impl EventVocab {
    pub const START: u16 = 0;
    pub const END: u16 = 1;

    /// Number of token ids.
    pub fn size() -> usize {
        wait_base() as usize + MAX_WAIT
    }

    /// The id of `e`; None for a pitch outside its voice's range or a wait outside 1..=MAX_WAIT.
    pub fn id(e: Event) -> Option<u16> {
        match e {
            Event::Start => Some(Self::START),
            Event::End => Some(Self::END),
            Event::NoteOn(v, p) => {
                let (lo, hi) = v.note_range();
                (lo..=hi)
                    .contains(&p)
                    .then(|| note_base(v) + (p - lo) as u16)
            }
            Event::NoteOff(v) => Some(off_base() + v.index() as u16),
            Event::Wait(n) => (1..=MAX_WAIT as u16)
                .contains(&n)
                .then(|| wait_base() + n - 1),
        }
    }

    /// The event of token `id`; None past the vocabulary.
    pub fn event(id: u16) -> Option<Event> {
        match id {
            Self::START => Some(Event::Start),
            Self::END => Some(Event::End),
            _ if id < off_base() => {
                let v = Voice::ALL.into_iter().rev().find(|&v| id >= note_base(v))?;
                Some(Event::NoteOn(
                    v,
                    v.note_range().0 + (id - note_base(v)) as u8,
                ))
            }
            _ if id < wait_base() => Some(Event::NoteOff(Voice::ALL[(id - off_base()) as usize])),
            _ if (id as usize) < Self::size() => Some(Event::Wait(id - wait_base() + 1)),
            _ => None,
        }
    }

    /// The voice a token belongs to (note-ons and note-offs), None for time and song tokens.
    pub fn voice(id: u16) -> Option<Voice> {
        match Self::event(id)? {
            Event::NoteOn(v, _) | Event::NoteOff(v) => Some(v),
            _ => None,
        }
    }

    /// Frames a token advances time by (waits only).
    pub fn frames(id: u16) -> usize {
        match Self::event(id) {
            Some(Event::Wait(n)) => n as usize,
            _ => 0,
        }
    }
}

/// Why a note matrix cannot be coded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    pub frame: usize,
    pub voice: Voice,
    pub note: u8,
}

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (lo, hi) = self.voice.note_range();
        write!(
            f,
            "frame {}: {} note {} is outside {lo}..={hi}",
            self.frame,
            self.voice.label(),
            self.note
        )
    }
}

/// Appends the waits that advance `gap` frames.
fn push_waits(tokens: &mut Vec<u16>, mut gap: usize) {
    while gap > 0 {
        let n = gap.min(MAX_WAIT);
        tokens.push(wait_base() + n as u16 - 1);
        gap -= n;
    }
}

/// The events of `notes` (frames of P1, P2, TR, NO; 0 = rest) as token ids: `START ... END`
/// when `whole` (a song), else the bare events and waits (an excerpt: the voices' state before
/// the first frame counts as silent).
pub fn encode(notes: &[[u8; 4]], whole: bool) -> Result<Vec<u16>, OutOfRange> {
    encode_changes(notes, [0u8; 4], whole, |t, prev, frame, tokens| {
        for v in Voice::ALL {
            let (old, new) = (prev[v.index()], frame[v.index()]);
            if old == new {
                continue;
            }
            let e = if new == 0 {
                Event::NoteOff(v)
            } else {
                Event::NoteOn(v, new)
            };
            let id = EventVocab::id(e).ok_or(OutOfRange {
                frame: t,
                voice: v,
                note: new,
            })?;
            tokens.push(id);
        }
        Ok(())
    })
}

/// The frame loop of the note coding and of the expressive one
/// ([`super::expressive_events`]): `START` when `whole`; for every frame unlike the one before
/// (the first compared with `silent`), the waits up to it and the tokens `changes` writes for
/// it (given the frame's index, the frame before and the frame); the waits to the end; `END`.
pub(crate) fn encode_changes<F: Copy + PartialEq, E>(
    frames: &[F],
    silent: F,
    whole: bool,
    mut changes: impl FnMut(usize, &F, &F, &mut Vec<u16>) -> Result<(), E>,
) -> Result<Vec<u16>, E> {
    let mut tokens = Vec::with_capacity(frames.len() / 2 + 2);
    if whole {
        tokens.push(EventVocab::START);
    }
    let mut prev = silent;
    let mut last_event = 0usize;
    for (t, frame) in frames.iter().enumerate() {
        if *frame == prev {
            continue;
        }
        push_waits(&mut tokens, t - last_event);
        last_event = t;
        changes(t, &prev, frame, &mut tokens)?;
        prev = *frame;
    }
    push_waits(&mut tokens, frames.len() - last_event);
    if whole {
        tokens.push(EventVocab::END);
    }
    Ok(tokens)
}

/// The frames `tokens` describe: the inverse of [`encode`]. Stops at `END`; `START` and ids
/// outside the vocabulary are skipped. Events after the last wait set the state but add no
/// frame (a song's last frames are always followed by a wait).
pub fn decode(tokens: &[u16]) -> Vec<[u8; 4]> {
    let mut frames = Vec::new();
    let mut state = [0u8; 4];
    for &id in tokens {
        match EventVocab::event(id) {
            Some(Event::End) => break,
            Some(Event::NoteOn(v, p)) => state[v.index()] = p,
            Some(Event::NoteOff(v)) => state[v.index()] = 0,
            Some(Event::Wait(n)) => frames.extend(std::iter::repeat_n(state, n as usize)),
            Some(Event::Start) | None => {}
        }
    }
    frames
}

/// The frames of `notes` without leading and trailing all-silent frames, as the per-second
/// likelihood figures count a song (`../shared/docs/learning-anchors.md`).
pub fn trim_silence(notes: &[[u8; 4]]) -> &[[u8; 4]] {
    trim_where(notes, |f| *f != [0; 4])
}

/// `frames` without the leading and trailing frames where `sounds` is false.
pub(crate) fn trim_where<F>(frames: &[F], sounds: impl Fn(&F) -> bool) -> &[F] {
    let start = frames.iter().position(&sounds).unwrap_or(0);
    let end = frames.iter().rposition(&sounds).map_or(start, |e| e + 1);
    &frames[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_names_one_event_and_back() {
        for id in 0..EventVocab::size() as u16 {
            let e = EventVocab::event(id).unwrap();
            assert_eq!(EventVocab::id(e), Some(id), "{e:?}");
        }
        assert_eq!(EventVocab::event(EventVocab::size() as u16), None);
        // 77 + 77 + 88 + 16 note-ons, 4 note-offs, the waits, START and END.
        assert_eq!(EventVocab::size(), 2 + 258 + 4 + MAX_WAIT);
    }

    #[test]
    fn a_song_codes_to_events_and_back() {
        let mut notes = vec![[0u8; 4]; 3];
        notes.extend(vec![[60, 64, 36, 5]; 10]);
        notes.extend(vec![[60, 0, 36, 0]; 200]);
        notes.extend(vec![[0, 0, 0, 0]; 7]);
        let tokens = encode(&notes, true).unwrap();
        assert_eq!(decode(&tokens), notes);
        let events: Vec<Event> = tokens
            .iter()
            .map(|&t| EventVocab::event(t).unwrap())
            .collect();
        assert_eq!(events[0], Event::Start);
        assert_eq!(events[1], Event::Wait(3));
        assert_eq!(events[2], Event::NoteOn(Voice::Pulse1, 60));
        assert_eq!(events[6], Event::Wait(10));
        assert_eq!(events[7], Event::NoteOff(Voice::Pulse2));
        assert_eq!(events[8], Event::NoteOff(Voice::Noise));
        // 200 frames: 96 + 96 + 8.
        assert_eq!(
            &events[9..12],
            &[Event::Wait(96), Event::Wait(96), Event::Wait(8)]
        );
        assert_eq!(*events.last().unwrap(), Event::End);
    }

    #[test]
    fn out_of_range_notes_are_named() {
        let err = encode(&[[60, 0, 0, 17]], true).unwrap_err();
        assert_eq!(err.voice, Voice::Noise);
        assert!(err.to_string().contains("NO note 17"), "{err}");
    }

    #[test]
    fn trimming_keeps_the_sounding_span() {
        let notes = [[0; 4], [1, 0, 0, 0], [0; 4], [0, 0, 0, 3], [0; 4]];
        assert_eq!(trim_silence(&notes), &notes[1..4]);
        assert!(trim_silence(&[[0; 4]; 3]).is_empty());
    }
}
