//! Drawing a token from the Transformer's logits: a temperature, then top-k and top-p
//! truncation, either over all tokens (LakhNES's way) or within each kind of token.
//!
//! Why within kinds: a voice's note-on spreads its probability over dozens of pitches while a
//! wait's sits on a few lengths, so a top-k over all tokens keeps the waits and cuts the
//! pitches, and a voice can stay silent for a whole song. Truncating each kind apart (each
//! voice's note-ons, the note-offs, the waits, the velocity and timbre tokens, END) keeps every
//! kind's total probability and cuts only its unlikely members: which voice moves next is
//! drawn as the model says (at the temperature), what it plays is truncated.

use super::transformer_sample::SampleOptions;
use crate::learn::data::coding::{kind, KINDS};
use crate::learn::data::events::EventVocab;
use rand::rngs::StdRng;
use rand::Rng;

/// Where top-k and top-p cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// Over all tokens at once.
    Global,
    /// Within each kind of token ([`kind`]: each voice's note-ons, the note-offs, the waits, ...),
    /// each kind keeping its share.
    PerKind,
}

impl std::str::FromStr for Truncation {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Truncation, String> {
        match s {
            "global" => Ok(Truncation::Global),
            "per-kind" => Ok(Truncation::PerKind),
            _ => Err(format!("'{s}' is not a truncation: use per-kind or global")),
        }
    }
}

/// The first tokens of `order` (most likely first) that top-k and top-p keep.
fn kept(order: &[usize], probs: &[f64], top_k: usize, top_p: f32) -> usize {
    let n = if top_k > 0 {
        order.len().min(top_k)
    } else {
        order.len()
    };
    if top_p >= 1.0 {
        return n;
    }
    let total: f64 = order[..n].iter().map(|&i| probs[i]).sum();
    let mut acc = 0.0;
    order[..n]
        .iter()
        .position(|&i| {
            acc += probs[i] / total;
            acc >= top_p as f64
        })
        .map_or(n, |i| i + 1)
}

/// Draws a token from `logits` (START never; END only when `end_allowed`).
pub fn draw(logits: &mut [f32], o: &SampleOptions, end_allowed: bool, rng: &mut StdRng) -> u16 {
    logits[EventVocab::START as usize] = f32::NEG_INFINITY;
    if !end_allowed {
        logits[EventVocab::END as usize] = f32::NEG_INFINITY;
    }
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let probs: Vec<f64> = logits
        .iter()
        .map(|&l| (((l - max) / o.temperature) as f64).exp())
        .collect();
    let mut order: Vec<usize> = (0..logits.len()).filter(|&i| probs[i] > 0.0).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    // Each kept token and its weight.
    let mut weights: Vec<(usize, f64)> = Vec::new();
    match o.truncation {
        Truncation::Global => {
            let n = kept(&order, &probs, o.top_k, o.top_p);
            weights.extend(order[..n].iter().map(|&i| (i, probs[i])));
        }
        Truncation::PerKind => {
            for k in 0..KINDS {
                let members: Vec<usize> = order
                    .iter()
                    .copied()
                    .filter(|&i| kind(i as u16) == k)
                    .collect();
                if members.is_empty() {
                    continue;
                }
                let share: f64 = members.iter().map(|&i| probs[i]).sum();
                let n = kept(&members, &probs, o.top_k, o.top_p);
                let kept_mass: f64 = members[..n].iter().map(|&i| probs[i]).sum();
                weights.extend(
                    members[..n]
                        .iter()
                        .map(|&i| (i, probs[i] * share / kept_mass)),
                );
            }
        }
    }
    let total: f64 = weights.iter().map(|w| w.1).sum();
    let mut u = rng.random::<f64>() * total;
    for &(i, w) in &weights {
        u -= w;
        if u <= 0.0 {
            return i as u16;
        }
    }
    weights.last().expect("a token is always allowed").0 as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::events::Event;
    use crate::score::Voice;
    use rand::SeedableRng;

    /// How often each token is drawn in 20,000 draws.
    fn shares(logits: &[f32], o: &SampleOptions) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = vec![0usize; logits.len()];
        for _ in 0..20_000 {
            counts[draw(&mut logits.to_vec(), o, false, &mut rng) as usize] += 1;
        }
        counts.iter().map(|&c| c as f64 / 20_000.0).collect()
    }

    #[test]
    fn per_kind_truncation_keeps_a_voice_whose_pitches_are_spread() {
        // P1's note-ons share 0.6 over 60 pitches (0.01 each); one wait has 0.4.
        let mut probs = vec![0.0f64; EventVocab::size()];
        let p1: Vec<u16> = (40..100)
            .map(|p| EventVocab::id(Event::NoteOn(Voice::Pulse1, p)).unwrap())
            .collect();
        p1.iter().for_each(|&t| probs[t as usize] = 0.01);
        let wait = EventVocab::id(Event::Wait(6)).unwrap() as usize;
        probs[wait] = 0.4;
        let logits: Vec<f32> = probs.iter().map(|&p| p.ln() as f32).collect();
        let mut o = SampleOptions::new(1.0, 0);
        (o.temperature, o.top_k) = (1.0, 32);
        o.truncation = Truncation::Global;
        let global = shares(&logits, &o);
        let p1_share = |s: &[f64]| p1.iter().map(|&t| s[t as usize]).sum::<f64>();
        // Globally the wait keeps 0.4 / (0.4 + 31 x 0.01) of the draws.
        assert!((global[wait] - 0.4 / 0.71).abs() < 0.02, "{}", global[wait]);
        o.truncation = Truncation::PerKind;
        let per_kind = shares(&logits, &o);
        assert!((per_kind[wait] - 0.4).abs() < 0.02, "{}", per_kind[wait]);
        assert!((p1_share(&per_kind) - 0.6).abs() < 0.02);
        // Only 32 pitches are ever drawn.
        assert_eq!(
            p1.iter().filter(|&&t| per_kind[t as usize] > 0.0).count(),
            32
        );
        assert_eq!(kind(wait as u16), 5);
        assert_eq!(kind(EventVocab::END), 6);
    }

    #[test]
    fn without_truncation_both_ways_draw_the_models_distribution() {
        let logits: Vec<f32> = (0..EventVocab::size())
            .map(|i| ((i % 7) as f32) * 0.5)
            .collect();
        let mut o = SampleOptions::new(1.0, 0);
        (o.temperature, o.top_k, o.top_p) = (1.0, 0, 1.0);
        o.truncation = Truncation::Global;
        let a = shares(&logits, &o);
        o.truncation = Truncation::PerKind;
        let b = shares(&logits, &o);
        assert_eq!(a[EventVocab::START as usize], 0.0);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 0.01);
        }
    }
}
