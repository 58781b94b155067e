//! The ROM builder's figures over NES-MDB, printed (ignored tests; run with
//! `cargo test --release --test rom_figures -- --ignored --nocapture`):
//! music_update cycles per frame, data bytes per second of music beside xz of the raw stream,
//! minutes of median music per NROM, Lawn Mower's album size, time to build every song.

mod common;

use common::emu::check_song;
use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::rom::{build_rom, encode_stream, BuildOptions};
use nesmm::ApuStream;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;
use tetanes_core::memory::RamState;

fn all_songs() -> Option<Vec<ApuStream>> {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        common::skip::skip(format_args!(
            "NES-MDB not found at {:?}",
            nesmdb::data_dir().unwrap_or_default()
        ));
        return None;
    };
    let mut out = Vec::new();
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        out.push(compile(&song.score, &CompileOptions::default())?);
        Ok(())
    })
    .expect("NES-MDB loads and compiles");
    Some(out)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The raw stream as bytes (per frame: count, then register and value of each write).
fn raw_bytes(s: &ApuStream) -> Vec<u8> {
    let mut b = Vec::new();
    for f in s.frames() {
        b.push(f.len() as u8);
        for w in f {
            b.push((w.addr - 0x4000) as u8);
            b.push(w.value);
        }
    }
    b
}

fn xz_len(data: &[u8]) -> usize {
    let mut child = Command::new("xz")
        .args(["-9e", "-c", "--format=raw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("xz runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("xz output");
    writer.join().expect("writer").expect("xz input");
    out.stdout.len()
}

#[test]
#[ignore = "figures: minutes"]
fn figures_sizes_and_build_time() {
    let Some(songs) = all_songs() else {
        return;
    };
    // Every song in its own ROM, on every core.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    // Per song: data bytes, and music_update's worst frame and cycle sum as the reference
    // decoder counts them (exact but for page-crossing branches; the emulator's all-songs
    // test in rom_nesmdb.rs measures them).
    let sizes: Vec<(usize, u32, u64, usize, Vec<u8>)> = std::thread::scope(|scope| {
        let chunk = songs.len().div_ceil(threads);
        let handles: Vec<_> = songs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| {
                            let rom = build_rom(std::slice::from_ref(s), &BuildOptions::default())
                                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
                            let z = &rom.songs[0];
                            let init = rom.encoded[0].init_list();
                            (z.data_bytes, z.worst_cycles, z.cycles_sum, z.frames, init)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("builds"))
            .collect()
    });
    let build_secs = t.elapsed().as_secs_f64();
    let total_data: usize = sizes.iter().map(|z| z.0).sum();
    let mut bps: Vec<f64> = songs
        .iter()
        .zip(&sizes)
        .map(|(s, z)| z.0 as f64 / s.duration_secs().max(1e-9))
        .collect();
    let (worst, worst_song) = sizes
        .iter()
        .zip(&songs)
        .map(|(z, s)| (z.1, &s.name))
        .max()
        .expect("songs");
    let cycles: u64 = sizes.iter().map(|z| z.2).sum();
    let frames: usize = sizes.iter().map(|z| z.3).sum();
    let mut xz_bps = Vec::new();
    for s in songs.iter().step_by(5) {
        xz_bps.push(xz_len(&raw_bytes(s)) as f64 / s.duration_secs().max(1e-9));
    }
    let med = percentile(&mut bps, 0.5);
    let p90 = percentile(&mut bps, 0.9);
    // In a ROM of many songs those with the same init writes share one init list: what each
    // song adds is its data without the list, and the ROM holds the distinct lists once.
    let mut lists: Vec<&Vec<u8>> = sizes.iter().map(|z| &z.4).collect();
    lists.sort();
    lists.dedup();
    let lists_bytes: usize = lists.iter().map(|l| l.len()).sum();
    let mut marginal_bps: Vec<f64> = songs
        .iter()
        .zip(&sizes)
        .map(|(s, z)| (z.0 - z.4.len()) as f64 / s.duration_secs().max(1e-9))
        .collect();
    let marginal_med = percentile(&mut marginal_bps, 0.5);
    let xz_med = percentile(&mut xz_bps, 0.5);
    let xz_p90 = percentile(&mut xz_bps, 0.9);
    let lawn: Vec<ApuStream> = songs
        .iter()
        .filter(|s| s.name.starts_with("202_LawnMower"))
        .cloned()
        .collect();
    let album = build_rom(&lawn, &BuildOptions::default()).expect("album builds");
    let stream_bytes: usize = lawn.iter().map(|s| encode_stream(s).stream_bytes()).sum();
    let room = 32768 - 6 - album.player_bytes - 64;
    println!(
        "built {} single-song ROMs in {build_secs:.2} s on {threads} threads ({total_data} data bytes)",
        songs.len()
    );
    println!(
        "music_update as the reference decoder counts it, {frames} frames: worst {worst} \
         cycles ({worst_song}), mean {:.1}",
        cycles as f64 / frames.max(1) as f64
    );
    println!("data bytes/s of music: median {med:.1}, p90 {p90:.1}");
    println!(
        "xz -9e of the raw stream (every 5th song): median {xz_med:.1} B/s, p90 {xz_p90:.1} B/s"
    );
    println!(
        "one NROM ({room} bytes free beside the {}-byte player) holds {:.1} min of median music \
         with an init list per song; {:.1} min sharing them ({} distinct lists in NES-MDB, \
         {lists_bytes} bytes, all held once; {marginal_med:.1} B/s median without the list)",
        album.player_bytes,
        room as f64 / med / 60.0,
        (room - lists_bytes) as f64 / marginal_med / 60.0,
        lists.len()
    );
    println!(
        "Lawn Mower (5 songs): {} bytes of song data in the ROM ({} bytes of streams; \
         per song {:?})",
        album.data_bytes,
        stream_bytes,
        album.songs.iter().map(|s| s.data_bytes).collect::<Vec<_>>()
    );
}

#[test]
#[ignore = "figures: minutes"]
fn figures_music_update_cycles() {
    let Some(songs) = all_songs() else {
        return;
    };
    // Every 40th song, whole song, in its own ROM.
    let mut worst = (0u32, String::new());
    let (mut sum, mut n) = (0u64, 0u64);
    let mut song_means = Vec::new();
    for s in songs.iter().step_by(40) {
        let rom = build_rom(std::slice::from_ref(s), &BuildOptions::default()).expect("builds");
        let c = check_song(&rom, s, s.len(), RamState::Random);
        let m = c.iter().copied().max().unwrap_or(0);
        if m > worst.0 {
            worst = (m, s.name.clone());
        }
        sum += c.iter().map(|&x| u64::from(x)).sum::<u64>();
        n += c.len() as u64;
        song_means.push(c.iter().map(|&x| f64::from(x)).sum::<f64>() / c.len().max(1) as f64);
    }
    let worst_song_mean = song_means.iter().copied().fold(0.0, f64::max);
    println!(
        "music_update over {} songs, {n} frames: worst {} cycles ({}), mean {:.1}, \
         highest song mean {worst_song_mean:.1}",
        song_means.len(),
        worst.0,
        worst.1,
        sum as f64 / n.max(1) as f64
    );
}
