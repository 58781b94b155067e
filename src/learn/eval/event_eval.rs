//! Likelihood of event models on whole songs, in one measure every model shares: nats per
//! second of music (and per 24 Hz frame = per second / 24), summed over the tokens of each song
//! after its START, END included, songs trimmed of leading and trailing silence as
//! `../shared/docs/learning-anchors.md` counts them. Per voice: the nats of that voice's
//! note-ons and note-offs; "time": waits and END. An expressive model's nats split into its
//! note tokens (the note coding's ids, comparable with a note model's figure) and its dynamics
//! (velocity and timbre tokens), each given all the tokens before it.

use crate::learn::data::coding::{self, Coding};
use crate::learn::data::events::EventVocab;
use crate::learn::data::expressive_events::ExpressiveVocab;
use crate::learn::models::event_ngram::EventNGram;
use crate::learn::models::transformer_decoder::Decoder;
use crate::score::{Frame, NESMDB_RATE};
use serde::{Deserialize, Serialize};

/// A model that gives the log-probability of each token of a song given the ones before.
pub trait EventScorer: Sync {
    /// `ln p(tokens[i] | tokens[..i])` for `i` in `1..len`.
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64>;
}

/// The Transformer with a sliding window of `window` positions.
pub struct TransformerScorer<'a> {
    pub decoder: &'a Decoder,
    pub window: usize,
}

/// Every token of a coding equally likely (START excluded).
pub struct UniformScorer(pub Coding);

impl EventScorer for UniformScorer {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        vec![-((self.0.vocab() - 1) as f64).ln(); tokens.len().saturating_sub(1)]
    }
}

impl EventScorer for EventNGram {
    fn log_probs(&self, tokens: &[u16]) -> Vec<f64> {
        (1..tokens.len())
            .map(|i| self.log_prob(&tokens[..i], tokens[i]))
            .collect()
    }
}

/// What `eval` reports for an event model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEval {
    pub model: String,
    pub songs: usize,
    pub tokens: usize,
    pub seconds: f64,
    pub nats_per_token: f64,
    pub nats_per_second: f64,
    pub nats_per_frame: f64,
    /// Nats per second of P1, P2, TR and NO's note tokens, then of time (waits and END).
    pub nats_per_second_voices: [f64; 5],
    /// The coding.
    #[serde(default)]
    pub coding: Coding,
    /// Nats per second of the note-coding tokens (all of a note model's).
    #[serde(default)]
    pub nats_per_second_notes: f64,
    /// Nats per second of the velocity and timbre tokens (0 for a note model).
    #[serde(default)]
    pub nats_per_second_dynamics: f64,
}

/// Where a token's nats are counted: its voice (0-3), time (4) or dynamics (5).
fn slot(t: u16) -> usize {
    if ExpressiveVocab::is_dynamics(t) {
        5
    } else {
        EventVocab::voice(t).map_or(4, |v| v.index())
    }
}

/// `songs` as the evaluation reads them: trimmed of leading and trailing silence, coded in
/// `coding` with START and END; empty songs left out.
pub fn code_songs(coding: Coding, songs: &[Vec<Frame>]) -> Vec<Vec<u16>> {
    songs
        .iter()
        .map(|s| coding::trim_silence(s))
        .filter(|s| !s.is_empty())
        .filter_map(|s| coding.encode(s, true).ok())
        .collect()
}

