//! Pictures of a score: the piano-roll PNG ([`pianoroll`]) and the HTML preview page
//! ([`preview`]). Both draw the same notes: a note is a maximal run of frames in which one voice
//! holds the same non-zero note value ([`note_spans`]), so the PNG and the page agree with each
//! other and with the statistics.

pub mod album;
pub mod canvas;
pub mod font;
pub mod pianoroll;
pub mod preview;

use crate::score::{Score, Voice};

/// One note of one voice: frames `start..end` hold `note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteSpan {
    pub voice: Voice,
    pub note: u8,
    pub start: usize,
    pub end: usize,
}

/// Every note of the score, voice by voice (score order), each voice in time order. A change of
/// velocity or timbre under the same note value does not start a new note.
pub fn note_spans(score: &Score) -> Vec<NoteSpan> {
    let mut spans = Vec::new();
    for voice in Voice::ALL {
        let mut open: Option<NoteSpan> = None;
        for (i, note) in score.notes(voice).enumerate() {
            match open {
                Some(ref s) if s.note == note => continue,
                Some(s) => spans.push(NoteSpan { end: i, ..s }),
                None => {}
            }
            open = (note != 0).then_some(NoteSpan {
                voice,
                note,
                start: i,
                end: i + 1,
            });
        }
        if let Some(s) = open {
            spans.push(NoteSpan {
                end: score.len(),
                ..s
            });
        }
    }
    spans
}

/// What one voice does over a song.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceStats {
    pub voice: Voice,
    /// Number of notes ([`note_spans`]).
    pub notes: usize,
    /// Lowest and highest sounding note value, `None` when the voice never sounds.
    pub range: Option<(u8, u8)>,
    /// Share of frames that sound, 0..1.
    pub sounding_share: f64,
    /// Frames whose note value differs from the frame before (a new note, a rest, or a note
    /// after a rest; the first frame counts when it sounds), per second of song.
    pub changes_per_sec: f64,
}

/// Statistics of the four voices, in score order.
pub fn voice_stats(score: &Score) -> Vec<VoiceStats> {
    let secs = score.duration_secs();
    Voice::ALL
        .iter()
        .map(|&voice| {
            let mut prev = 0u8;
            let (mut sounding, mut changes) = (0usize, 0usize);
            let mut range: Option<(u8, u8)> = None;
            for note in score.notes(voice) {
                if note != prev {
                    changes += 1;
                }
                prev = note;
                if note != 0 {
                    sounding += 1;
                    range =
                        Some(range.map_or((note, note), |(lo, hi)| (lo.min(note), hi.max(note))));
                }
            }
            VoiceStats {
                voice,
                notes: note_spans_of(score, voice),
                range,
                sounding_share: sounding as f64 / score.len().max(1) as f64,
                changes_per_sec: if secs > 0.0 {
                    changes as f64 / secs
                } else {
                    0.0
                },
            }
        })
        .collect()
}

fn note_spans_of(score: &Score, voice: Voice) -> usize {
    let mut prev = 0u8;
    let mut n = 0;
    for note in score.notes(voice) {
        if note != 0 && note != prev {
            n += 1;
        }
        prev = note;
    }
    n
}

/// Scientific pitch name of a MIDI note (60 = `C4`); noise values are shown as numbers.
pub fn note_name(voice: Voice, note: u8) -> String {
    if voice == Voice::Noise {
        return format!("{note}");
    }
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!("{}{}", NAMES[note as usize % 12], note as i32 / 12 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_split_on_note_change_and_rest() {
        // P1: 60 60 62 0 62 -> three notes; TR: always 40 -> one; NO never.
        let s = Score::from_notes(
            "t",
            24.0,
            &[
                [60, 0, 40, 0],
                [60, 0, 40, 0],
                [62, 0, 40, 0],
                [0, 0, 40, 0],
                [62, 0, 40, 0],
            ],
        );
        let spans = note_spans(&s);
        let p1: Vec<_> = spans.iter().filter(|s| s.voice == Voice::Pulse1).collect();
        assert_eq!(
            p1.iter()
                .map(|s| (s.note, s.start, s.end))
                .collect::<Vec<_>>(),
            vec![(60, 0, 2), (62, 2, 3), (62, 4, 5)]
        );
        let tr: Vec<_> = spans
            .iter()
            .filter(|s| s.voice == Voice::Triangle)
            .collect();
        assert_eq!((tr.len(), tr[0].start, tr[0].end), (1, 0, 5));
        assert_eq!(spans.len(), 4);
        let stats = voice_stats(&s);
        assert_eq!(stats[0].notes, 3);
        assert_eq!(stats[0].range, Some((60, 62)));
        assert!((stats[0].sounding_share - 0.8).abs() < 1e-9);
        // Changes: 0->60, 60->62, 62->0, 0->62 = 4 in 5/24 s.
        assert!((stats[0].changes_per_sec - 4.0 * 24.0 / 5.0).abs() < 1e-9);
        assert_eq!(stats[2].notes, 1);
        assert_eq!(stats[3].range, None);
        assert_eq!(stats[3].notes, 0);
        assert_eq!(note_name(Voice::Pulse1, 60), "C4");
        assert_eq!(note_name(Voice::Triangle, 21), "A0");
        assert_eq!(note_name(Voice::Noise, 7), "7");
    }
}
