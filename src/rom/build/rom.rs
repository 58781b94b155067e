//! `build_rom`: songs -> encoded data -> layout (NROM or UxROM) -> assembled, headered ROM.
//!
//! The pipeline: [`encode_stream_with`] each song; if the data, tables and player fit in 32 KiB
//! the board is NROM (mapper 0) with the data at $8000; otherwise the songs are encoded again in
//! pieces of at most 16 KiB, the pieces are packed into switchable UxROM banks (mapper 2, up to
//! 256 KiB) and the tables and player sit in the fixed last bank. The generated `songs.s` goes
//! with the player sources (`asm/`) to the assembler, and a NES 2.0 header goes in front.

use crate::apu_stream::ApuStream;
use crate::error::{Error, Result};
use crate::region::Region;
use crate::rom::board::ines::nes2_header;
use crate::rom::board::{linker, Mapper, VECTORS};
use crate::rom::build::emit::{self, Layout};
use crate::rom::build::player::{self, Assembler, LinkedPrg};
use crate::rom::build::player_cache;
use crate::rom::codec::decode::decode_cycles_at;
use crate::rom::codec::encode::encode_stream_with;
use crate::rom::codec::format::{EncodeOptions, EncodedSong};
use std::collections::BTreeMap;
use std::sync::Mutex;

const BANK: usize = 0x4000;
/// Largest UxROM board built: 16 banks of 16 KiB.
pub const MAX_UXROM_BANKS: usize = 16;
/// Most init writes a song may have (the player reads its header with an 8-bit index).
pub const MAX_INIT_WRITES: usize = 100;

/// Options of [`build_rom`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// TV system: the header's timing byte; every song must have been compiled for it.
    pub region: Region,
    /// Album title stored in the ROM (`music_title`).
    pub title: String,
    /// Build UxROM even when NROM would do (tests bank switching with small songs).
    pub force_uxrom: bool,
    /// When a song that does not loop has ended, the on-screen player moves on to the next
    /// one (after the last it stays on END); off, it stays on END ([`crate::rom::ui`]).
    pub advance: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            region: Region::Ntsc,
            title: "nesmm".into(),
            force_uxrom: false,
            advance: true,
        }
    }
}

/// What one song costs in the ROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SongSize {
    pub name: String,
    /// Header plus the init list and streams first stored for this song (those shared with
    /// an earlier song are counted there).
    pub data_bytes: usize,
    /// Frames in one pass.
    pub frames: usize,
    /// music_update cycles of the song's costliest frame, and their sum over one pass (divide
    /// by `frames` for the mean), as the reference decoder counts them
    /// ([`crate::rom::decode::decode_cycles`]: page crossings add a few in the emulator).
    pub worst_cycles: u32,
    pub cycles_sum: u64,
}

/// A built ROM.
#[derive(Debug, Clone)]
pub struct Rom {
    /// The `.nes` file: 16-byte header and PRG.
    pub bytes: Vec<u8>,
    pub mapper: Mapper,
    /// PRG-ROM bytes.
    pub prg_size: usize,
    /// Labels of the player and data (`music_update`, `nmi_music_done`, `music_stub`, ...).
    pub symbols: BTreeMap<String, u16>,
    /// Per-song data sizes, in song order.
    pub songs: Vec<SongSize>,
    /// The songs in the player's format, in song order (before identical streams are merged
    /// and the pieces placed): what [`mod@crate::rom::decode`] reads back.
    pub encoded: Vec<EncodedSong>,
    /// `piece_addresses[song][stream][piece]`: where the ROM holds each piece (in its bank).
    pub piece_addresses: Vec<Vec<Vec<u16>>>,
    /// All song data: table, headers, text and streams.
    pub data_bytes: usize,
    /// Bytes of the player code.
    pub player_bytes: usize,
    pub region: Region,
}

impl Rom {
    /// music_update's cycles in each of the first `frames` frames of song `song`, as the
    /// reference decoder counts them with the pieces where this ROM holds them
    /// ([`decode_cycles_at`]).
    pub fn music_cycles(&self, song: usize, frames: usize) -> Result<Vec<u32>> {
        let (s, at) = self
            .encoded
            .get(song)
            .zip(self.piece_addresses.get(song))
            .ok_or_else(|| Error::Unsupported(format!("the ROM has no song {song}")))?;
        let at = |stream: usize, piece: usize| at[stream][piece];
        decode_cycles_at(s, frames, self.mapper == Mapper::Uxrom, &at)
    }
}

