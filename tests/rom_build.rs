//! The builder's output checked without an emulator: our assembler against ca65/ld65, header,
//! layout limits and errors.

#[path = "common/skip.rs"]
mod skip;

use nesmm::rom::player::{assemble_with_ca65, assemble_with_nesmm};
use nesmm::rom::{build_rom, build_rom_with, BuildOptions, Mapper};
use nesmm::{ApuStream, RegWrite, Region};

fn song(name: &str, frames: usize, seed: u8) -> ApuStream {
    let mut s = ApuStream::new(name, Region::Ntsc);
    s.init = vec![RegWrite::new(0x4015, 0x0F)];
    for i in 0..frames {
        let v = (i as u8).wrapping_mul(seed);
        if i % 3 == 0 {
            s.push_frame(&[RegWrite::new(0x4000, v), RegWrite::new(0x4002, v ^ 0x55)]);
        } else {
            s.push_frame(&[]);
        }
    }
    s.loop_frame = Some(frames / 2);
    s
}

fn have_ca65() -> bool {
    std::process::Command::new("ca65")
        .arg("--version")
        .output()
        .is_ok()
}

#[test]
fn our_assembler_matches_ca65_byte_for_byte() {
    if !have_ca65() {
        skip::skip("ca65 not installed");
        return;
    }
    let songs = [song("a", 300, 7), song("b", 500, 13)];
    for force_uxrom in [false, true] {
        let opts = BuildOptions {
            force_uxrom,
            ..Default::default()
        };
        let ours = build_rom_with(&songs, &opts, assemble_with_nesmm).unwrap();
        let theirs = build_rom_with(&songs, &opts, assemble_with_ca65).unwrap();
        assert_eq!(ours.bytes, theirs.bytes, "uxrom {force_uxrom}");
        for (name, addr) in &theirs.symbols {
            // ld65's label file names a label of a .scope or .proc without the scope.
            let scoped = format!("::{name}");
            let found = ours.symbols.get(name) == Some(addr)
                || ours
                    .symbols
                    .iter()
                    .any(|(k, v)| k.ends_with(&scoped) && v == addr);
            assert!(found, "{name} at ${addr:04X}");
        }
    }
}

#[test]
fn nrom_and_uxrom_headers_and_sizes() {
    let rom = build_rom(&[song("a", 100, 3)], &BuildOptions::default()).unwrap();
    assert_eq!(rom.mapper, Mapper::Nrom);
    assert_eq!(rom.prg_size, 32768);
    assert_eq!(rom.bytes[4], 2);
    assert_eq!(rom.bytes[7] & 0x0C, 0x08, "NES 2.0");
    assert!(
        rom.player_bytes > 300 && rom.player_bytes < 4096,
        "{}",
        rom.player_bytes
    ); // with the on-screen player
       // Vectors point into the player.
    let vec =
        |i: usize| u16::from_le_bytes([rom.bytes[16 + 0x7FFA + i], rom.bytes[16 + 0x7FFB + i]]);
    assert_eq!(vec(0), rom.symbols["nmi"]);
    assert_eq!(vec(2), rom.symbols["reset"]);
    let opts = BuildOptions {
        force_uxrom: true,
        ..Default::default()
    };
    let ux = build_rom(&[song("a", 100, 3)], &opts).unwrap();
    assert_eq!(ux.mapper, Mapper::Uxrom);
    assert_eq!(ux.bytes[4] as usize * 16384, ux.prg_size);
    assert_eq!(
        ux.bytes.len(),
        16 + ux.prg_size + 8192,
        "header, PRG, CHR-ROM"
    );
    // The bus-conflict table holds each bank number at its own index.
    let t = usize::from(ux.symbols["bank_table"]) - 0xC000 + ux.prg_size - 16384 + 16;
    assert_eq!(&ux.bytes[t..t + 16], &(0..16).collect::<Vec<u8>>()[..]);
}

#[test]
fn bad_requests_are_errors() {
    let e = build_rom(&[], &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no songs"), "{e}");
    let mut s = song("many-init", 10, 1);
    s.init = vec![RegWrite::new(0x4000, 0); 200];
    let e = build_rom(&[s], &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("init writes"), "{e}");
    let mut s = song("bad-register", 10, 1);
    s.push_frame(&[RegWrite::new(0x2000, 1)]);
    let e = build_rom(&[s], &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame 10") && e.contains("$2000"), "{e}");
    let songs: Vec<ApuStream> = (0..256).map(|i| song(&format!("s{i}"), 3, 1)).collect();
    let e = build_rom(&songs, &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("255"), "{e}");
}

#[test]
fn kept_player_builds_equal_whole_assembly() {
    // Same board, song count and region, different data: the second and third builds of each
    // kind reuse the first one's player. PAL, UxROM and a three-song ROM are other kinds.
    let mut pal = song("pal", 400, 5);
    pal.region = Region::Pal;
    let cases: Vec<(Vec<ApuStream>, BuildOptions)> = vec![
        (vec![song("a", 300, 7)], BuildOptions::default()),
        (vec![song("b", 900, 13)], BuildOptions::default()),
        (vec![song("c", 30, 3)], BuildOptions::default()),
        (
            vec![song("d", 300, 9), song("e", 200, 11), song("f", 700, 17)],
            BuildOptions::default(),
        ),
        (
            vec![song("g", 300, 19), song("h", 500, 23), song("i", 100, 29)],
            BuildOptions::default(),
        ),
        (
            vec![song("j", 300, 31)],
            BuildOptions {
                force_uxrom: true,
                ..Default::default()
            },
        ),
        (
            vec![song("k", 800, 37)],
            BuildOptions {
                force_uxrom: true,
                ..Default::default()
            },
        ),
        (
            vec![pal],
            BuildOptions {
                region: Region::Pal,
                ..Default::default()
            },
        ),
    ];
    for (songs, opts) in &cases {
        let kept = build_rom(songs, opts).expect("builds with the kept player");
        let whole = build_rom_with(songs, opts, assemble_with_nesmm).expect("builds whole");
        assert_eq!(kept.bytes, whole.bytes, "{}: PRG differs", songs[0].name);
        assert_eq!(
            kept.symbols, whole.symbols,
            "{}: symbols differ",
            songs[0].name
        );
    }
}
