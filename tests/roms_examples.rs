//! The committed example ROMs under `roms/examples/` are what `roms/README.md`'s commands
//! write: seed 1 is regenerated and compared byte for byte, and every committed `.nes` has a
//! valid NES 2.0 header whose sizes match the file.

use std::path::{Path, PathBuf};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("roms/examples")
}

/// The options of `roms/README.md`'s rebuild commands.
fn demo_args(seed: u64, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_nesmm"));
    c.args(["demo", "--seed", &seed.to_string(), "--seconds", "20"])
        .args(["--embed", "never", "-o"])
        .arg(out);
    c
}

#[test]
fn seed_1_regenerates_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let st = demo_args(1, tmp.path()).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let committed = examples_dir().join("seed-1");
    for f in ["nesmm-demo-1.nes", "nesmm-demo-1.mid"] {
        let want = std::fs::read(committed.join(f)).unwrap();
        let got = std::fs::read(tmp.path().join(f)).unwrap();
        assert!(
            want == got,
            "{f} differs from roms/examples/seed-1/{f}; rebuild with the commands in roms/README.md"
        );
    }
}

/// Checks the 16-byte NES 2.0 header of `rom` and that PRG + CHR sizes add up to its length.
fn check_nes2_header(name: &str, rom: &[u8]) {
    assert!(rom.len() >= 16, "{name}: shorter than a header");
    assert_eq!(&rom[..4], b"NES\x1a", "{name}: iNES magic");
    assert_eq!(
        rom[7] & 0x0C,
        0x08,
        "{name}: NES 2.0 identifier (byte 7 bits 2-3 = 10)"
    );
    let (prg_msb, chr_msb) = (rom[9] & 0x0F, rom[9] >> 4);
    assert!(
        prg_msb < 0xF && chr_msb < 0xF,
        "{name}: exponent sizes not expected"
    );
    let prg = ((prg_msb as usize) << 8 | rom[4] as usize) * 16 * 1024;
    let chr = ((chr_msb as usize) << 8 | rom[5] as usize) * 8 * 1024;
    assert!(prg > 0, "{name}: no PRG ROM");
    let trainer = if rom[6] & 0x04 != 0 { 512 } else { 0 };
    assert_eq!(
        rom.len(),
        16 + trainer + prg + chr,
        "{name}: size matches header"
    );
}

#[test]
fn every_committed_rom_has_a_valid_nes2_header() {
    let mut roms = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let dir = entry.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "nes") {
                roms.push(p);
            }
        }
    }
    assert!(roms.len() >= 2, "example ROMs missing: {roms:?}");
    for p in &roms {
        check_nes2_header(&p.display().to_string(), &std::fs::read(p).unwrap());
    }
}

#[test]
fn header_check_rejects_a_plain_ines_header() {
    let mut rom = std::fs::read(examples_dir().join("seed-1/nesmm-demo-1.nes")).unwrap();
    rom[7] &= !0x0C;
    let r = std::panic::catch_unwind(|| check_nes2_header("plain", &rom));
    assert!(r.is_err(), "an iNES 1.0 header must fail the check");
}
