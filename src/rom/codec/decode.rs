//! Reference decoder of the player's song format, written the way `asm/music.s` runs it, so
//! tests can check the encoder (decode(encode(s)) == s) without an emulator.
//!
//! It also counts the CPU cycles music_update spends on each frame ([`decode_cycles`]), path by
//! path, with the costs of [`crate::rom::codec::cost`] (checked against the assembler's cycle listing
//! of the player). The count leaves out the one cycle a `(ptr),y` read or a
//! taken branch adds when it crosses a page, which depends on where the data lands, so the
//! emulator measures at most a few cycles more (tests check both bounds).

use crate::apu_stream::{ApuStream, RegWrite};
use crate::error::Result;
use crate::rom::codec::cost;
use crate::rom::codec::format::{
    cmd, player_order_ok, EncodedSong, EncodedStream, Piece, StreamMode, SHADOWED,
};
use crate::rom::codec::lz::has_volume_command;
pub use crate::rom::codec::stream_state::Census;
use crate::rom::codec::stream_state::{bad, block_end, frame_end, nest, StreamState};

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
                let mut frame = Frame {
                    song,
                    shadow: &shadow,
                    writes: &mut writes,
                    cy: &mut cy,
                };
                frame.step(s, st)?;
                for w in &writes[first..] {
                    if let Some(r) = shadow.get_mut(usize::from(w.addr.wrapping_sub(0x4000))) {
                        *r = w.value;
                    }
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

/// The piece the stream is reading, or an error naming it.
fn piece<'s>(song: &'s EncodedSong, st: &StreamState) -> Result<&'s Piece> {
    song.streams
        .get(st.data)
        .and_then(|s| s.pieces.get(st.piece))
        .ok_or_else(|| bad(song, format!("no piece {} in stream {}", st.piece, st.data)))
}

/// What a command did to the stream's frame.
enum Next {
    /// The frame has ended: the stream waits for the next tick.
    Ended,
    /// A special command ($80-$FF) is done; `true` when it ended the frame. Its path's cycles
    /// are counted.
    Special(bool),
    /// A pairs write command whose frame goes on (E = 7).
    GoesOn,
}

/// One stream's tick being decoded: the song, the registers' last values as of the frame's
/// earlier streams (volume commands read them), the frame's writes and the cycles.
struct Frame<'a, 'p> {
    song: &'a EncodedSong,
    shadow: &'a [u8; 0x18],
    writes: &'a mut Vec<RegWrite>,
    cy: &'a mut Cycles<'p>,
}

impl Frame<'_, '_> {
    /// Decodes one tick of a stream: its commands up to the one that ends the frame.
    fn step(&mut self, s: &EncodedStream, st: &mut StreamState) -> Result<()> {
        let block = matches!(s.mode, StreamMode::Mask { .. });
        if st.wait > 0 {
            st.wait -= 1;
            self.cy.total += if block {
                cost::BLOCK_IDLE
            } else {
                cost::PAIRS_STEP + cost::PAIRS_IDLE
            };
            return Ok(());
        }
        self.cy.total += match (block, self.cy.uxrom) {
            (true, false) => cost::BLOCK_START,
            (true, true) => cost::BLOCK_START + cost::UXROM_BLOCK,
            (false, false) => cost::PAIRS_STEP + cost::PAIRS_PLAY,
            (false, true) => cost::PAIRS_STEP + cost::PAIRS_PLAY + cost::UXROM_PAIRS,
        };
        for _ in 0..MAX_COMMANDS_PER_FRAME {
            if block {
                self.cy.total += cost::READ;
            } else {
                if st.y >= 0xC0 {
                    st.y = 0;
                    self.cy.total += cost::PAIRS_FOLD;
                }
                self.cy.total += cost::PAIRS_READ;
            }
            let c = read(self.song, st, st.pos, self.cy)?;
            st.pos += 1;
            st.y += 1;
            let next = match (c, s.mode) {
                (0x00..=0x7F, StreamMode::Mask { base }) => self.mask_command(st, c, base)?,
                (0x00..=0x7F, StreamMode::Pairs) => self.pairs_command(st, c)?,
                _ => {
                    self.cy.total += special_dispatch(s, c);
                    self.special(s, st, c)?
                }
            };
            match next {
                Next::Ended => return Ok(()),
                Next::GoesOn => {}
                Next::Special(ended) => {
                    self.cy.total += match (block, ended) {
                        (true, false) => cost::SPECIAL_GO_ON,
                        (true, true) => cost::SPECIAL_ENDED,
                        (false, false) => cost::PAIRS_SPECIAL_GO_ON,
                        (false, true) => cost::PAIRS_SPECIAL_ENDED,
                    };
                    if ended {
                        return Ok(());
                    }
                }
            }
        }
        Err(bad(self.song, "a frame runs too many commands".into()))
    }

