//! The piano-roll PNG: known notes land on the right pixels in their voice's colour, the
//! layout follows the duration, and the file decodes back.

use nesmm::viz::pianoroll::{
    render_piano_roll, voice_colour, write_piano_roll, PianoRollOptions, RollLayout, ROW_H,
};
use nesmm::{Score, Voice};

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn px(img: &(u32, u32, Vec<u8>), x: i64, y: i64) -> [u8; 3] {
    let i = (y as usize * img.0 as usize + x as usize) * 3;
    [img.2[i], img.2[i + 1], img.2[i + 2]]
}

/// 10 s at 24 Hz: P1 holds C4 (60) for frames 24..48 (1..2 s), TR holds A2 (45) 120..168
/// (5..7 s), noise value 12 at 200..210, P2 silent.
fn known_score() -> Score {
    let mut notes = vec![[0u8; 4]; 240];
    for f in &mut notes[24..48] {
        f[0] = 60;
    }
    for f in &mut notes[120..168] {
        f[2] = 45;
    }
    for f in &mut notes[200..210] {
        f[3] = 12;
    }
    // A top note so the pitch lane spans C2..C6.
    notes[230][0] = 80;
    Score::from_notes("known song", 24.0, &notes)
}

#[test]
fn known_notes_at_their_rows_and_columns_in_voice_colours() {
    let score = known_score();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roll.png");
    write_piano_roll(&score, &path, &PianoRollOptions::default()).unwrap();
    let img = decode(&std::fs::read(&path).unwrap());
    let l = RollLayout::new(&score, &PianoRollOptions::default());
    assert_eq!((img.0, img.1), (l.width, l.height));
    // Pitch lane C2 (36) .. C6 (84): 49 rows.
    assert_eq!((l.low_note, l.high_note), (36, 84));
    // 24 px per second: 10 s fits below the minimum plot width, so the rate is kept.
    assert_eq!(l.px_per_sec, 24.0);

    // C4 on P1: row (84 - 60) * ROW_H below the top, columns 1 s .. 2 s.
    let y60 = l.pitch_top as i64 + (84 - 60) * ROW_H as i64 + 1;
    let red = voice_colour(Voice::Pulse1);
    for x in [
        l.plot_x as i64 + 24,
        l.plot_x as i64 + 36,
        l.plot_x as i64 + 47,
    ] {
        assert_eq!(px(&img, x, y60), red, "P1 C4 at x={x}");
    }
    // Just before and after the note, and one semitone up, it is not red.
    assert_ne!(px(&img, l.plot_x as i64 + 23, y60), red);
    assert_ne!(px(&img, l.plot_x as i64 + 48, y60), red);
    assert_ne!(px(&img, l.plot_x as i64 + 36, y60 - ROW_H as i64), red);

    // A2 on the triangle, in blue, 5..7 s.
    let y45 = l.pitch_top as i64 + (84 - 45) * ROW_H as i64 + 2;
    assert_eq!(
        px(&img, l.plot_x as i64 + 130, y45),
        voice_colour(Voice::Triangle)
    );
    assert_ne!(
        px(&img, l.plot_x as i64 + 170, y45),
        voice_colour(Voice::Triangle)
    );

    // Noise value 12 in the noise lane (value 16 on top, 3 px rows).
    let yn = l.noise_top as i64 + (16 - 12) * 3 + 1;
    assert_eq!(
        px(&img, l.plot_x as i64 + 205, yn),
        voice_colour(Voice::Noise)
    );
    assert!(
        yn > l.pitch_top as i64 + 49 * ROW_H as i64,
        "noise lane under the pitch lane"
    );

    // No green anywhere: P2 never sounds (the legend swatch is above the plot).
    let green = voice_colour(Voice::Pulse2);
    for y in l.pitch_top as i64..img.1 as i64 {
        for x in 0..img.0 as i64 {
            assert_ne!(px(&img, x, y), green, "green at {x},{y}");
        }
    }
    // The legend shows all four colours.
    let legend: Vec<[u8; 3]> = (0..img.0 as i64).map(|x| px(&img, x, 31)).collect();
    for v in Voice::ALL {
        assert!(legend.contains(&voice_colour(v)), "legend lacks {v:?}");
    }
    // Atomic write left no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn overlapping_voices_p1_on_top_and_distinct_colours() {
    let s = Score::from_notes("o", 24.0, &[[60, 60, 60, 0]; 24]);
    let (c, l) = render_piano_roll(&s, &PianoRollOptions::default());
    let (top, _) = l.row_of(Voice::Pulse1, 60);
    assert_eq!(
        c.pixel(l.plot_x + 5, top as u32 + 1),
        Some(voice_colour(Voice::Pulse1))
    );
    let colours: std::collections::HashSet<_> =
        Voice::ALL.iter().map(|v| voice_colour(*v)).collect();
    assert_eq!(colours.len(), 4);
}

#[test]
fn width_follows_duration_up_to_the_cap() {
    let opts = PianoRollOptions::default();
    // 3 minutes at 24 px/s = 4320 px of plot.
    let three_min = Score::from_notes("long", 24.0, &vec![[60, 0, 0, 0]; 24 * 180]);
    let l = RollLayout::new(&three_min, &opts);
    assert_eq!(l.plot_w, 4320);
    assert!(l.width <= opts.max_width);
    // 10 minutes is squeezed under the cap, and the last note still ends inside the plot.
    let ten_min = Score::from_notes("longer", 24.0, &vec![[60, 0, 0, 0]; 24 * 600]);
    let (c, l) = render_piano_roll(&ten_min, &opts);
    assert_eq!(l.width, opts.max_width);
    assert!(l.px_per_sec < 24.0);
    let end = l.x_of_secs(600.0);
    assert!(end <= (l.plot_x + l.plot_w) as i64);
    let (top, _) = l.row_of(Voice::Pulse1, 60);
    assert_eq!(
        c.pixel(end as u32 - 1, top as u32),
        Some(voice_colour(Voice::Pulse1))
    );
}

#[test]
fn empty_score_gives_a_valid_image() {
    let s = Score::new("empty", 24.0);
    let (c, l) = render_piano_roll(&s, &PianoRollOptions::default());
    let png = c.to_png().unwrap();
    let img = decode(&png);
    assert_eq!((img.0, img.1), (l.width, l.height));
    assert!(img.0 >= 480 && img.1 > 100);
    // Nothing in any voice colour inside the lanes.
    for y in l.pitch_top as i64..img.1 as i64 {
        for x in l.plot_x as i64..img.0 as i64 {
            let p = px(&img, x, y);
            assert!(Voice::ALL.iter().all(|v| voice_colour(*v) != p), "{x},{y}");
        }
    }
}

#[test]
fn unwritable_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let target = file.join("roll.png");
    let e = write_piano_roll(&known_score(), &target, &PianoRollOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("file"), "{e}");
}
