//! The on-screen player in tetanes-core: the text it draws, the controller, pause, the music
//! writes with the UI running, PPU writes only in vblank, and the UI's cycle cost.

mod common;

use common::songs::song;
use common::stepper::{reg_writes, Emu, Write};
use nesmm::rom::{build_rom, BuildOptions};
use nesmm::{ApuStream, RegWrite, Region};
use tetanes_core::input::JoypadBtn;

fn songs(region: Region) -> Vec<ApuStream> {
    let mut a = song("First song", 0, 200, region);
    a.loop_frame = Some(0);
    let mut b = song("second tune {~}", 3, 150, region);
    b.loop_frame = Some(20);
    vec![a, b, song("Third", 5, 90, region)]
}

fn emu_for(songs: &[ApuStream], region: Region) -> Emu {
    let opts = BuildOptions {
        region,
        title: "Album Title".into(),
        ..Default::default()
    };
    let rom = build_rom(songs, &opts).expect("ROM builds");
    Emu::new(&rom.bytes, &rom.symbols)
}

/// Frame `i` of a looping or stopping song, as the player plays it.
fn expected_frame(s: &ApuStream, i: usize) -> &[RegWrite] {
    let n = s.len();
    match s.loop_frame {
        _ if i < n => s.frame(i),
        Some(l) => s.frame(l + (i - n) % (n - l)),
        None => &[],
    }
}

/// The music writes of the frames of a button press, then of `more` frames.
fn press_and_play(emu: &mut Emu, button: JoypadBtn, more: usize) -> Vec<Vec<Write>> {
    let mut frames: Vec<Vec<Write>> = emu
        .press(button)
        .into_iter()
        .map(|f| emu.music_only(f))
        .collect();
    frames.extend(emu.music_frames(more));
    frames
}

#[test]
fn screen_shows_title_track_name_count_and_time() {
    let songs = songs(Region::Ntsc);
    let mut emu = emu_for(&songs, Region::Ntsc);
    for _ in 0..130 {
        emu.frame();
    }
    assert_eq!(emu.row(3).trim_matches('.').trim(), "ALBUM TITLE");
    assert_eq!(emu.row(7).trim_matches('.'), "TRACK.01.OF.03");
    assert_eq!(emu.row(9).trim_matches('.').trim(), "FIRST SONG");
    assert_eq!(emu.row(12).trim_matches('.'), "TIME.00:02");
    // The title is framed by rule tiles, read back as raw tile numbers.
    assert_eq!(emu.tiles(2, 2..30), vec![nesmm::rom::chr::TILE_RULE; 28]);
}

#[test]
fn albums_of_100_songs_or_more_number_tracks_with_three_digits() {
    let songs: Vec<ApuStream> = (0..120u16)
        .map(|i| {
            let mut s = song(&format!("Song {}", i + 1), i % 7, 40, Region::Ntsc);
            s.loop_frame = Some(0);
            s
        })
        .collect();
    // Below 100 songs the row keeps two digits (and the ROM its old bytes: roms_examples).
    let mut emu = emu_for(&songs[..99], Region::Ntsc);
    for _ in 0..10 {
        emu.frame();
    }
    assert_eq!(emu.row(7).trim_matches('.'), "TRACK.01.OF.99");
    for (button, want, index) in [
        (None, "TRACK.001.OF.120", 0),
        (Some(JoypadBtn::Down), "TRACK.002.OF.120", 1),
        (Some(JoypadBtn::Up), "TRACK.120.OF.120", 119),
    ] {
        let mut emu = emu_for(&songs, Region::Ntsc);
        for _ in 0..10 {
            emu.frame();
        }
        if let Some(b) = button {
            // The song data sits after a larger player: the music must still be exact.
            follows(&press_and_play(&mut emu, b, 60), &songs[index], 0);
        }
        assert_eq!(emu.row(7).trim_matches('.'), want, "{button:?}");
        let name = format!("SONG {}", index + 1);
        assert_eq!(emu.row(9).trim_matches('.').trim(), name, "{button:?}");
    }
}

