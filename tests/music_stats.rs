//! Musical statistics (`nesmm::learn::music_stats`) on hand-made songs with known answers, and
//! on NES-MDB's test split against the reference column of `../shared/docs/music-metrics.md`.

#[path = "common/skip.rs"]
mod skip;

use nesmm::learn::music_stats::*;
use nesmm::learn::music_stats_recurrence::{recurrence, recurring_share};
use nesmm::score::Score;

/// A song of `frames` frames where `f(t)` gives each frame.
fn song(frames: usize, f: impl FnMut(usize) -> [u8; 4]) -> Vec<[u8; 4]> {
    (0..frames).map(f).collect()
}

#[test]
fn a_pure_eight_frame_pulse_has_a_beat_strength_near_its_expected_value() {
    // One onset every 8 frames over 720 frames. With x = o - 1/8 the autocorrelation is 1 at
    // multiples of 8 and about -1/7 elsewhere: the peak is 1 and the mean over lags 4..=48 is
    // (6 - 39/7) / 45 = 0.0095, so the beat strength is 0.9905.
    let pulse = song(720, |t| [if t % 8 == 0 { 60 } else { 0 }, 0, 0, 0]);
    let b = beat_strength(&pulse);
    assert!((b - 0.9905).abs() < 0.001, "{b}");
    // Onsets at random frames have no beat.
    let mut x = 12345u32;
    let random = song(720, |_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        [if (x >> 16).is_multiple_of(8) { 60 } else { 0 }, 0, 0, 0]
    });
    let r = beat_strength(&random);
    assert!(r < 0.2, "{r}");
    // One onset (a held note) has next to no beat; silence none and no division by zero.
    let held = beat_strength(&song(720, |_| [60, 0, 0, 0]));
    assert!(held.abs() < 1e-3, "{held}");
    assert_eq!(beat_strength(&song(720, |_| [0; 4])), 0.0);
}

#[test]
fn a_repeated_two_second_phrase_recurs_wherever_a_later_copy_exists() {
    // A 2 s phrase of twelve different 4-frame notes, played 4 times (192 frames). The 1 s
    // window at t recurs (at t + 48) exactly when t + 48 + 24 <= 192: 121 of the 169 windows.
    let phrase = |t: usize| 60 + ((t % 48) / 4) as u8;
    let four = song(192, |t| [phrase(t), 0, 0, 0]);
    let r = recurrence(&four);
    assert!((r.line[0].unwrap() - 121.0 / 169.0).abs() < 1e-12, "{r:?}");
    // Silent voices have no window with an onset.
    assert_eq!(r.line[1], None);
    assert_eq!(r.drum_1s, None);
    // Only windows with an onset count: with onsets marked in the first 24 frames alone, the
    // windows 0..=23 are counted, and all of them recur.
    let line: Vec<u8> = four.iter().map(|f| f[0]).collect();
    let early: Vec<bool> = (0..192).map(|t| t < 24 && t % 4 == 0).collect();
    assert_eq!(recurring_share(&line, 24, &early), Some(1.0));
    // A melody that never repeats a window recurs nowhere.
    let rising = song(192, |t| [(30 + t / 2) as u8, 0, 0, 0]);
    assert_eq!(recurrence(&rising).line[0], Some(0.0));
}

#[test]
fn drum_rhythm_and_block_recurrence() {
    // Noise onsets every 6 frames over 240 frames; P1 the repeated phrase; P2 never repeats.
    let notes = song(240, |t| {
        [
            60 + ((t % 48) / 4) as u8,
            (30 + t / 3) as u8,
            0,
            if t % 6 == 0 { 3 } else { 0 },
        ]
    });
    let r = recurrence(&notes);
    // 1 s: windows 0..=216, a copy 24 later exists while t + 48 <= 240: 193 of 217.
    assert!((r.drum_1s.unwrap() - 193.0 / 217.0).abs() < 1e-12, "{r:?}");
    // 2 s: windows 0..=192, a copy 48 later exists while t + 96 <= 240: 145 of 193.
    assert!((r.drum_2s.unwrap() - 145.0 / 193.0).abs() < 1e-12, "{r:?}");
    // P2 changes every 3 frames into new pitches: no line of it and no block recurs.
    assert_eq!(r.line[1], Some(0.0));
    assert_eq!(r.block, Some(0.0));
    // The onset pattern (P1 every 4, P2 every 3, NO every 6) has period 12: like the drums.
    assert!((r.rhythm.unwrap() - 193.0 / 217.0).abs() < 1e-12, "{r:?}");
}

