//! NSF / NSFe export: header fields parsed back, and Game Music Emu playing the file: its audio
//! matches our own render of the same streams, voice by voice (gme's C API mutes the others).

mod common;

use common::audio::{
    best_correlation, correlation, frame_rms, pitch_agreement, pitch_track, rms_envelope,
    sample_lag, shifted, Gme,
};
use common::songs::song;
use nesmm::formats::nsf_file::{Nsf, HEADER_SIZE};
use nesmm::formats::nsfe::Nsfe;
use nesmm::rom::nsf::{build_nsf, NsfOptions};
use nesmm::synth::filter::HighPass;
use nesmm::synth::{render_voices, RenderOptions};
use nesmm::{ApuStream, Region};
use std::path::Path;

const RATE: u32 = 44_100;

fn songs(region: Region) -> Vec<ApuStream> {
    let mut a = song("Opening", 0, 240, region);
    a.loop_frame = Some(0);
    vec![
        a,
        song("Second", 3, 180, region),
        song("Third", 6, 120, region),
    ]
}

fn opts(region: Region) -> NsfOptions {
    NsfOptions {
        region,
        title: "Test Album".into(),
        artist: "nesmm tests".into(),
        copyright: "2026 nobody".into(),
    }
}

#[test]
fn header_fields_parse_back() {
    for region in [Region::Ntsc, Region::Pal] {
        let built = build_nsf(&songs(region), &opts(region)).expect("NSF builds");
        let bytes = built.nsf.to_bytes().unwrap();
        let back = Nsf::parse(&bytes, Path::new("t.nsf")).unwrap();
        let h = &back.header;
        assert_eq!((h.version, h.song_count, h.first_song), (1, 3, 1));
        assert_eq!(h.load_addr, 0x8000);
        assert_eq!(h.init_addr, built.symbols["nsf_init"]);
        assert_eq!(h.play_addr, built.symbols["nsf_play"]);
        assert_eq!(
            (h.title.as_str(), h.artist.as_str(), h.copyright.as_str()),
            ("Test Album", "nesmm tests", "2026 nobody")
        );
        assert_eq!(h.ntsc_speed_us, 16_639);
        assert_eq!(h.pal_speed_us, 19_997);
        assert_eq!(h.region, region);
        assert_eq!(bytes[0x7A], u8::from(region == Region::Pal));
        assert_eq!(h.banks, [0; 8], "small songs need no banking");
        assert_eq!(bytes.len(), HEADER_SIZE + built.nsf.data.len());
        // INIT and PLAY lie in the data and are code (the routines end in RTS / JMP).
        for a in [h.init_addr, h.play_addr] {
            assert!(back.cpu_byte(a).is_some(), "${a:04X} in the data");
        }
    }
}

#[test]
fn nsfe_carries_titles_and_times() {
    let songs = songs(Region::Ntsc);
    let built = build_nsf(&songs, &opts(Region::Ntsc)).unwrap();
    let bytes = built.nsfe().to_bytes().unwrap();
    let back = Nsfe::parse(&bytes, Path::new("t.nsfe")).unwrap();
    assert_eq!(back.track_titles, ["Opening", "Second", "Third"]);
    // 240 frames + one more pass of the loop = 480 frames at 60.0988 Hz.
    assert_eq!(
        back.track_ms[0],
        (480.0 * 1000.0 / Region::Ntsc.frame_hz()).round() as i32
    );
    assert_eq!(
        back.track_ms[2],
        (120.0 * 1000.0 / Region::Ntsc.frame_hz()).round() as i32
    );
    assert_eq!(back.nsf.data, built.nsf.data);
    assert_eq!(back.nsf.header.init_addr, built.nsf.header.init_addr);
    let gme = Gme::open(&bytes, RATE).expect("gme opens our NSFe");
    assert_eq!(gme.track_count(), 3);
    // gme reads the same titles and times from the tlbl and time chunks.
    for (t, title) in back.track_titles.iter().enumerate() {
        let info = gme.track_info(t).expect("gme track info");
        assert_eq!(&info.song, title, "track {t}");
        assert_eq!(
            (info.game.as_str(), info.author.as_str()),
            ("Test Album", "nesmm tests"),
            "track {t}: the auth chunk"
        );
        assert_eq!(info.length_ms, back.track_ms[t], "track {t}");
    }
}

