//! The song data format the player reads: the stream command bytes ([`cmd`]), encoded
//! streams and songs, the encoder's options, and the voice-block order the player plays mask
//! streams in. The encoder ([`super::encode`]), its back-reference search ([`super::lz`]) and
//! the reference decoder ([`mod@super::decode`]) all build on these, so they live below them.

use crate::apu_stream::RegWrite;
use crate::region::Region;
use crate::rom::codec::tick::TickRule;

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
pub(crate) const GROUPS: usize = 6;

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
    /// costs about [`REF_ENTRY_CYCLES`](crate::rom::codec::cost::estimate::REF_ENTRY_CYCLES) where it starts, a little in later frames and more
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

pub(crate) fn block_rank(group: usize) -> Option<usize> {
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
