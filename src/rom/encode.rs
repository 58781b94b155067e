//! The song data format the 6502 player decodes, and its encoder.
//!
//! A song's register writes are split into *streams*, one per group of registers (pulse 1
//! `$4000-$4003`, pulse 2 `$4004-$4007`, triangle `$4008-$400B`, noise `$400C-$400F`, DMC
//! `$4010-$4013`, control `$4014-$4017`). The player decodes the streams one after the other
//! each frame, so a frame's writes come out grouped by stream. The encoder picks the stream
//! order from the song itself (a topological order of the groups as they appear in each frame,
//! the player's [`BLOCK_ORDER`] where the song leaves a choice) and merges groups whose writes
//! interleave within a frame, down to one stream holding every register; so the decoded order
//! is always the song's order, whatever order the compiler chose.
//!
//! The player has one straight-line *voice block* per group but the DMC's, played in
//! [`BLOCK_ORDER`] (control, pulse 1, pulse 2, triangle, noise), then one loop over the
//! remaining streams ([`plan_modes`]). Our compiler writes `$4015` first and the voices in
//! order, so its songs are voice blocks throughout.
//!
//! The streams run only on *tick* frames ([`TickRule`], a clock in the song header: for a
//! 24 Hz NES-MDB song on NTSC, frames 0, 3, 5, 8, 10, ...), and every wait below counts ticks,
//! so a pattern encodes to the same bytes wherever it falls in the 3/2 frame cycle. The encoder
//! uses the 24 Hz rule when every write of the song is on its ticks and a loop keeps the clock
//! in phase ([`TickRule::fits`]), else ticks every frame (waits in frames).
//!
//! The volume command (`$E0-$EF`) exists because the most common frame of an NES-MDB voice
//! changes only its volume (an envelope step): one byte instead of a mask and a value; it cut
//! NES-MDB's song data by 9% (9,042,611 to 8,259,395 bytes; median 60.2 to 55.4 bytes per
//! second). Nested references then cut 3% more (7,986,648 bytes), and near references
//! (`$90-$9F`: two bytes, the target `d` bytes back; waits shrank to 16 ticks per command to
//! make room) 3% more again (7,730,814 bytes, median 52.6 bytes per second).
//!
//! Each stream is a byte string of commands (see [`cmd`]). A stream of one register group whose
//! frames write its registers in rising order (what the compiler does), and that a voice block
//! can play in its place in the order, is in *mask* mode; any other stream is in *pairs* mode.
//! The write command differs:
//!
//! | byte | meaning |
//! |---|---|
//! | mask: `$00-$7F` `0EEE MMMM` | one value follows for each set bit of `M` (bit 0 = the group's first register), written in rising register order; then the frame ends and `E` (0..7) empty ticks follow |
//! | pairs: `$00-$7F` `EEEE NNNN` | `N+1` writes follow as (register `$40rr` low byte, value) pairs; then, for `E` 0..6, the frame ends and `E` empty ticks follow; `E = 7` the frame goes on |
//! | `$80-$8F` | the frame ends with no (more) writes and `cmd & $0F` empty ticks follow |
//! | `$90-$9F` d | play `cmd - $8F` commands from `d` (1-253) bytes before this command, then come back |
//! | `$A0-$DF` | play phrase `cmd - $A0` of the song's phrase table (count, address), then come back |
//! | `$E0-$EF` | mask streams of a voice (not the control group): the group's first register gets `cmd & $0F` as its low 4 bits, its high 4 bits as last written; then the frame ends |
//! | `$F0-$FC` lo hi | play `cmd - $EF` commands from address hi:lo, then come back |
//! | `$FD` n lo hi | play `n` commands from hi:lo, then come back |
//! | `$FE` bank lo hi | go on at bank:hi:lo (next piece of a long stream, or the loop point) |
//! | `$FF` | the stream has ended: nothing more is written |
//!
//! Back-references (`$90-$9F`, `$A0-$DF`, `$F0-$FD`) point at earlier commands, found with a hash of
//! whole commands. A reference's target may hold references whose own targets hold none: the
//! player keeps two return addresses per stream. The encoder takes a reference that holds
//! references only where it saves half as much again as the best one without, since nothing
//! can reference it in turn. Where all song data shares one address space (NROM, unbanked NSF: [`EncodeOptions::cross_stream_refs`])
//! they may point into the song's other streams, and a first encoding pass picks the targets
//! used at least twice for the song's phrase table (up to 64), called with one byte; elsewhere
//! they stay inside the piece and there are no phrases.
//! A stream longer than a bank is cut into pieces joined by `$FE`. Addresses inside a piece are
//! stored piece-relative here and made absolute when the builder places the piece.
//!
//! Back-references cost cycles where they are entered and come back. The encoder estimates
//! each frame's cost as it goes and skips a reference that would push a frame over
//! [`EncodeOptions::ref_cycle_budget`]; then the reference decoder counts the cycles exactly
//! ([`crate::rom::decode::decode_cycles`]) and the song is encoded again with a smaller budget
//! while a frame is over [`EncodeOptions::max_frame_cycles`] (730: the goal is 750 in the
//! emulator, and data that crosses a page costs a few more cycles than the count).

