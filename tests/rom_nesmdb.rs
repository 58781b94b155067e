//! NES-MDB songs compiled and built into ROMs, played in tetanes-core: every APU write must equal
//! the compiled stream. A CI-sized sample always runs (when the data is present); the whole
//! dataset is an ignored test.

mod common;

use common::emu::{check_song, expected_frame, Console};
use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use nesmm::rom::{build_rom, decode, decode_census, encode_stream, BuildOptions, Mapper};
use nesmm::{ApuStream, Region};
use tetanes_core::input::JoypadBtnState;
use tetanes_core::memory::RamState;

/// Compiled songs of the exprsco archive whose index passes `keep`, or None without the data.
fn songs(keep: impl Fn(usize, &str) -> bool, region: Region) -> Option<Vec<ApuStream>> {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        common::skip::skip(format_args!(
            "NES-MDB not found at {:?}",
            nesmdb::data_dir().unwrap_or_default()
        ));
        return None;
    };
    let mut out = Vec::new();
    let mut i = 0;
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if keep(i, &song.score.name) {
            let opts = CompileOptions {
                region,
                ..Default::default()
            };
            out.push(compile(&song.score, &opts)?);
        }
        i += 1;
        Ok(())
    })
    .expect("NES-MDB loads and compiles");
    Some(out)
}

/// What playing a set of songs in the emulator measured.
#[derive(Debug, Default)]
struct Played {
    /// Most music_update cycles in one frame, and where.
    worst: u32,
    worst_song: String,
    worst_frame: usize,
    /// Cycles over every frame, and the frames.
    sum: u64,
    frames: usize,
    /// Most cycles a frame took beyond what the reference decoder counts (page-crossing
    /// branches, phrase-table reads).
    excess: u32,
}

impl Played {
    fn mean(&self) -> f64 {
        self.sum as f64 / self.frames.max(1) as f64
    }

    /// One song's music_update cycles, frame by frame.
    fn of_song(name: &str, cycles: &[u32]) -> Played {
        let mut p = Played {
            worst_song: name.to_string(),
            sum: cycles.iter().map(|&c| u64::from(c)).sum(),
            frames: cycles.len(),
            ..Default::default()
        };
        for (i, &c) in cycles.iter().enumerate() {
            if c > p.worst {
                (p.worst, p.worst_frame) = (c, i);
            }
        }
        p
    }

    /// Adds `other`; the worst frame stays the first of the largest.
    fn add(&mut self, other: Played) {
        if other.worst > self.worst {
            (self.worst, self.worst_song, self.worst_frame) =
                (other.worst, other.worst_song, other.worst_frame);
        }
        self.sum += other.sum;
        self.frames += other.frames;
        self.excess = self.excess.max(other.excess);
    }
}