/// Scores `songs` coded in `coding` with `scorer` on `threads` threads.
pub fn evaluate(
    label: &str,
    scorer: &dyn EventScorer,
    coding: Coding,
    songs: &[Vec<Frame>],
    threads: usize,
) -> EventEval {
    let coded = code_songs(coding, songs);
    let frames: usize = coded
        .iter()
        .flat_map(|t| t.iter().map(|&x| Coding::frames(x)))
        .sum();
    let threads = threads.max(1);
    let sums: Vec<([f64; 6], usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let coded = &coded;
                scope.spawn(move || {
                    let mut by = [0f64; 6];
                    let mut n = 0;
                    for tokens in coded.iter().skip(k).step_by(threads) {
                        for (lp, &t) in scorer.log_probs(tokens).iter().zip(&tokens[1..]) {
                            by[slot(t)] -= lp;
                            n += 1;
                        }
                    }
                    (by, n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scoring thread"))
            .collect()
    });
    let mut by = [0f64; 6];
    let mut tokens = 0;
    for (b, n) in sums {
        for i in 0..6 {
            by[i] += b[i];
        }
        tokens += n;
    }
    let seconds = frames as f64 / NESMDB_RATE;
    let total: f64 = by.iter().sum();
    let per_second = total / seconds.max(1e-9);
    let by = by.map(|v| v / seconds.max(1e-9));
    EventEval {
        model: label.to_string(),
        songs: coded.len(),
        tokens,
        seconds,
        nats_per_token: total / tokens.max(1) as f64,
        nats_per_second: per_second,
        nats_per_frame: per_second / NESMDB_RATE,
        nats_per_second_voices: [by[0], by[1], by[2], by[3], by[4]],
        coding,
        nats_per_second_notes: by[..5].iter().sum(),
        nats_per_second_dynamics: by[5],
    }
}

/// LakhNES's published test figures as nats per second (learning-anchors.md: test perplexity
/// per token x 27.1 tokens per second of their coding).
pub const LAKHNES: [(&str, f64); 3] = [
    ("LakhNES: Transformer-XL, NES-MDB only (published)", 34.0),
    ("LakhNES: + augmentation (published)", 27.3),
    ("LakhNES: + Lakh MIDI pretraining (published)", 24.4),
];

/// A markdown table of event-model results, with LakhNES's published figures and any frame
/// models given as (label, nats per frame).
pub fn markdown(results: &[EventEval], frame_models: &[(String, f64)]) -> String {
    let mut s = String::from(
        "| model | nats/s | nats/frame (24 Hz) | nats/token | P1 | P2 | TR | NO | time | notes | dynamics |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let v = r.nats_per_second_voices;
        let dynamics = match r.coding {
            Coding::Notes => String::new(),
            Coding::Expressive => format!("{:.1}", r.nats_per_second_dynamics),
        };
        s += &format!(
            "| {} | {:.1} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {dynamics} |\n",
            r.model,
            r.nats_per_second,
            r.nats_per_frame,
            r.nats_per_token,
            v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            r.nats_per_second_notes
        );
    }
    for (label, per_frame) in frame_models {
        s += &format!(
            "| {label} (frame model) | {:.1} | {per_frame:.3} | | | | | | | | |\n",
            per_frame * NESMDB_RATE
        );
    }
    for (label, per_second) in LAKHNES {
        s += &format!(
            "| {label} | {per_second:.1} | {:.3} | | | | | | | | |\n",
            per_second / NESMDB_RATE
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_costs_log_vocab_per_token_and_time_adds_up() {
        let songs: Vec<Vec<Frame>> = [
            vec![[60, 0, 0, 0]; 48],
            vec![[0; 4], [62, 64, 40, 3], [62, 64, 40, 3], [0; 4]],
        ]
        .iter()
        .map(|n| coding::frames_of_notes(n))
        .collect();
        let r = evaluate(
            "uniform",
            &UniformScorer(Coding::Notes),
            Coding::Notes,
            &songs,
            2,
        );
        let per = ((EventVocab::size() - 1) as f64).ln();
        assert!((r.nats_per_token - per).abs() < 1e-9);
        // Song 1: NOTE_ON, WAIT 48, END; song 2 (trimmed to 2 frames): 4 NOTE_ONs, WAIT 2, END.
        assert_eq!(r.tokens, 3 + 6);
        assert!((r.seconds - 50.0 / 24.0).abs() < 1e-9);
        assert!((r.nats_per_frame * 24.0 - r.nats_per_second).abs() < 1e-9);
        let voices: f64 = r.nats_per_second_voices.iter().sum();
        assert!((voices - r.nats_per_second).abs() < 1e-6);
        assert_eq!(r.nats_per_second_dynamics, 0.0);
        assert!((r.nats_per_second_notes - r.nats_per_second).abs() < 1e-6);
        // The expressive coding adds a velocity token per sounding pulse and noise voice
        // (velocity 15 from the seprsco defaults): P1 in song 1; P1, P2, NO in song 2.
        let e = evaluate(
            "uniform",
            &UniformScorer(Coding::Expressive),
            Coding::Expressive,
            &songs,
            1,
        );
        assert_eq!(e.tokens, r.tokens + 4);
        let per = ((Coding::Expressive.vocab() - 1) as f64).ln();
        assert!((e.nats_per_second_dynamics - 4.0 * per / e.seconds).abs() < 1e-9);
        assert!(
            (e.nats_per_second_notes + e.nats_per_second_dynamics - e.nats_per_second).abs() < 1e-6
        );
        let table = markdown(&[r, e], &[("lstm-full".into(), 2.617)]);
        assert!(table.contains("| 62.8 |"), "{table}");
    }
}
