//! The stream encoder behind [`crate::rom::encode`]: commands from frames, then a greedy
//! parse that replaces runs of commands seen before with back-references (hashed whole
//! commands, longest match among the latest candidates).

use crate::apu_stream::RegWrite;
use crate::rom::encode::{
    cmd, EncodeOptions, EncodedStream, Phrase, Piece, StreamMode, REF_ENTRY_CYCLES,
};
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
struct Placed {
    piece: usize,
    offset: usize,
    /// Entries of one run were stored back to back, so a reference may span them.
    run: u32,
    /// Commands played from here: 1 for a plain command, more for a back-reference.
    span: usize,
    /// A back-reference (of one command or more).
    is_ref: bool,
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
struct Candidate {
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
struct Unit {
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

    fn id(&mut self, token: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(token.to_vec(), id);
        self.seen.push(Vec::new());
        id
    }
}

/// Whether a stream's blocks play volume commands ([`cmd::VOLUME`]): mask streams of the
/// voices, whose first register the player keeps a copy of.
pub fn has_volume_command(mode: StreamMode) -> bool {
    matches!(mode, StreamMode::Mask { base } if base < 0x10)
}

/// Turns frames `range` of one stream into commands (each a byte string with no addresses).
/// `first_reg`: the value the group's first register holds before `range` as far as the
/// player knows it (`None`: unknown), kept up to date.
fn tokenize(
    frames: &[Vec<RegWrite>],
    range: std::ops::Range<usize>,
    mode: StreamMode,
    first_reg: &mut Option<u8>,
    out: &mut Vec<Vec<u8>>,
) {
    let volume = has_volume_command(mode);
    let mut f = range.start;
    // Leading empty frames.
    let first = (range.clone()).find(|&i| !frames[i].is_empty());
    let mut lead = first.unwrap_or(range.end) - range.start;
    push_waits(&mut lead, out);
    f += first.map_or(range.len(), |i| i - range.start);
    while f < range.end {
        let writes = &frames[f];
        let mut next = f + 1;
        while next < range.end && frames[next].is_empty() {
            next += 1;
        }
        let mut empties = next - f - 1;
        if let StreamMode::Mask { base } = mode {
            let first = writes
                .iter()
                .find(|w| w.addr == 0x4000 + u16::from(base))
                .map(|w| w.value);
            // A frame that only changes the volume of a voice, right before its next write
            // (the step of an envelope): one byte.
            let only_volume = writes.len() == 1
                && empties == 0
                && volume
                && first.is_some_and(|v| first_reg.is_some_and(|p| p & 0xF0 == v & 0xF0));
            if first.is_some() {
                *first_reg = first;
            }
            if only_volume {
                out.push(vec![cmd::VOLUME | (writes[0].value & 0x0F)]);
                f = next;
                continue;
            }
            let e = empties.min(cmd::MAX_MASK_TRAILING);
            empties -= e;
            let mut t = vec![(e as u8) << 4];
            for w in writes {
                t[0] |= 1 << ((w.addr - 0x4000) as u8 - base);
                t.push(w.value);
            }
            out.push(t);
            push_waits(&mut empties, out);
            f = next;
            continue;
        }
        let chunks: Vec<&[RegWrite]> = writes.chunks(cmd::MAX_WRITES).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let high = if last {
                let e = empties.min(cmd::MAX_TRAILING);
                empties -= e;
                e as u8
            } else {
                cmd::CONTINUE
            };
            let mut t = Vec::with_capacity(1 + 2 * chunk.len());
            t.push((high << 4) | (chunk.len() as u8 - 1));
            for w in chunk.iter() {
                t.push((w.addr - 0x4000) as u8);
                t.push(w.value);
            }
            out.push(t);
        }
        push_waits(&mut empties, out);
        f = next;
    }
}

fn push_waits(frames: &mut usize, out: &mut Vec<Vec<u8>>) {
    while *frames > 0 {
        let n = (*frames).min(cmd::MAX_WAIT);
        out.push(vec![cmd::WAIT | (n as u8 - 1)]);
        *frames -= n;
    }
}

/// Encoder state for one stream.
struct StreamWriter {
    pieces: Vec<Piece>,
    max_piece: usize,
}

impl StreamWriter {
    fn cur(&mut self) -> &mut Piece {
        self.pieces.last_mut().expect("a piece is always open")
    }