/// Plays `frames` frames (all when None) of each song in its own ROM.
fn play_all(songs: &[ApuStream], frames: Option<usize>) -> Played {
    let mut p = Played::default();
    for s in songs {
        let rom = build_rom(
            std::slice::from_ref(s),
            &BuildOptions {
                region: s.region,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let f = frames.unwrap_or(s.len()).min(s.len()) + 2;
        let cycles = check_song(&rom, s, f, RamState::Random);
        let model = rom
            .music_cycles(0, f)
            .expect("the reference decoder reads the song");
        let mut one = Played::of_song(&s.name, &cycles);
        one.excess = cycles
            .iter()
            .zip(&model)
            .map(|(c, m)| c - m)
            .max()
            .unwrap_or(0);
        p.add(one);
    }
    p
}

#[test]
fn nesmdb_sample_plays_exactly() {
    // Every 16th song (about 330): the Rust decoder over each whole song, the emulator over
    // the first 40 frames of each and over the whole of the busiest song (all four voices).
    let Some(sample) = songs(|i, _| i % 16 == 0, Region::Ntsc) else {
        return;
    };
    assert!(sample.len() >= 300, "{}", sample.len());
    for s in &sample {
        assert_eq!(
            &decode(&encode_stream(s)).expect("decodes"),
            s,
            "{}",
            s.name
        );
    }
    let played = play_all(&sample, Some(40));
    let (worst, mean, n) = (played.worst, played.mean(), played.frames);
    println!(
        "sample: {} songs, {n} frames, music_update worst {worst} ({}, frame {}) mean {mean:.1} \
         cycles; at most {} cycles over the reference decoder's count",
        sample.len(),
        played.worst_song,
        played.worst_frame,
        played.excess
    );
    let busy = |s: &ApuStream| {
        s.frames()
            .filter(|f| (0..4u16).all(|v| f.iter().any(|w| (w.addr - 0x4000) / 4 == v)))
            .count()
    };
    let busiest = sample.iter().max_by_key(|s| busy(s)).expect("a song");
    assert!(busy(busiest) > 0);
    println!(
        "busiest: {} ({} frames with all four voices written)",
        busiest.name,
        busy(busiest)
    );
    play_all(std::slice::from_ref(busiest), Some(4000));
    // Those 4,000 frames take every path of the voice blocks' decoder: volume commands,
    // phrases, near and far back-references, and references nested in references.
    let rom = build_rom(std::slice::from_ref(busiest), &BuildOptions::default()).expect("builds");
    let census = decode_census(&rom.encoded[0], 4000).expect("decodes");
    println!("busiest, first 4,000 frames: {census:?}");
    assert!(
        census.volumes > 0
            && census.phrases > 0
            && census.near_refs > 0
            && census.refs > 0
            && census.nested > 0
            && census.waits > 0,
        "{census:?}"
    );
}

#[test]
fn nesmdb_pal_sample_plays_exactly() {
    let Some(sample) = songs(|i, _| i % 600 == 7, Region::Pal) else {
        return;
    };
    assert!(!sample.is_empty());
    assert!(sample.iter().all(|s| s.region == Region::Pal));
    play_all(&sample, Some(300));
}

#[test]
fn nesmdb_lawn_mower_album_changes_tracks() {
    let Some(album) = songs(|_, n| n.starts_with("202_LawnMower"), Region::Ntsc) else {
        return;
    };
    assert_eq!(album.len(), 5);
    // The player stays on an ended song (no advance): past its end only Right moves on.
    let opts = BuildOptions {
        advance: false,
        ..Default::default()
    };
    let rom = build_rom(&album, &opts).expect("builds");
    assert_eq!(rom.mapper, Mapper::Nrom);
    println!(
        "Lawn Mower: {} bytes of song data ({:?})",
        rom.data_bytes,
        rom.songs.iter().map(|s| s.data_bytes).collect::<Vec<_>>()
    );
    // The first song in full and past its end, then Right: the second song from its start.
    let mut c = Console::new(&rom, RamState::Random);
    let first = c.nmi();
    assert_eq!(first.before, album[0].init);
    assert_eq!(first.writes, expected_frame(&album[0], 0));
    for i in 1..album[0].len() + 30 {
        let r = c.nmi();
        assert!(r.before.is_empty());
        assert_eq!(r.writes, expected_frame(&album[0], i), "song 0 frame {i}");
    }
    c.button(JoypadBtnState::RIGHT, true);
    let r = c.nmi();
    c.button(JoypadBtnState::RIGHT, false);
    assert_eq!(r.before, album[1].init);
    assert_eq!(r.writes, expected_frame(&album[1], 0));
    for i in 1..600 {
        let r = c.nmi();
        assert!(r.before.is_empty());
        assert_eq!(r.writes, expected_frame(&album[1], i), "song 1 frame {i}");
    }
}

#[test]
fn nesmdb_longest_song_plays_on_nrom_and_uxrom() {
    let Some(long) = songs(
        |_, n| n.starts_with("064_DeepDungeonII_YuushinoMonshou_09"),
        Region::Ntsc,
    ) else {
        return;
    };
    let s = long.into_iter().max_by_key(|s| s.len()).expect("the song");
    // 81,000 frames compress to about 11 KiB: NROM holds it.
    let rom = build_rom(std::slice::from_ref(&s), &BuildOptions::default()).expect("builds");
    println!(
        "{}: {} frames, {:?}, {} bytes",
        s.name,
        s.len(),
        rom.mapper,
        rom.data_bytes
    );
    check_song(&rom, &s, 2000, RamState::Random);
    let opts = BuildOptions {
        force_uxrom: true,
        ..Default::default()
    };
    let ux = build_rom(std::slice::from_ref(&s), &opts).expect("builds");
    assert_eq!(ux.mapper, Mapper::Uxrom);
    check_song(&ux, &s, 2000, RamState::Random);
}

/// `NESMM_SHARD=k/n` or `a-b/n`: the songs whose index in NES-MDB is k (or a to b) mod n;
/// all when unset.
fn shard() -> Option<(std::ops::RangeInclusive<usize>, usize)> {
    let v = std::env::var("NESMM_SHARD").ok()?;
    let (ks, n) = v.split_once('/')?;
    let n: usize = n.trim().parse().ok()?;
    let (a, b) = ks.split_once('-').unwrap_or((ks, ks));
    let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b && b < n).then_some((a..=b, n))
}

#[test]
#[ignore = "whole dataset: about 80 minutes on 2 cores"]
fn nesmdb_all_songs_play_exactly() {
    // `cargo test --release --test rom_nesmdb -- --ignored --nocapture nesmdb_all_songs`: every
    // song, whole, in its own ROM, on every core; prints the music_update cost over all of them.
    // With NESMM_SHARD=k/n (or a-b/n) only the songs whose index is k (a to b) mod n:
    // machines can share the run, and the printed figures add up (worst = the largest worst;
    // mean = sum of the sums / sum of the frames).
    let sh = shard();
    let keep = |i: usize, _: &str| sh.as_ref().is_none_or(|(k, n)| k.contains(&(i % n)));
    let Some(mut all) = songs(keep, Region::Ntsc) else {
        return;
    };
    // Longest first, handed out one at a time: the threads finish together.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = std::time::Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut played = Played::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Played::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(s) = all.get(i) else { break };
                        if i.is_multiple_of(250) {
                            // Progress, so a run cut short still says how far it got.
                            eprintln!(
                                "{i}/{} songs started, {:.0} s",
                                all.len(),
                                start.elapsed().as_secs_f64()
                            );
                        }
                        mine.add(play_all(std::slice::from_ref(s), None));
                    }
                    mine
                })
            })
            .collect();
        for h in handles {
            played.add(h.join().expect("a song failed: see the panic above"));
        }
    });
    let label = sh.as_ref().map_or("all".to_string(), |(k, n)| {
        format!("shard {}-{}/{n}", k.start(), k.end())
    });
    println!(
        "{label}: {} songs, {} frames, every write exact; music_update worst {} ({}, frame {}) \
         mean {:.1} cycles (sum {}), at most {} over the reference decoder's count; \
         {:.0} s on {threads} threads",
        all.len(),
        played.frames,
        played.worst,
        played.worst_song,
        played.worst_frame,
        played.mean(),
        played.sum,
        played.excess,
        start.elapsed().as_secs_f64()
    );
    if sh.is_none() {
        assert_eq!(all.len(), 5278, "the whole of NES-MDB");
    }
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust versions and machines.
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