#[test]
fn nsfe_keeps_long_and_non_ascii_album_text_in_full() {
    let songs = songs(Region::Ntsc);
    let title = "Ballades pour la cartouche \u{e0} huit bits \u{266a}";
    let artist = "Zo\u{eb} Kr\u{f6}ger";
    let o = NsfOptions {
        title: title.into(),
        artist: artist.into(),
        ..opts(Region::Ntsc)
    };
    let built = build_nsf(&songs, &o).unwrap();
    // The NSF header holds 31 ASCII characters ...
    assert_eq!(built.nsf.header.title, "Ballades pour la cartouche ? hu");
    // ... the NSFe's auth chunk all of it, as UTF-8.
    let bytes = built.nsfe().to_bytes().unwrap();
    let back = Nsfe::parse(&bytes, Path::new("t.nsfe")).unwrap();
    assert_eq!(back.nsf.header.title, title);
    assert_eq!(back.nsf.header.artist, artist);
    let gme = Gme::open(&bytes, RATE).expect("gme opens our NSFe");
    let info = gme.track_info(0).expect("gme track info");
    assert_eq!((info.game.as_str(), info.author.as_str()), (title, artist));
}

/// gme plays each voice of each song; its RMS envelope (every 10 ms, 30 ms windows) and pitch
/// track (40 ms windows) must correlate >= 0.98 with our synth's render of the same stream
/// (noise: its RMS per two frames, see below).
/// gme filters like a Famicom (high-pass near 80 Hz only); the NES's 440 Hz high-pass our
/// synth applies is added to gme's output so that both voices have the same timbre. gme calls
/// PLAY first one period after INIT, so its audio is lined up by envelope cross-correlation
/// (1 ms steps, at most 40 ms) before comparing.
fn compare_with_gme(region: Region) {
    let songs = songs(region);
    let built = build_nsf(&songs, &opts(region)).unwrap();
    let file = built.nsf.to_bytes().unwrap();
    let mut gme = Gme::open(&file, RATE).expect("gme opens our NSF");
    assert_eq!(gme.track_count(), songs.len());
    let hop = RATE as usize / 100;
    let names = ["pulse 1", "pulse 2", "triangle", "noise"];
    for (t, s) in songs.iter().enumerate() {
        let ours = render_voices(s, &RenderOptions { sample_rate: RATE });
        for (v, name) in names.iter().enumerate() {
            let raw = gme
                .render(t, 1 << v, s.duration_secs())
                .expect("gme renders");
            let mut hp = HighPass::new(f64::from(RATE), 440.0);
            let filtered: Vec<f32> = raw.iter().map(|&x| hp.process(x)).collect();
            let lag = sample_lag(&ours[v], &filtered, RATE, 40);
            let theirs = shifted(&filtered, lag);
            // The noise is a pseudo-random bit stream whose phase differs between the two
            // emulators, so its short-window RMS carries sampling noise: at the long noise
            // periods of these songs (254 to 762 CPU cycles) a frame holds only 40 to 120 of
            // its steps, and one frame's RMS strays by up to a third. It is compared per two
            // frames (the volume changes every frame; 30 Hz is still finer than NES-MDB's
            // 24 Hz scores): the correlation then stops depending on where the player's
            // writes fall against gme's noise phase (per frame it went from 0.981 to 0.979
            // when the player's cycle count changed, with the writes proven the same in the
            // emulator tests).
            let window = 2 * (f64::from(RATE) / region.frame_hz()).round() as usize;
            let env = if v == 3 {
                correlation(&frame_rms(&ours[v], window), &frame_rms(&theirs, window))
            } else {
                best_correlation(&rms_envelope(&ours[v], hop), &rms_envelope(&theirs, hop), 0).0
            };
            let mut line = format!(
                "{region:?} song {t} {name}: gme {:.1} ms late, envelope r = {env:.4}",
                lag as f64 * 1000.0 / f64::from(RATE)
            );
            assert!(env >= 0.98, "{line}");
            if v < 3 {
                let a = pitch_track(&ours[v], RATE, 4 * hop, 60.0, 4000.0);
                let b = pitch_track(&theirs, RATE, 4 * hop, 60.0, 4000.0);
                let (r, n) = pitch_agreement(&a, &b, 0);
                line += &format!(", pitch r = {r:.4} over {n} of {} windows", a.len());
                assert!(n > a.len() / 2, "{line}: too few pitched windows");
                assert!(r >= 0.98, "{line}");
            }
            println!("{line}");
        }
    }
}