    /// Makes room for `len` more bytes plus a closing 4-byte jump; returns true when a new
    /// piece was started.
    fn reserve(&mut self, len: usize) -> bool {
        let used = self.pieces.last().map_or(0, |p| p.bytes.len());
        if used > 0 && used + len + 4 > self.max_piece {
            let next = self.pieces.len();
            let p = self.cur();
            let pos = p.bytes.len();
            p.bytes.extend_from_slice(&[cmd::JUMP, 0, 0, 0]);
            p.jumps.push((pos + 1, next));
            self.pieces.push(Piece::default());
            return true;
        }
        false
    }
}

/// The frame on which the player reads each token.
pub fn token_frames(tokens: &[Vec<u8>], mode: StreamMode) -> Vec<usize> {
    let mut frame = 0;
    tokens
        .iter()
        .map(|t| {
            let at = frame;
            let c = t[0];
            frame += match (c, mode) {
                (0x00..=0x7F, StreamMode::Mask { .. }) => 1 + usize::from(c >> 4),
                (0x00..=0x7F, StreamMode::Pairs) if c >> 4 == cmd::CONTINUE => 0,
                (0x00..=0x7F, StreamMode::Pairs) => 1 + usize::from(c >> 4),
                (cmd::VOLUME..=0xEF, _) => 1,
                _ => 1 + usize::from(c & 0x0F),
            };
            at
        })
        .collect()
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

/// The writes of each unit to `regs`.
pub fn stream_frames(units: &[&[RegWrite]], regs: &[u8]) -> Vec<Vec<RegWrite>> {
    let mut in_stream = [false; 0x18];
    for &r in regs {
        in_stream[usize::from(r)] = true;
    }
    units
        .iter()
        .map(|f| {
            f.iter()
                .filter(|w| {
                    in_stream
                        .get(usize::from(w.addr.wrapping_sub(0x4000)))
                        .copied()
                        .unwrap_or(false)
                })
                .copied()
                .collect()
        })
        .collect()
}

/// Mask mode for one register group written in rising order every frame, else pairs (the
/// player may still need pairs: [`crate::rom::encode::plan_modes`]).
pub fn stream_mode(frames: &[Vec<RegWrite>], regs: &[u8]) -> StreamMode {
    match regs {
        [first, ..]
            if regs.len() == 4
                && first % 4 == 0
                && frames
                    .iter()
                    .all(|f| f.windows(2).all(|w| w[0].addr < w[1].addr)) =>
        {
            StreamMode::Mask { base: *first }
        }
        _ => StreamMode::Pairs,
    }
}

/// A stream's commands before back-references, and the index of the loop point's command.
/// `init`: the writes done before the first frame (the song's init), which the player's copy
/// of each voice's first register starts from.
pub fn stream_tokens(
    frames: &[Vec<RegWrite>],
    loop_frame: Option<usize>,
    mode: StreamMode,
    init: &[RegWrite],
) -> (Vec<Vec<u8>>, Option<usize>) {
    let mut tokens = Vec::new();
    let mut first_reg = match mode {
        StreamMode::Mask { base } => init
            .iter()
            .rev()
            .find(|w| w.addr == 0x4000 + u16::from(base))
            .map(|w| w.value),
        StreamMode::Pairs => None,
    };
    let loop_token = match loop_frame {
        Some(l) => {
            tokenize(frames, 0..l, mode, &mut first_reg, &mut tokens);
            let t = tokens.len();
            // The loop point is reached from frame l - 1 and from the last frame, with
            // different values: the first write after it must be in full.
            first_reg = None;
            tokenize(frames, l..frames.len(), mode, &mut first_reg, &mut tokens);
            Some(t)
        }
        None => {
            let end = frames
                .iter()
                .rposition(|f| !f.is_empty())
                .map_or(0, |i| i + 1);
            tokenize(frames, 0..end, mode, &mut first_reg, &mut tokens);
            None
        }
    };
    (tokens, loop_token)
}

/// What every stream of a song is encoded from.
#[derive(Clone, Copy)]
pub struct SongUnits<'a> {
    /// The writes of the song's tick frames.
    pub units: &'a [&'a [RegWrite]],
    /// The tick frame the song loops to.
    pub loop_unit: Option<usize>,
    /// The song's init writes.
    pub init: &'a [RegWrite],
}

