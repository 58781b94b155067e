//! Reference decoder of the player's song format, written the way `asm/music.s` runs it, so
//! tests can check the encoder (decode(encode(s)) == s) without an emulator.

use crate::apu_stream::{ApuStream, RegWrite};
use crate::error::{Error, Result};
use crate::rom::encode::{cmd, EncodedSong, EncodedStream, StreamMode};

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
        })
        .collect();
    if !song.tick.is_valid() {
        return Err(bad(song, format!("tick rule {:?} out of range", song.tick)));
    }
    let mut acc = song.tick.start();
    let mut out = Vec::with_capacity(frames);
    for _ in 0..frames {
        let mut writes = Vec::new();
        // The streams run on tick frames only; their waits count ticks.
        if song.tick.advance(&mut acc) {
            for (s, st) in song.streams.iter().zip(states.iter_mut()) {
                step(song, s, st, &mut writes)?;
            }
        }
        out.push(writes);
    }
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

fn step(
    song: &EncodedSong,
    s: &EncodedStream,
    st: &mut StreamState,
    writes: &mut Vec<RegWrite>,
) -> Result<()> {
    if st.wait > 0 {
        st.wait -= 1;
        return Ok(());
    }
    for _ in 0..MAX_COMMANDS_PER_FRAME {
        let c = byte(song, st, st.pos)?;
        st.pos += 1;
        let mut frame_ended = false;
        match c {
            0x00..=0x7F => match s.mode {
                StreamMode::Mask { base } => {
                    for bit in 0..4u8 {
                        if c & (1 << bit) != 0 {
                            let v = byte(song, st, st.pos)?;
                            st.pos += 1;
                            writes.push(RegWrite::new(0x4000 + u16::from(base + bit), v));
                        }
                    }
                    st.wait = c >> 4;
                    frame_ended = true;
                }
                StreamMode::Pairs => {
                    let n = usize::from(c & 0x0F) + 1;
                    for _ in 0..n {
                        let r = byte(song, st, st.pos)?;
                        let v = byte(song, st, st.pos + 1)?;
                        st.pos += 2;
                        if r > 0x17 {
                            return Err(bad(song, format!("register ${r:02X} out of range")));
                        }
                        writes.push(RegWrite::new(0x4000 + u16::from(r), v));
                    }
                    let e = c >> 4;
                    if e != cmd::CONTINUE {
                        st.wait = e;
                        frame_ended = true;
                    }
                }
            },
            0x80..=0x9F => {
                st.wait = c & 0x1F;
                frame_ended = true;
            }
            cmd::PHRASE..=0xDF => {
                if st.ref_count != 0 {
                    return Err(bad(song, "nested back-reference".into()));
                }
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
                continue;
            }
            cmd::REF..=cmd::LONG_REF => {
                if st.ref_count != 0 {
                    return Err(bad(song, "nested back-reference".into()));
                }
                let n = if c == cmd::LONG_REF {
                    st.pos += 1;
                    byte(song, st, st.pos - 1)?
                } else {
                    c - cmd::REF + 1
                };
                let lo = byte(song, st, st.pos)?;
                let hi = byte(song, st, st.pos + 1)?;
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
                continue;
            }
            cmd::JUMP => {
                let target = song.streams[st.data].pieces[st.piece]
                    .jumps
                    .iter()
                    .find(|&&(p, _)| p == st.pos)
                    .map(|&(_, t)| t)
                    .ok_or_else(|| bad(song, "jump without a target piece".into()))?;
                let lo = byte(song, st, st.pos + 1)?;
                let hi = byte(song, st, st.pos + 2)?;
                st.piece = target;
                st.pos = usize::from(u16::from_le_bytes([lo, hi]));
                continue;
            }
            cmd::STOP => {
                st.pos -= 1;
                return Ok(());
            }
        }
        if st.ref_count != 0 {
            st.ref_count -= 1;
            if st.ref_count == 0 {
                (st.data, st.piece, st.pos) = st.ret;
            }
        }
        if frame_ended {
            return Ok(());
        }
    }
    Err(bad(song, "a frame runs too many commands".into()))
}
