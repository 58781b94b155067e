//! `export-ca65`: the exported cc65 project, built with Debian's ca65/ld65 through its
//! Makefile, gives the very bytes `build_rom` makes.

mod common;

use common::songs::song;
use nesmm::rom::export::{export_ca65, EXPORT_ROM_NAME};
use nesmm::rom::{build_rom, BuildOptions, Mapper};
use nesmm::Region;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

fn two_songs(region: Region) -> Vec<nesmm::ApuStream> {
    let mut a = song("Export one", 1, 150, region);
    a.loop_frame = Some(30);
    vec![a, song("Export two", 4, 100, region)]
}

fn check(songs: &[nesmm::ApuStream], force_uxrom: bool, region: Region) {
    check_titled(songs, force_uxrom, region, "Exported");
}

fn check_titled(songs: &[nesmm::ApuStream], force_uxrom: bool, region: Region, title: &str) {
    if !have("ca65") || !have("ld65") || !have("make") {
        common::skip::skip("ca65, ld65 or make not installed (Debian: apt-get install cc65 make)");
        return;
    }
    let opts = BuildOptions {
        region,
        title: title.into(),
        force_uxrom,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let export = export_ca65(songs, &opts, dir.path()).expect("export");
    assert_eq!(
        export.rom.mapper,
        if force_uxrom {
            Mapper::Uxrom
        } else {
            Mapper::Nrom
        }
    );
    for f in [
        "Makefile", "nes.cfg", "nes.s", "chr.s", "songs.s", "music.s", "ui.s",
    ] {
        assert!(
            export.files.iter().any(|p| p.to_str() == Some(f)),
            "{f} exported"
        );
    }
    let songs_s = std::fs::read_to_string(dir.path().join("songs.s")).unwrap();
    assert!(
        !songs_s.contains(".incbin"),
        "song data as source, not binary"
    );
    let data_file = if force_uxrom {
        "bank0_data.s"
    } else {
        "songs_data.s"
    };
    let data = std::fs::read_to_string(dir.path().join(data_file)).unwrap();
    assert!(data.contains("    .byte $"), "song data as .byte source");
    assert!(songs_s.contains(&format!(".include \"{data_file}\"")));
    let out = Command::new("make")
        .arg("-C")
        .arg(dir.path())
        .output()
        .expect("make runs");
    assert!(
        out.status.success(),
        "make failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let made = std::fs::read(dir.path().join(EXPORT_ROM_NAME)).unwrap();
    let built = build_rom(songs, &opts).unwrap();
    assert_eq!(made.len(), built.bytes.len());
    assert!(
        made == built.bytes,
        "the exported project's ROM differs from nesmm build's"
    );
    assert_eq!(export.rom.bytes, built.bytes);
}

#[test]
fn exported_nrom_project_builds_the_same_rom() {
    check(&two_songs(Region::Ntsc), false, Region::Ntsc);
}

#[test]
fn exported_album_of_120_songs_builds_the_same_rom() {
    // Three-digit track numbers: the UI's `.if MUSIC_SONG_COUNT >= 100` code.
    let songs: Vec<_> = (0..120u16)
        .map(|i| song(&format!("Song {}", i + 1), i % 7, 40, Region::Ntsc))
        .collect();
    check(&songs, false, Region::Ntsc);
}

#[test]
fn exported_uxrom_pal_project_builds_the_same_rom() {
    check(&two_songs(Region::Pal), true, Region::Pal);
}

#[test]
fn a_title_cannot_break_the_exported_files() {
    // The title lands in comments of nes.s, nes.cfg and the Makefile: a newline there would
    // inject code, a trailing backslash would swallow the Makefile's next line.
    check_titled(
        &two_songs(Region::Ntsc),
        false,
        Region::Ntsc,
        "Evil\n.error \"injected\"\nall: ; false \\",
    );
    check_titled(
        &two_songs(Region::Ntsc),
        false,
        Region::Ntsc,
        "Ünïcødé \u{1F3B5}",
    );
}