#[test]
fn recurrence_of_a_long_song_is_not_quadratic() {
    // An hour of 24 Hz frames of one repeating bar: hashing the windows makes this take
    // milliseconds (a window-by-window comparison would take minutes in a debug build).
    let hour = song(24 * 3600, |t| [60 + (t % 24) as u8, 0, 0, 0]);
    let r = recurrence(&hour);
    let windows = 24 * 3600 - 23;
    let recurring = 24 * 3600 - 47;
    assert!((r.line[0].unwrap() - recurring as f64 / windows as f64).abs() < 1e-12);
}

#[test]
fn a_c_major_melody_fits_its_key_and_a_chromatic_scale_does_not() {
    let c_major = [60u8, 62, 64, 65, 67, 69, 71, 72];
    let melody = song(64, |t| [c_major[t / 8], 0, c_major[7 - t / 8] - 24, 0]);
    assert_eq!(key_fit(&melody), Some(1.0));
    let chromatic = song(48, |t| [60 + (t / 4) as u8, 0, 0, 0]);
    assert!((key_fit(&chromatic).unwrap() - 7.0 / 12.0).abs() < 1e-12);
    // Noise is not pitched: a song of drums alone has no key.
    assert_eq!(key_fit(&song(48, |t| [0, 0, 0, (t % 2) as u8 * 4])), None);
}

#[test]
fn held_notes_count_from_four_seconds_on_pitched_voices_only() {
    let held = song(300, |t| {
        [0, 0, if (50..150).contains(&t) { 40 } else { 0 }, 0]
    });
    assert!(holds_a_note(&held));
    let short = song(300, |t| {
        [0, if (50..145).contains(&t) { 70 } else { 0 }, 0, 0]
    });
    assert!(!holds_a_note(&short));
    assert!(!holds_a_note(&song(300, |_| [0, 0, 0, 5])));
}

#[test]
fn noise_hiss_is_the_share_of_noise_frames_in_long_runs() {
    // 48 frames of one noise value, then 48 frames alternating it with rests (24 sounding).
    let notes = song(96, |t| [0, 0, 0, if t < 48 || t % 2 == 0 { 5 } else { 0 }]);
    // The first run is 48 + 1 frames (frame 48 continues it): 49 of 72 sounding frames.
    assert!((noise_hiss(&notes) - 49.0 / 72.0).abs() < 1e-12);
    // Runs of 11 frames are below 0.5 s.
    let drums = song(96, |t| {
        [0, 0, 0, if t % 12 < 11 { 1 + (t / 12) as u8 } else { 0 }]
    });
    assert_eq!(noise_hiss(&drums), 0.0);
    assert_eq!(noise_hiss(&song(96, |_| [60, 0, 0, 0])), 0.0);
}

#[test]
fn register_shares_onset_rate_and_note_lengths() {
    // P1 climbs 60..=80 one frame each: numpy's percentiles 61 and 79.
    let climb = song(21, |t| [60 + t as u8, 0, 0, 0]);
    assert!((p1_register(&climb).unwrap() - 18.0).abs() < 1e-12);
    // 48 frames: P2 notes of 6 frames and rests of 2; TR one edge-to-edge note.
    let notes = song(48, |t| {
        [0, if t % 8 < 6 { 70 + (t / 8) as u8 } else { 0 }, 45, 0]
    });
    let s = song_stats(&notes);
    assert_eq!(s.sounding_share, [0.0, 0.75, 1.0, 0.0]);
    assert_eq!(s.onsets_per_second, [0.0, 3.0, 0.5, 0.0]);
    // The first P2 note touches frame 0 and the TR note both edges: only inner notes count.
    assert_eq!(s.median_note_frames, [None, Some(6.0), None, None]);
    assert_eq!(p1_register(&notes), None);
}

