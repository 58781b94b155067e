//! Songs from the Transformer: token by token with a KV cache and a sliding window
//! ([`crate::learn::models::transformer_decoder`]), temperature, top-k and nucleus (top-p) sampling from a seeded RNG, an
//! optional primer, and an optional loop: the song is cut into an intro and a loop body at the
//! frame where the model finds the jump from the song's end back into the song most likely.
//! With song-cache weights ([`crate::learn::models::song_cache`]) each token is drawn from the
//! model mixed with the cache, so the song can take up its own earlier phrases.

use crate::error::{Error, Result};
use crate::learn::data::coding::Coding;
use crate::learn::data::events::EventVocab;
use crate::learn::data::expressive_events::Grammar;
use crate::learn::models::cache_weights::CacheWeights;
use crate::learn::models::kind_cache::kind_masses;
use crate::learn::models::song_cache::SongCache;
use crate::learn::models::transformer_decoder::{log_prob, softmax, DecodeState, Decoder};
pub use crate::learn::sample::draw::{draw, Truncation};
use crate::score::{Frame, Score, NESMDB_RATE};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// How to sample.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub seconds: f64,
    pub temperature: f32,
    /// Keep only the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the most likely tokens whose probabilities sum to p (1 = all).
    pub top_p: f32,
    /// Whether top-k and top-p cut over all tokens or within each kind.
    pub truncation: Truncation,
    pub seed: u64,
    /// Frames to continue (the note coding reads their notes only), and how many seconds of
    /// them to use.
    pub primer: Option<(Vec<Frame>, f64)>,
    /// Positions the model attends to (0 = its training context).
    pub window: usize,
    /// Choose a loop point (see [`choose_loop`]).
    pub looped: bool,
    pub name: String,
    /// The song cache's weights (None: the model alone).
    pub cache: Option<CacheWeights>,
}

impl SampleOptions {
    /// LakhNES's sampling defaults (temperature 0.95, top-k 32), 30 s, seed 0.
    pub fn new(seconds: f64, seed: u64) -> SampleOptions {
        SampleOptions {
            seconds,
            temperature: 0.95,
            top_k: 32,
            top_p: 1.0,
            truncation: Truncation::Global,
            seed,
            primer: None,
            window: 0,
            looped: false,
            name: format!("transformer-{seed}"),
            cache: None,
        }
    }

