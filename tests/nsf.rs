//! NSF / NSFe export: header fields parsed back, and Game Music Emu playing the file: its audio
//! matches our own render of the same streams, voice by voice (gme's C API mutes the others).

mod common;

use common::audio::{
    best_correlation, correlation, frame_rms, pitch_agreement, pitch_track, rms_envelope,
    sample_lag, shifted, Gme,
};
use common::songs::song;
use nesmm::rom::nsf::{build_nsf, Nsf, NsfOptions, HEADER_SIZE};
use nesmm::rom::nsfe::Nsfe;
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
}

/// gme plays each voice of each song; its RMS envelope (every 10 ms, 30 ms windows) and pitch
/// track (40 ms windows) must correlate >= 0.98 with our synth's render of the same stream
/// (noise: per-frame RMS >= 0.97, see below).
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
            // emulators, so its short-window RMS carries sampling noise: it is compared per
            // frame (one volume per window) with a lower bar.
            let frame = (f64::from(RATE) / region.frame_hz()).round() as usize;
            let (env, floor) = if v == 3 {
                (
                    correlation(&frame_rms(&ours[v], frame), &frame_rms(&theirs, frame)),
                    0.97,
                )
            } else {
                let (r, _) =
                    best_correlation(&rms_envelope(&ours[v], hop), &rms_envelope(&theirs, hop), 0);
                (r, 0.98)
            };
            let mut line = format!(
                "{region:?} song {t} {name}: gme {:.1} ms late, envelope r = {env:.4}",
                lag as f64 * 1000.0 / f64::from(RATE)
            );
            assert!(env >= floor, "{line}");
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
