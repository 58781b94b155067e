//! Event tokens are lossless on NES-MDB: every song codes to events and back to the same frames
//! (a sample of each split here; every one of the 5,278 songs in the ignored test), and the
//! test split's tokens per second of music are printed.

#[path = "common/skip.rs"]
mod skip;

use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::learn::data::events::{decode, encode, trim_silence, EventVocab};
use nesmm::learn::data::expressive_events::{self as expressive, ExpressiveVocab};

/// Codes every `step`-th song of every split; returns (songs, tokens, frames) of the test split.
fn round_trip(step: usize) -> Option<(usize, usize, usize)> {
    let Some(path) = nesmdb::archive_path(ScoreKind::Seprsco) else {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
        return None;
    };
    let (mut seen, mut checked) = (0usize, 0usize);
    let (mut test_songs, mut test_tokens, mut test_frames) = (0, 0, 0);
    nesmdb::for_each_song(&path, &[Split::Train, Split::Valid, Split::Test], |song| {
        seen += 1;
        if seen % step != 0 {
            return Ok(());
        }
        let notes = song.score.note_matrix();
        let tokens = encode(&notes, true).unwrap_or_else(|e| panic!("{}: {e}", song.score.name));
        assert_eq!(decode(&tokens), notes, "{}", song.score.name);
        checked += 1;
        if song.split == Split::Test {
            // The per-second figures count songs trimmed of leading and trailing silence.
            let trimmed = trim_silence(&notes);
            let t = encode(trimmed, true).unwrap();
            test_songs += 1;
            test_tokens += t.len() - 1;
            test_frames += trimmed.len();
            assert!(t.iter().all(|&id| (id as usize) < EventVocab::size()));
        }
        Ok(())
    })
    .unwrap();
    assert!(checked >= 5278 / step - 1, "only {checked} songs checked");
    Some((test_songs, test_tokens, test_frames))
}

fn report((songs, tokens, frames): (usize, usize, usize)) {
    let seconds = frames as f64 / 24.0;
    eprintln!(
        "test split ({songs} songs, trimmed): {tokens} tokens, {seconds:.0} s, {:.2} tokens per second of music",
        tokens as f64 / seconds
    );
}

#[test]
fn a_sample_of_nesmdb_codes_to_events_and_back_exactly() {
    if let Some(r) = round_trip(53) {
        report(r);
    }
}

#[test]
#[ignore = "every NES-MDB song: about a minute"]
fn every_nesmdb_song_codes_to_events_and_back_exactly() {
    if let Some(r) = round_trip(1) {
        assert_eq!(r.0, 373);
        report(r);
    }
}

/// The expressive coding over every `step`-th exprsco song: every cell back exactly, and the
/// tokens without the dynamics ones decode to the song's notes. Returns (songs, all tokens, dynamics tokens,
/// frames) of the test split.
fn expressive_round_trip(step: usize) -> Option<(usize, usize, usize, usize)> {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        skip::skip("NES-MDB exprsco not found (set NESMDB_DIR)");
        return None;
    };
    let (mut seen, mut checked) = (0usize, 0usize);
    let mut test = (0, 0, 0, 0);
    nesmdb::for_each_song(&path, &[Split::Train, Split::Valid, Split::Test], |song| {
        seen += 1;
        if seen % step != 0 {
            return Ok(());
        }
        let name = &song.score.name;
        let tokens =
            expressive::encode(&song.score.frames, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(expressive::decode(&tokens) == song.score.frames, "{name}");
        let notes: Vec<u16> = tokens
            .iter()
            .copied()
            .filter(|&t| !ExpressiveVocab::is_dynamics(t))
            .collect();
        assert!(
            decode(&notes) == song.score.note_matrix(),
            "{name}: the notes"
        );
        checked += 1;
        if song.split == Split::Test {
            test.0 += 1;
            test.1 += tokens.len() - 1;
            test.2 += tokens.len() - notes.len();
            test.3 += song.score.frames.len();
        }
        Ok(())
    })
    .unwrap();
    assert!(checked >= 5278 / step - 1, "only {checked} songs checked");
    Some(test)
}

fn report_expressive((songs, tokens, dynamics, frames): (usize, usize, usize, usize)) {
    let seconds = frames as f64 / 24.0;
    eprintln!(
        "exprsco test split ({songs} songs, untrimmed): {tokens} tokens ({dynamics} velocity or \
         timbre), {:.2} tokens per second of music, {:.2} of them dynamics",
        tokens as f64 / seconds,
        dynamics as f64 / seconds
    );
}

#[test]
fn a_sample_of_exprsco_codes_to_expressive_events_and_back_exactly() {
    if let Some(r) = expressive_round_trip(53) {
        report_expressive(r);
    }
}

#[test]
#[ignore = "every NES-MDB exprsco song: a few minutes"]
fn every_exprsco_song_codes_to_expressive_events_and_back_exactly() {
    if let Some(r) = expressive_round_trip(1) {
        assert_eq!(r.0, 373);
        report_expressive(r);
    }
}
