//! The player's per-stream state as the reference decoder ([`super::decode`]) keeps it, and
//! what ending a command does to it (counting a back-reference's commands, coming back from
//! it, folding y into the address), with those paths' cycles.

use crate::error::{Error, Result};
use crate::rom::codec::cost;
use crate::rom::codec::format::EncodedSong;

/// Decoder state of one stream, as the player's zero-page variables hold it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamState {
    /// The song stream whose pieces hold the bytes being read (another stream's inside a
    /// cross-stream back-reference).
    pub(crate) data: usize,
    pub(crate) piece: usize,
    pub(crate) pos: usize,
    pub(crate) wait: u8,
    pub(crate) ref_count: u8,
    pub(crate) ret: (usize, usize, usize),
    /// Inside a reference entered from another: the outer one's count and return.
    pub(crate) ref2_count: u8,
    pub(crate) ret2: (usize, usize, usize),
    /// The player's y: bytes read since music_ptrs was last set (folded in at $C0).
    pub(crate) y: usize,
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

/// An error about the encoded song.
pub(crate) fn bad(song: &EncodedSong, what: String) -> Error {
    Error::format(format!("<encoded song '{}'>", song.name), what)
}

/// What ending a command did to a stream's state.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
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
pub(crate) fn end_command(st: &mut StreamState) -> Ended {
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
pub(crate) fn nested_return(n: u8) -> u32 {
    match n {
        0 => 0,
        1 => cost::RETURN_TO_OUTER,
        _ => cost::RETURN_FROM_BOTH,
    }
}

/// Keeps the outer reference's count and return address when a reference or phrase is entered
/// inside one (mu_nest); the player has room for two levels. Returns the extra cycles.
pub(crate) fn nest(song: &EncodedSong, st: &mut StreamState, census: &mut Census) -> Result<u32> {
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
pub(crate) fn frame_end(st: &mut StreamState) -> u32 {
    let fold = |f: bool| if f { cost::FOLD } else { 0 };
    match end_command(st) {
        Ended::Kept(f) => cost::FRAME_END + fold(f),
        Ended::Counted(f) => cost::FRAME_END_COUNT + fold(f),
        Ended::Returned(n) => cost::FRAME_END_RETURN + nested_return(n),
    }
}

/// The end of a write or volume command in a voice block: its own copy of mu_frame_end.
pub(crate) fn block_end(st: &mut StreamState) -> u32 {
    let fold = |f: bool| if f { cost::BLOCK_END_FOLD } else { 0 };
    match end_command(st) {
        Ended::Kept(f) => cost::BLOCK_END_FAST + fold(f),
        Ended::Counted(f) => cost::BLOCK_END_COUNT + fold(f),
        Ended::Returned(n) => cost::BLOCK_END_RETURN + nested_return(n),
    }
}
