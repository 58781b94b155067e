//! The song data format the 6502 player decodes, and its encoder.
//!
//! A song's register writes are split into *streams*, one per group of registers (pulse 1
//! `$4000-$4003`, pulse 2 `$4004-$4007`, triangle `$4008-$400B`, noise `$400C-$400F`, DMC
//! `$4010-$4013`, control `$4014-$4017`). The player decodes the streams one after the other
//! each frame, so a frame's writes come out grouped by stream. The encoder picks the stream
//! order from the song itself (a topological order of the groups as they appear in each frame)
//! and merges groups whose writes interleave within a frame, down to one stream holding every
//! register; so the decoded order is always the song's order, whatever order the compiler chose.
//!
//! The streams run only on *tick* frames ([`TickRule`], a clock in the song header: for a
//! 24 Hz NES-MDB song on NTSC, frames 0, 3, 5, 8, 10, ...), and every wait below counts ticks,
//! so a pattern encodes to the same bytes wherever it falls in the 3/2 frame cycle. The encoder
//! uses the 24 Hz rule when every write of the song is on its ticks and a loop keeps the clock
//! in phase ([`TickRule::fits`]), else ticks every frame (waits in frames).
//!
//! Each stream is a byte string of commands (see [`cmd`]). A stream of one register group whose
//! frames write its registers in rising order (what the compiler does) is in *mask* mode; any
//! other stream is in *pairs* mode. The write command differs:
//!
//! | byte | meaning |
//! |---|---|
//! | mask: `$00-$7F` `0EEE MMMM` | one value follows for each set bit of `M` (bit 0 = the group's first register), written in rising register order; then the frame ends and `E` (0..7) empty ticks follow |
//! | pairs: `$00-$7F` `EEEE NNNN` | `N+1` writes follow as (register `$40rr` low byte, value) pairs; then, for `E` 0..6, the frame ends and `E` empty ticks follow; `E = 7` the frame goes on |
//! | `$80-$BF` | the frame ends with no (more) writes and `cmd & $3F` empty ticks follow |
//! | `$C0-$FC` lo hi | play `cmd - $BF` commands from address hi:lo, then come back |
//! | `$FD` n lo hi | play `n` commands from hi:lo, then come back |
//! | `$FE` bank lo hi | go on at bank:hi:lo (next piece of a long stream, or the loop point) |
//! | `$FF` | the stream has ended: nothing more is written |
//!
//! Back-references (`$C0-$FD`) point at earlier plain commands of the same piece, found with a
//! hash of whole commands; they never nest, so the player keeps one return address per stream.
//! A stream longer than a bank is cut into pieces joined by `$FE`. Addresses inside a piece are
//! stored piece-relative here and made absolute when the builder places the piece.

use crate::apu_stream::{ApuStream, RegWrite};
use crate::region::Region;
use crate::rom::tick::TickRule;
use std::collections::HashMap;
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

/// Command bytes of the stream format.
pub mod cmd {
    /// Header of a write group: `$00-$7F`, low nibble = writes - 1, high nibble = empty frames.
    pub const MAX_WRITES: usize = 16;
    /// High nibble of a write group that does not end the frame.
    pub const CONTINUE: u8 = 7;
    /// Most empty frames a write group can carry.
    pub const MAX_TRAILING: usize = 6;
    /// Most empty frames a mask-mode write command can carry.
    pub const MAX_MASK_TRAILING: usize = 7;
    /// `$80 | (frames - 1)`: the frame ends, then more empty frames.
    pub const WAIT: u8 = 0x80;
    /// Most frames one wait covers.
    pub const MAX_WAIT: usize = 64;
    /// `$C0 + count - 1`, lo, hi: short back-reference.
    pub const REF: u8 = 0xC0;
    /// Most commands a short back-reference covers.
    pub const MAX_SHORT_REF: usize = 0xFC - 0xC0 + 1;
    /// `$FD`, count, lo, hi: long back-reference.
    pub const LONG_REF: u8 = 0xFD;
    /// `$FE`, bank, lo, hi: jump.
    pub const JUMP: u8 = 0xFE;
    /// `$FF`: end of stream.
    pub const STOP: u8 = 0xFF;
}

/// A register group: registers `$4000 + 4 g ..= $4000 + 4 g + 3`.
const GROUPS: usize = 6;

