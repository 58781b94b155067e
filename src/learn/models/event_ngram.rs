//! The event n-gram: the baseline an event Transformer must beat. Token counts over the
//! training songs' event codings, interpolated absolute discounting (each order keeps
//! `max(c - D, 0)` and passes `D x distinct continuations` of its mass down), down to a uniform
//! distribution over every token but START.

use crate::learn::data::events::{self, EventVocab};
use std::collections::HashMap;

/// The discount of every order (the usual 0.75 of Kneser-Ney-style smoothing).
const DISCOUNT: f64 = 0.75;

/// Token ids fit in 9 bits; a context of up to 6 tokens and its length pack into one u64.
const BITS: u32 = 9;

fn context_key(context: &[u16]) -> u64 {
    context
        .iter()
        .fold(context.len() as u64, |k, &t| (k << BITS) | t as u64)
}

/// An n-gram over event tokens.
pub struct EventNGram {
    /// Tokens of context at most (order - 1).
    pub context: usize,
    /// (context key, next token) -> count.
    pairs: HashMap<(u64, u16), u32>,
    /// context key -> (count, distinct next tokens).
    contexts: HashMap<u64, (u32, u32)>,
}

impl EventNGram {
    /// Counts `songs` (note matrices, trimmed and coded as whole songs) with contexts of up to
    /// `order - 1` tokens (`order` 1..=7).
    pub fn train(songs: &[Vec<[u8; 4]>], order: usize) -> EventNGram {
        let context = order.clamp(1, 7) - 1;
        let mut pairs: HashMap<(u64, u16), u32> = HashMap::new();
        for song in songs {
            let notes = events::trim_silence(song);
            let Ok(tokens) = events::encode(notes, true) else {
                continue;
            };
            for i in 1..tokens.len() {
                for k in 0..=context.min(i) {
                    *pairs
                        .entry((context_key(&tokens[i - k..i]), tokens[i]))
                        .or_default() += 1;
                }
            }
        }
        let mut contexts: HashMap<u64, (u32, u32)> = HashMap::new();
        for (&(ctx, _), &c) in &pairs {
            let e = contexts.entry(ctx).or_default();
            e.0 += c;
            e.1 += 1;
        }
        EventNGram {
            context,
            pairs,
            contexts,
        }
    }

    /// `ln p(next | history)`.
    pub fn log_prob(&self, history: &[u16], next: u16) -> f64 {
        let mut p = 1.0 / (EventVocab::size() - 1) as f64;
        let longest = self.context.min(history.len());
        for k in 0..=longest {
            let key = context_key(&history[history.len() - k..]);
            let Some(&(total, distinct)) = self.contexts.get(&key) else {
                break;
            };
            let c = self.pairs.get(&(key, next)).copied().unwrap_or(0) as f64;
            let total = total as f64;
            p = (c - DISCOUNT).max(0.0) / total + DISCOUNT * distinct as f64 / total * p;
        }
        p.ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_and_repetition_is_learnt() {
        let song: Vec<[u8; 4]> = (0..400)
            .map(|i| [60 + (i / 4 % 3) as u8, 0, 0, 0])
            .collect();
        let g = EventNGram::train(std::slice::from_ref(&song), 4);
        let tokens = events::encode(&song, true).unwrap();
        let history = &tokens[..20];
        let total: f64 = (0..EventVocab::size() as u16)
            .filter(|&t| t != EventVocab::START)
            .map(|t| g.log_prob(history, t).exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let seen = g.log_prob(history, tokens[20]);
        assert!(seen > -0.2, "{seen}");
        assert!(g.log_prob(history, EventVocab::END) < -5.0);
    }
}
