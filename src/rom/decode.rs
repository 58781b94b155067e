//! Reference decoder of the player's song format, written the way `asm/music.s` runs it, so
//! tests can check the encoder (decode(encode(s)) == s) without an emulator.
//!
//! It also counts the CPU cycles music_update spends on each frame ([`decode_cycles`]), path by
//! path, with the costs of [`crate::rom::cost`] (checked against the assembler's cycle listing
//! of the player). The count leaves out the one cycle a `(ptr),y` read or a
//! taken branch adds when it crosses a page, which depends on where the data lands, so the
//! emulator measures at most a few cycles more (tests check both bounds).

use crate::apu_stream::{ApuStream, RegWrite};
use crate::error::{Error, Result};
use crate::rom::cost;
use crate::rom::encode::{cmd, player_order_ok, EncodedSong, EncodedStream, StreamMode, SHADOWED};
use crate::rom::lz::has_volume_command;

/// Decoder state of one stream, as the player's zero-page variables hold it.
#[derive(Debug, Clone, Copy)]
struct StreamState {
    /// The song stream whose pieces hold the bytes being read (another stream's inside a
    /// cross-stream back-reference).
    data: usize,
    piece: usize,
    pos: usize,
    wait: u8,
    ref_count: u8,
    ret: (usize, usize, usize),
    /// Inside a reference entered from another: the outer one's count and return.
    ref2_count: u8,
    ret2: (usize, usize, usize),
    /// The player's y: bytes read since music_ptrs was last set (folded in at $C0).
    y: usize,
}

/// Where each piece of a song's streams lies: `(stream, piece) -> address`.
pub type PieceAddress<'a> = &'a dyn Fn(usize, usize) -> u16;

/// What [`step`] counts cycles for.
#[derive(Clone, Copy)]
struct Cycles<'a> {
    total: u32,
    uxrom: bool,
    /// With the pieces' addresses, the page crossings of `(ptr),y` reads are counted too.
    at: Option<PieceAddress<'a>>,
    /// The commands run so far.
    census: Census,
}

/// How many commands of each kind a song ran (back-references count where they are entered),
/// so a test can tell which of the player's paths a stretch of music takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// Write commands of mask and pairs streams.
    pub mask_writes: u32,
    pub pairs_writes: u32,
    /// Volume commands ($E0-$EF).
    pub volumes: u32,
    /// Waits ($80-$8F).
    pub waits: u32,
    /// Phrases, near references, short and long references.
    pub phrases: u32,
    pub near_refs: u32,
    pub refs: u32,
    /// References and phrases entered inside another.
    pub nested: u32,
}

/// Reads the stream byte at `pos` as the player does, with `lda (ptr),y`: one cycle more when
/// the pointer plus y crosses a page.
fn read(song: &EncodedSong, st: &StreamState, pos: usize, cy: &mut Cycles) -> Result<u8> {
    let b = byte(song, st, pos)?;
    if let Some(at) = cy.at {
        // music_ptrs points st.y bytes before st.pos.
        let ptr = usize::from(at(st.data, st.piece)) + st.pos - st.y;
        let y = pos - (st.pos - st.y);
        if (ptr & 0xFF) + y > 0xFF {
            cy.total += 1;
        }
    }
    Ok(b)
}

/// Commands one stream may run in one frame before the data is judged broken.
const MAX_COMMANDS_PER_FRAME: usize = 4096;

fn bad(song: &EncodedSong, what: String) -> Error {
    Error::format(format!("<encoded song '{}'>", song.name), what)
}

fn byte(song: &EncodedSong, st: &StreamState, pos: usize) -> Result<u8> {
    let piece = st.piece;
    song.streams
        .get(st.data)
        .and_then(|s| s.pieces.get(piece))
        .and_then(|p| p.bytes.get(pos))
        .copied()
        .ok_or_else(|| bad(song, format!("read past piece {piece} at {pos}")))
}

/// Plays `frames` frames (looping as the song says) and returns each frame's writes.
pub fn decode_frames(song: &EncodedSong, frames: usize) -> Result<Vec<Vec<RegWrite>>> {
    Ok(play(song, frames, false, None, &mut Census::default())?
        .into_iter()
        .map(|(w, _)| w)
        .collect())
}

