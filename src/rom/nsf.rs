//! Builds NSF files: the same player code and song data as the ROM run here; INIT (A = song
//! index, X = 0 NTSC / 1 PAL) and PLAY end in RTS, and data larger than $8000-$FFFF is banked in
//! 4 KiB pages through $5FF8-$5FFF. The file format is [`crate::formats::nsf_file`].

use crate::apu_stream::ApuStream;
use crate::error::{Error, Result};
use crate::formats::nsf_file::{nsf_text, Nsf, NsfHeader};
use crate::formats::nsfe::Nsfe;
use crate::region::Region;
use crate::rom::board::linker::repeat_banks;
use crate::rom::build::emit::{self, Layout};
use crate::rom::build::player::{self, Assembler};
use crate::rom::codec::encode::encode_stream_with;
use crate::rom::codec::format::{EncodeOptions, EncodedSong};
use std::collections::BTreeMap;

/// `asm/nsf.s`: INIT and PLAY around the ROM's player (`music.s`).
pub const NSF_SOURCE: &str = include_str!("../../asm/nsf.s");
/// `asm/nsf.cfg`: songs then the player from $8000, not banked.
pub const NSF_CFG: &str = include_str!("../../asm/nsf.cfg");
/// `asm/nsf_banked.cfg`: 16 KiB song data banks at $8000, table and player at $C000.
pub const NSF_BANKED_CFG: &str = include_str!("../../asm/nsf_banked.cfg");
/// Most 16 KiB data banks: NSF pages 4n..4n+3 and the fixed four must stay below 256.
pub const MAX_NSF_BANKS: usize = 63;
const DATA_BANK: usize = 0x4000;
/// Where the program is loaded.
pub const NSF_LOAD: u16 = 0x8000;

/// Options of [`build_nsf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsfOptions {
    /// The songs' region: the header's region byte (NTSC-only or PAL-only).
    pub region: Region,
    /// Album title, artist and copyright (cut to 31 ASCII characters in the header).
    pub title: String,
    pub artist: String,
    pub copyright: String,
}

impl Default for NsfOptions {
    fn default() -> Self {
        NsfOptions {
            region: Region::Ntsc,
            title: "nesmm".into(),
            artist: String::new(),
            copyright: String::new(),
        }
    }
}

/// A built NSF, with what an NSFe adds.
#[derive(Debug, Clone)]
pub struct BuiltNsf {
    pub nsf: Nsf,
    /// Labels of the player and data (`nsf_init`, `nsf_play`, `music_update`, ...).
    pub symbols: BTreeMap<String, u16>,
    /// Song names.
    pub track_titles: Vec<String>,
    /// Play time of each song in milliseconds: one pass, plus the looped part once more for
    /// a song that loops.
    pub track_ms: Vec<i32>,
    /// Album title, artist and copyright in full (UTF-8, any length) for the NSFe's `auth`
    /// chunk; the NSF header holds them cut to 31 ASCII characters.
    pub album_text: [String; 3],
}

impl BuiltNsf {
    /// The same program as an NSFe, with track titles and times.
    pub fn nsfe(&self) -> Nsfe {
        let mut nsf = self.nsf.clone();
        let [title, artist, copyright] = self.album_text.clone();
        (nsf.header.title, nsf.header.artist, nsf.header.copyright) = (title, artist, copyright);
        Nsfe {
            nsf,
            track_titles: self.track_titles.clone(),
            track_ms: self.track_ms.clone(),
            playlist: (0..self.track_titles.len() as u8).collect(),
        }
    }
}

/// Play time of `song` in milliseconds (see [`BuiltNsf::track_ms`]).
pub fn track_ms(song: &ApuStream) -> i32 {
    let frames = song.len() + song.loop_frame.map_or(0, |l| song.len().saturating_sub(l));
    (frames as f64 * 1000.0 / song.region.frame_hz()).round() as i32
}

/// Builds an NSF of `songs` with our assembler: the ROM's player and song data behind
/// `nsf_init` / `nsf_play`.
pub fn build_nsf(songs: &[ApuStream], opts: &NsfOptions) -> Result<BuiltNsf> {
    build_nsf_with(songs, opts, player::default_assembler())
}