use crate::apu_stream::{ApuStream, RegWrite};
use crate::region::Region;
use crate::rom::cost::estimate::*;
use crate::rom::lz::{encode_one, stream_frames, stream_mode, Dictionary, Tokenized};
use crate::rom::tick::TickRule;

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
    /// `$80 | (ticks - 1)`: the frame ends, then more empty ticks.
    pub const WAIT: u8 = 0x80;
    /// Most ticks one wait covers.
    pub const MAX_WAIT: usize = 16;
    /// `$90 + count - 1`, d: near back-reference to the commands d bytes before it.
    pub const NEAR_REF: u8 = 0x90;
    /// Most commands a near back-reference covers.
    pub const MAX_NEAR_REF: usize = 16;
    /// Farthest a near back-reference reaches back, in bytes.
    pub const MAX_NEAR_DISTANCE: usize = 253;
    /// `$A0 + k`: play phrase `k` of the song's phrase table.
    pub const PHRASE: u8 = 0xA0;
    /// Most phrases a song's table holds.
    pub const MAX_PHRASES: usize = 64;
    /// `$E0 | v`: a voice's first register (`$4000 $4004 $4008 $400C`) gets volume `v`,
    /// its high 4 bits kept; the frame ends with no empty ticks.
    pub const VOLUME: u8 = 0xE0;
    /// `$F0 + count - 1`, lo, hi: short back-reference.
    pub const REF: u8 = 0xF0;
    /// Most commands a short back-reference covers.
    pub const MAX_SHORT_REF: usize = 0xFC - 0xF0 + 1;
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
    /// `(position, stream, piece)`: a 16-bit offset into piece `piece` of the song's stream
    /// `stream` (a back-reference into another piece; only with
    /// [`EncodeOptions::cross_stream_refs`]).
    pub xrefs: Vec<(usize, usize, usize)>,
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

/// An entry of a song's phrase table: `count` commands at `offset` in piece `piece` of the
/// song's stream `stream`, played by the one-byte command `$A0 + index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Phrase {
    pub stream: usize,
    pub piece: usize,
    pub offset: usize,
    pub count: u8,
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
    /// The phrase table: back-references used often enough to be worth one byte each (only
    /// with [`EncodeOptions::cross_stream_refs`]).
    pub phrases: Vec<Phrase>,
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

    /// Bytes of the song header the builder emits: stream count, tick step and modulus and
    /// the init list's address (16 bits each), per stream its mode, its bank where the data
    /// is banked (`banked`: UxROM, a banked NSF) and its address; then the phrase table,
    /// 3 bytes per phrase (count, address).
    pub fn header_bytes(&self, banked: bool) -> usize {
        7 + (3 + usize::from(banked)) * self.streams.len() + 3 * self.phrases.len()
    }

    /// The init list: its count, then 2 bytes per write. Songs of one ROM with the same init
    /// writes share one list.
    pub fn init_list(&self) -> Vec<u8> {
        std::iter::once(self.init.len() as u8)
            .chain(
                self.init
                    .iter()
                    .flat_map(|w| [(w.addr.wrapping_sub(0x4000)) as u8, w.value]),
            )
            .collect()
    }

    /// Everything the song costs in an NROM of its own (header, init list, streams), without
    /// the 2-byte song table entry.
    pub fn rom_bytes(&self) -> usize {
        self.header_bytes(false) + self.init_list().len() + self.stream_bytes()
    }
}

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Largest piece in bytes (a bank's space for UxROM; the whole data area for NROM).
    pub max_piece: usize,
    /// Candidate earlier positions tried per back-reference search.
    pub search_depth: usize,
    /// Estimated music_update cycles no frame may go over because of back-references (each
    /// costs about [`REF_ENTRY_CYCLES`] where it starts, a little in later frames and more
    /// where it comes back); keeps the worst frame short. The default is about what a frame
    /// writing all five voices costs without any.
    pub ref_cycle_budget: u32,
    /// Back-references may point into the song's other streams and other pieces: every piece
    /// lands in one address space (NROM, an unbanked NSF).
    pub cross_stream_refs: bool,
    /// The most music_update cycles any frame may cost, as the reference decoder counts them
    /// ([`crate::rom::decode::decode_cycles`], which leaves out page crossings: keep some
    /// cycles spare). Where the encoding goes over, it is done again with a smaller
    /// `ref_cycle_budget`, a few times at most; 0 turns the check off.
    pub max_frame_cycles: u32,
}

