//! Evaluation on a split: negative log-likelihood in nats per frame for each voice and summed,
//! frame accuracy, and NLL on the frames where a voice changes, for the LSTMs and the baselines
//! of [`crate::learn::models::ngram`] alike.
//!
//! Every song is scored from its start with the model's state carried across the whole song
//! (as generation runs it). A voice's NLL on a frame is `-ln p(note | song so far, notes of the
//! earlier voices of the frame)`; the summed NLL is the frame's joint NLL. Accuracy is the
//! share of frames whose most likely token (given the true earlier voices) is right, per voice,
//! and for all voices at once. A voice "changes" on a frame when its note differs from the
//! previous frame's (the first frame compares with a rest); the change NLL of a voice averages
//! over its change frames, the summed change NLL over frames where any voice changes.

use crate::learn::data::dataset::TokenSet;
use crate::learn::models::infer::{log_softmax, FastLstm, Stepper};
use crate::learn::models::ngram::Predictor;
use serde::{Deserialize, Serialize};

/// The LSTM as a [`Predictor`].
pub struct LstmPredictor<'a> {
    pub stepper: Stepper<'a>,
    pub label: String,
}

impl<'a> LstmPredictor<'a> {
    /// `refresh`: see [`Stepper`] (the models' own setting is [`crate::learn::sample::generate::REFRESH`]).
    pub fn new(model: &'a FastLstm, label: impl Into<String>, refresh: usize) -> Self {
        LstmPredictor {
            stepper: Stepper::new(model, refresh),
            label: label.into(),
        }
    }
}

impl Predictor for LstmPredictor<'_> {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn start_song(&mut self) {
        self.stepper.reset();
    }
    fn advance(&mut self, history: &[u8]) {
        let w = self.stepper.model.voices();
        self.stepper.advance(&history[history.len() - w..]);
    }
    fn log_probs(&mut self, _: &[u8], v: usize, chosen: &[u8], out: &mut [f32]) {
        let s = &mut self.stepper;
        s.model.head_logits(&mut s.state, v, chosen, out);
        log_softmax(out);
    }
}

/// Scores of one predictor on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    pub model: String,
    pub songs: usize,
    pub frames: u64,
    /// Voice labels, in column order.
    pub voices: Vec<String>,
    pub nll: Vec<f64>,
    pub nll_total: f64,
    pub accuracy: Vec<f64>,
    /// Share of frames with every voice right.
    pub frame_accuracy: f64,
    pub change_nll: Vec<f64>,
    pub change_nll_total: f64,
    pub change_frames: u64,
}

/// Scores `p` on every song of `set`.
pub fn evaluate(p: &mut dyn Predictor, set: &TokenSet) -> EvalResult {
    let w = set.width();
    let mut nll = vec![0f64; w];
    let mut correct = vec![0u64; w];
    let mut ch_nll = vec![0f64; w];
    let mut ch_n = vec![0u64; w];
    let mut ch_total = 0f64;
    let mut ch_frames = 0u64;
    let mut all_right = 0u64;
    let mut frames = 0u64;
    let mut out = Vec::new();
    for s in &set.songs {
        let all = set.rows(s.start, s.frames + 1);
        p.start_song();
        let mut prev = vec![0u8; w];
        for t in 0..s.frames {
            let history = &all[..(t + 1) * w];
            let row = &all[(t + 1) * w..(t + 2) * w];
            p.advance(history);
            let mut frame_nll = 0f64;
            let mut right = true;
            let mut changed = false;
            for v in 0..w {
                out.clear();
                out.resize(set.vocab.ranges[v].size(), 0.0);
                p.log_probs(history, v, row, &mut out);
                let x = -(out[row[v] as usize] as f64);
                nll[v] += x;
                frame_nll += x;
                let best = out
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &l)| if l > b.1 { (i, l) } else { b },
                    )
                    .0;
                if best == row[v] as usize {
                    correct[v] += 1;
                } else {
                    right = false;
                }
                if row[v] != prev[v] {
                    ch_nll[v] += x;
                    ch_n[v] += 1;
                    changed = true;
                }
            }
            if changed {
                ch_total += frame_nll;
                ch_frames += 1;
            }
            all_right += right as u64;
            prev.copy_from_slice(row);
            frames += 1;
        }
    }
    let f = frames.max(1) as f64;
    let per: Vec<f64> = nll.iter().map(|x| x / f).collect();
    EvalResult {
        model: p.name(),
        songs: set.songs.len(),
        frames,
        voices: set
            .vocab
            .voices
            .iter()
            .map(|v| v.voice().label().to_string())
            .collect(),
        nll_total: per.iter().sum(),
        nll: per,
        accuracy: correct.iter().map(|&c| c as f64 / f).collect(),
        frame_accuracy: all_right as f64 / f,
        change_nll: ch_nll
            .iter()
            .zip(&ch_n)
            .map(|(x, &n)| x / n.max(1) as f64)
            .collect(),
        change_nll_total: ch_total / ch_frames.max(1) as f64,
        change_frames: ch_frames,
    }
}

