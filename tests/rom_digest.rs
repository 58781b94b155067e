//! One number for "the ROM bytes did not change": every `NESMM_DIGEST_STEP`-th song of NES-MDB's
//! exprsco archive (default 1: all 5,278) compiled for NTSC and built alone into a ROM, and an
//! FNV-1a digest of all the ROMs' bytes printed. Run before and after a change that must not
//! change the ROMs (`cargo test --test rom_digest -- --ignored --nocapture`) and compare.
//! It uses only `compile::compile` and `rom::build_rom`, which every version of the crate has.

use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::rom::{build_rom, BuildOptions};

/// FNV-1a, 64 bits: stable across toolchains, unlike `DefaultHasher`.
fn fnv1a(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[test]
#[ignore = "figures: minutes; prints the digest to compare between versions"]
fn rom_bytes_digest() {
    let step: usize = std::env::var("NESMM_DIGEST_STEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let path = nesmdb::archive_path(ScoreKind::Exprsco).expect("NES-MDB (set NESMDB_DIR)");
    let (mut digest, mut roms, mut bytes, mut i) = (0xcbf2_9ce4_8422_2325u64, 0, 0, 0usize);
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if i % step == 0 {
            let stream = compile(&song.score, &CompileOptions::default())?;
            let rom = build_rom(&[stream], &BuildOptions::default())?;
            digest = fnv1a(digest, &rom.bytes);
            roms += 1;
            bytes += rom.bytes.len();
        }
        i += 1;
        Ok(())
    })
    .unwrap();
    assert!(roms > 0);
    println!("rom digest: {roms} ROMs (every {step}th song), {bytes} bytes, fnv1a {digest:016x}");
}
