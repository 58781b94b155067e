//! Writes the generated sources `songs.inc` and `songs.s`: the song table, song headers, title
//! and names, and every stream piece as `.byte` / `.word` lines, in the segments the layout chose.

use crate::rom::codec::format::{EncodedSong, EncodedStream};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Where the layout put things: one bank per piece of each distinct stream.
pub struct Layout<'a> {
    /// The songs, in table order.
    pub songs: &'a [EncodedSong],
    /// `stream_ids[song][stream]`: index into `streams` (identical streams are stored once).
    pub stream_ids: Vec<Vec<usize>>,
    /// The distinct streams.
    pub streams: Vec<&'a EncodedStream>,
    /// `banks[stream][piece]`: bank of that piece; `None` = the SONGS segment (NROM).
    pub banks: Vec<Vec<Option<u8>>>,
    /// Whether the board is UxROM.
    pub uxrom: bool,
    /// Whether song headers hold each stream's bank (UxROM, a banked NSF).
    pub banked: bool,
    /// The ROM's title.
    pub title: &'a str,
    /// Where stream pieces without a bank go: after the song table, headers and text
    /// ([`table_bytes`]) in the SONGS segment.
    pub stream_base: u16,
}

/// Packs the pieces of `streams` into banks of `bank_size` bytes, first fit, longest first:
/// returns `banks[stream][piece]` (the bank of each piece) and the bytes used in each bank.
pub fn pack_banks(
    streams: &[&EncodedStream],
    bank_size: usize,
) -> (Vec<Vec<Option<u8>>>, Vec<usize>) {
    let mut pieces: Vec<(usize, usize, usize)> = streams
        .iter()
        .enumerate()
        .flat_map(|(s, st)| {
            st.pieces
                .iter()
                .enumerate()
                .map(move |(p, pc)| (pc.bytes.len(), s, p))
        })
        .collect();
    pieces.sort_by(|a, b| b.cmp(a));
    let mut banks: Vec<Vec<Option<u8>>> =
        streams.iter().map(|s| vec![None; s.pieces.len()]).collect();
    let mut used: Vec<usize> = Vec::new();
    for (len, s, p) in pieces {
        let b = match used.iter().position(|&u| u + len <= bank_size) {
            Some(b) => b,
            None => {
                used.push(0);
                used.len() - 1
            }
        };
        used[b] += len;
        banks[s][p] = Some(b as u8);
    }
    (banks, used)
}

/// Groups identical streams: returns (stream_ids, distinct streams). A stream with
/// back-references into its song's other streams is the same only where those are too.
#[allow(clippy::type_complexity)]
pub fn dedup_streams(songs: &[EncodedSong]) -> (Vec<Vec<usize>>, Vec<&EncodedStream>) {
    let mut index: HashMap<(&EncodedStream, Vec<usize>), usize> = HashMap::new();
    let mut distinct: Vec<&EncodedStream> = Vec::new();
    let ids = songs
        .iter()
        .map(|s| {
            let mut song_ids: Vec<usize> = Vec::new();
            for st in &s.streams {
                let crosses = st.pieces.iter().any(|p| !p.xrefs.is_empty());
                let key = (
                    st,
                    if crosses {
                        song_ids.clone()
                    } else {
                        Vec::new()
                    },
                );
                let id = *index.entry(key).or_insert_with(|| {
                    distinct.push(st);
                    distinct.len() - 1
                });
                song_ids.push(id);
            }
            song_ids
        })
        .collect();
    (ids, distinct)
}

/// Bytes of text the table adds: title and names, each zero-terminated.
pub fn text_bytes(songs: &[EncodedSong], title: &str) -> usize {
    ascii(title).len()
        + 1
        + songs
            .iter()
            .map(|s| ascii(&s.name).len() + 1)
            .sum::<usize>()
}

/// The distinct init lists of `songs` (songs with the same init writes share one), and
/// which one each song uses.
pub fn init_lists(songs: &[EncodedSong]) -> (Vec<Vec<u8>>, Vec<usize>) {
    let mut lists: Vec<Vec<u8>> = Vec::new();
    let ids = songs
        .iter()
        .map(|s| {
            let list = s.init_list();
            lists.iter().position(|l| *l == list).unwrap_or_else(|| {
                lists.push(list);
                lists.len() - 1
            })
        })
        .collect();
    (lists, ids)
}

