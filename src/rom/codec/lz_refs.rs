//! Back-references for the stream encoder ([`super::lz`]): the commands encoded so far
//! ([`Dictionary`], hashed whole commands), the search for the longest earlier run equal to
//! what comes next (with and without references inside it), and the cycle check that keeps a
//! reference from pushing a frame over the budget.

use crate::rom::codec::cost::estimate::REF_ENTRY_CYCLES;
use crate::rom::codec::format::{cmd, Phrase};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: token keys are a few bytes, where SipHash's setup dominates.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Where a command was stored: as plain bytes, or as the first of the commands a
/// back-reference stored there plays. The commands inside a reference, and references that
/// hold references (which nothing may reference: the player nests two deep), have none.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placed {
    pub piece: usize,
    pub offset: usize,
    /// Entries of one run were stored back to back, so a reference may span them.
    pub run: u32,
    /// Commands played from here: 1 for a plain command, more for a back-reference.
    pub span: usize,
    /// A back-reference (of one command or more).
    pub is_ref: bool,
}

/// The commands of one stream so far, as a back-reference source.
struct Source<'a> {
    ids: &'a [u32],
    placed: &'a [Option<Placed>],
    /// Commands that may be referenced (the current stream: those before the one being
    /// encoded).
    len: usize,
}

/// A back-reference the encoder may write.
pub(super) struct Candidate {
    /// The stream, and the index of the command, it plays from.
    stream: usize,
    first: usize,
    /// Where that command is stored.
    piece: usize,
    offset: usize,
    /// The entries it plays.
    units: Vec<Unit>,
    /// Bytes saved against writing its commands out.
    saving: usize,
    /// The target lies close before, in the piece being written: a near reference.
    near: bool,
}

/// An entry of a reference's target, as [`match_units`] finds it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unit {
    /// Offset of its first command from the reference's.
    at: usize,
    /// Commands it plays.
    span: usize,
    is_ref: bool,
}

/// The stored entries (plain commands and references) from command `p` of `src` on that play
/// the same commands as `cur[i..]`, back to back in one run: each as (offset from `i`,
/// commands it plays, whether it is a reference), into `units` (cleared first: one buffer
/// serves every candidate). At most 255 entries (a reference's count is a byte).
fn match_units(src: &Source, p: usize, cur: &[u32], i: usize, units: &mut Vec<Unit>) {
    units.clear();
    let Some(first) = src.placed[p] else {
        return;
    };
    let mut k = 0;
    while units.len() < 255 {
        let q = p + k;
        let Some(u) = src.placed.get(q).copied().flatten() else {
            break;
        };
        if u.run != first.run
            || q + u.span > src.len
            || i + k + u.span > cur.len()
            || src.ids[q..q + u.span] != cur[i + k..i + k + u.span]
        {
            break;
        }
        units.push(Unit {
            at: k,
            span: u.span,
            is_ref: u.is_ref,
        });
        k += u.span;
    }
}

/// One encoded stream as back-references see it.
struct DictStream {
    /// Token id of each command.
    tok_id: Vec<u32>,
    /// How each command was stored.
    placed: Vec<Option<Placed>>,
    /// Mask-mode commands only play right in mask streams (and pairs in pairs streams).
    mask: bool,
}

/// The commands the streams of one song encoded so far, for back-references.
pub struct Dictionary {
    ids: HashMap<Vec<u8>, u32, BuildHasherDefault<Fnv>>,
    /// By token id: (stream, command index) of each plain copy, oldest first.
    seen: Vec<Vec<(usize, usize)>>,
    streams: Vec<DictStream>,
    /// References may point into other streams and pieces.
    cross: bool,
    /// Uses of each back-reference target (stream, first command, commands).
    uses: HashMap<RefKey, u32>,
    /// Targets that go in the phrase table when used (from a first pass), if any.
    hot: Option<HashSet<RefKey>>,
    /// The phrase table so far, and each entry's target.
    pub phrases: Vec<Phrase>,
    phrase_of: HashMap<RefKey, u8>,
}

/// A back-reference target: (stream, first command, commands).
type RefKey = (usize, usize, usize);

impl Dictionary {
    /// `cross`: references may leave their piece; `hot`: the targets a first pass found
    /// worth a phrase (`None` in that first pass, which counts a repeated target as a phrase).
    pub fn new(cross: bool, hot: Option<HashSet<RefKey>>) -> Self {
        Dictionary {
            ids: HashMap::default(),
            seen: Vec::new(),
            streams: Vec::new(),
            cross,
            uses: HashMap::new(),
            hot,
            phrases: Vec::new(),
            phrase_of: HashMap::new(),
        }
    }