#[test]
fn gme_plays_our_nsf_like_our_synth_ntsc() {
    compare_with_gme(Region::Ntsc);
}

#[test]
fn gme_plays_our_nsf_like_our_synth_pal() {
    compare_with_gme(Region::Pal);
}

/// Random notes and volumes every frame: data that does not compress, so it needs banks.
fn big_song(region: Region) -> ApuStream {
    use nesmm::RegWrite;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(5);
    let mut s = ApuStream::new("Big", region);
    s.init = vec![
        RegWrite::new(0x4015, 0x0F),
        RegWrite::new(0x4001, 0x08),
        RegWrite::new(0x4008, 0xFF),
    ];
    for f in 0..9000 {
        s.begin_frame();
        s.push_write(RegWrite::new(0x4000, 0xB0 | rng.random_range(0..16u8)));
        if f % 6 == 0 {
            let t: u16 = rng.random_range(0x0C0..0x300);
            s.push_write(RegWrite::new(0x4002, t as u8));
            s.push_write(RegWrite::new(0x4003, (t >> 8) as u8 | 0x08));
        }
        if f % 10 == 0 {
            let t: u16 = rng.random_range(0x100..0x400);
            s.push_write(RegWrite::new(0x400A, t as u8));
            s.push_write(RegWrite::new(0x400B, (t >> 8) as u8 | 0x08));
        }
        // Any byte: a change of the volume alone would take one byte (a volume command).
        s.push_write(RegWrite::new(0x400C, rng.random_range(0..=0xFFu8)));
        if f % 4 == 0 {
            s.push_write(RegWrite::new(0x400E, rng.random_range(0..16u8)));
            s.push_write(RegWrite::new(0x400F, 0x08));
        }
    }
    s
}