#[test]
fn elapsed_time_counts_seconds_at_the_region_frame_rate() {
    // 110 frames: 1.8 s at 60 Hz, 2.2 s at 50 Hz.
    for (region, want) in [(Region::Ntsc, "TIME.00:01"), (Region::Pal, "TIME.00:02")] {
        let mut emu = emu_for(&songs(region), region);
        for _ in 0..110 {
            emu.frame();
        }
        assert_eq!(emu.row(12).trim_matches('.'), want, "{region:?}");
    }
}

#[test]
fn level_meters_follow_the_volume_registers() {
    let songs = songs(Region::Ntsc);
    let mut emu = emu_for(&songs, Region::Ntsc);
    for _ in 0..40 {
        emu.frame();
    }
    // Find a frame where pulse 1's volume is known: the player wrote $4000 last frame.
    let shadow = emu.sym("apu_shadow");
    for _ in 0..16 {
        emu.frame();
        let vol = emu.ram(shadow) & 0x0F;
        let drawn = emu.ram(emu.sym("ui_levels"));
        emu.frame(); // the buffer filled after that frame is copied in this NMI
        let tiles = emu.tiles(15, 6..14);
        let lit: usize = tiles
            .iter()
            .map(|&t| usize::from(t.saturating_sub(1)))
            .sum();
        assert_eq!(
            usize::from(drawn),
            lit,
            "meter tiles {tiles:?} show level {drawn}"
        );
        assert!(vol <= 15);
    }
}

#[test]
fn music_writes_equal_the_stream_with_the_ui_running() {
    let songs = songs(Region::Ntsc);
    let mut emu = emu_for(&songs, Region::Ntsc);
    // Frame k's writes happen in the NMI that ends the k-th emu.frame() after the song start.
    let frames = emu.music_frames(2 + 420);
    let start = frames
        .iter()
        .position(|f| !f.is_empty())
        .expect("the song starts");
    let first = &songs[0];
    // Reset performs the init writes before NMIs are on; each NMI after plays one frame.
    assert_eq!(reg_writes(&frames[start]), first.init);
    let played = &frames[start + 1..];
    for (i, f) in played.iter().enumerate() {
        assert_eq!(reg_writes(f), expected_frame(first, i), "frame {i}");
    }
    assert!(
        played.len() > first.len() + 100,
        "played through the loop point"
    );
}

/// Checks that from the frame whose writes end with `song`'s init writes, each frame plays the
/// song's next frame; returns the index of that first frame.
fn follows(frames: &[Vec<Write>], song: &ApuStream, from: usize) -> usize {
    let init = &song.init;
    let at = (from..frames.len())
        .find(|&i| reg_writes(&frames[i]).ends_with(init))
        .unwrap_or_else(|| panic!("'{}' never starts", song.name));
    for (i, f) in frames[at + 1..].iter().enumerate() {
        assert_eq!(
            reg_writes(f),
            expected_frame(song, i),
            "'{}' frame {i}",
            song.name
        );
    }
    at
}

#[test]
fn controller_changes_track_and_the_music_follows() {
    let songs = songs(Region::Ntsc);
    for (button, next) in [
        (JoypadBtn::Down, 1),
        (JoypadBtn::Right, 1),
        (JoypadBtn::Up, 2),
        (JoypadBtn::Left, 2),
    ] {
        let mut emu = emu_for(&songs, Region::Ntsc);
        for _ in 0..70 {
            emu.frame();
        }
        follows(&press_and_play(&mut emu, button, 80), &songs[next], 0);
        let want = format!("TRACK.0{}.OF.03", next + 1);
        assert_eq!(emu.row(7).trim_matches('.'), want, "{button:?}");
        let name = songs[next]
            .name
            .to_uppercase()
            .replace('{', "[")
            .replace('~', "^");
        let name = name.replace('}', "]");
        assert_eq!(emu.row(9).trim_matches('.').trim(), name);
        assert_eq!(emu.row(12).trim_matches('.'), "TIME.00:01", "time restarts");
    }
}