/// One piece of a stream: bytes that must lie in one bank, with the places that hold addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Piece {
    /// Commands; the 16-bit addresses in them are offsets from the piece start until placed.
    pub bytes: Vec<u8>,
    /// Positions of 16-bit little-endian piece-relative offsets (back-reference targets).
    pub refs: Vec<usize>,
    /// `(position, piece)`: a bank byte then a 16-bit offset into `piece` of the same stream.
    pub jumps: Vec<(usize, usize)>,
}

/// How a stream's write commands name registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamMode {
    /// (register, value) pairs.
    #[default]
    Pairs,
    /// A bit mask over the four registers from `base` (a multiple of 4), values in rising order.
    Mask { base: u8 },
}

impl StreamMode {
    /// The byte the song header stores: the group number (0-5) for mask mode, 6 for pairs.
    pub fn header_byte(self) -> u8 {
        match self {
            StreamMode::Pairs => 6,
            StreamMode::Mask { base } => base / 4,
        }
    }
}

/// One stream of a song: the registers it writes and its pieces (the player starts at piece 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EncodedStream {
    /// Low bytes of the registers this stream writes (`$00-$17`).
    pub registers: Vec<u8>,
    /// How write commands name registers.
    pub mode: StreamMode,
    /// The stream's bytes, split so that each piece fits a bank.
    pub pieces: Vec<Piece>,
}

/// A song in the player's format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedSong {
    pub name: String,
    pub region: Region,
    /// Writes done by `music_start_song` before the first frame.
    pub init: Vec<RegWrite>,
    /// Frames in one pass of the song.
    pub frames: usize,
    /// Frame the song loops to; `None` stops after the last frame.
    pub loop_frame: Option<usize>,
    /// Which frames run the streams; waits count these ticks.
    pub tick: TickRule,
    /// Streams, in the order the player runs them each frame.
    pub streams: Vec<EncodedStream>,
}

impl EncodedSong {
    /// Bytes of stream data (all pieces).
    pub fn stream_bytes(&self) -> usize {
        self.streams
            .iter()
            .flat_map(|s| &s.pieces)
            .map(|p| p.bytes.len())
            .sum()
    }

    /// Bytes of the song header the builder emits: stream count, tick step and modulus
    /// (16 bits each), 4 bytes per stream (mode, bank, address), init count and 2 bytes per
    /// init write.
    pub fn header_bytes(&self) -> usize {
        6 + 4 * self.streams.len() + 2 * self.init.len()
    }

    /// Everything the song costs in ROM (header + streams), without the 2-byte song table entry.
    pub fn rom_bytes(&self) -> usize {
        self.header_bytes() + self.stream_bytes()
    }
}

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Largest piece in bytes (a bank's space for UxROM; the whole data area for NROM).
    pub max_piece: usize,
    /// Candidate earlier positions tried per back-reference search.
    pub search_depth: usize,
    /// Estimated music_update cycles above which a frame starts no more back-references
    /// (entering one costs about [`REF_ENTRY_CYCLES`]); keeps the worst frame short.
    pub ref_cycle_budget: u32,
}

/// Cycles the player spends entering a back-reference and coming back from it.
pub const REF_ENTRY_CYCLES: u32 = 100;

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            max_piece: 0x4000,
            search_depth: 48,
            ref_cycle_budget: 700,
        }
    }
}

/// Encodes a stream for the player with default options (pieces of at most 16 KiB). Writes
/// outside $4000-$4017 are dropped ([`crate::rom::build_rom`] refuses them with an error).
pub fn encode_stream(stream: &ApuStream) -> EncodedSong {
    encode_stream_with(stream, &EncodeOptions::default())
}

/// The loop frame the player honours: a loop at or past the end plays nothing more, which is
/// what stopping does.
pub fn effective_loop(stream: &ApuStream) -> Option<usize> {
    stream.loop_frame.filter(|&l| l < stream.len())
}

/// Encodes a stream for the player.
pub fn encode_stream_with(stream: &ApuStream, opts: &EncodeOptions) -> EncodedSong {
    let loop_frame = effective_loop(stream);
    let tick = TickRule::choose(stream, loop_frame);
    encode_with_rule(stream, opts, tick)
}