/// Low bytes of the registers whose voice-block writes also go to the UI's copy
/// (asm/music_blocks.s): `$4000 $4004 $4008 $400B $400C $4015`.
pub const SHADOWED: [u8; 6] = [0x00, 0x04, 0x08, 0x0B, 0x0C, 0x15];

/// The register groups that have a voice block in the player, in the order it plays them:
/// control (`$4015`), pulse 1, pulse 2, triangle, noise. The DMC group has none.
pub const BLOCK_ORDER: [u8; 5] = [5, 0, 1, 2, 3];

fn block_rank(group: usize) -> Option<usize> {
    BLOCK_ORDER.iter().position(|&g| usize::from(g) == group)
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            max_piece: 0x4000,
            search_depth: 48,
            ref_cycle_budget: 690,
            cross_stream_refs: false,
            max_frame_cycles: 730,
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
///
/// The back-reference budget is an estimate made while encoding; the reference decoder then
/// counts each frame's cycles, and where one goes over [`EncodeOptions::max_frame_cycles`] the
/// song is encoded again with the budget lowered by twice the overshoot (at most six tries;
/// the last encoding is kept even if a frame with no references at all is over).
pub fn encode_with_rule(stream: &ApuStream, opts: &EncodeOptions, tick: TickRule) -> EncodedSong {
    let plan = plan_song(stream, tick);
    let mut o = *opts;
    let mut song = encode_once(stream, &plan, &o);
    if opts.max_frame_cycles == 0 {
        return song;
    }
    let banked = !opts.cross_stream_refs;
    for _ in 0..6 {
        let worst = crate::rom::decode::decode_cycles(&song, song.frames, banked)
            .map_or(0, |c| c.into_iter().max().unwrap_or(0));
        if worst <= opts.max_frame_cycles || o.ref_cycle_budget == 0 {
            break;
        }
        o.ref_cycle_budget = o
            .ref_cycle_budget
            .saturating_sub(2 * (worst - opts.max_frame_cycles) + 10);
        song = encode_once(stream, &plan, &o);
    }
    song
}

/// What every encoding pass of a song starts from: its streams' commands, and each tick
/// frame's estimated music_update cycles before back-references.
struct SongPlan {
    tick: TickRule,
    loop_frame: Option<usize>,
    streams: Vec<Tokenized>,
    unit_cycles: Vec<u32>,
}

fn plan_song(stream: &ApuStream, tick: TickRule) -> SongPlan {
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
    let group_frames: Vec<Vec<Vec<RegWrite>>> = groups
        .iter()
        .map(|regs| stream_frames(&units, regs))
        .collect();
    let modes = plan_modes(&group_frames, &groups);
    // Estimated music_update cycles of each tick frame (asm/music.s): the call and the clock,
    // then per stream: waiting, or playing (by mode, a fixed part and a part per write). The
    // back-references the streams encoded so far start in a frame are added as they go.
    let mut unit_cycles: Vec<u32> = vec![TICK_CYCLES; units.len()];
    if modes.contains(&StreamMode::Pairs) {
        unit_cycles.iter_mut().for_each(|c| *c += PAIRS_LOOP_CYCLES);
    }
    let mut streams = Vec::with_capacity(groups.len());
    for ((frames, &mode), regs) in group_frames.iter().zip(&modes).zip(&groups) {
        let tokenized = Tokenized::new(frames, regs, mode, loop_unit, &stream.init);
        let (idle, fixed, per_write) = match mode {
            StreamMode::Mask { .. } => (IDLE_BLOCK_CYCLES, MASK_STREAM_CYCLES, MASK_WRITE_CYCLES),
            StreamMode::Pairs => (IDLE_PAIRS_CYCLES, PAIRS_STREAM_CYCLES, PAIRS_WRITE_CYCLES),
        };
        let mask = matches!(mode, StreamMode::Mask { .. });
        for (c, f) in unit_cycles.iter_mut().zip(frames) {
            *c += match f.len() as u32 {
                0 => idle,
                n => {
                    let shadowed = f
                        .iter()
                        .filter(|w| SHADOWED.contains(&(w.addr.wrapping_sub(0x4000) as u8)))
                        .count() as u32;
                    fixed + per_write * n + if mask { SHADOW_CYCLES * shadowed } else { 0 }
                }
            };
        }
        // Long rests play wait commands, on the same ticks in every silent stream; a volume
        // command costs less than the write command counted above.
        for (t, &f) in tokenized.tokens.iter().zip(&tokenized.tok_frame) {
            let Some(c) = unit_cycles.get_mut(f) else {
                continue;
            };
            match t.first() {
                Some(&b) if b & 0xF0 == cmd::WAIT => *c += WAIT_COMMAND_CYCLES,
                Some(cmd::VOLUME..=0xEF) => {
                    *c -= MASK_STREAM_CYCLES + MASK_WRITE_CYCLES + SHADOW_CYCLES - VOLUME_CYCLES
                }
                _ => {}
            }
        }
        // A stream that stops reads its $FF on the tick after its last write.
        if loop_unit.is_none() {
            let end = frames
                .iter()
                .rposition(|f| !f.is_empty())
                .map_or(0, |i| i + 1);
            if let Some(c) = unit_cycles.get_mut(end) {
                *c += STOP_COMMAND_CYCLES;
            }
        }
        streams.push(tokenized);
    }
    SongPlan {
        tick,
        loop_frame,
        streams,
        unit_cycles,
    }
}

/// One encoding of a planned song with `opts`' budget.
fn encode_once(stream: &ApuStream, plan: &SongPlan, opts: &EncodeOptions) -> EncodedSong {
    // With one address space, a first pass finds the back-references worth a phrase table
    // entry (used at least twice); the second pass encodes with the table.
    let mut hot = None;
    if opts.cross_stream_refs {
        let mut dict = Dictionary::new(true, None);
        let mut cycles = plan.unit_cycles.clone();
        for s in &plan.streams {
            encode_one(s, opts, &mut cycles, &mut dict);
        }
        hot = Some(dict.hot_keys());
    }
    let mut dict = Dictionary::new(opts.cross_stream_refs, hot);
    let mut cycles = plan.unit_cycles.clone();
    let streams = plan
        .streams
        .iter()
        .map(|s| encode_one(s, opts, &mut cycles, &mut dict))
        .collect();
    EncodedSong {
        name: stream.name.clone(),
        region: stream.region,
        init: stream.init.clone(),
        frames: stream.len(),
        loop_frame: plan.loop_frame,
        tick: plan.tick,
        streams,
        phrases: dict.phrases,
    }
}

/// The mode of each planned stream. The player plays the mask streams in its voice blocks, in
/// [`BLOCK_ORDER`], before the pairs streams; so a stream gets mask mode only while it and
/// every stream before it are single groups with a block, written in rising order, in block
/// order. The rest are pairs streams. Our compiler's songs are mask streams throughout.
/// `frames[i]`: the writes of stream `i` (`groups[i]`) in each tick frame.
pub fn plan_modes(frames: &[Vec<Vec<RegWrite>>], groups: &[Vec<u8>]) -> Vec<StreamMode> {
    let mut last_rank = None;
    let mut blocks_open = true;
    groups
        .iter()
        .zip(frames)
        .map(|(regs, frames)| {
            let mode = stream_mode(frames, regs);
            let rank = match mode {
                StreamMode::Mask { base } => block_rank(usize::from(base / 4)),
                StreamMode::Pairs => None,
            };
            match rank {
                Some(r) if blocks_open && last_rank.is_none_or(|l| r > l) => {
                    last_rank = Some(r);
                    mode
                }
                _ => {
                    blocks_open = false;
                    StreamMode::Pairs
                }
            }
        })
        .collect()
}

/// Whether a song's streams are laid out as the player plays them: mask streams of groups with
/// a voice block first, in [`BLOCK_ORDER`], then pairs streams; at most one per group.
pub fn player_order_ok(streams: &[EncodedStream]) -> bool {
    let mut last_rank = None;
    let mut pairs_seen = false;
    for s in streams {
        match s.mode {
            StreamMode::Mask { base } => {
                let Some(r) = block_rank(usize::from(base / 4)) else {
                    return false;
                };
                if pairs_seen || last_rank.is_some_and(|l| r <= l) {
                    return false;
                }
                last_rank = Some(r);
            }
            StreamMode::Pairs => pairs_seen = true,
        }
    }
    streams.len() <= GROUPS
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
        // Topological order of the roots in use; where several could come next, the player's
        // block order decides (so the compiler's songs come out in it).
        let mut roots: Vec<usize> = (0..GROUPS)
            .filter(|&g| used[g])
            .map(|g| find(&mut parent, g))
            .collect();
        roots.sort_unstable_by_key(|&g| (block_rank(g).unwrap_or(BLOCK_ORDER.len()), g));
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
