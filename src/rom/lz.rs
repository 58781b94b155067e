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

/// One encoded stream as back-references see it.
struct DictStream {
    /// Token id of each command.
    tok_id: Vec<u32>,
    /// Where each command was stored as plain bytes: (piece, offset, run). Commands of one
    /// run were stored back to back, so a reference may span them.
    placed: Vec<Option<(usize, usize, u32)>>,
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

    /// Bytes a reference to `key` costs: one for a phrase, else 3 or 4.
    fn ref_cost(&self, key: RefKey) -> usize {
        let phrase = self.phrase_of.contains_key(&key)
            || match &self.hot {
                Some(hot) => hot.contains(&key) && self.phrases.len() < cmd::MAX_PHRASES,
                None => self.cross && self.uses.contains_key(&key),
            };
        if phrase {
            1
        } else if key.2 <= cmd::MAX_SHORT_REF {
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

/// Turns frames `range` of one stream into commands (each a byte string with no addresses).
fn tokenize(
    frames: &[Vec<RegWrite>],
    range: std::ops::Range<usize>,
    mode: StreamMode,
    out: &mut Vec<Vec<u8>>,
) {
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
                _ => 1 + usize::from(c & 0x1F),
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

fn ref_fits(frame_cycles: &[u32], span: &[usize], budget: u32) -> bool {
    ref_frame_costs(span).all(|(f, add)| frame_cycles.get(f).is_none_or(|&c| c + add <= budget))
}

fn charge_ref(frame_cycles: &mut [u32], span: &[usize]) {
    for (f, add) in ref_frame_costs(span) {
        if let Some(c) = frame_cycles.get_mut(f) {
            *c += add;
        }
    }
}

/// Cycles a stream inside a reference spends per later frame counting the reference's
/// commands (a voice block counts them inline).
const REF_FRAME_CYCLES: u32 = 9;
/// Cycles of coming back from a reference (mu_ref_return), beyond counting.
const REF_RETURN_CYCLES: u32 = 28;

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
pub fn stream_tokens(
    frames: &[Vec<RegWrite>],
    loop_frame: Option<usize>,
    mode: StreamMode,
) -> (Vec<Vec<u8>>, Option<usize>) {
    let mut tokens = Vec::new();
    let loop_token = match loop_frame {
        Some(l) => {
            tokenize(frames, 0..l, mode, &mut tokens);
            let t = tokens.len();
            tokenize(frames, l..frames.len(), mode, &mut tokens);
            Some(t)
        }
        None => {
            let end = frames
                .iter()
                .rposition(|f| !f.is_empty())
                .map_or(0, |i| i + 1);
            tokenize(frames, 0..end, mode, &mut tokens);
            None
        }
    };
    (tokens, loop_token)
}

/// Encodes the writes to `regs` of `units` (the song's tick frames) as one stream.
pub fn encode_one(
    units: &[&[RegWrite]],
    regs: &[u8],
    mode: StreamMode,
    loop_frame: Option<usize>,
    opts: &EncodeOptions,
    frame_cycles: &mut [u32],
    dict: &mut Dictionary,
) -> EncodedStream {
    let frames = stream_frames(units, regs);
    let mask = matches!(mode, StreamMode::Mask { .. });
    let (tokens, loop_token) = stream_tokens(&frames, loop_frame, mode);

    let me = dict.streams.len();
    let tok_id: Vec<u32> = tokens.iter().map(|t| dict.id(t)).collect();
    let tok_frame = token_frames(&tokens, mode);
    let mut prefix = vec![0usize; tokens.len() + 1];
    for (i, t) in tokens.iter().enumerate() {
        prefix[i + 1] = prefix[i] + t.len();
    }

    // Where each command of this stream was stored as plain bytes: (piece, offset, run).
    let mut placed: Vec<Option<(usize, usize, u32)>> = vec![None; tokens.len()];
    let mut w = StreamWriter {
        pieces: vec![Piece::default()],
        max_piece: opts.max_piece.max(64),
    };
    let mut run: u32 = 0;
    let mut loop_target = (0usize, 0usize);
    let mut i = 0;
    while i < tokens.len() {
        if loop_token == Some(i) {
            loop_target = (w.pieces.len() - 1, w.cur().bytes.len());
        }
        let limit = match loop_token {
            Some(l) if i < l => l,
            _ => tokens.len(),
        };
        // Longest earlier plain run equal to tokens[i..]:
        // (stream, first command, piece, offset, count, saving).
        let piece = w.pieces.len() - 1;
        let mut best: Option<(usize, usize, usize, usize, usize, usize)> = None;
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
            let Some((pp, off, prun)) = src_placed[p] else {
                continue;
            };
            if (s != me || pp != piece) && !dict.cross {
                continue;
            }
            let mut k = 0;
            while i + k < limit
                && p + k < src_len
                && k < 255
                && src_ids[p + k] == tok_id[i + k]
                && src_placed[p + k].is_some_and(|(_, _, r)| r == prun)
            {
                k += 1;
            }
            let bytes = prefix[i + k] - prefix[i];
            let cost = dict.ref_cost((s, p, k));
            if bytes > cost && best.is_none_or(|b| bytes - cost > b.4) {
                best = Some((s, p, pp, off, k, bytes - cost));
            }
        }
        // A reference costs cycles in each frame it plays in: shorten it until none of them
        // goes over the budget (the worst frame is the goal), or drop it.
        if let Some((s, p, pp, off, k, _)) = best {
            best = None;
            for k2 in (1..=k).rev() {
                let bytes = prefix[i + k2] - prefix[i];
                let cost = dict.ref_cost((s, p, k2));
                let span = &tok_frame[i..i + k2];
                if bytes > cost && ref_fits(frame_cycles, span, opts.ref_cycle_budget) {
                    charge_ref(frame_cycles, span);
                    best = Some((s, p, pp, off, k2, bytes - cost));
                    break;
                }
            }
        }
        if let Some((s, p, pp, off, k, _)) = best {
            let key = (s, p, k);
            // The first pass only counts uses: it writes every reference inline.
            let phrase = dict.ref_cost(key) == 1 && dict.hot.is_some();
            let cost = match (phrase, k <= cmd::MAX_SHORT_REF) {
                (true, _) => 1,
                (false, true) => 3,
                (false, false) => 4,
            };
            let new_piece = w.reserve(cost);
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
                            count: k as u8,
                        });
                    }
                    pc.bytes.push(cmd::PHRASE + index);
                } else {
                    if k <= cmd::MAX_SHORT_REF {
                        pc.bytes.push(cmd::REF + (k as u8 - 1));
                    } else {
                        pc.bytes.push(cmd::LONG_REF);
                        pc.bytes.push(k as u8);
                    }
                    pc.bytes.push(off as u8);
                    pc.bytes.push((off >> 8) as u8);
                    if s == me && pp == cur {
                        pc.refs.push(pos + cost - 2);
                    } else {
                        pc.xrefs.push((pos + cost - 2, s, pp));
                    }
                }
                run += 1;
                i += k;
                continue;
            }
            run += 1;
        }
        if w.reserve(tokens[i].len()) {
            run += 1;
        }
        let pc_idx = w.pieces.len() - 1;
        let off = w.cur().bytes.len();
        w.cur().bytes.extend_from_slice(&tokens[i]);
        placed[i] = Some((pc_idx, off, run));
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