#[test]
fn means_with_standard_errors_skip_undefined_songs() {
    let m = MeanSe::of([Some(1.0), None, Some(2.0), Some(3.0), Some(4.0)]);
    assert_eq!((m.mean, m.n), (2.5, 4));
    // Sample standard deviation sqrt(5/3) over sqrt(4).
    assert!((m.se - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
    let songs = vec![
        song(720, |t| [if t % 8 == 0 { 60 } else { 0 }, 0, 0, 0]),
        song(720, |t| [0, 0, if t < 100 { 40 } else { 0 }, 0]),
    ];
    let st = music_stats(&songs);
    assert_eq!(st.songs, 2);
    assert_eq!(st.held_note_songs.mean, 0.5);
    // Every song has a beat strength and a key; no song has drums.
    assert_eq!(st.beat_strength.n, 2);
    assert_eq!(st.key_fit.n, 2);
    assert_eq!(st.drum_recurrence_1s.n, 0);
    let table = markdown_table(&[("a".into(), st.clone()), ("b".into(), st)]);
    assert!(
        table.starts_with("| statistic | a (2 songs) | b (2 songs) |"),
        "{table}"
    );
    assert!(table.contains("| songs with a held note | 0.500 ± 0.500 | 0.500 ± 0.500 |"));
    assert!(
        table.contains("| drum pattern recurrence 1 s | - | - |"),
        "{table}"
    );
}

#[test]
fn excerpts_are_seeded_windows_of_long_enough_songs() {
    let songs: Vec<Vec<[u8; 4]>> = (0..10)
        .map(|k| song(500 + 100 * k, |t| [(k * 7 + t % 50) as u8, t as u8, 0, 0]))
        .collect();
    let a = excerpts(&songs, 720, 40, 7);
    assert_eq!(a, excerpts(&songs, 720, 40, 7));
    // Songs of 800..=1400 frames: 7 of them.
    assert_eq!(a.len(), 7);
    for e in &a {
        assert_eq!(e.len(), 720);
        assert!(songs
            .iter()
            .any(|s| s.windows(720).any(|w| w == e.as_slice())));
    }
    assert_eq!(excerpts(&songs, 720, 3, 7).len(), 3);
    assert_ne!(a, excerpts(&songs, 720, 40, 8));
}

#[test]
fn scores_at_other_rates_are_measured_on_the_24_hz_grid() {
    let s = Score::from_notes("s", 48.0, &song(96, |t| [40 + t as u8 / 2, 0, 0, 0]));
    let n = notes_at_24hz(&s);
    assert_eq!(n.len(), 48);
    assert!(n.iter().enumerate().all(|(t, f)| f[0] == 40 + t as u8));
}

/// 40 random 30 s test excerpts measure near the reference column of music-metrics.md. That
/// column came from another draw of 40 excerpts, so two draws differ by about sqrt(2) standard
/// errors of one; the tolerance is four times that (plus the doc's rounding).
#[test]
fn nesmdb_test_excerpts_match_the_reference_column() {
    use nesmm::formats::nesmdb::{self, ScoreKind, Split};
    let Some(path) = nesmdb::archive_path(ScoreKind::Seprsco) else {
        skip::skip("NES-MDB not found (set NESMDB_DIR or put it in ../shared/data/nesmdb)");
        return;
    };
    let notes = nesmm::learn::data::load_notes(&path, &[Split::Test], None).unwrap();
    let songs: Vec<Vec<[u8; 4]>> = notes[0].songs.iter().map(|s| s.1.clone()).collect();
    let st = music_stats(&excerpts(&songs, 720, 40, 0));
    eprintln!("{}", markdown_table(&[("test".into(), st.clone())]));
    let near = |what: &str, x: MeanSe, doc: f64, rounding: f64| {
        let tol = 4.0 * std::f64::consts::SQRT_2 * x.se + rounding;
        assert!(
            (x.mean - doc).abs() <= tol,
            "{what}: measured {:.3} ± {:.3}, the doc says {doc} (tolerance {tol:.3})",
            x.mean,
            x.se
        );
    };
    near("beat strength", st.beat_strength, 0.65, 0.005);
    near("key fit", st.key_fit, 0.90, 0.005);
    near("rhythm recurrence", st.rhythm_recurrence, 0.26, 0.005);
    near("drum 1 s", st.drum_recurrence_1s, 0.72, 0.005);
    near("drum 2 s", st.drum_recurrence_2s, 0.52, 0.005);
    near("block recurrence", st.block_recurrence, 0.05, 0.005);
    near("held note songs", st.held_note_songs, 0.03, 0.005);
    near("noise hiss", st.noise_hiss, 0.01, 0.005);
    near("P1 register", st.p1_register, 16.0, 0.5);
    for (v, doc) in [0.25, 0.23, 0.32, 0.54].into_iter().enumerate() {
        near("line recurrence", st.line_recurrence[v], doc, 0.005);
    }
    for (v, doc) in [0.84, 0.85, 0.53, 0.42].into_iter().enumerate() {
        near("sounding share", st.sounding_share[v], doc, 0.005);
    }
    for (v, doc) in [3.9, 3.6, 2.4, 4.1].into_iter().enumerate() {
        near("onsets/s", st.onsets_per_second[v], doc, 0.05);
    }
}
