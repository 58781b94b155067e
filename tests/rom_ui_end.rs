//! The on-screen player at a song's end, in tetanes-core: END appears after the last frame and
//! the time stops; an album moves on to the next song (and stays after the last one); with
//! `advance` off the song stays on END; Start plays an ended song again. NROM and UxROM (which
//! reads the stream's end through its bank).

mod common;

use common::songs::song;
use common::stepper::{reg_writes, Emu, Write};
use nesmm::rom::{build_rom, BuildOptions};
use nesmm::{ApuStream, Region};
use tetanes_core::input::JoypadBtn;

fn emu_for(songs: &[ApuStream], advance: bool, force_uxrom: bool) -> Emu {
    let opts = BuildOptions {
        advance,
        force_uxrom,
        ..Default::default()
    };
    let rom = build_rom(songs, &opts).expect("ROM builds");
    Emu::new(&rom.bytes, &rom.symbols)
}

fn looping(mut s: ApuStream) -> ApuStream {
    s.loop_frame = Some(0);
    s
}

fn time_and_status(emu: &Emu) -> String {
    emu.row(12).trim_matches('.').to_string()
}

/// Runs `frames` frames; returns each frame's music writes and whether END was on screen after
/// it.
fn run(emu: &mut Emu, frames: usize) -> Vec<(Vec<Write>, bool)> {
    (0..frames)
        .map(|_| {
            let f = emu.frame();
            (emu.music_only(f), emu.row(12).contains("END"))
        })
        .collect()
}

#[test]
fn a_song_that_stops_shows_end_after_its_last_frame_and_the_time_stops() {
    for uxrom in [false, true] {
        // 150 frames: 2.5 s at 60 Hz.
        let songs = [song("Stops", 1, 150, Region::Ntsc)];
        let mut emu = emu_for(&songs, true, uxrom);
        let frames = run(&mut emu, 240);
        let last_write = frames
            .iter()
            .rposition(|(w, _)| !w.is_empty())
            .expect("the song plays");
        let first_end = frames
            .iter()
            .position(|(_, end)| *end)
            .unwrap_or_else(|| panic!("uxrom {uxrom}: END never shows"));
        // The streams read their end on the tick after the last write; the buffer filled then
        // is copied in the NMI after.
        assert!(
            first_end > last_write && first_end <= last_write + 3,
            "uxrom {uxrom}: END after frame {first_end}, last write in frame {last_write}"
        );
        assert!(frames[first_end..].iter().all(|(_, end)| *end));
        let at_end = time_and_status(&emu);
        assert!(
            at_end.starts_with("TIME.00:02") && at_end.ends_with("END"),
            "{at_end}"
        );
        run(&mut emu, 150);
        assert_eq!(time_and_status(&emu), at_end, "the time has stopped");
        assert_eq!(emu.row(7).trim_matches('.'), "TRACK.01.OF.01");
    }
}

/// The index of the frame whose writes end with `song`'s init writes, from `from` on.
fn start_of(frames: &[(Vec<Write>, bool)], song: &ApuStream, from: usize) -> Option<usize> {
    (from..frames.len()).find(|&i| reg_writes(&frames[i].0).ends_with(&song.init))
}

#[test]
fn an_album_moves_on_to_the_next_song_a_second_after_one_ends() {
    for uxrom in [false, true] {
        let songs = [
            song("First", 0, 90, Region::Ntsc),
            looping(song("Second", 3, 120, Region::Ntsc)),
        ];
        let mut emu = emu_for(&songs, true, uxrom);
        let frames = run(&mut emu, 90 + 60 + 200);
        let first_end = frames.iter().position(|(_, end)| *end).expect("END");
        let next = start_of(&frames, &songs[1], first_end).expect("the next song starts");
        // A second of END (60 frames at 60 Hz), then the next song.
        assert!(
            (first_end + 55..=first_end + 62).contains(&next),
            "END at {first_end}, next song at {next}"
        );
        assert!(frames[first_end..next].iter().all(|(_, end)| *end));
        for (i, (w, _)) in frames[next + 1..].iter().enumerate() {
            let want = songs[1].frame(i % songs[1].len());
            assert_eq!(reg_writes(w), want, "uxrom {uxrom}: next song, frame {i}");
        }
        assert_eq!(emu.row(7).trim_matches('.'), "TRACK.02.OF.02");
        assert_eq!(emu.row(9).trim_matches('.').trim(), "SECOND");
        assert_eq!(time_and_status(&emu), "TIME.00:03", "the time restarts");
    }
}

#[test]
fn the_last_song_of_an_album_stays_on_end() {
    let songs = [
        song("One", 0, 90, Region::Ntsc),
        song("Two", 2, 90, Region::Ntsc),
    ];
    let mut emu = emu_for(&songs, true, false);
    let frames = run(&mut emu, 400);
    let first_end = frames.iter().position(|(_, end)| *end).expect("END");
    let second = start_of(&frames, &songs[1], first_end).expect("the second song starts");
    // (Both songs start with the same init writes: any later start would be a wrap.)
    assert!(
        start_of(&frames, &songs[0], second + 1).is_none(),
        "no wrap"
    );
    assert!(frames[second + 92..].iter().all(|(w, _)| w.is_empty()));
    assert_eq!(emu.row(7).trim_matches('.'), "TRACK.02.OF.02");
    assert_eq!(time_and_status(&emu), "TIME.00:01.......END");
}

#[test]
fn with_advance_off_an_ended_song_stays() {
    let songs = [
        song("First", 0, 90, Region::Ntsc),
        looping(song("Second", 3, 120, Region::Ntsc)),
    ];
    let mut emu = emu_for(&songs, false, false);
    let frames = run(&mut emu, 400);
    let first_end = frames.iter().position(|(_, end)| *end).expect("END");
    assert!(
        start_of(&frames, &songs[1], first_end).is_none(),
        "the next song never starts"
    );
    let last_write = frames.iter().rposition(|(w, _)| !w.is_empty()).unwrap();
    assert!(
        last_write < 95,
        "nothing plays after the song: {last_write}"
    );
    assert_eq!(emu.row(7).trim_matches('.'), "TRACK.01.OF.02");
    assert_eq!(time_and_status(&emu), "TIME.00:01.......END");
}

#[test]
fn start_plays_an_ended_song_again() {
    let songs = [song("Again", 4, 90, Region::Ntsc)];
    let mut emu = emu_for(&songs, true, false);
    run(&mut emu, 150);
    assert!(emu.row(12).contains("END"));
    let press: Vec<(Vec<Write>, bool)> = emu
        .press(JoypadBtn::Start)
        .into_iter()
        .map(|f| (emu.music_only(f), false))
        .collect();
    let mut frames = press;
    frames.extend(run(&mut emu, 70));
    let again = start_of(&frames, &songs[0], 0).expect("the song starts again");
    for (i, (w, _)) in frames[again + 1..].iter().enumerate() {
        assert_eq!(reg_writes(w), songs[0].frame(i), "frame {i}");
    }
    assert_eq!(
        time_and_status(&emu),
        "TIME.00:01",
        "playing again, from 00:00"
    );
}