/// Encodes a stream with waits counted in the ticks of `tick`, which must fit it
/// ([`TickRule::fits`]; [`TickRule::EVERY_FRAME`] fits every song).
pub fn encode_with_rule(stream: &ApuStream, opts: &EncodeOptions, tick: TickRule) -> EncodedSong {
    let loop_frame = effective_loop(stream);
    let groups = plan_streams(stream);
    // The frames the player runs the streams on; the rest have no writes.
    let (ticks, _) = tick.ticks(stream.len());
    let units: Vec<&[RegWrite]> = stream
        .frames()
        .zip(&ticks)
        .filter(|(_, &t)| t)
        .map(|(f, _)| f)
        .collect();
    let loop_unit = loop_frame.map(|l| ticks[..l].iter().filter(|&&t| t).count());
    // Estimated cycles of each tick: what the player spends per playing stream and per write,
    // plus the back-references the streams encoded so far start in it.
    let mut unit_cycles: Vec<u32> = units
        .iter()
        .map(|f| {
            let playing = groups
                .iter()
                .filter(|g| {
                    f.iter()
                        .any(|w| g.contains(&((w.addr.wrapping_sub(0x4000)) as u8)))
                })
                .count() as u32;
            70 + 22 * groups.len() as u32 + 110 * playing + 14 * f.len() as u32
        })
        .collect();
    let streams = groups
        .iter()
        .map(|regs| encode_one(&units, regs, loop_unit, opts, &mut unit_cycles))
        .collect();
    EncodedSong {
        name: stream.name.clone(),
        region: stream.region,
        init: stream.init.clone(),
        frames: stream.len(),
        loop_frame,
        tick,
        streams,
    }
}

fn group_of(w: &RegWrite) -> usize {
    (usize::from(w.addr.wrapping_sub(0x4000)) / 4).min(GROUPS - 1)
}

fn find(parent: &mut [usize; GROUPS], g: usize) -> usize {
    let mut g = g;
    while parent[g] != g {
        parent[g] = parent[parent[g]];
        g = parent[g];
    }
    g
}

/// Splits the song's registers into streams: returns, in decode order, each stream's register
/// low bytes. Groups whose writes interleave inside a frame, or whose order differs between
/// frames, are merged until every frame is the concatenation of its streams' writes.
pub fn plan_streams(stream: &ApuStream) -> Vec<Vec<u8>> {
    let mut parent = [0, 1, 2, 3, 4, 5];
    let mut used = [false; GROUPS];
    for w in stream.frames().flatten() {
        used[group_of(w)] = true;
    }
    'retry: loop {
        let mut before = [[false; GROUPS]; GROUPS];
        for f in stream.frames() {
            let mut seq: Vec<usize> = Vec::new();
            for w in f {
                let r = find(&mut parent, group_of(w));
                if seq.last() != Some(&r) {
                    seq.push(r);
                }
            }
            for i in 0..seq.len() {
                for j in i + 1..seq.len() {
                    if seq[i] == seq[j] {
                        // Interleaved: merge everything between the two runs.
                        for k in i + 1..=j {
                            let (a, b) = (find(&mut parent, seq[i]), find(&mut parent, seq[k]));
                            parent[b] = a;
                        }
                        continue 'retry;
                    }
                    before[seq[i]][seq[j]] = true;
                }
            }
        }
        // Topological order of the roots in use.
        let mut roots: Vec<usize> = (0..GROUPS)
            .filter(|&g| used[g])
            .map(|g| find(&mut parent, g))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let mut order = Vec::new();
        let mut left = roots.clone();
        while !left.is_empty() {
            let ready = left
                .iter()
                .position(|&a| !left.iter().any(|&b| b != a && before[b][a]));
            match ready {
                Some(i) => order.push(left.remove(i)),
                None => {
                    // A cycle: merge two groups seen in both orders, else all that is left.
                    let pair = left.iter().find_map(|&a| {
                        left.iter()
                            .find(|&&b| b != a && before[a][b] && before[b][a])
                            .map(|&b| (a, b))
                    });
                    match pair {
                        Some((a, b)) => parent[b] = a,
                        None => {
                            for &b in &left[1..] {
                                parent[b] = left[0];
                            }
                        }
                    }
                    continue 'retry;
                }
            }
        }
        return order
            .iter()
            .map(|&root| {
                (0..GROUPS)
                    .filter(|&g| find(&mut parent, g) == root)
                    .flat_map(|g| (g as u8 * 4)..(g as u8 * 4 + 4))
                    .filter(|&r| r <= 0x17)
                    .collect()
            })
            .collect();
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
fn token_frames(tokens: &[Vec<u8>], mode: StreamMode) -> Vec<usize> {
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
                _ => 1 + usize::from(c & 0x3F),
            };
            at
        })
        .collect()
}

