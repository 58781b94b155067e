//! Proof that built ROMs play: tetanes-core runs each ROM and every CPU write the player makes
//! to $4000-$4017 must equal the song's ApuStream, frame by frame and in order.

mod common;

use common::emu::{check_song, expected_frame, Console};
use nesmm::rom::{build_rom, encode_stream_with, BuildOptions, EncodeOptions, Mapper, Rom};
use nesmm::{ApuStream, RegWrite, Region};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tetanes_core::input::JoypadBtnState;
use tetanes_core::memory::RamState;

/// Random writes to the sound registers ($4014 OAM DMA and $4016 controller strobe left out,
/// as no compiled song writes them).
fn random_song(rng: &mut StdRng, name: &str, frames: usize, region: Region) -> ApuStream {
    let regs: Vec<u16> = (0x4000..=0x4017)
        .filter(|&a| a != 0x4014 && a != 0x4016)
        .collect();
    let mut s = ApuStream::new(name, region);
    s.init = vec![RegWrite::new(0x4015, 0x0F), RegWrite::new(0x4001, 0x08)];
    for _ in 0..frames {
        let n = match rng.random_range(0..10) {
            0..=4 => 0,
            5..=8 => rng.random_range(1..6),
            _ => rng.random_range(6..30),
        };
        let w: Vec<RegWrite> = (0..n)
            .map(|_| RegWrite::new(regs[rng.random_range(0..regs.len())], rng.random()))
            .collect();
        s.push_frame(&w);
    }
    s
}

/// Voice-ordered writes repeating a pattern at 3/2 frames per step, like compiled songs.
fn patterned_song(rng: &mut StdRng, name: &str, steps: usize) -> ApuStream {
    let mut s = ApuStream::new(name, Region::Ntsc);
    s.init = vec![RegWrite::new(0x4015, 0x0F), RegWrite::new(0x4008, 0xFF)];
    let pattern: Vec<[u8; 4]> = (0..16)
        .map(|_| [rng.random(), rng.random(), rng.random(), rng.random()])
        .collect();
    for step in 0..steps {
        let mut w = Vec::new();
        for (v, &b) in pattern[step % 16].iter().enumerate() {
            let base = 0x4000 + 4 * v as u16;
            if b & 1 != 0 {
                w.push(RegWrite::new(base, b | 0x30));
            }
            if b & 2 != 0 {
                w.push(RegWrite::new(base + 2, b ^ (step as u8 & 0x10)));
            }
        }
        s.push_frame(&w);
        s.push_frame(&[]);
        if step % 2 == 0 {
            s.push_frame(&[]);
        }
    }
    s
}

fn build(songs: &[ApuStream], opts: &BuildOptions) -> Rom {
    build_rom(songs, opts).expect("the ROM builds")
}

#[test]
fn synthetic_songs_play_exactly_on_nrom() {
    let mut rng = StdRng::seed_from_u64(10);
    for case in 0..6 {
        let mut s = if case % 2 == 0 {
            random_song(&mut rng, "random", 240, Region::Ntsc)
        } else {
            patterned_song(&mut rng, "patterned", 200)
        };
        s.loop_frame = match case {
            0 | 1 => None,
            2 | 3 => Some(0),
            _ => Some(s.len() / 3),
        };
        let rom = build(std::slice::from_ref(&s), &BuildOptions::default());
        assert_eq!(rom.mapper, Mapper::Nrom);
        assert_eq!(rom.bytes.len(), 16 + 32768 + 8192);
        let ram = [RamState::Random, RamState::AllOnes, RamState::AllZeros][case % 3];
        check_song(&rom, &s, s.len() + s.len() / 2 + 3, ram);
    }
}

#[test]
fn big_songs_switch_uxrom_banks() {
    let mut rng = StdRng::seed_from_u64(11);
    // Random writes do not compress: ~70 KiB of data, several banks and pieces per stream.
    let mut s = random_song(&mut rng, "big", 9000, Region::Ntsc);
    s.loop_frame = Some(100);
    let rom = build(std::slice::from_ref(&s), &BuildOptions::default());
    assert_eq!(rom.mapper, Mapper::Uxrom);
    assert_eq!(rom.bytes[6] >> 4, 2, "mapper 2 in the header");
    assert!(rom.prg_size >= 4 * 16384, "{}", rom.prg_size);
    check_song(&rom, &s, s.len() + 200, RamState::Random);
}

