//! The stream encoder behind [`crate::rom::encode`]: commands from frames ([`Tokenized`]),
//! then a greedy parse that replaces runs of commands seen before with back-references
//! ([`super::lz_refs`]: hashed whole commands, longest match among the latest candidates).

use crate::apu_stream::RegWrite;
use crate::rom::codec::format::{cmd, EncodeOptions, EncodedStream, Phrase, Piece, StreamMode};
use crate::rom::codec::lz_refs::{best_candidate, fit_candidate, Chosen, Current, Placed, Unit};

pub use crate::rom::codec::lz_refs::Dictionary;

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

    /// Bytes in the piece being written.
    fn cur_len(&self) -> usize {
        self.pieces.last().map_or(0, |p| p.bytes.len())
    }

    /// Makes room for `len` more bytes plus a closing 4-byte jump; returns true when a new
    /// piece was started.
    fn reserve(&mut self, len: usize) -> bool {
        let used = self.cur_len();
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

/// One stream's commands before back-references, with what the encoder needs of them; made
/// once per song and kept through its encoding passes.
#[derive(Debug, Clone)]
pub struct Tokenized {
    /// Low bytes of the registers the stream writes.
    pub regs: Vec<u8>,
    pub mode: StreamMode,
    /// Commands, each a byte string with no addresses.
    pub tokens: Vec<Vec<u8>>,
    /// Index of the loop point's command.
    pub loop_token: Option<usize>,
    /// The tick frame the player reads each command in.
    pub tok_frame: Vec<usize>,
    /// `prefix[i]`: bytes of the commands before command `i`.
    pub prefix: Vec<usize>,
}

impl Tokenized {
    /// The commands of `frames` (the stream's writes in each tick frame).
    pub fn new(
        frames: &[Vec<RegWrite>],
        regs: &[u8],
        mode: StreamMode,
        loop_unit: Option<usize>,
        init: &[RegWrite],
    ) -> Tokenized {
        let (tokens, loop_token) = stream_tokens(frames, loop_unit, mode, init);
        let tok_frame = token_frames(&tokens, mode);
        let mut prefix = vec![0usize; tokens.len() + 1];
        for (i, t) in tokens.iter().enumerate() {
            prefix[i + 1] = prefix[i] + t.len();
        }
        Tokenized {
            regs: regs.to_vec(),
            mode,
            tokens,
            loop_token,
            tok_frame,
            prefix,
        }
    }
}

/// Encodes one stream's commands, with back-references into what `dict` holds (the song's
/// streams encoded before it in this pass) and into its own earlier commands. The cycles the
/// references add are charged to `frame_cycles`, which none may push over the budget.
pub fn encode_one(
    stream: &Tokenized,
    opts: &EncodeOptions,
    frame_cycles: &mut [u32],
    dict: &mut Dictionary,
) -> EncodedStream {
    let tokens = &stream.tokens;
    let mask = matches!(stream.mode, StreamMode::Mask { .. });
    let me = dict.stream_count();
    let tok_id: Vec<u32> = tokens.iter().map(|t| dict.id(t)).collect();

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
        if stream.loop_token == Some(i) {
            loop_target = (w.pieces.len() - 1, w.cur().bytes.len());
        }
        // A reference may not run across the loop point.
        let limit = match stream.loop_token {
            Some(l) if i < l => l,
            _ => tokens.len(),
        };
        let cur = Current {
            me,
            tok_id: &tok_id,
            placed: &placed,
            piece: w.pieces.len() - 1,
            piece_len: w.cur_len(),
            mask,
            prefix: &stream.prefix,
            tok_frame: &stream.tok_frame,
        };
        // A reference costs cycles in each frame it plays in (and so do the references it
        // holds): the longest prefix of the best one that keeps them all within the budget.
        let chosen =
            best_candidate(dict, &cur, i, limit, opts.search_depth, &mut units).and_then(|c| {
                fit_candidate(
                    dict,
                    &c,
                    &cur,
                    i,
                    frame_cycles,
                    opts.ref_cycle_budget,
                    &mut add,
                )
            });
        if let Some(c) = chosen {
            if store_reference(&mut w, dict, &mut placed, &mut run, me, i, &c) {
                i += c.commands;
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
        dict.saw_plain(tok_id[i], me, i);
        i += 1;
    }
    // End of stream.
    if stream.loop_token.is_some() {
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
    dict.push_stream(tok_id, placed, mask);
    EncodedStream {
        registers: stream.regs.clone(),
        mode: stream.mode,
        pieces: w.pieces,
    }
}

/// Writes reference `c` at command `i` of stream `me`: as a phrase (one byte), a near
/// reference (two, relative) or a short or long one (three or four, with an address to
/// place). Returns false, writing nothing, where a new piece had to begin and the target
/// is left behind in the old one.
fn store_reference(
    w: &mut StreamWriter,
    dict: &mut Dictionary,
    placed: &mut [Option<Placed>],
    run: &mut u32,
    me: usize,
    i: usize,
    c: &Chosen,
) -> bool {
    let key = (c.stream, c.first, c.commands);
    // The first pass only counts uses: it writes every reference inline.
    let phrase = dict.is_phrase(key, c.entries);
    let near = c.near && c.entries <= cmd::MAX_NEAR_REF;
    let cost = match (phrase, near, c.entries <= cmd::MAX_SHORT_REF) {
        (true, _, _) => 1,
        (false, true, _) => 2,
        (false, false, true) => 3,
        (false, false, false) => 4,
    };
    let new_piece = w.reserve(cost);
    if new_piece {
        *run += 1;
    }
    // A new piece began: a source in the old piece is out of reach unless references may
    // cross pieces. In a new piece the target is no longer near.
    if new_piece && !dict.crosses_pieces() {
        return false;
    }
    let near = near && !new_piece;
    dict.count_use(key);
    let cur = w.pieces.len() - 1;
    let pc = w.cur();
    let pos = pc.bytes.len();
    if phrase {
        let index = dict.phrase_index(
            key,
            Phrase {
                stream: c.stream,
                piece: c.piece,
                offset: c.offset,
                count: c.entries as u8,
            },
        );
        pc.bytes.push(cmd::PHRASE + index);
    } else if near {
        // Relative: nothing to relocate.
        pc.bytes.push(cmd::NEAR_REF + (c.entries as u8 - 1));
        pc.bytes.push((pos - c.offset) as u8);
    } else {
        if c.entries <= cmd::MAX_SHORT_REF {
            pc.bytes.push(cmd::REF + (c.entries as u8 - 1));
        } else {
            pc.bytes.push(cmd::LONG_REF);
            pc.bytes.push(c.entries as u8);
        }
        pc.bytes.push(c.offset as u8);
        pc.bytes.push((c.offset >> 8) as u8);
        let at = pc.bytes.len() - 2;
        if c.stream == me && c.piece == cur {
            pc.refs.push(at);
        } else {
            pc.xrefs.push((at, c.stream, c.piece));
        }
    }
    if c.nests {
        // It holds references: the player nests two deep, so nothing may reference it.
        *run += 1;
    } else {
        // Later references may play it as one of their commands.
        placed[i] = Some(Placed {
            piece: cur,
            offset: pos,
            run: *run,
            span: c.commands,
            is_ref: true,
        });
    }
    true
}