/// Builds a ROM playing `songs` (song 0 first; Right/Left on the controller change songs)
/// with our assembler.
/// The player is linked once per board, bank count, song count and region and reused
/// ([`crate::rom::player_cache`]).
pub fn build_rom(songs: &[ApuStream], opts: &BuildOptions) -> Result<Rom> {
    build(songs, opts, player::assemble_with_nesmm, true)
}

/// [`build_rom`] with a chosen assembler backend.
/// Assembles the whole source (player and data) for every ROM.
pub fn build_rom_with(songs: &[ApuStream], opts: &BuildOptions, asm: Assembler) -> Result<Rom> {
    build(songs, opts, asm, false)
}

/// `cached`: link with our assembler and the kept player.
fn build(songs: &[ApuStream], opts: &BuildOptions, asm: Assembler, cached: bool) -> Result<Rom> {
    if songs.is_empty() {
        return Err(Error::Unsupported("no songs to put in the ROM".into()));
    }
    if songs.len() > 255 {
        return Err(Error::Unsupported(format!(
            "{} songs: a ROM holds at most 255; split them over several ROMs",
            songs.len()
        )));
    }
    for s in songs {
        if s.region != opts.region {
            return Err(Error::Unsupported(format!(
                "song '{}' was compiled for {} but the ROM is {}: compile it with --{}",
                s.name,
                s.region.name().to_uppercase(),
                opts.region.name().to_uppercase(),
                opts.region.name()
            )));
        }
        let bad = s
            .init
            .iter()
            .map(|w| (None, w))
            .chain(
                s.frames()
                    .enumerate()
                    .flat_map(|(i, f)| f.iter().map(move |w| (Some(i), w))),
            )
            .find(|(_, w)| !(0x4000..=0x4017).contains(&w.addr));
        if let Some((frame, w)) = bad {
            return Err(Error::Unsupported(format!(
                "song '{}', {}: ${:04X} is not an APU register ($4000-$4017)",
                s.name,
                frame.map_or("init".to_string(), |f| format!("frame {f}")),
                w.addr
            )));
        }
        if s.init.len() > MAX_INIT_WRITES {
            return Err(Error::Unsupported(format!(
                "song '{}' has {} init writes; the player takes at most {MAX_INIT_WRITES}",
                s.name,
                s.init.len()
            )));
        }
    }
    if !opts.force_uxrom {
        let encoded = encode_all(songs, 0x7FFF);
        let code = player_code_size(Mapper::Nrom, asm, songs.len())?;
        let (ids, distinct) = emit::dedup_streams(&encoded);
        let data = emit::table_bytes(&encoded, &opts.title, false)
            + distinct
                .iter()
                .flat_map(|s| &s.pieces)
                .map(|p| p.bytes.len())
                .sum::<usize>();
        if data + code + VECTORS <= 2 * BANK {
            let banks = distinct
                .iter()
                .map(|s| vec![None; s.pieces.len()])
                .collect();
            let layout = Layout {
                songs: &encoded,
                stream_ids: ids,
                streams: distinct,
                banks,
                uxrom: false,
                banked: false,
                title: &opts.title,
                stream_base: (0x8000 + code + emit::table_bytes(&encoded, &opts.title, false))
                    as u16,
            };
            return link(&layout, Mapper::Nrom, 2, data, code, opts, (asm, cached));
        }
    }
    let encoded = encode_all(songs, BANK);
    let code = player_code_size(Mapper::Uxrom, asm, songs.len())?;
    let (ids, distinct) = emit::dedup_streams(&encoded);
    let fixed = emit::table_bytes(&encoded, &opts.title, true);
    if fixed + code + VECTORS > BANK {
        return Err(Error::Unsupported(format!(
            "the song table and player need {} bytes but UxROM's fixed bank holds {BANK}: \
             put fewer songs in one ROM",
            fixed + code + VECTORS
        )));
    }
    // First-fit decreasing into 16 KiB banks.
    let (banks, used) = emit::pack_banks(&distinct, BANK);
    let stream_data: usize = used.iter().sum();
    let total_banks = (used.len() + 1).max(2).next_power_of_two();
    if total_banks > MAX_UXROM_BANKS {
        // MMC3 boards reach 512 KiB of PRG; past that no common board holds the data.
        let mmc3_room = 512 * 1024 - BANK;
        let bigger = if stream_data <= mmc3_room {
            "MMC3 (mapper 4, 512 KiB) would hold them, which nesmm does not build"
        } else {
            "that is more than MMC3 (mapper 4, 512 KiB), the largest common board, holds"
        };
        return Err(Error::Unsupported(format!(
            "the songs need {} KiB of song data ({} banks of 16 KiB plus the fixed bank), but \
             UxROM (mapper 2) holds at most {} KiB in a {} KiB ROM; {bigger}: split the songs \
             over several ROMs",
            stream_data.div_ceil(1024),
            used.len(),
            (MAX_UXROM_BANKS - 1) * BANK / 1024,
            MAX_UXROM_BANKS * BANK / 1024
        )));
    }
    let layout = Layout {
        songs: &encoded,
        stream_ids: ids,
        streams: distinct,
        banks,
        uxrom: true,
        banked: true,
        title: &opts.title,
        stream_base: (0xC000 + code + fixed) as u16,
    };
    link(
        &layout,
        Mapper::Uxrom,
        total_banks,
        fixed + stream_data,
        code,
        opts,
        (asm, cached),
    )
}