#[test]
fn a_full_256_kib_uxrom_plays_its_last_bank() {
    // ~230 KiB of incompressible data: every switchable bank of the largest UxROM is used.
    let mut rng = StdRng::seed_from_u64(16);
    let s = random_song(&mut rng, "huge", FULL_UXROM_FRAMES, Region::Ntsc);
    let rom = build(std::slice::from_ref(&s), &BuildOptions::default());
    println!(
        "{} data bytes, PRG {} KiB",
        rom.data_bytes,
        rom.prg_size / 1024
    );
    assert_eq!(rom.mapper, Mapper::Uxrom);
    assert_eq!(rom.prg_size, 256 * 1024);
    assert!(rom.data_bytes > 14 * 16384, "the last bank holds data");
    check_song(&rom, &s, s.len() + 2, RamState::Random);
}

const FULL_UXROM_FRAMES: usize = 36_000;

#[test]
fn small_songs_play_on_forced_uxrom() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut s = patterned_song(&mut rng, "small", 300);
    s.loop_frame = Some(7);
    let opts = BuildOptions {
        force_uxrom: true,
        ..Default::default()
    };
    let rom = build(std::slice::from_ref(&s), &opts);
    assert_eq!(rom.mapper, Mapper::Uxrom);
    check_song(&rom, &s, s.len() + 50, RamState::Random);
}

/// Writes on the frames a 24 Hz score starts at in `region` (`src/compile/timing.rs`), like
/// compiled NES-MDB songs: voice-ordered, from a repeating pattern.
fn score_rate_song(rng: &mut StdRng, name: &str, steps: usize, region: Region) -> ApuStream {
    let map = nesmm::compile::timing::FrameMap::new(24.0, region);
    let mut s = ApuStream::new(name, region);
    s.init = vec![RegWrite::new(0x4015, 0x0F)];
    let pattern: Vec<[u8; 3]> = (0..24)
        .map(|_| [rng.random(), rng.random(), rng.random()])
        .collect();
    for step in 0..steps {
        let p = pattern[step % 24];
        let mut w = Vec::new();
        for (v, &b) in p.iter().enumerate() {
            if b & 3 != 0 {
                w.push(RegWrite::new(0x4000 + 4 * v as u16, b | 0x30));
            }
            if b & 4 != 0 {
                w.push(RegWrite::new(0x4002 + 4 * v as u16, b));
            }
        }
        s.push_frame(&w);
        for _ in 1..map.frames_of(step) {
            s.push_frame(&[]);
        }
    }
    s
}

#[test]
fn score_rate_songs_run_on_the_tick_clock() {
    let mut rng = StdRng::seed_from_u64(15);
    for region in [Region::Ntsc, Region::Pal] {
        let mut s = score_rate_song(&mut rng, "ticks", 1300, region);
        // NTSC: 1300 ticks end where the clock started, so looping to frame 0 keeps the ticks;
        // a PAL loop would need the clock in the same state at the end (18,513 states).
        s.loop_frame = (region == Region::Ntsc).then_some(0);
        let e = nesmm::rom::encode_stream(&s);
        assert!(
            e.tick.modulus > 1,
            "{region:?}: 24 Hz tick rule {:?}",
            e.tick
        );
        let opts = BuildOptions {
            region,
            ..Default::default()
        };
        let rom = build(std::slice::from_ref(&s), &opts);
        let cycles = check_song(&rom, &s, s.len() + 300, RamState::Random);
        // Frames between ticks only run the clock.
        let idle = cycles.iter().filter(|&&c| c < 60).count();
        assert!(idle > s.len() / 3, "{region:?}: {idle} clock-only frames");
    }
}