#[test]
fn big_songs_are_banked_and_gme_plays_the_last_bank() {
    let region = Region::Ntsc;
    let songs = vec![big_song(region), song("Small", 2, 120, region)];
    let built = build_nsf(&songs, &opts(region)).expect("banked NSF builds");
    let h = &built.nsf.header;
    let data_banks = usize::from(h.banks[4]) / 4;
    assert!(data_banks >= 2, "banks {:?}", h.banks);
    assert_eq!(h.banks[..4], [0, 1, 2, 3]);
    assert_eq!(
        h.banks[4..],
        [
            4 * data_banks as u8,
            4 * data_banks as u8 + 1,
            4 * data_banks as u8 + 2,
            4 * data_banks as u8 + 3
        ]
    );
    assert!(built.nsf.data.len() > data_banks * 0x4000);
    assert!(
        h.init_addr >= 0xC000 && h.play_addr >= 0xC000,
        "player in the fixed bank"
    );
    let file = built.nsf.to_bytes().unwrap();
    let back = Nsf::parse(&file, Path::new("big.nsf")).unwrap();
    assert_eq!(back.header.banks, h.banks);
    // gme switches the banks as the player asks: the end of the song (data in the last banks)
    // sounds like our render of it.
    let mut gme = Gme::open(&file, RATE).expect("gme opens the banked NSF");
    let s = &songs[0];
    let ours = render_voices(s, &RenderOptions { sample_rate: RATE });
    let hop = RATE as usize / 100;
    let tail = 20 * RATE as usize; // the last 20 seconds
    for v in [0usize, 2] {
        let raw = gme
            .render(0, 1 << v, s.duration_secs())
            .expect("gme renders");
        let mut hp = HighPass::new(f64::from(RATE), 440.0);
        let filtered: Vec<f32> = raw.iter().map(|&x| hp.process(x)).collect();
        // Lined up on the tail itself: gme's PLAY period (16,639 us) and the console's frame
        // (29,780.5 cycles) differ by 0.3 us, which adds up over two and a half minutes.
        let n = ours[v].len().min(filtered.len());
        let a = &ours[v][n - tail..n];
        let lag = sample_lag(a, &filtered[n - tail..n], RATE, 60);
        let theirs = shifted(&filtered[n - tail..], lag);
        let b = &theirs[..tail.min(theirs.len())];
        println!("tail lag {lag}");
        let (env, _) = best_correlation(&rms_envelope(a, hop), &rms_envelope(b, hop), 0);
        let (pa, pb) = (
            pitch_track(a, RATE, 4 * hop, 60.0, 4000.0),
            pitch_track(b, RATE, 4 * hop, 60.0, 4000.0),
        );
        let (r, windows) = pitch_agreement(&pa, &pb, 0);
        println!(
            "banked ({data_banks} data banks) voice {v}, last 20 s: envelope r = {env:.4}, \
             pitch r = {r:.4} over {windows} windows"
        );
        assert!(env >= 0.98 && r >= 0.98, "voice {v}: {env} {r}");
        assert!(windows > pa.len() / 2);
    }
    // The NSFe of the same build (its BANK chunk) plays the same music in gme. Not sample for
    // sample: gme plays an NSFe at the console's exact frame rate and our NSF at its header's
    // 16,639 us, which moves every PLAY call a little against the sample grid; this song's
    // random notes make 10 ms envelopes sensitive to that, so the energy of each sixteenth of
    // the song is compared (a wrong bank would play other notes, or none).
    let nsfe = built.nsfe().to_bytes().unwrap();
    let mut gme_e = Gme::open(&nsfe, RATE).expect("gme opens the banked NSFe");
    assert_eq!(gme_e.track_count(), 2);
    assert_eq!(gme_e.track_info(0).unwrap().song, s.name);
    let from_nsf = gme.render(0, 0x1F, s.duration_secs()).unwrap();
    let from_nsfe = gme_e.render(0, 0x1F, s.duration_secs()).unwrap();
    let n = from_nsf.len().min(from_nsfe.len());
    let energy = |x: &[f32]| x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    for k in 0..16 {
        let (lo, hi) = (k * n / 16, (k + 1) * n / 16);
        let (a, b) = (energy(&from_nsf[lo..hi]), energy(&from_nsfe[lo..hi]));
        assert!(
            a > 1.0 && (a - b).abs() / a < 0.03,
            "part {k} of the banked song: energy {a:.1} (NSF) against {b:.1} (NSFe)"
        );
    }
}

#[test]
fn cli_writes_nsf_and_nsfe_and_explains_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let songs = songs(Region::Pal);
    let mut args = vec!["nsf".to_string()];
    for (i, s) in songs.iter().enumerate() {
        let p = dir.path().join(format!("song{i}.txt"));
        std::fs::write(&p, s.to_text()).unwrap();
        args.push(p.display().to_string());
    }
    let bin = env!("CARGO_BIN_EXE_nesmm");
    for (out, nsfe) in [("album.nsf", false), ("album.nsfe", true)] {
        let path = dir.path().join(out);
        let st = std::process::Command::new(bin)
            .args(&args)
            .args(["--pal", "--title", "CLI Album", "-o"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let bytes = std::fs::read(&path).unwrap();
        let header = if nsfe {
            let f = Nsfe::parse(&bytes, &path).unwrap();
            assert_eq!(f.track_titles, ["Opening", "Second", "Third"]);
            f.nsf.header
        } else {
            Nsf::parse(&bytes, &path).unwrap().header
        };
        assert_eq!((header.song_count, header.region), (3, Region::Pal));
        assert_eq!(header.title, "CLI Album");
    }
    // NTSC output from PAL dumps, and a missing file: errors that say what to do.
    let st = std::process::Command::new(bin)
        .args(&args)
        .args(["-o", "x.nsf"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(!st.status.success() && err.contains("--pal"), "{err}");
    let st = std::process::Command::new(bin)
        .args(["nsf", "nowhere.txt", "-o", "x.nsf"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        !st.status.success() && err.contains("nowhere.txt") && err.contains("check the path"),
        "{err}"
    );
    assert!(!dir.path().join("x.nsf").exists());
}