    /// The targets used at least twice, most used first, as many as the table holds.
    pub fn hot_keys(&self) -> HashSet<RefKey> {
        let mut v: Vec<(u32, RefKey)> = self
            .uses
            .iter()
            .filter(|&(_, &n)| n >= 2)
            .map(|(&k, &n)| (n, k))
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter()
            .take(cmd::MAX_PHRASES)
            .map(|(_, k)| k)
            .collect()
    }

    /// Bytes a reference to `key`, `units` commands as the player counts them, costs: one
    /// for a phrase, 2 for a near one (`near`: the target lies close before, in the piece
    /// being written), else 3 or 4.
    fn ref_cost(&self, key: RefKey, units: usize, near: bool) -> usize {
        let phrase = self.phrase_of.contains_key(&key)
            || match &self.hot {
                Some(hot) => hot.contains(&key) && self.phrases.len() < cmd::MAX_PHRASES,
                None => self.cross && self.uses.contains_key(&key),
            };
        if phrase {
            1
        } else if near && units <= cmd::MAX_NEAR_REF {
            2
        } else if units <= cmd::MAX_SHORT_REF {
            3
        } else {
            4
        }
    }

    /// Streams encoded so far (the next one's index).
    pub(super) fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Whether references may leave their piece.
    pub(super) fn crosses_pieces(&self) -> bool {
        self.cross
    }

    /// Whether a reference to `key` of `entries` entries is written as a phrase: only in the
    /// second pass (the first only counts uses and writes every reference inline).
    pub(super) fn is_phrase(&self, key: RefKey, entries: usize) -> bool {
        self.hot.is_some() && self.ref_cost(key, entries, false) == 1
    }

    /// Counts a use of `key`.
    pub(super) fn count_use(&mut self, key: RefKey) {
        *self.uses.entry(key).or_insert(0) += 1;
    }

    /// The phrase table index of `key`, added as `phrase` where it is new.
    pub(super) fn phrase_index(&mut self, key: RefKey, phrase: Phrase) -> u8 {
        let n = self.phrases.len() as u8;
        let index = *self.phrase_of.entry(key).or_insert(n);
        if index == n {
            self.phrases.push(phrase);
        }
        index
    }

    /// Command `i` of stream `stream` was stored as plain bytes: a reference source.
    pub(super) fn saw_plain(&mut self, id: u32, stream: usize, i: usize) {
        self.seen[id as usize].push((stream, i));
    }

    /// The stream just encoded, as a source for the streams after it.
    pub(super) fn push_stream(
        &mut self,
        tok_id: Vec<u32>,
        placed: Vec<Option<Placed>>,
        mask: bool,
    ) {
        self.streams.push(DictStream {
            tok_id,
            placed,
            mask,
        });
    }

    pub(super) fn id(&mut self, token: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(token.to_vec(), id);
        self.seen.push(Vec::new());
        id
    }
}

/// The stream being encoded, as the reference search sees it.
pub(super) struct Current<'a> {
    /// Its index among the dictionary's streams (once pushed).
    pub me: usize,
    /// Token id of each command.
    pub tok_id: &'a [u32],
    /// How each command before the one being encoded was stored.
    pub placed: &'a [Option<Placed>],
    /// The piece being written, and its length so far.
    pub piece: usize,
    pub piece_len: usize,
    /// A mask-mode stream.
    pub mask: bool,
    /// `prefix[i]`: bytes of the commands before command `i`.
    pub prefix: &'a [usize],
    /// The tick frame the player reads each command in.
    pub tok_frame: &'a [usize],
}

/// A reference that fits the cycle budget, as the encoder writes it.
pub(super) struct Chosen {
    /// The stream and command it plays from, and where that is stored.
    pub stream: usize,
    pub first: usize,
    pub piece: usize,
    pub offset: usize,
    /// Commands it plays, and the stored entries those are (its count byte).
    pub commands: usize,
    pub entries: usize,
    /// It holds references (so nothing may reference it).
    pub nests: bool,
    /// Its target lies close before, in the piece being written.
    pub near: bool,
}