/// Encodes the writes to `regs` of the song's tick frames as one stream.
pub fn encode_one(
    song: SongUnits,
    regs: &[u8],
    mode: StreamMode,
    opts: &EncodeOptions,
    frame_cycles: &mut [u32],
    dict: &mut Dictionary,
) -> EncodedStream {
    let frames = stream_frames(song.units, regs);
    let mask = matches!(mode, StreamMode::Mask { .. });
    let (tokens, loop_token) = stream_tokens(&frames, song.loop_unit, mode, song.init);

    let me = dict.streams.len();
    let tok_id: Vec<u32> = tokens.iter().map(|t| dict.id(t)).collect();
    let tok_frame = token_frames(&tokens, mode);
    let mut prefix = vec![0usize; tokens.len() + 1];
    for (i, t) in tokens.iter().enumerate() {
        prefix[i + 1] = prefix[i] + t.len();
    }

    // How each command of this stream was stored.
    let mut placed: Vec<Option<Placed>> = vec![None; tokens.len()];
    let mut w = StreamWriter {
        pieces: vec![Piece::default()],
        max_piece: opts.max_piece.max(64),
    };
    let mut run: u32 = 0;
    let mut loop_target = (0usize, 0usize);
    let mut units: Vec<Unit> = Vec::new();
    let mut add: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if loop_token == Some(i) {
            loop_target = (w.pieces.len() - 1, w.cur().bytes.len());
        }
        let limit = match loop_token {
            Some(l) if i < l => l,
            _ => tokens.len(),
        };
        // Longest earlier stored run equal to tokens[i..], without references in it and with.
        let piece = w.pieces.len() - 1;
        let mut best_flat: Option<Candidate> = None;
        let mut best_nested: Option<Candidate> = None;
        let cands = dict
            .seen
            .get(tok_id[i] as usize)
            .map_or(&[][..], |v| v.as_slice());
        for &(s, p) in cands.iter().rev().take(opts.search_depth) {
            let (src_ids, src_placed, src_len) = if s == me {
                (&tok_id[..], &placed[..], i)
            } else {
                let d = &dict.streams[s];
                if !dict.cross || d.mask != mask {
                    continue;
                }
                (&d.tok_id[..], &d.placed[..], d.tok_id.len())
            };
            let Some(first) = src_placed[p] else {
                continue;
            };
            if (s != me || first.piece != piece) && !dict.cross {
                continue;
            }
            let src = Source {
                ids: src_ids,
                placed: src_placed,
                len: src_len,
            };
            match_units(&src, p, &tok_id[..limit], i, &mut units);
            let near = s == me
                && first.piece == piece
                && w.cur().bytes.len() - first.offset <= cmd::MAX_NEAR_DISTANCE;
            // The same run up to its first reference, which can be referenced in turn.
            let flat = units.iter().position(|u| u.is_ref).unwrap_or(units.len());
            for (n, best) in [(flat, &mut best_flat), (units.len(), &mut best_nested)] {
                let Some(last) = units[..n].last() else {
                    continue;
                };
                let k = last.at + last.span;
                let bytes = prefix[i + k] - prefix[i];
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
        // A reference that holds references cannot be referenced itself (the player nests
        // two deep), so later repeats of its commands must be referenced piece by piece: it
        // is taken only where it saves half as much again as the best one without (1.5 was
        // the best of 1 to 3 over every 25th NES-MDB song).
        let best = match (best_flat, best_nested) {
            (Some(f), Some(n)) if n.saving * 2 > f.saving * 3 => Some(n),
            (Some(f), _) => Some(f),
            (None, n) => n,
        };
        // A reference costs cycles in each frame it plays in (and so do the references it
        // holds): shorten it until none of them goes over the budget (the worst frame is the
        // goal), or drop it.
        let mut chosen = None;
        if let Some(Candidate {
            stream: s,
            first: p,
            piece: pp,
            offset: off,
            units,
            near,
            ..
        }) = best
        {
            // The plain part (before the first reference in the run) is checked in O(1) per
            // length: a reference adds REF_ENTRY_CYCLES in its first frame, REF_FRAME_CYCLES
            // in each later one, REF_RETURN_CYCLES more in its last ([`ref_frame_costs`]).
            let first_ref = units.iter().position(|u| u.is_ref).unwrap_or(units.len());
            let plain = units[..first_ref].last().map_or(0, |u| u.at + u.span);
            let span = &tok_frame[i..i + plain];
            let budget = opts.ref_cycle_budget;
            let fits_at =
                |f: usize, add: u32| frame_cycles.get(f).is_none_or(|&c| c + add <= budget);
            // mid_ok[t]: the frames of span[1..=t] after its first all take REF_FRAME_CYCLES;
            // first_of[t]: the first token in span's frame t.
            let (mut mid_ok, mut first_of) = (Vec::with_capacity(plain), Vec::with_capacity(plain));
            let mut ok = true;
            for t in 0..plain {
                let new_frame = t == 0 || span[t] != span[t - 1];
                if new_frame && t > 0 {
                    ok &= fits_at(span[t], REF_FRAME_CYCLES);
                }
                mid_ok.push(ok);
                first_of.push(if new_frame { t } else { first_of[t - 1] });
            }
            let plain_fits = |k: usize| {
                let (f0, t) = (span[0], k - 1);
                if span[t] == f0 {
                    fits_at(f0, REF_ENTRY_CYCLES + REF_RETURN_CYCLES)
                } else {
                    fits_at(f0, REF_ENTRY_CYCLES)
                        && mid_ok[first_of[t] - 1]
                        && fits_at(span[t], REF_FRAME_CYCLES + REF_RETURN_CYCLES)
                }
            };
            // By units: whether the first m fit (plain runs only).
            let plain_fit: Vec<bool> = units[..first_ref]
                .iter()
                .map(|u| plain_fits(u.at + u.span))
                .collect();
            for m in (1..=units.len()).rev() {
                let k = units[m - 1].at + units[m - 1].span;
                let bytes = prefix[i + k] - prefix[i];
                let cost = dict.ref_cost((s, p, k), m, near);
                if bytes <= cost {
                    continue;
                }
                if m <= first_ref {
                    if plain_fit[m - 1] {
                        for (f, add) in ref_frame_costs(&tok_frame[i..i + k]) {
                            if let Some(c) = frame_cycles.get_mut(f) {
                                *c += add;
                            }
                        }
                        chosen = Some((s, p, pp, off, k, m, false, near));
                        break;
                    }
                    continue;
                }
                let spans: Vec<&[usize]> = std::iter::once(&tok_frame[i..i + k])
                    .chain(
                        units[..m]
                            .iter()
                            .filter(|u| u.is_ref)
                            .map(|u| &tok_frame[i + u.at..i + u.at + u.span]),
                    )
                    .collect();
                if charge_refs_if_fit(frame_cycles, &spans, opts.ref_cycle_budget, &mut add) {
                    chosen = Some((s, p, pp, off, k, m, true, near));
                    break;
                }
            }
        }
        if let Some((s, p, pp, off, k, units, nests, near)) = chosen {
            let key = (s, p, k);
            // The first pass only counts uses: it writes every reference inline.
            let phrase = dict.ref_cost(key, units, false) == 1 && dict.hot.is_some();
            let near = near && units <= cmd::MAX_NEAR_REF;
            let cost = match (phrase, near, units <= cmd::MAX_SHORT_REF) {
                (true, _, _) => 1,
                (false, true, _) => 2,
                (false, false, true) => 3,
                (false, false, false) => 4,
            };
            let new_piece = w.reserve(cost);
            if new_piece {
                run += 1;
            }
            // In a new piece the target is no longer near.
            let near = near && !new_piece;
            // A new piece began: a source in the old piece is out of reach unless references
            // may cross pieces.
            if !new_piece || dict.cross {
                *dict.uses.entry(key).or_insert(0) += 1;
                let cur = w.pieces.len() - 1;
                let pc = w.cur();
                let pos = pc.bytes.len();
                if phrase {
                    let n = dict.phrases.len() as u8;
                    let index = *dict.phrase_of.entry(key).or_insert(n);
                    if index == n {
                        dict.phrases.push(Phrase {
                            stream: s,
                            piece: pp,
                            offset: off,
                            count: units as u8,
                        });
                    }
                    pc.bytes.push(cmd::PHRASE + index);
                } else if near {
                    // Relative: nothing to relocate.
                    pc.bytes.push(cmd::NEAR_REF + (units as u8 - 1));
                    pc.bytes.push((pos - off) as u8);
                } else {
                    if units <= cmd::MAX_SHORT_REF {
                        pc.bytes.push(cmd::REF + (units as u8 - 1));
                    } else {
                        pc.bytes.push(cmd::LONG_REF);
                        pc.bytes.push(units as u8);
                    }
                    pc.bytes.push(off as u8);
                    pc.bytes.push((off >> 8) as u8);
                    let at = pc.bytes.len() - 2;
                    if s == me && pp == cur {
                        pc.refs.push(at);
                    } else {
                        pc.xrefs.push((at, s, pp));
                    }
                }
                if nests {
                    // It holds references: the player nests two deep, so nothing may
                    // reference it.
                    run += 1;
                } else {
                    // Later references may play it as one of their commands.
                    placed[i] = Some(Placed {
                        piece: cur,
                        offset: pos,
                        run,
                        span: k,
                        is_ref: true,
                    });
                }
                i += k;
                continue;
            }
        }
        if w.reserve(tokens[i].len()) {
            run += 1;
        }
        let pc_idx = w.pieces.len() - 1;
        let off = w.cur().bytes.len();
        w.cur().bytes.extend_from_slice(&tokens[i]);
        placed[i] = Some(Placed {
            piece: pc_idx,
            offset: off,
            run,
            span: 1,
            is_ref: false,
        });
        dict.seen[tok_id[i] as usize].push((me, i));
        i += 1;
    }
    // End of stream.
    if loop_token.is_some() {
        let p = w.cur();
        let pos = p.bytes.len();
        p.bytes.extend_from_slice(&[
            cmd::JUMP,
            0,
            loop_target.1 as u8,
            (loop_target.1 >> 8) as u8,
        ]);
        p.jumps.push((pos + 1, loop_target.0));
    } else {
        w.cur().bytes.push(cmd::STOP);
    }
    dict.streams.push(DictStream {
        tok_id,
        placed,
        mask,
    });
    EncodedStream {
        registers: regs.to_vec(),
        mode,
        pieces: w.pieces,
    }
}