#[test]
fn start_pauses_in_silence_and_resumes_exactly() {
    let songs = songs(Region::Ntsc);
    let mut emu = emu_for(&songs, Region::Ntsc);
    let pause_code = emu.sym("ui_toggle_pause")..emu.sym("ui_fill_buffer");
    let mut all: Vec<Vec<Write>> = (0..50).map(|_| emu.frame()).collect();
    emu.deck.clear_audio_samples();
    all.extend((0..20).map(|_| emu.frame()));
    let playing = rms(emu.deck.audio_samples());
    all.extend(emu.press(JoypadBtn::Start));
    all.push(emu.frame());
    let paused_at = emu.row(12);
    assert!(paused_at.contains("PAUSED"), "{paused_at}");
    let silence: Vec<Write> = all
        .iter()
        .flatten()
        .filter(|w| pause_code.contains(&w.pc))
        .copied()
        .collect();
    assert_eq!(silence.len(), 4, "{silence:?}");
    for w in &silence {
        match w.addr {
            0x4008 => assert_eq!(w.value, 0x80, "triangle: linear counter reload 0"),
            _ => assert_eq!(w.value & 0x3F, 0x30, "constant volume 0: {w:?}"),
        }
    }
    emu.deck.clear_audio_samples();
    let quiet: Vec<Vec<Write>> = (0..90).map(|_| emu.frame()).collect();
    let paused = rms(emu.deck.audio_samples());
    assert!(
        quiet
            .iter()
            .flatten()
            .all(|w| !(0x4000..=0x4015).contains(&w.addr)),
        "no APU writes while paused"
    );
    assert!(
        paused < playing / 50.0,
        "paused rms {paused} vs playing {playing}"
    );
    assert_eq!(emu.row(12), paused_at, "time stands still");
    assert!(emu
        .tiles(15, 6..14)
        .iter()
        .all(|&t| t == nesmm::rom::chr::TILE_METER_OFF));
    all.extend(quiet);
    all.extend(emu.press(JoypadBtn::Start));
    all.extend((0..100).map(|_| emu.frame()));
    assert!(!emu.row(12).contains("PAUSED"));
    let ui: Vec<Write> = all
        .iter()
        .flatten()
        .filter(|w| pause_code.contains(&w.pc))
        .copied()
        .collect();
    let resume = &ui[4..];
    assert_eq!(resume.len(), 5, "{resume:?}");
    // Each register comes back with the value the song last wrote to it before the pause.
    let pause_frame = all
        .iter()
        .position(|f| f.iter().any(|w| pause_code.contains(&w.pc)))
        .expect("pause writes");
    let before: Vec<&Write> = all[..=pause_frame]
        .iter()
        .flatten()
        .filter(|w| emu.is_music(w))
        .collect();
    for w in resume {
        let last = before
            .iter()
            .rev()
            .find(|b| b.addr == w.addr)
            .map(|b| b.value);
        assert_eq!(last, Some(w.value), "resume write {w:?}");
    }
    // The player's writes, paused frames left out, are the song's: none lost or repeated.
    let music: Vec<Vec<Write>> = all
        .into_iter()
        .map(|f| {
            f.into_iter()
                .filter(|w| emu.is_music(w))
                .collect::<Vec<_>>()
        })
        .filter(|f| !f.is_empty())
        .collect();
    follows(&music, &songs[0], 0);
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn ppu_writes_stay_in_vblank_and_the_ui_cost_is_measured() {
    for region in [Region::Ntsc, Region::Pal] {
        let songs = songs(region);
        let mut emu = emu_for(&songs, region);
        for r in ["ui_nmi", "ui_update", "music_update"] {
            emu.time(r);
        }
        let last_vblank_line = if region == Region::Ntsc { 260 } else { 310 };
        let mut rendering = false;
        let mut latest = 0;
        for f in 0..600 {
            let w = match f % 97 {
                10 => emu.press(JoypadBtn::Down).concat(),
                40 => emu.press(JoypadBtn::Start).concat(),
                45 => emu.press(JoypadBtn::Start).concat(),
                70 => emu.press(JoypadBtn::Right).concat(),
                _ => emu.frame(),
            };
            for x in w {
                if x.addr == 0x2001 {
                    rendering = x.value & 0x18 != 0;
                }
                if rendering && (x.addr == 0x2006 || x.addr == 0x2007) {
                    assert!(
                        (241..=last_vblank_line).contains(&x.scanline),
                        "{region:?}: PPU write {x:?} outside vblank"
                    );
                    latest = latest.max(x.scanline);
                }
            }
        }
        assert!(rendering, "rendering is on");
        let t = |n: &str| emu.timed[&emu.sym(n)].clone();
        let (nmi, update, music) = (t("ui_nmi"), t("ui_update"), t("music_update"));
        println!(
            "{region:?}: ui_nmi max {} mean {:.0}; ui_update max {} mean {:.0}; \
             music_update max {} mean {:.0}; last PPU write on scanline {latest}",
            nmi.max(),
            nmi.mean(),
            update.max(),
            update.mean(),
            music.max(),
            music.mean()
        );
        let ui_bytes = emu.sym("ui_end") - emu.sym("ui_init");
        println!("{region:?}: UI code and data {ui_bytes} bytes");
        assert!(ui_bytes < 1280, "{ui_bytes}");
        assert!(nmi.cycles.len() >= 600 && update.cycles.len() >= 600);
        assert!(nmi.max() < 700, "the NMI part stays well inside vblank");
    }
}

/// Checks that every nametable write after rendering is on lands in vblank; returns the latest
/// scanline one landed on.
fn vblank_writes(emu: &mut Emu, frames: usize, last_line: u16) -> u16 {
    let mut rendering = false;
    let mut latest = 0;
    for _ in 0..frames {
        for x in emu.frame() {
            if x.addr == 0x2001 {
                rendering = x.value & 0x18 != 0;
            }
            if rendering && (x.addr == 0x2006 || x.addr == 0x2007) {
                assert!(
                    (241..=last_line).contains(&x.scanline),
                    "PPU write {x:?} outside vblank"
                );
                latest = latest.max(x.scanline);
            }
        }
    }
    latest
}

#[test]
fn nesmdb_sample_keeps_ppu_writes_in_vblank() {
    use nesmm::compile::{compile, CompileOptions};
    use nesmm::formats::nesmdb::{self, ScoreKind, Split};
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        common::skip::skip(format_args!(
            "NES-MDB not found at {:?}",
            nesmdb::data_dir().unwrap_or_default()
        ));
        return;
    };
    let mut songs = Vec::new();
    let mut i = 0;
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if i % 700 == 3 {
            songs.push(compile(&song.score, &CompileOptions::default())?);
        }
        i += 1;
        Ok(())
    })
    .expect("NES-MDB loads");
    let mut worst = (0, 0u32, String::new());
    for s in &songs {
        let mut emu = emu_for(std::slice::from_ref(s), Region::Ntsc);
        emu.time("music_update");
        let line = vblank_writes(&mut emu, 400.min(s.len() + 3), 260);
        let music = emu.timed[&emu.sym("music_update")].max();
        if line > worst.0 {
            worst = (line, music, s.name.clone());
        }
    }
    println!(
        "{} NES-MDB songs: latest PPU write on scanline {} ('{}', music_update max {} cycles)",
        songs.len(),
        worst.0,
        worst.2,
        worst.1
    );
}