/// The best back-reference for command `i` of `cur` (commands before `limit` only): the
/// longest earlier stored run equal to `cur`'s commands from `i`, among the latest
/// `depth` places its first command was stored, by bytes saved.
pub(super) fn best_candidate(
    dict: &Dictionary,
    cur: &Current,
    i: usize,
    limit: usize,
    depth: usize,
    units: &mut Vec<Unit>,
) -> Option<Candidate> {
    let mut best_flat: Option<Candidate> = None;
    let mut best_nested: Option<Candidate> = None;
    let cands = dict
        .seen
        .get(cur.tok_id[i] as usize)
        .map_or(&[][..], |v| v.as_slice());
    for &(s, p) in cands.iter().rev().take(depth) {
        let (src_ids, src_placed, src_len) = if s == cur.me {
            (cur.tok_id, cur.placed, i)
        } else {
            let d = &dict.streams[s];
            if !dict.cross || d.mask != cur.mask {
                continue;
            }
            (&d.tok_id[..], &d.placed[..], d.tok_id.len())
        };
        let Some(first) = src_placed[p] else {
            continue;
        };
        if (s != cur.me || first.piece != cur.piece) && !dict.cross {
            continue;
        }
        let src = Source {
            ids: src_ids,
            placed: src_placed,
            len: src_len,
        };
        match_units(&src, p, &cur.tok_id[..limit], i, units);
        let near = s == cur.me
            && first.piece == cur.piece
            && cur.piece_len - first.offset <= cmd::MAX_NEAR_DISTANCE;
        // The same run up to its first reference, which can be referenced in turn.
        let flat = units.iter().position(|u| u.is_ref).unwrap_or(units.len());
        for (n, best) in [(flat, &mut best_flat), (units.len(), &mut best_nested)] {
            let Some(last) = units[..n].last() else {
                continue;
            };
            let k = last.at + last.span;
            let bytes = cur.prefix[i + k] - cur.prefix[i];
            let cost = dict.ref_cost((s, p, k), n, near);
            if bytes > cost && best.as_ref().is_none_or(|b| bytes - cost > b.saving) {
                *best = Some(Candidate {
                    stream: s,
                    first: p,
                    piece: first.piece,
                    offset: first.offset,
                    units: units[..n].to_vec(),
                    saving: bytes - cost,
                    near,
                });
            }
        }
    }
    // A reference that holds references cannot be referenced itself (the player nests two
    // deep), so later repeats of its commands must be referenced piece by piece: it is taken
    // only where it saves half as much again as the best one without (1.5 was the best of 1
    // to 3 over every 25th NES-MDB song).
    match (best_flat, best_nested) {
        (Some(f), Some(n)) if n.saving * 2 > f.saving * 3 => Some(n),
        (Some(f), _) => Some(f),
        (None, n) => n,
    }
}

/// The longest prefix of `cand` (command `i` of `cur`) that still saves bytes and keeps every
/// frame it plays in (and those of the references it holds) within `budget` estimated cycles;
/// its cycles are charged to `frame_cycles`. `None`: no prefix fits.
pub(super) fn fit_candidate(
    dict: &Dictionary,
    cand: &Candidate,
    cur: &Current,
    i: usize,
    frame_cycles: &mut [u32],
    budget: u32,
    add: &mut Vec<u32>,
) -> Option<Chosen> {
    let (units, tok_frame, prefix) = (&cand.units, cur.tok_frame, cur.prefix);
    // The plain part (before the first reference in the run) is checked in O(1) per length:
    // a reference adds REF_ENTRY_CYCLES in its first frame, REF_FRAME_CYCLES in each later
    // one, REF_RETURN_CYCLES more in its last ([`ref_frame_costs`]).
    let first_ref = units.iter().position(|u| u.is_ref).unwrap_or(units.len());
    let plain = units[..first_ref].last().map_or(0, |u| u.at + u.span);
    let span = &tok_frame[i..i + plain];
    let fits_at = |frame_cycles: &[u32], f: usize, add: u32| {
        frame_cycles.get(f).is_none_or(|&c| c + add <= budget)
    };
    // mid_ok[t]: the frames of span[1..=t] after its first all take REF_FRAME_CYCLES;
    // first_of[t]: the first token in span's frame t.
    let (mut mid_ok, mut first_of) = (Vec::with_capacity(plain), Vec::with_capacity(plain));
    let mut ok = true;
    for t in 0..plain {
        let new_frame = t == 0 || span[t] != span[t - 1];
        if new_frame && t > 0 {
            ok &= fits_at(frame_cycles, span[t], REF_FRAME_CYCLES);
        }
        mid_ok.push(ok);
        first_of.push(if new_frame { t } else { first_of[t - 1] });
    }
    let plain_fits = |k: usize| {
        let (f0, t) = (span[0], k - 1);
        if span[t] == f0 {
            fits_at(frame_cycles, f0, REF_ENTRY_CYCLES + REF_RETURN_CYCLES)
        } else {
            fits_at(frame_cycles, f0, REF_ENTRY_CYCLES)
                && mid_ok[first_of[t] - 1]
                && fits_at(frame_cycles, span[t], REF_FRAME_CYCLES + REF_RETURN_CYCLES)
        }
    };
    // By units: whether the first m fit (plain runs only).
    let plain_fit: Vec<bool> = units[..first_ref]
        .iter()
        .map(|u| plain_fits(u.at + u.span))
        .collect();
    let (s, p) = (cand.stream, cand.first);
    for m in (1..=units.len()).rev() {
        let k = units[m - 1].at + units[m - 1].span;
        let bytes = prefix[i + k] - prefix[i];
        let cost = dict.ref_cost((s, p, k), m, cand.near);
        if bytes <= cost {
            continue;
        }
        let nests = m > first_ref;
        if !nests {
            if !plain_fit[m - 1] {
                continue;
            }
            for (f, add) in ref_frame_costs(&tok_frame[i..i + k]) {
                if let Some(c) = frame_cycles.get_mut(f) {
                    *c += add;
                }
            }
        } else {
            let spans: Vec<&[usize]> = std::iter::once(&tok_frame[i..i + k])
                .chain(
                    units[..m]
                        .iter()
                        .filter(|u| u.is_ref)
                        .map(|u| &tok_frame[i + u.at..i + u.at + u.span]),
                )
                .collect();
            if !charge_refs_if_fit(frame_cycles, &spans, budget, add) {
                continue;
            }
        }
        return Some(Chosen {
            stream: s,
            first: p,
            piece: cand.piece,
            offset: cand.offset,
            commands: k,
            entries: m,
            nests,
            near: cand.near,
        });
    }
    None
}