/// Plays `frames` frames and returns the cycles music_update spends on each (without page
/// crossings; see the module comment), on a UxROM board when `uxrom` (bank switches), else on
/// NROM or an unbanked NSF.
pub fn decode_cycles(song: &EncodedSong, frames: usize, uxrom: bool) -> Result<Vec<u32>> {
    Ok(play(song, frames, uxrom, None, &mut Census::default())?
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}

/// [`decode_cycles`] with the song's pieces placed at `at(stream, piece)`, so the page crossings
/// of data reads count as well; what is left out then is only a branch that crosses a page in
/// the player's code, and the reads of the phrase table.
pub fn decode_cycles_at(
    song: &EncodedSong,
    frames: usize,
    uxrom: bool,
    at: PieceAddress,
) -> Result<Vec<u32>> {
    Ok(play(song, frames, uxrom, Some(at), &mut Census::default())?
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}

/// Plays `frames` frames and returns the commands of each kind they ran.
pub fn decode_census(song: &EncodedSong, frames: usize) -> Result<Census> {
    let mut census = Census::default();
    play(song, frames, false, None, &mut census)?;
    Ok(census)
}

fn play(
    song: &EncodedSong,
    frames: usize,
    uxrom: bool,
    at: Option<PieceAddress>,
    census: &mut Census,
) -> Result<Vec<(Vec<RegWrite>, u32)>> {
    let mut states: Vec<StreamState> = song
        .streams
        .iter()
        .enumerate()
        .map(|(i, _)| StreamState {
            data: i,
            piece: 0,
            pos: 0,
            wait: 0,
            ref_count: 0,
            ret: (0, 0, 0),
            ref2_count: 0,
            ret2: (0, 0, 0),
            y: 0,
        })
        .collect();
    // The player plays mask streams in its fixed voice-block order, then the pairs streams;
    // a song laid out otherwise would play in another order than the one written here.
    if !player_order_ok(&song.streams) {
        let modes: Vec<_> = song.streams.iter().map(|s| s.mode).collect();
        return Err(bad(
            song,
            format!("streams {modes:?} are not in the player's order"),
        ));
    }
    if !song.tick.is_valid() {
        return Err(bad(song, format!("tick rule {:?} out of range", song.tick)));
    }
    // apu_shadow: the last value written to each register, as far as the song's data sets it
    // (volume commands read it).
    let mut shadow = [0u8; 0x18];
    for w in &song.init {
        if let Some(r) = shadow.get_mut(usize::from(w.addr.wrapping_sub(0x4000))) {
            *r = w.value;
        }
    }
    let mut acc = song.tick.start();
    let has_pairs = song.streams.iter().any(|s| s.mode == StreamMode::Pairs);
    let mut out = Vec::with_capacity(frames);
    let mut cy = Cycles {
        total: 0,
        uxrom,
        at,
        census: Census::default(),
    };
    for _ in 0..frames {
        let mut writes = Vec::new();
        cy.total = cost::NO_TICK;
        if song.streams.is_empty() {
            out.push((Vec::new(), cost::NO_STREAMS));
            continue;
        }
        // The streams run on tick frames only; their waits count ticks.
        if song.tick.advance(&mut acc) {
            cy.total = cost::TICK + if uxrom { cost::UXROM_DONE } else { 0 };
            if has_pairs {
                cy.total += cost::PAIRS_LOOP;
            }
            for (s, st) in song.streams.iter().zip(states.iter_mut()) {
                let first = writes.len();
                step(song, s, st, &shadow, &mut writes, &mut cy)?;
                for w in &writes[first..] {
                    shadow[usize::from(w.addr - 0x4000)] = w.value;
                }
            }
        }
        out.push((writes, cy.total));
    }
    *census = cy.census;
    Ok(out)
}

/// Decodes one pass of the song back into an [`ApuStream`].
pub fn decode(song: &EncodedSong) -> Result<ApuStream> {
    let mut st = ApuStream::new(song.name.clone(), song.region);
    st.init = song.init.clone();
    st.loop_frame = song.loop_frame;
    for f in decode_frames(song, song.frames)? {
        st.push_frame(&f);
    }
    Ok(st)
}

/// What ending a command did to a stream's state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Not inside a reference: y kept (`true`: folded into the address, past $C0).
    Kept(bool),
    /// A command of the reference counted, y kept (folded or not).
    Counted(bool),
    /// The reference's last command: back after it, y = 0; into the outer reference (1) when
    /// it was entered from one, and out of that too (2) when this was its last command.
    Returned(u8),
}

/// Ends a command as mu_frame_end and the voice blocks' inline copy of it do: counts a command
/// of the reference the stream is in, comes back after it when it was the last, else keeps y
/// (folding it in past $C0).
fn end_command(st: &mut StreamState) -> Ended {
    let in_ref = st.ref_count != 0;
    if in_ref {
        st.ref_count -= 1;
        if st.ref_count == 0 {
            (st.data, st.piece, st.pos) = st.ret;
            st.y = 0;
            if st.ref2_count == 0 {
                return Ended::Returned(0);
            }
            // Back in the outer reference, whose command that entered this one is done too.
            st.ref_count = st.ref2_count - 1;
            st.ret = st.ret2;
            st.ref2_count = 0;
            if st.ref_count == 0 {
                (st.data, st.piece, st.pos) = st.ret;
                return Ended::Returned(2);
            }
            return Ended::Returned(1);
        }
    }
    let folded = st.y >= 0xC0;
    if folded {
        st.y = 0;
    }
    if in_ref {
        Ended::Counted(folded)
    } else {
        Ended::Kept(folded)
    }
}

/// What coming back from a nested reference adds (see [`Ended::Returned`]).
fn nested_return(n: u8) -> u32 {
    match n {
        0 => 0,
        1 => cost::RETURN_TO_OUTER,
        _ => cost::RETURN_FROM_BOTH,
    }
}

/// Keeps the outer reference's count and return address when a reference or phrase is entered
/// inside one (mu_nest); the player has room for two levels. Returns the extra cycles.
fn nest(song: &EncodedSong, st: &mut StreamState, census: &mut Census) -> Result<u32> {
    if st.ref_count == 0 {
        return Ok(0);
    }
    census.nested += 1;
    if st.ref2_count != 0 {
        return Err(bad(song, "back-references nest more than two deep".into()));
    }
    st.ref2_count = st.ref_count;
    st.ret2 = st.ret;
    Ok(cost::NEST)
}

/// mu_frame_end's cycles (with its rts) for the end of a command.
fn frame_end(st: &mut StreamState) -> u32 {
    let fold = |f: bool| if f { cost::FOLD } else { 0 };
    match end_command(st) {
        Ended::Kept(f) => cost::FRAME_END + fold(f),
        Ended::Counted(f) => cost::FRAME_END_COUNT + fold(f),
        Ended::Returned(n) => cost::FRAME_END_RETURN + nested_return(n),
    }
}

fn step(
    song: &EncodedSong,
    s: &EncodedStream,
    st: &mut StreamState,
    shadow: &[u8; 0x18],
    writes: &mut Vec<RegWrite>,
    cy: &mut Cycles,
) -> Result<()> {
    let block = matches!(s.mode, StreamMode::Mask { .. });
    let volume = has_volume_command(s.mode);
    if st.wait > 0 {
        st.wait -= 1;
        cy.total += if block {
            cost::BLOCK_IDLE
        } else {
            cost::PAIRS_STEP + cost::PAIRS_IDLE
        };
        return Ok(());
    }
    cy.total += match (block, cy.uxrom) {
        (true, false) => cost::BLOCK_START,
        (true, true) => cost::BLOCK_START + cost::UXROM_BLOCK,
        (false, false) => cost::PAIRS_STEP + cost::PAIRS_PLAY,
        (false, true) => cost::PAIRS_STEP + cost::PAIRS_PLAY + cost::UXROM_PAIRS,
    };
    for _ in 0..MAX_COMMANDS_PER_FRAME {
        if block {
            cy.total += cost::READ;
        } else {
            if st.y >= 0xC0 {
                st.y = 0;
                cy.total += cost::PAIRS_FOLD;
            }
            cy.total += cost::PAIRS_READ;
        }
        let c = read(song, st, st.pos, cy)?;
        st.pos += 1;
        st.y += 1;
        if c >= 0x80 {
            cy.total += match (block, volume, c) {
                (false, _, _) => cost::PAIRS_SPECIAL,
                (true, false, _) => cost::BLOCK_SPECIAL,
                (true, true, 0x80..=0xDF) => cost::BLOCK_SPECIAL + cost::VOLUME_TEST_LOW,
                (true, true, cmd::VOLUME..=0xEF) => 0,
                (true, true, _) => cost::BLOCK_SPECIAL + cost::VOLUME_TEST_HIGH,
            };
        }
        // Whether the command ended the stream's frame, and the cycles of its special path.
        let (ended, special) = match c {
            0x00..=0x7F => match s.mode {
                StreamMode::Mask { base } => {
                    cy.census.mask_writes += 1;
                    cy.total += cost::MASK;
                    for bit in 0..4u8 {
                        if c & (1 << bit) != 0 {
                            let v = read(song, st, st.pos, cy)?;
                            st.pos += 1;
                            st.y += 1;
                            let r = base + bit;
                            writes.push(RegWrite::new(0x4000 + u16::from(r), v));
                            cy.total += cost::MASK_WRITE;
                            if SHADOWED.contains(&r) {
                                cy.total += cost::SHADOW;
                            }
                        }
                    }
                    st.wait = c >> 4;
                    // The block's own copy of mu_frame_end.
                    let fold = |f: bool| if f { cost::BLOCK_END_FOLD } else { 0 };
                    cy.total += match end_command(st) {
                        Ended::Kept(f) => cost::BLOCK_END_FAST + fold(f),
                        Ended::Counted(f) => cost::BLOCK_END_COUNT + fold(f),
                        Ended::Returned(n) => cost::BLOCK_END_RETURN + nested_return(n),
                    };
                    return Ok(());
                }
                StreamMode::Pairs => {
                    cy.census.pairs_writes += 1;
                    let n = usize::from(c & 0x0F) + 1;
                    for _ in 0..n {
                        let r = read(song, st, st.pos, cy)?;
                        let v = read(song, st, st.pos + 1, cy)?;
                        st.pos += 2;
                        st.y += 2;
                        if r > 0x17 {
                            return Err(bad(song, format!("register ${r:02X} out of range")));
                        }
                        writes.push(RegWrite::new(0x4000 + u16::from(r), v));
                    }
                    cy.total += cost::PAIRS_WRITES + cost::PAIRS_WRITE * n as u32 - 1;
                    let e = c >> 4;
                    let ended = e != cmd::CONTINUE;
                    if ended {
                        st.wait = e;
                    }
                    cy.total += if ended {
                        cost::PAIRS_ENDS
                    } else {
                        cost::PAIRS_GOES_ON
                    };
                    cy.total += frame_end(st);
                    if ended {
                        return Ok(());
                    }
                    continue;
                }
            },
            cmd::NEAR_REF..=0x9F => {
                cy.census.near_refs += 1;
                let nested = nest(song, st, &mut cy.census)?;
                let d = usize::from(read(song, st, st.pos, cy)?);
                let at = st.pos - 1;
                if d == 0 || d > cmd::MAX_NEAR_DISTANCE || d > at {
                    return Err(bad(song, format!("near reference {d} bytes back at {at}")));
                }
                st.ret = (st.data, st.piece, st.pos + 1);
                st.pos = at - d;
                st.ref_count = c - cmd::NEAR_REF + 1;
                st.y = 0;
                (false, cost::NEAR_REF + nested)
            }
            0x80..=0x8F => {
                cy.census.waits += 1;
                st.wait = c & 0x0F;
                let fe = frame_end(st);
                (true, cost::WAIT + fe)
            }
            cmd::PHRASE..=0xDF => {
                cy.census.phrases += 1;
                let nested = nest(song, st, &mut cy.census)?;
                let k = usize::from(c - cmd::PHRASE);
                let ph = song
                    .phrases
                    .get(k)
                    .ok_or_else(|| bad(song, format!("phrase {k} is not in the table")))?;
                if ph.count == 0 {
                    return Err(bad(song, format!("phrase {k} is empty")));
                }
                st.ret = (st.data, st.piece, st.pos);
                (st.data, st.piece, st.pos) = (ph.stream, ph.piece, ph.offset);
                st.ref_count = ph.count;
                st.y = 0;
                (false, cost::PHRASE + nested)
            }
            cmd::VOLUME..=0xEF => {
                let StreamMode::Mask { base } = s.mode else {
                    return Err(bad(
                        song,
                        format!("volume command ${c:02X} in a pairs stream"),
                    ));
                };
                if !volume {
                    return Err(bad(
                        song,
                        format!("volume command ${c:02X} in the stream of $40{base:02X}"),
                    ));
                }
                cy.census.volumes += 1;
                let old = shadow[usize::from(base)];
                writes.push(RegWrite::new(
                    0x4000 + u16::from(base),
                    (old & 0xF0) | (c & 0x0F),
                ));
                // music_wait is 0: no empty ticks follow. The block's own copy of mu_frame_end.
                let fold = |f: bool| if f { cost::BLOCK_END_FOLD } else { 0 };
                cy.total += cost::VOLUME
                    + match end_command(st) {
                        Ended::Kept(f) => cost::BLOCK_END_FAST + fold(f),
                        Ended::Counted(f) => cost::BLOCK_END_COUNT + fold(f),
                        Ended::Returned(n) => cost::BLOCK_END_RETURN + nested_return(n),
                    };
                return Ok(());
            }
            cmd::REF..=cmd::LONG_REF => {
                cy.census.refs += 1;
                let nested = nest(song, st, &mut cy.census)?;
                let n = if c == cmd::LONG_REF {
                    st.pos += 1;
                    st.y += 1;
                    read(song, st, st.pos - 1, cy)?
                } else {
                    c - cmd::REF + 1
                };
                let lo = read(song, st, st.pos, cy)?;
                let hi = read(song, st, st.pos + 1, cy)?;
                let here = &song.streams[st.data].pieces[st.piece];
                let target = here
                    .xrefs
                    .iter()
                    .find(|x| x.0 == st.pos)
                    .map_or((st.data, st.piece), |&(_, s, p)| (s, p));
                st.ret = (st.data, st.piece, st.pos + 2);
                (st.data, st.piece) = target;
                st.pos = usize::from(u16::from_le_bytes([lo, hi]));
                st.ref_count = n;
                st.y = 0;
                let c = if c == cmd::LONG_REF {
                    cost::LONG_REF
                } else {
                    cost::SHORT_REF
                };
                (false, c + nested)
            }
            cmd::JUMP | cmd::STOP if st.ref_count != 0 => {
                // The player would take it for a nested reference (mu_ref_or_jump).
                return Err(bad(song, format!("${c:02X} inside a back-reference")));
            }
            cmd::JUMP => {
                let target = song.streams[st.data].pieces[st.piece]
                    .jumps
                    .iter()
                    .find(|&&(p, _)| p == st.pos)
                    .map(|&(_, t)| t)
                    .ok_or_else(|| bad(song, "jump without a target piece".into()))?;
                read(song, st, st.pos, cy)?; // the bank
                let lo = read(song, st, st.pos + 1, cy)?;
                let hi = read(song, st, st.pos + 2, cy)?;
                st.piece = target;
                st.pos = usize::from(u16::from_le_bytes([lo, hi]));
                st.y = 0;
                let bank = if cy.uxrom { cost::UXROM_JUMP } else { 0 };
                (false, cost::JUMP + bank)
            }
            cmd::STOP => {
                // The player stays on the $FF and looks again in 255 ticks.
                st.pos -= 1;
                st.y -= 1;
                st.wait = 0xFF;
                (true, cost::STOP)
            }
        };
        cy.total += special;
        cy.total += match (block, ended) {
            (true, false) => cost::SPECIAL_GO_ON,
            (true, true) => cost::SPECIAL_ENDED,
            (false, false) => cost::PAIRS_SPECIAL_GO_ON,
            (false, true) => cost::PAIRS_SPECIAL_ENDED,
        };
        if ended {
            return Ok(());
        }
    }
    Err(bad(song, "a frame runs too many commands".into()))
}