    /// A mask stream's write command: a value for each set bit, the frame ends.
    fn mask_command(&mut self, st: &mut StreamState, c: u8, base: u8) -> Result<Next> {
        self.cy.census.mask_writes += 1;
        self.cy.total += cost::MASK;
        for bit in 0..4u8 {
            if c & (1 << bit) != 0 {
                let v = read(self.song, st, st.pos, self.cy)?;
                st.pos += 1;
                st.y += 1;
                let r = base + bit;
                self.writes.push(RegWrite::new(0x4000 + u16::from(r), v));
                self.cy.total += cost::MASK_WRITE;
                if SHADOWED.contains(&r) {
                    self.cy.total += cost::SHADOW;
                }
            }
        }
        st.wait = c >> 4;
        self.cy.total += block_end(st);
        Ok(Next::Ended)
    }

    /// A pairs stream's write command: N+1 (register, value) pairs; the frame ends unless E = 7.
    fn pairs_command(&mut self, st: &mut StreamState, c: u8) -> Result<Next> {
        self.cy.census.pairs_writes += 1;
        let n = usize::from(c & 0x0F) + 1;
        for _ in 0..n {
            let r = read(self.song, st, st.pos, self.cy)?;
            let v = read(self.song, st, st.pos + 1, self.cy)?;
            st.pos += 2;
            st.y += 2;
            if r > 0x17 {
                return Err(bad(self.song, format!("register ${r:02X} out of range")));
            }
            self.writes.push(RegWrite::new(0x4000 + u16::from(r), v));
        }
        self.cy.total += cost::PAIRS_WRITES + cost::PAIRS_WRITE * n as u32 - 1;
        let e = c >> 4;
        let ended = e != cmd::CONTINUE;
        if ended {
            st.wait = e;
        }
        self.cy.total += if ended {
            cost::PAIRS_ENDS
        } else {
            cost::PAIRS_GOES_ON
        };
        self.cy.total += frame_end(st);
        Ok(if ended { Next::Ended } else { Next::GoesOn })
    }

    /// A command $80-$FF: a wait, a reference or phrase, a volume, a jump, the stream's end.
    fn special(&mut self, s: &EncodedStream, st: &mut StreamState, c: u8) -> Result<Next> {
        let (ended, cycles) = match c {
            0x00..=0x7F => return Err(bad(self.song, format!("${c:02X} is a write command"))),
            cmd::NEAR_REF..=0x9F => (false, near_ref(self.song, st, c, self.cy)?),
            0x80..=0x8F => {
                self.cy.census.waits += 1;
                st.wait = c & 0x0F;
                (true, cost::WAIT + frame_end(st))
            }
            cmd::PHRASE..=0xDF => (false, phrase(self.song, st, c, self.cy)?),
            cmd::VOLUME..=0xEF => {
                self.volume(s, st, c)?;
                return Ok(Next::Ended);
            }
            cmd::REF..=cmd::LONG_REF => (false, reference(self.song, st, c, self.cy)?),
            cmd::JUMP | cmd::STOP if st.ref_count != 0 => {
                // The player would take it for a nested reference (mu_ref_or_jump).
                return Err(bad(self.song, format!("${c:02X} inside a back-reference")));
            }
            cmd::JUMP => (false, jump(self.song, st, self.cy)?),
            cmd::STOP => {
                // The player stays on the $FF and looks again in 255 ticks.
                st.pos -= 1;
                st.y -= 1;
                st.wait = 0xFF;
                (true, cost::STOP)
            }
        };
        self.cy.total += cycles;
        Ok(Next::Special(ended))
    }