/// [`build_nsf`] with a chosen assembler backend.
pub fn build_nsf_with(songs: &[ApuStream], opts: &NsfOptions, asm: Assembler) -> Result<BuiltNsf> {
    if songs.is_empty() || songs.len() > 255 {
        return Err(Error::Unsupported(format!(
            "an NSF holds 1 to 255 songs, not {}",
            songs.len()
        )));
    }
    if let Some(s) = songs.iter().find(|s| s.region != opts.region) {
        return Err(Error::Unsupported(format!(
            "song '{}' was compiled for {} but the NSF is {}: build the NSF {} or compile \
             the song for {}",
            s.name,
            s.region.name().to_uppercase(),
            opts.region.name().to_uppercase(),
            if s.region == Region::Pal {
                "with --pal"
            } else {
                "without --pal"
            },
            opts.region.name().to_uppercase()
        )));
    }
    let linked = match link_nsf(songs, opts, asm, None) {
        Ok(l) => l,
        // Too big for $8000-$FFFF: bank the song data.
        Err(_) => link_nsf(songs, opts, asm, Some(DATA_BANK))?,
    };
    let sym = |n: &str| {
        linked
            .symbols
            .get(n)
            .copied()
            .ok_or_else(|| Error::Unsupported(format!("the NSF player has no label '{n}'")))
    };
    let header = NsfHeader {
        version: 1,
        song_count: songs.len() as u8,
        first_song: 1,
        load_addr: NSF_LOAD,
        init_addr: sym("nsf_init")?,
        play_addr: sym("nsf_play")?,
        title: nsf_text(&opts.title),
        artist: nsf_text(&opts.artist),
        copyright: nsf_text(&opts.copyright),
        ntsc_speed_us: Region::Ntsc.nsf_play_us(),
        banks: linked.banks,
        pal_speed_us: Region::Pal.nsf_play_us(),
        region: opts.region,
        expansion: 0,
    };
    Ok(BuiltNsf {
        nsf: Nsf {
            header,
            data: linked.image,
        },
        symbols: linked.symbols,
        track_titles: songs.iter().map(|s| s.name.clone()).collect(),
        track_ms: songs.iter().map(track_ms).collect(),
        album_text: [
            opts.title.clone(),
            opts.artist.clone(),
            opts.copyright.clone(),
        ],
    })
}

/// A linked NSF program and its initial bank bytes.
struct NsfLink {
    image: Vec<u8>,
    symbols: BTreeMap<String, u16>,
    banks: [u8; 8],
}

/// Encodes, lays out and links the songs: all from $8000 (`bank: None`), or with the stream
/// data packed first-fit into `bank`-sized banks at $8000 and the rest at $C000.
fn link_nsf(
    songs: &[ApuStream],
    opts: &NsfOptions,
    asm: Assembler,
    bank: Option<usize>,
) -> Result<NsfLink> {
    let encode = EncodeOptions {
        max_piece: bank.unwrap_or(0x8000),
        cross_stream_refs: bank.is_none(),
        ..Default::default()
    };
    let encoded: Vec<EncodedSong> = songs
        .iter()
        .map(|s| encode_stream_with(s, &encode))
        .collect();
    let (stream_ids, streams) = emit::dedup_streams(&encoded);
    let (banks, used) = match bank {
        Some(size) => emit::pack_banks(&streams, size),
        None => (
            streams.iter().map(|s| vec![None; s.pieces.len()]).collect(),
            Vec::new(),
        ),
    };
    if used.len() > MAX_NSF_BANKS {
        return Err(Error::Unsupported(format!(
            "the songs need {} banks of 16 KiB; an NSF holds {MAX_NSF_BANKS} plus the \
             player's: split the songs over several NSFs",
            used.len()
        )));
    }
    let layout = Layout {
        songs: &encoded,
        stream_ids,
        streams,
        banks,
        uxrom: false,
        banked: bank.is_some(),
        title: &opts.title,
        // asm/nsf.cfg: SONGS first, the stream data after the table.
        stream_base: (0x8000 + emit::table_bytes(&encoded, &opts.title, bank.is_some())) as u16,
    };
    let mut files: Vec<(String, Vec<u8>)> = player::PLAYER_SOURCES
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect();
    let (blobs, addr) = emit::place(&layout);
    files.push(("nsf.s".into(), NSF_SOURCE.as_bytes().to_vec()));
    files.push(("songs.inc".into(), emit::songs_inc(&layout).into_bytes()));
    let banked = if bank.is_some() {
        "NSF_BANKED = 1\n"
    } else {
        ""
    };
    files.push(("nsf_banks.inc".into(), banked.as_bytes().to_vec()));
    files.push((
        "songs.s".into(),
        emit::songs_s(&layout, &blobs, &addr).into_bytes(),
    ));
    for (b, blob) in blobs {
        files.push((emit::blob_name(b), blob));
    }
    let config = match bank {
        None => NSF_CFG.to_string(),
        Some(_) => repeat_banks(NSF_BANKED_CFG, used.len()),
    };
    let linked = asm(&files, "nsf.s", &config).map_err(|e| {
        Error::Unsupported(format!(
            "cannot link the NSF ({e}); put fewer songs in one NSF"
        ))
    })?;
    let mut initial = [0u8; 8];
    if bank.is_some() {
        let fixed = 4 * used.len() as u8;
        initial = [0, 1, 2, 3, fixed, fixed + 1, fixed + 2, fixed + 3];
    }
    Ok(NsfLink {
        image: linked.image,
        symbols: linked.symbols,
        banks: initial,
    })
}