fn encode_all(songs: &[ApuStream], max_piece: usize) -> Vec<EncodedSong> {
    let opts = EncodeOptions {
        max_piece,
        // NROM: all song data in one address space.
        cross_stream_refs: max_piece > BANK,
        ..Default::default()
    };
    songs.iter().map(|s| encode_stream_with(s, &opts)).collect()
}

/// The stream data placed by [`emit::place`]: the binary files and each piece's address.
type Placed = (Vec<(Option<u8>, Vec<u8>)>, Vec<Vec<u16>>);

fn sources(layout: &Layout, (blobs, addr): &Placed, advance: bool) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = player::PLAYER_SOURCES
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect();
    files.push(("songs.inc".into(), emit::songs_inc(layout).into_bytes()));
    let region = layout.songs.first().map_or(Region::Ntsc, |s| s.region);
    files.push((
        "ui_data.s".into(),
        crate::rom::ui::ui_data_source(region, advance).into_bytes(),
    ));
    files.push((
        "songs.s".into(),
        emit::songs_s(layout, blobs, addr).into_bytes(),
    ));
    for (bank, blob) in blobs {
        files.push((emit::blob_name(*bank), blob.clone()));
    }
    files
}

/// The song data alone, with room for the player (see [`player_cache`]).
fn data_sources(
    layout: &Layout,
    (blobs, addr): &Placed,
    player_bytes: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        (
            "data.s".to_string(),
            player_cache::data_only_main(player_bytes).into_bytes(),
        ),
        ("songs.inc".into(), emit::songs_inc(layout).into_bytes()),
        (
            "songs.s".into(),
            emit::songs_s(layout, blobs, addr).into_bytes(),
        ),
    ];
    for (bank, blob) in blobs {
        files.push((emit::blob_name(*bank), blob.clone()));
    }
    files
}

fn config(mapper: Mapper, banks: usize) -> String {
    match mapper {
        Mapper::Nrom => linker::NROM_CFG.to_string(),
        Mapper::Uxrom => linker::uxrom_cfg(banks),
    }
}