/// Bytes of the song table, headers, init lists and text (what the fixed bank holds besides
/// the player).
pub fn table_bytes(songs: &[EncodedSong], title: &str, banked: bool) -> usize {
    4 * songs.len()
        + songs.iter().map(|s| s.header_bytes(banked)).sum::<usize>()
        + init_lists(songs).0.iter().map(Vec::len).sum::<usize>()
        + text_bytes(songs, title)
}

/// Printable ASCII, at most 31 characters (what a screen line shows).
fn ascii(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if (' '..='~').contains(&c) {
                c as u8
            } else {
                b'?'
            }
        })
        .take(31)
        .collect()
}

fn byte_lines(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.chunks(16) {
        out.push_str("    .byte ");
        for (i, b) in chunk.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "${b:02X}");
        }
        out.push('\n');
    }
}

/// `songs.inc`: the constants the player needs before its code.
pub fn songs_inc(layout: &Layout) -> String {
    songs_inc_for(layout.uxrom, layout.songs.len())
}

/// `songs.inc` for a board and a song count (the player's size depends on both: the UI
/// numbers tracks with three digits from 100 songs on).
pub fn songs_inc_for(uxrom: bool, song_count: usize) -> String {
    format!(
        "; Generated by nesmm: build constants.\nMAPPER_UXROM = {}\nMUSIC_SONG_COUNT = {}\n",
        u8::from(uxrom),
        song_count
    )
}