/// A markdown table of results (one row per predictor).
pub fn markdown_table(results: &[EvalResult]) -> String {
    let Some(first) = results.first() else {
        return String::new();
    };
    let mut s = String::from("| model | NLL total |");
    for v in &first.voices {
        s += &format!(" NLL {v} |");
    }
    s += " change NLL total |";
    for v in &first.voices {
        s += &format!(" change NLL {v} |");
    }
    s += " frame acc. |\n|---|";
    s += &"---:|".repeat(3 + 2 * first.voices.len());
    s.push('\n');
    for r in results {
        s += &format!("| {} | {:.3} |", r.model, r.nll_total);
        for x in &r.nll {
            s += &format!(" {x:.3} |");
        }
        s += &format!(" {:.3} |", r.change_nll_total);
        for x in &r.change_nll {
            s += &format!(" {x:.3} |");
        }
        s += &format!(" {:.1}% |\n", 100.0 * r.frame_accuracy);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::vocab::Vocab;
    use crate::learn::models::ngram::{NGram, RepeatPrevious, Uniform};
    use crate::score::{Score, Voice};

    fn set() -> TokenSet {
        let notes: Vec<[u8; 4]> = (0..40)
            .map(|f| [60 + (f / 4 % 2) as u8, 0, 40, 0])
            .collect();
        let s = Score::from_notes("s", 24.0, &notes);
        TokenSet::from_scores(Vocab::from_scores(&Voice::ALL, [&s]).unwrap(), [&s])
    }

    #[test]
    fn uniform_nll_is_log_vocab_and_changes_are_counted() {
        let s = set();
        let r = evaluate(&mut Uniform::new(&s), &s);
        assert_eq!(r.frames, 40);
        for (v, x) in r.nll.iter().enumerate() {
            assert!((x - (s.vocab.ranges[v].notes() as f64).ln()).abs() < 1e-5);
        }
        // P1 changes every 4 frames (and at frame 0), TR only at frame 0.
        assert_eq!(r.change_frames, 10);
        let md = markdown_table(&[r]);
        assert!(
            md.contains("| uniform |") && md.lines().count() == 3,
            "{md}"
        );
    }

    #[test]
    fn better_models_score_better() {
        let s = set();
        let uni = evaluate(&mut Uniform::new(&s), &s);
        let rep = evaluate(&mut RepeatPrevious::fit(&s), &s);
        let four = evaluate(&mut NGram::fit(&s, 4, 0.75), &s);
        assert!(rep.nll_total < uni.nll_total);
        assert!(four.nll_total < rep.nll_total);
        assert!(four.change_nll_total < rep.change_nll_total);
        assert!(
            rep.frame_accuracy > 0.7 && uni.frame_accuracy < 0.1,
            "{rep:?}"
        );
    }
}