#[test]
fn pal_rom_sets_the_timing_byte_and_plays() {
    let mut rng = StdRng::seed_from_u64(13);
    let s = random_song(&mut rng, "pal", 200, Region::Pal);
    let opts = BuildOptions {
        region: Region::Pal,
        ..Default::default()
    };
    let rom = build(std::slice::from_ref(&s), &opts);
    assert_eq!(rom.bytes[12], 1, "NES 2.0 timing byte: PAL");
    let c = Console::new(&rom, RamState::Random);
    assert_eq!(
        c.deck.cart_region(),
        Some(tetanes_core::common::NesRegion::Pal)
    );
    check_song(&rom, &s, 220, RamState::Random);
    // An NTSC song in a PAL ROM is refused.
    let ntsc = random_song(&mut rng, "ntsc", 10, Region::Ntsc);
    let e = build_rom(&[ntsc], &opts).unwrap_err().to_string();
    assert!(e.contains("NTSC") && e.contains("PAL"), "{e}");
}

#[test]
fn multi_song_rom_changes_tracks_with_the_controller() {
    let mut rng = StdRng::seed_from_u64(14);
    let mut songs = vec![
        patterned_song(&mut rng, "one", 120),
        random_song(&mut rng, "two", 150, Region::Ntsc),
        patterned_song(&mut rng, "three", 80),
    ];
    songs[0].loop_frame = Some(0);
    songs[1].loop_frame = Some(20);
    songs[2].loop_frame = None;
    // A duplicate song is stored once.
    songs.push(songs[0].clone());
    songs[3].name = "one again".into();
    let rom = build(&songs, &BuildOptions::default());
    assert_eq!(rom.songs.len(), 4);
    // 1 stream count + 4 tick clock + 2 init list address + 4 streams x 3 (mode, address: an
    // NROM header has no banks), then its phrase table; the init list is song 0's.
    let nrom = EncodeOptions {
        max_piece: 0x7FFF,
        cross_stream_refs: true,
        ..Default::default()
    };
    let phrases = encode_stream_with(&songs[3], &nrom).phrases.len();
    assert!(phrases > 0, "a patterned song has phrases");
    assert_eq!(
        rom.songs[3].data_bytes,
        19 + 3 * phrases,
        "the duplicate costs only its header"
    );
    assert!(rom.songs[0].data_bytes > 100);
    let mut c = Console::new(&rom, RamState::Random);
    let mut playing = 0usize;
    let mut frame = 0usize;
    let first = c.nmi();
    assert_eq!(first.before, songs[0].init);
    assert_eq!(first.writes, expected_frame(&songs[0], 0));
    frame += 1;
    // Right, Right, Left, Left, Left (wraps to the last song), Right.
    let presses = [true, true, false, false, false, true];
    for (k, &right) in presses.iter().enumerate() {
        for _ in 0..(40 + 13 * k) {
            let r = c.nmi();
            assert!(r.before.is_empty());
            assert_eq!(
                r.writes,
                expected_frame(&songs[playing], frame),
                "song {playing} frame {frame}"
            );
            frame += 1;
        }
        let b = if right {
            JoypadBtnState::RIGHT
        } else {
            JoypadBtnState::LEFT
        };
        // The main loop reads the pad right after this NMI and starts the song before the next.
        c.button(b, true);
        playing = if right {
            (playing + 1) % songs.len()
        } else {
            (playing + songs.len() - 1) % songs.len()
        };
        let r = c.nmi();
        c.button(b, false);
        assert_eq!(r.before, songs[playing].init, "init of song {playing}");
        assert_eq!(r.writes, expected_frame(&songs[playing], 0));
        frame = 1;
    }
    assert_eq!(playing, 0);
}

#[test]
fn songs_that_do_not_fit_fail_naming_size_and_limit() {
    let mut rng = StdRng::seed_from_u64(15);
    // ~17 x 16 KiB of incompressible data.
    let songs: Vec<ApuStream> = (0..9)
        .map(|i| random_song(&mut rng, &format!("huge{i}"), 4500, Region::Ntsc))
        .collect();
    let e = build_rom(&songs, &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("KiB") && e.contains("UxROM") && e.contains("256"),
        "{e}"
    );
    assert!(
        e.contains("MMC3 (mapper 4, 512 KiB) would hold them"),
        "{e}"
    );
    // Twice that is more than any common board holds: no mapper is offered.
    let more: Vec<ApuStream> = (0..18)
        .map(|i| random_song(&mut rng, &format!("huger{i}"), 4500, Region::Ntsc))
        .collect();
    let e = build_rom(&more, &BuildOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("more than MMC3"), "{e}");
}