/// Cycles a reference adds to each frame it plays in: entering it in the first (see
/// [`REF_ENTRY_CYCLES`]), counting its commands in later ones, coming back in the last.
fn ref_frame_costs(span: &[usize]) -> impl Iterator<Item = (usize, u32)> + '_ {
    let last = span.last().copied();
    span.iter().enumerate().filter_map(move |(j, &f)| {
        if j > 0 && span[j - 1] == f {
            return None;
        }
        let base = if j == 0 {
            REF_ENTRY_CYCLES
        } else {
            REF_FRAME_CYCLES
        };
        Some((
            f,
            base + if Some(f) == last {
                REF_RETURN_CYCLES
            } else {
                0
            },
        ))
    })
}

/// What the references of `spans` add to each frame, into `add` from the first span's first
/// frame on (returned): the first span is the reference being placed, the others the
/// references it holds (entered and left nested, at a higher cost), all within the first.
fn refs_costs(spans: &[&[usize]], add: &mut Vec<u32>) -> usize {
    let (f0, f1) = (spans[0][0], spans[0][spans[0].len() - 1]);
    add.clear();
    add.resize(f1 - f0 + 1, 0);
    for (n, span) in spans.iter().enumerate() {
        let (first, last) = (span.first().copied(), span.last().copied());
        for (f, a) in ref_frame_costs(span) {
            let nested = n > 0 && (Some(f) == first || Some(f) == last);
            add[f - f0] += a + if nested { NESTED_REF_CYCLES } else { 0 };
        }
    }
    f0
}

/// Whether the references of `spans` keep every frame they play in within `budget`; if so,
/// they are charged to `frame_cycles`.
fn charge_refs_if_fit(
    frame_cycles: &mut [u32],
    spans: &[&[usize]],
    budget: u32,
    add: &mut Vec<u32>,
) -> bool {
    let f0 = refs_costs(spans, add);
    let fits = add
        .iter()
        .enumerate()
        .all(|(j, &a)| a == 0 || frame_cycles.get(f0 + j).is_none_or(|&c| c + a <= budget));
    if fits {
        for (j, &a) in add.iter().enumerate() {
            if let Some(c) = frame_cycles.get_mut(f0 + j) {
                *c += a;
            }
        }
    }
    fits
}

/// What entering or leaving a reference held by another adds (mu_nest, mu_ref_outer).
const NESTED_REF_CYCLES: u32 = 37;

/// Cycles a stream inside a reference spends per later frame counting the reference's
/// commands (a voice block counts them inline).
const REF_FRAME_CYCLES: u32 = 9;
/// Cycles of coming back from a reference (mu_ref_return), beyond counting.
const REF_RETURN_CYCLES: u32 = 34;