/// `songs.s`: the banked stream data (`.incbin` of [`place`]'s files), then in SONGS the song
/// table, text and headers, whose size depends only on the song count where the player reads
/// it, and last the unbanked stream data (at `stream_base`).
pub fn songs_s(layout: &Layout, blobs: &[(Option<u8>, Vec<u8>)], addr: &[Vec<u16>]) -> String {
    let mut o = String::new();
    let n = layout.songs.len();
    o.push_str("; Generated by nesmm: stream data, song table, headers.\n");
    for (bank, blob) in blobs {
        if let Some(b) = bank {
            let _ = writeln!(o, ".segment \"BANK{b}\"");
            let _ = writeln!(
                o,
                "    .incbin \"{}\"  ; {} bytes",
                blob_name(*bank),
                blob.len()
            );
            o.push_str(".segment \"SONGS\"\n");
        }
    }
    // Split address tables: low bytes, then high bytes, of each song's data and name.
    for (table, op, target) in [
        ("music_song_lo", '<', "music_song"),
        ("music_song_hi", '>', "music_song"),
        ("music_name_lo", '<', "music_name"),
        ("music_name_hi", '>', "music_name"),
    ] {
        let _ = writeln!(o, "{table}:");
        for i in 0..n {
            let _ = writeln!(o, "    .byte {op}{target}_{i}");
        }
    }
    o.push_str("music_title:                ; zero-terminated ASCII\n");
    let mut t = ascii(layout.title);
    t.push(0);
    byte_lines(&mut o, &t);
    for (i, song) in layout.songs.iter().enumerate() {
        let _ = writeln!(o, "music_name_{i}:");
        let mut t = ascii(&song.name);
        t.push(0);
        byte_lines(&mut o, &t);
    }
    let (lists, list_of) = init_lists(layout.songs);
    for (k, list) in lists.iter().enumerate() {
        let _ = writeln!(
            o,
            "music_init_{k}:              ; init writes: count, (register, value)"
        );
        byte_lines(&mut o, list);
    }
    for (i, song) in layout.songs.iter().enumerate() {
        let _ = writeln!(
            o,
            "music_song_{i}:              ; {} frames, {}",
            song.frames,
            song.loop_frame
                .map_or("stops".to_string(), |l| format!("loops to frame {l}"))
        );
        let _ = writeln!(
            o,
            "    .byte {}                 ; streams",
            song.streams.len()
        );
        let _ = writeln!(
            o,
            "    .word {}, {}             ; tick clock: step, modulus",
            song.tick.step, song.tick.modulus
        );
        let _ = writeln!(o, "    .word music_init_{}", list_of[i]);
        for &sid in &layout.stream_ids[i] {
            let mode = layout.streams[sid].mode.header_byte();
            if layout.banked {
                let bank = layout.banks[sid][0].unwrap_or(0);
                let _ = writeln!(o, "    .byte ${mode:02X}, {bank}");
            } else {
                let _ = writeln!(o, "    .byte ${mode:02X}");
            }
            let _ = writeln!(o, "    .word ${:04X}", addr[sid][0]);
        }
        if !song.phrases.is_empty() {
            let _ = writeln!(
                o,
                "music_phrases_{i}:          ; right after the header: commands, address"
            );
        }
        for ph in &song.phrases {
            let sid = layout.stream_ids[i].get(ph.stream).copied().unwrap_or(0);
            let a = addr
                .get(sid)
                .and_then(|a| a.get(ph.piece))
                .map_or(0, |&a| a.wrapping_add(ph.offset as u16));
            let _ = writeln!(o, "    .byte {}\n    .word ${a:04X}", ph.count);
        }
    }
    // The unbanked stream data last, at `stream_base` (table_bytes after the segment start).
    for (bank, blob) in blobs {
        if bank.is_none() {
            let _ = writeln!(
                o,
                "    .incbin \"{}\"  ; {} bytes",
                blob_name(*bank),
                blob.len()
            );
        }
    }
    o
}
/// The stream data as binary files: pieces packed from the start of their segment (`BANKn` for
/// UxROM) or from `stream_base` (in SONGS, after the table), every address and bank byte made absolute. Returns the files
/// (`songs.bin` or `bank<n>.bin`, with the segment), and each piece's address.
#[allow(clippy::type_complexity)]
pub fn place(layout: &Layout) -> (Vec<(Option<u8>, Vec<u8>)>, Vec<Vec<u16>>) {
    let mut order: Vec<(Option<u8>, usize, usize)> = Vec::new();
    for (sid, banks) in layout.banks.iter().enumerate() {
        for (p, &b) in banks.iter().enumerate() {
            order.push((b, sid, p));
        }
    }
    order.sort();
    let mut addr: Vec<Vec<u16>> = layout.banks.iter().map(|b| vec![0; b.len()]).collect();
    let mut blobs: Vec<(Option<u8>, Vec<u8>)> = Vec::new();
    for &(bank, sid, p) in &order {
        if blobs.last().is_none_or(|(b, _)| *b != bank) {
            blobs.push((bank, Vec::new()));
        }
        let blob = &mut blobs.last_mut().expect("pushed").1;
        let base = if bank.is_some() {
            0x8000
        } else {
            usize::from(layout.stream_base)
        };
        addr[sid][p] = (base + blob.len()) as u16;
        blob.extend_from_slice(&layout.streams[sid].pieces[p].bytes);
    }
    // The distinct streams of a song where each stream's cross references point.
    let mut song_of: Vec<Option<usize>> = vec![None; layout.streams.len()];
    for (song, ids) in layout.stream_ids.iter().enumerate() {
        for &id in ids {
            song_of[id].get_or_insert(song);
        }
    }
    // Patch addresses.
    let mut cursor: Vec<usize> = vec![0; blobs.len()];
    let mut blob_of = 0;
    for &(bank, sid, p) in &order {
        while blobs[blob_of].0 != bank {
            blob_of += 1;
        }
        let piece = &layout.streams[sid].pieces[p];
        let start = cursor[blob_of];
        let blob = &mut blobs[blob_of].1;
        for &r in &piece.refs {
            let off = u16::from_le_bytes([piece.bytes[r], piece.bytes[r + 1]]);
            let a = addr[sid][p].wrapping_add(off).to_le_bytes();
            blob[start + r..start + r + 2].copy_from_slice(&a);
        }
        for &(r, stream, target) in &piece.xrefs {
            let sid2 = song_of[sid]
                .and_then(|song| layout.stream_ids[song].get(stream))
                .copied()
                .unwrap_or(sid);
            let off = u16::from_le_bytes([piece.bytes[r], piece.bytes[r + 1]]);
            let a = addr[sid2][target].wrapping_add(off).to_le_bytes();
            blob[start + r..start + r + 2].copy_from_slice(&a);
        }
        for &(j, target) in &piece.jumps {
            let off = u16::from_le_bytes([piece.bytes[j + 1], piece.bytes[j + 2]]);
            let a = addr[sid][target].wrapping_add(off).to_le_bytes();
            blob[start + j] = layout.banks[sid][target].unwrap_or(0);
            blob[start + j + 1..start + j + 3].copy_from_slice(&a);
        }
        cursor[blob_of] += piece.bytes.len();
    }
    (blobs, addr)
}

/// Name of a blob's file.
pub fn blob_name(bank: Option<u8>) -> String {
    match bank {
        None => "songs.bin".into(),
        Some(b) => format!("bank{b}.bin"),
    }
}