    /// $E0-$EF in a voice block: the group's first register gets volume cmd & $0F, its high bits
    /// kept; the frame ends (music_wait is 0: no empty ticks follow).
    fn volume(&mut self, s: &EncodedStream, st: &mut StreamState, c: u8) -> Result<()> {
        let StreamMode::Mask { base } = s.mode else {
            return Err(bad(
                self.song,
                format!("volume command ${c:02X} in a pairs stream"),
            ));
        };
        let old = self.shadow.get(usize::from(base)).copied();
        let (Some(old), true) = (old, has_volume_command(s.mode)) else {
            return Err(bad(
                self.song,
                format!("volume command ${c:02X} in the stream of $40{base:02X}"),
            ));
        };
        self.cy.census.volumes += 1;
        self.writes.push(RegWrite::new(
            0x4000 + u16::from(base),
            (old & 0xF0) | (c & 0x0F),
        ));
        self.cy.total += cost::VOLUME + block_end(st);
        Ok(())
    }
}

/// Cycles from reading special command `c` to mu_special (none for a volume command, which a
/// voice block plays itself).
fn special_dispatch(s: &EncodedStream, c: u8) -> u32 {
    let block = matches!(s.mode, StreamMode::Mask { .. });
    match (block, has_volume_command(s.mode), c) {
        (false, _, _) => cost::PAIRS_SPECIAL,
        (true, false, _) => cost::BLOCK_SPECIAL,
        (true, true, 0x80..=0xDF) => cost::BLOCK_SPECIAL + cost::VOLUME_TEST_LOW,
        (true, true, cmd::VOLUME..=0xEF) => 0,
        (true, true, _) => cost::BLOCK_SPECIAL + cost::VOLUME_TEST_HIGH,
    }
}

/// $90-$9F d: play cmd-$8F commands from d bytes before the command.
fn near_ref(song: &EncodedSong, st: &mut StreamState, c: u8, cy: &mut Cycles) -> Result<u32> {
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
    Ok(cost::NEAR_REF + nested)
}

/// $A0-$DF: play phrase cmd-$A0 of the song's table.
fn phrase(song: &EncodedSong, st: &mut StreamState, c: u8, cy: &mut Cycles) -> Result<u32> {
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
    Ok(cost::PHRASE + nested)
}

/// $F0-$FC lo hi, $FD n lo hi: play commands at an address (in this piece, or another one's
/// where the encoder noted a cross-piece target).
fn reference(song: &EncodedSong, st: &mut StreamState, c: u8, cy: &mut Cycles) -> Result<u32> {
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
    let target = piece(song, st)?
        .xrefs
        .iter()
        .find(|x| x.0 == st.pos)
        .map_or((st.data, st.piece), |&(_, s, p)| (s, p));
    st.ret = (st.data, st.piece, st.pos + 2);
    (st.data, st.piece) = target;
    st.pos = usize::from(u16::from_le_bytes([lo, hi]));
    st.ref_count = n;
    st.y = 0;
    let kind = if c == cmd::LONG_REF {
        cost::LONG_REF
    } else {
        cost::SHORT_REF
    };
    Ok(kind + nested)
}

/// $FE bank lo hi: go on in another piece of the stream.
fn jump(song: &EncodedSong, st: &mut StreamState, cy: &mut Cycles) -> Result<u32> {
    let target = piece(song, st)?
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
    Ok(cost::JUMP + bank)
}