#[test]
#[ignore = "whole dataset: builds every song's ROM (minutes)"]
fn nesmdb_all_roms_hash() {
    // `cargo test --test rom_nesmdb -- --ignored --nocapture nesmdb_all_roms_hash`: one hash over
    // the bytes of every NES-MDB song's ROM (default build), one over every 16th song's UxROM
    // ROM and NSF, and one over a 64-song NSF (banked). A change to the player's sources or the
    // encoder that is meant to leave the bytes alone must print the same figures.
    let Some(all) = songs(|_, _| true, Region::Ntsc) else {
        return;
    };
    let mut roms = 0xcbf2_9ce4_8422_2325u64;
    let (mut ux, mut nsfs) = (roms, roms);
    for (i, s) in all.iter().enumerate() {
        let one = std::slice::from_ref(s);
        let rom =
            build_rom(one, &BuildOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        fnv1a(&mut roms, &rom.bytes);
        if i % 16 == 0 {
            let opts = BuildOptions {
                force_uxrom: true,
                ..Default::default()
            };
            fnv1a(&mut ux, &build_rom(one, &opts).expect("UxROM builds").bytes);
            let nsf = build_nsf(one, &NsfOptions::default()).expect("NSF builds");
            fnv1a(&mut nsfs, &nsf.nsf.to_bytes().expect("NSF bytes"));
        }
    }
    let album = build_nsf(&all[..64], &NsfOptions::default()).expect("album NSF builds");
    let mut album_hash = 0xcbf2_9ce4_8422_2325u64;
    fnv1a(&mut album_hash, &album.nsf.to_bytes().expect("NSF bytes"));
    println!(
        "{} songs: ROMs {roms:016x}; every 16th: UxROM {ux:016x}, NSF {nsfs:016x}; \
         64-song NSF (banked: {}) {album_hash:016x}",
        all.len(),
        album.nsf.header.is_banked()
    );
    assert_eq!(all.len(), 5278, "the whole of NES-MDB");
}
