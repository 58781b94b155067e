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
use crate::rom::codec::cost::estimate::*;
use crate::rom::codec::format::{
    block_rank, cmd, EncodeOptions, EncodedSong, StreamMode, BLOCK_ORDER, GROUPS, SHADOWED,
};
use crate::rom::codec::lz::{encode_one, stream_frames, stream_mode, Dictionary, Tokenized};
use crate::rom::codec::tick::TickRule;

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