/// Bytes of player code (`player_end - player_start`), measured once per board, backend and
/// song count (the on-screen player's code depends on the count: see `asm/ui.s`).
fn player_code_size(mapper: Mapper, asm: Assembler, song_count: usize) -> Result<usize> {
    static CACHE: Mutex<Vec<(Mapper, usize, usize, usize)>> = Mutex::new(Vec::new());
    let key = asm as *const () as usize;
    if let Some(&(_, _, _, n)) = CACHE
        .lock()
        .map_err(|_| Error::Unsupported("player size cache poisoned".into()))?
        .iter()
        .find(|&&(m, k, c, _)| m == mapper && k == key && c == song_count)
    {
        return Ok(n);
    }
    let empty = Layout {
        songs: &[],
        stream_ids: vec![],
        streams: vec![],
        banks: vec![],
        uxrom: mapper == Mapper::Uxrom,
        banked: mapper == Mapper::Uxrom,
        title: "",
        stream_base: 0x8000,
    };
    // The empty layout has no songs, but the player's code depends on the count.
    let mut files = sources(&empty, &emit::place(&empty), true);
    if let Some((_, text)) = files.iter_mut().find(|(name, _)| name == "songs.inc") {
        *text = emit::songs_inc_for(empty.uxrom, song_count).into_bytes();
    }
    let linked = asm(&files, player::MAIN_SOURCE, &config(mapper, 4))?;
    let size = symbol(&linked, "player_end")? - symbol(&linked, "player_start")?;
    if let Ok(mut c) = CACHE.lock() {
        c.push((mapper, key, song_count, usize::from(size)));
    }
    Ok(usize::from(size))
}

fn symbol(linked: &LinkedPrg, name: &str) -> Result<u16> {
    linked
        .symbols
        .get(name)
        .copied()
        .ok_or_else(|| Error::Unsupported(format!("the player has no label '{name}'")))
}

fn link(
    layout: &Layout,
    mapper: Mapper,
    banks: usize,
    data_bytes: usize,
    player_bytes: usize,
    opts: &BuildOptions,
    (asm, cached): (Assembler, bool),
) -> Result<Rom> {
    let cfg = config(mapper, banks);
    let placed = emit::place(layout);
    let linked = if cached {
        let key = (mapper, banks, layout.songs.len(), opts.region, opts.advance);
        player_cache::link_cached(
            key,
            || sources(layout, &placed, opts.advance),
            &data_sources(layout, &placed, player_bytes),
            player::MAIN_SOURCE,
            &cfg,
        )?
    } else {
        asm(
            &sources(layout, &placed, opts.advance),
            player::MAIN_SOURCE,
            &cfg,
        )?
    };
    let prg_size = banks * BANK;
    if linked.image.len() != prg_size {
        return Err(Error::Unsupported(format!(
            "the linker made {} bytes of PRG, expected {prg_size}",
            linked.image.len()
        )));
    }
    let mut bytes = nes2_header(mapper.number(), banks as u16, opts.region).to_vec();
    crate::rom::chr::use_chr_rom(&mut bytes);
    bytes.extend_from_slice(&linked.image);
    bytes.extend_from_slice(&crate::rom::chr::chr_rom());
    let addr = &placed.1;
    let piece_addresses: Vec<Vec<Vec<u16>>> = layout
        .stream_ids
        .iter()
        .map(|ids| ids.iter().map(|&id| addr[id].clone()).collect())
        .collect();
    let mut counted = vec![false; layout.streams.len()];
    let (lists, list_of) = emit::init_lists(layout.songs);
    let mut list_counted = vec![false; lists.len()];
    let songs = layout
        .songs
        .iter()
        .zip(&layout.stream_ids)
        .zip(&piece_addresses)
        .zip(&list_of)
        .map(|(((s, ids), at), &list)| {
            let mut data = s.header_bytes(layout.banked);
            if !list_counted[list] {
                list_counted[list] = true;
                data += lists[list].len();
            }
            for &id in ids {
                if !counted[id] {
                    counted[id] = true;
                    data += layout.streams[id]
                        .pieces
                        .iter()
                        .map(|p| p.bytes.len())
                        .sum::<usize>();
                }
            }
            let at = |stream: usize, piece: usize| at[stream][piece];
            let cycles = decode_cycles_at(s, s.frames, layout.uxrom, &at)?;
            Ok(SongSize {
                name: s.name.clone(),
                data_bytes: data,
                frames: s.frames,
                worst_cycles: cycles.iter().copied().max().unwrap_or(0),
                cycles_sum: cycles.iter().map(|&c| u64::from(c)).sum(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Rom {
        bytes,
        mapper,
        prg_size,
        symbols: linked.symbols,
        songs,
        encoded: layout.songs.to_vec(),
        piece_addresses,
        data_bytes,
        player_bytes,
        region: opts.region,
    })
}
