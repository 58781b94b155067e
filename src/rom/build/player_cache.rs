//! Links the player once per kind of ROM and reuses it: building a ROM then assembles only
//! its song data.
//!
//! The player (the CODE segment) comes first in its memory area (`asm/nrom.cfg`,
//! `asm/uxrom.cfg`) and reads only the song table, names and title, which open the SONGS
//! segment and whose size depends on the song count alone. So two ROMs with the same board,
//! bank count, song count and region have the same player bytes. The first such ROM is
//! assembled whole and its player kept; the next ones assemble a small source with the song
//! data and `.res` in place of the player, then get the kept player and vectors copied in.
//! Tests check the result is byte-identical to assembling everything.

use crate::error::{Error, Result};
use crate::region::Region;
use crate::rom::board::{Mapper, VECTORS};
use crate::rom::build::player::{assemble_with_nesmm, LinkedPrg};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What the player's bytes depend on: board, PRG banks, song count, region (the UI's timing),
/// whether the UI moves on to the next song at a song's end.
pub type PlayerKey = (Mapper, usize, usize, Region, bool);

/// A kept player: the PRG image range of its code and vectors, and its symbols (without the
/// song data's).
#[derive(Debug)]
struct KeptPlayer {
    image: Vec<u8>,
    code: std::ops::Range<usize>,
    symbols: BTreeMap<String, u16>,
}

static PLAYERS: Mutex<Option<HashMap<PlayerKey, Arc<KeptPlayer>>>> = Mutex::new(None);

/// The source that assembles only the song data: `songs.s` in SONGS, and the player's and
/// vectors' room reserved so that everything lands where the whole ROM puts it.
pub fn data_only_main(code_bytes: usize) -> String {
    format!(
        "; Song data only: the player ({code_bytes} bytes) is linked once and copied in.\n\
         .include \"songs.inc\"\n\
         .segment \"CODE\"\n    .res {code_bytes}\n\
         .segment \"SONGS\"\n.include \"songs.s\"\n\
         .segment \"VECTORS\"\n    .res {VECTORS}\n"
    )
}

fn symbol(linked: &LinkedPrg, name: &str) -> Result<usize> {
    linked
        .symbols
        .get(name)
        .map(|&a| usize::from(a))
        .ok_or_else(|| Error::Unsupported(format!("the player has no label '{name}'")))
}

/// Offset in the PRG image of CPU address `addr` in the fixed area (all of NROM; the last
/// bank of UxROM).
fn image_offset(mapper: Mapper, banks: usize, addr: usize) -> usize {
    match mapper {
        Mapper::Nrom => addr - 0x8000,
        Mapper::Uxrom => (banks - 1) * 0x4000 + (addr - 0xC000),
    }
}

/// Links a ROM: `full` are the whole sources (player and data), `data` the data-only sources
/// (with [`data_only_main`] as `data.s`); `main` is the whole sources' top file.
pub fn link_cached(
    key: PlayerKey,
    full: impl FnOnce() -> Vec<(String, Vec<u8>)>,
    data: &[(String, Vec<u8>)],
    main: &str,
    config: &str,
) -> Result<LinkedPrg> {
    let kept = PLAYERS
        .lock()
        .map_err(|_| Error::Unsupported("player cache poisoned".into()))?
        .get_or_insert_with(HashMap::new)
        .get(&key)
        .cloned();
    let data_linked = assemble_with_nesmm(data, "data.s", config)?;
    let kept = match kept {
        Some(k) => k,
        None => {
            let whole = assemble_with_nesmm(&full(), main, config)?;
            let (mapper, banks, ..) = key;
            let start = image_offset(mapper, banks, symbol(&whole, "player_start")?);
            let end = image_offset(mapper, banks, symbol(&whole, "player_end")?);
            let symbols = whole
                .symbols
                .iter()
                .filter(|(name, _)| !data_linked.symbols.contains_key(*name))
                .map(|(n, &a)| (n.clone(), a))
                .collect();
            let k = Arc::new(KeptPlayer {
                image: whole.image.clone(),
                code: start..end,
                symbols,
            });
            if let Ok(mut m) = PLAYERS.lock() {
                m.get_or_insert_with(HashMap::new).insert(key, k);
            }
            return Ok(whole);
        }
    };
    let mut image = data_linked.image;
    if image.len() != kept.image.len() || image.len() < VECTORS {
        return Err(Error::Unsupported(format!(
            "the song data linked to {} bytes of PRG, the player to {}",
            image.len(),
            kept.image.len()
        )));
    }
    image[kept.code.clone()].copy_from_slice(&kept.image[kept.code.clone()]);
    let n = image.len();
    image[n - VECTORS..].copy_from_slice(&kept.image[n - VECTORS..]);
    let mut symbols = kept.symbols.clone();
    symbols.extend(data_linked.symbols);
    Ok(LinkedPrg { image, symbols })
}