fn encode_one(
    units: &[&[RegWrite]],
    regs: &[u8],
    loop_frame: Option<usize>,
    opts: &EncodeOptions,
    frame_cycles: &mut [u32],
) -> EncodedStream {
    let mut in_stream = [false; 0x18];
    for &r in regs {
        in_stream[usize::from(r)] = true;
    }
    let frames: Vec<Vec<RegWrite>> = units
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
        .collect();
    let mode = match regs {
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
    };
    let mut tokens = Vec::new();
    let loop_token = match loop_frame {
        Some(l) => {
            tokenize(&frames, 0..l, mode, &mut tokens);
            let t = tokens.len();
            tokenize(&frames, l..frames.len(), mode, &mut tokens);
            Some(t)
        }
        None => {
            let end = frames
                .iter()
                .rposition(|f| !f.is_empty())
                .map_or(0, |i| i + 1);
            tokenize(&frames, 0..end, mode, &mut tokens);
            None
        }
    };

    // Token ids and byte-length prefix sums.
    let mut ids: HashMap<&[u8], u32, BuildHasherDefault<Fnv>> = HashMap::default();
    let tok_id: Vec<u32> = tokens
        .iter()
        .map(|t| {
            let n = ids.len() as u32;
            *ids.entry(t.as_slice()).or_insert(n)
        })
        .collect();
    let tok_frame = token_frames(&tokens, mode);
    let mut prefix = vec![0usize; tokens.len() + 1];
    for (i, t) in tokens.iter().enumerate() {
        prefix[i + 1] = prefix[i] + t.len();
    }

    // Where each token was emitted as a plain command: (piece, offset, run).
    let mut placed: Vec<Option<(usize, usize, u32)>> = vec![None; tokens.len()];
    // Earlier plain tokens by token id (ids are dense).
    let mut seen: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
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
        // Longest earlier plain run equal to tokens[i..].
        let piece = w.pieces.len() - 1;
        let mut best: Option<(usize, usize, usize)> = None; // (source token, count, saving)
        if let Some(cands) = seen.get(tok_id[i] as usize) {
            for &p in cands.iter().rev().take(opts.search_depth) {
                let Some((pp, _, prun)) = placed[p] else {
                    continue;
                };
                if pp != piece {
                    continue;
                }
                let mut k = 0;
                while i + k < limit
                    && p + k < i
                    && k < 255
                    && tok_id[p + k] == tok_id[i + k]
                    && placed[p + k].is_some_and(|(_, _, r)| r == prun)
                {
                    k += 1;
                }
                let bytes = prefix[i + k] - prefix[i];
                let cost = if k <= cmd::MAX_SHORT_REF { 3 } else { 4 };
                if bytes > cost && best.is_none_or(|(_, _, s)| bytes - cost > s) {
                    best = Some((p, k, bytes - cost));
                }
            }
        }
        // A reference started in an already busy frame would make it the worst frame.
        if let Some(c) = frame_cycles.get_mut(tok_frame[i]) {
            if best.is_some() {
                if *c + REF_ENTRY_CYCLES > opts.ref_cycle_budget {
                    best = None;
                } else {
                    *c += REF_ENTRY_CYCLES;
                }
            }
        }
        if let Some((p, k, _)) = best {
            let cost = if k <= cmd::MAX_SHORT_REF { 3 } else { 4 };
            if !w.reserve(cost) {
                let (_, off, _) = placed[p].expect("source is placed");
                let pc = w.cur();
                let pos = pc.bytes.len();
                if k <= cmd::MAX_SHORT_REF {
                    pc.bytes.push(cmd::REF + (k as u8 - 1));
                } else {
                    pc.bytes.push(cmd::LONG_REF);
                    pc.bytes.push(k as u8);
                }
                pc.bytes.push(off as u8);
                pc.bytes.push((off >> 8) as u8);
                pc.refs.push(pos + cost - 2);
                run += 1;
                i += k;
                continue;
            }
            // A new piece began: the source is gone; fall through to a plain command.
            run += 1;
        }
        if w.reserve(tokens[i].len()) {
            run += 1;
        }
        let pc_idx = w.pieces.len() - 1;
        let off = w.cur().bytes.len();
        w.cur().bytes.extend_from_slice(&tokens[i]);
        placed[i] = Some((pc_idx, off, run));
        seen[tok_id[i] as usize].push(i);
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
    EncodedStream {
        registers: regs.to_vec(),
        mode,
        pieces: w.pieces,
    }
}