    /// Every option checked; the message gives the accepted range.
    pub fn check(&self, config_context: usize) -> Result<()> {
        let bad = |m: String| Err(Error::Unsupported(m));
        if !(self.seconds.is_finite() && self.seconds > 0.0 && self.seconds <= 3600.0) {
            return bad(format!(
                "--seconds {} must be above 0 and at most 3600",
                self.seconds
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0 && self.temperature <= 10.0) {
            return bad(format!(
                "--temperature {} must be above 0 and at most 10",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!(
                "--top-p {} must be above 0 and at most 1",
                self.top_p
            ));
        }
        if self.window > 4 * config_context {
            return bad(format!(
                "--window {} is longer than the model allows (at most {}, 4 x its training context {config_context})",
                self.window,
                4 * config_context
            ));
        }
        if let Some((notes, secs)) = &self.primer {
            if !(secs.is_finite() && *secs > 0.0) {
                return bad(format!("--primer-seconds {secs} must be above 0"));
            }
            let have = notes.len() as f64 / NESMDB_RATE;
            if have + 1e-9 < *secs {
                return bad(format!(
                    "the primer lasts {have:.2} s, shorter than the {secs} s asked (--primer-seconds)"
                ));
            }
        }
        Ok(())
    }
}

/// Replaces `logits` by the log-probabilities of the model mixed with the cache.
fn mix_cache(logits: &mut [f32], weights: &CacheWeights, cache: &SongCache) {
    let probs = softmax(logits);
    let view = cache.view();
    let mixed = view.mix(&weights.weights[view.class()], &probs, &kind_masses(&probs));
    for (l, q) in logits.iter_mut().zip(mixed) {
        *l = q.ln() as f32;
    }
}

/// What a sampled song is, beside its score.
#[derive(Debug, Clone)]
pub struct Sampled {
    pub score: Score,
    pub tokens: Vec<u16>,
    /// Mean NLL per sampled token under the model and its cache, if any (temperature 1).
    pub mean_nll: f64,
    /// With a loop: the loop's frame, the NLL per token of the jump back across the seam, and
    /// the number of candidate frames weighed.
    pub seam: Option<(usize, f64, usize)>,
}

/// Samples a song.
pub fn sample(dec: &Decoder, o: &SampleOptions) -> Result<Sampled> {
    o.check(dec.config.context)?;
    let coding = dec.config.coding;
    let window = if o.window == 0 {
        dec.config.context
    } else {
        o.window
    };
    let total = (o.seconds * NESMDB_RATE).round().max(1.0) as usize;
    let mut rng = StdRng::seed_from_u64(o.seed);
    let mut state = dec.start(window);
    let mut logits = Vec::new();
    let mut tokens = vec![EventVocab::START];
    if let Some((notes, secs)) = &o.primer {
        let n = ((secs * NESMDB_RATE).round() as usize)
            .min(notes.len())
            .min(total);
        let mut primer = coding
            .encode(&notes[..n], true)
            .map_err(|e| Error::Unsupported(format!("primer: {e}")))?;
        primer.pop(); // END: the song goes on.
        tokens = primer;
    }
    let mut frames = tokens.iter().map(|&t| Coding::frames(t)).sum::<usize>();
    for &t in &tokens[..tokens.len() - 1] {
        dec.step(&mut state, t, &mut logits);
    }
    // The expressive coding's constraints; the note coding has none.
    let mut grammar = coding.is_expressive().then(Grammar::default);
    if let Some(g) = &mut grammar {
        tokens.iter().for_each(|&t| g.push(t));
    }
    let mut cache = o.cache.as_ref().map(|w| {
        let mut c = SongCache::new();
        tokens.iter().for_each(|&t| c.push(t));
        (w, c)
    });
    let (mut nll, mut drawn) = (0f64, 0usize);
    let mut last = *tokens.last().expect("START at least");
    while frames < total {
        dec.step(&mut state, last, &mut logits);
        if let Some((w, c)) = &cache {
            mix_cache(&mut logits, w, c);
        }
        let mut allowed = logits.clone();
        if let Some(g) = &grammar {
            g.mask(&mut allowed);
        }
        let t = draw(&mut allowed, o, false, &mut rng);
        if let Some(g) = &mut grammar {
            g.push(t);
        }
        nll -= log_prob(&logits, t as usize);
        drawn += 1;
        frames += Coding::frames(t);
        tokens.push(t);
        if let Some((_, c)) = &mut cache {
            c.push(t);
        }
        last = t;
    }
    let mut score = Score::new(o.name.clone(), NESMDB_RATE);
    score.expressive = coding.is_expressive();
    score.frames = coding.decode(&tokens);
    score.frames.truncate(total);
    let mean_nll = nll / drawn.max(1) as f64;
    let seam = if o.looped {
        dec.step(&mut state, last, &mut logits);
        let (frame, seam_nll, candidates) = choose_loop(dec, &state, &logits, &score.frames);
        score.loop_frame = Some(frame);
        Some((frame, seam_nll, candidates))
    } else {
        None
    };
    score.validate()?;
    Ok(Sampled {
        score,
        tokens,
        mean_nll,
        seam,
    })
}

/// Frames of music after the seam over which a jump is judged (2 s).
const SEAM_FRAMES: usize = 48;

/// The loop frame: among the frames where some voice changes in the middle half of the song
/// (at most 48 of them, evenly spread), the one whose music (its first 2 s) the model finds
/// most likely right after the song's end, i.e. the jump that sounds least like a jump.
/// `state` has read the whole song and `next` is its prediction of the token after it.
/// Returns (frame, NLL per token across the seam, candidates weighed).
pub fn choose_loop(
    dec: &Decoder,
    state: &DecodeState,
    next: &[f32],
    notes: &[Frame],
) -> (usize, f64, usize) {
    let n = notes.len();
    let changes: Vec<usize> = (n / 4..(3 * n / 4).max(n / 4 + 1))
        .filter(|&t| t > 0 && t < n && notes[t] != notes[t - 1])
        .collect();
    let step = changes.len().div_ceil(48).max(1);
    let candidates: Vec<usize> = changes.into_iter().step_by(step).collect();
    let mut best = (0usize, f64::INFINITY);
    for &a in &candidates {
        let nll = seam_nll(dec, state, next, notes, a);
        if nll < best.1 {
            best = (a, nll);
        }
    }
    if candidates.is_empty() {
        best = (0, seam_nll(dec, state, next, notes, 0));
    }
    (best.0, best.1, candidates.len().max(1))
}

/// NLL per token of jumping from the song's end to frame `a`: the events from the last frame
/// into frame `a`, then the song's tokens over the next [`SEAM_FRAMES`] frames.
pub fn seam_nll(
    dec: &Decoder,
    state: &DecodeState,
    next: &[f32],
    notes: &[Frame],
    a: usize,
) -> f64 {
    let mut seam = vec![*notes.last().expect("a song has frames")];
    seam.extend_from_slice(&notes[a..(a + SEAM_FRAMES).min(notes.len())]);
    let tokens = dec
        .config
        .coding
        .encode(&seam, false)
        .expect("the song's own frames");
    // The song's tokens already hold its last frame and the wait after it.
    let first_wait = tokens
        .iter()
        .position(|&t| Coding::frames(t) > 0)
        .unwrap_or(0);
    let tokens = &tokens[first_wait + 1..];
    let mut s = state.clone();
    let mut current = next.to_vec();
    let mut nll = 0.0;
    for (i, &t) in tokens.iter().enumerate() {
        if i > 0 {
            dec.step(&mut s, tokens[i - 1], &mut current);
        }
        nll -= log_prob(&current, t as usize);
    }
    nll / tokens.len().max(1) as f64
}
