//! How small could Lawn Mower's five songs get in a *score-level* song format, where the player
//! computes the registers from notes and instrument envelopes (as FamiTone2 does) instead of
//! replaying register writes? The goal (4,514 bytes) is FamiTone2's size for these
//! songs from the composer's own tracker data; NES-MDB holds them only as exprsco scores
//! (24 Hz note, velocity and timbre per voice), from which our register format takes 9,488
//! bytes.
//!
//! This study builds that score-level format's content from the scores and measures it,
//! without a player: each voice becomes *events* (a note or rest and its length in score
//! frames, split where the note changes or the velocity rises on a held note), each sounding
//! event plays an *instrument* (its (velocity, timbre) sequence, last value held), shared by
//! every event it fits; an event is its note byte, plus an instrument byte where the
//! instrument changes and a length byte where the length changes. It then prices the event
//! bytes under a greedy back-reference parse like our encoder's (per song, 2 bytes for a
//! reference within 253 bytes and 16 events, 3 otherwise, no cycle budget) and again with
//! every reference at 1 byte (a bound no format with addresses reaches), and the
//! instruments run-length coded. It checks that the events and instruments give back every
//! cell of the five scores.
//!
//! `cargo test --release --test rom_score_level_study -- --ignored --nocapture`

#[path = "common/skip.rs"]
mod skip;

use nesmm::compile::{compile, CompileOptions};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::rom::codec::format::{EncodeOptions, StreamMode};
use nesmm::rom::encode::{effective_loop, encode_stream_with};
use nesmm::rom::lz::{stream_frames, Tokenized};
use nesmm::rom::tick::TickRule;
use nesmm::rom::{build_rom, BuildOptions};
use nesmm::score::{Cell, Score};
use std::collections::HashMap;

/// The commands of our register format for `score`'s five streams (before back-references),
/// the compiled song, and its encoder's stream bytes as in an NROM (one address space).
fn register_tokens(score: &Score) -> (Vec<Vec<u8>>, nesmm::ApuStream, usize) {
    let s = compile(score, &CompileOptions::default()).expect("compiles");
    let tick = TickRule::choose(&s, effective_loop(&s));
    let (ticks, _) = tick.ticks(s.len());
    let units: Vec<&[nesmm::RegWrite]> = s
        .frames()
        .zip(&ticks)
        .filter(|(_, &t)| t)
        .map(|(f, _)| f)
        .collect();
    let loop_unit = effective_loop(&s).map(|l| ticks[..l].iter().filter(|&&t| t).count());
    let mut tokens = Vec::new();
    for g in [5u8, 0, 1, 2, 3] {
        let regs: Vec<u8> = (4 * g..4 * g + 4).collect();
        let frames = stream_frames(&units, &regs);
        let mode = StreamMode::Mask { base: 4 * g };
        tokens.extend(Tokenized::new(&frames, &regs, mode, loop_unit, &s.init).tokens);
    }
    let nrom = EncodeOptions {
        max_piece: 0x7000,
        cross_stream_refs: true,
        ..Default::default()
    };
    let bytes = encode_stream_with(&s, &nrom).stream_bytes();
    (tokens, s, bytes)
}

/// Token elements (one byte each in the priced format): the note is 0-127; these mark an
/// instrument index and a length.
const INSTRUMENT: u16 = 0x1000;
const LENGTH: u16 = 0x2000;
const LENGTH_MORE: u16 = 0x3000;

/// One voice's (velocity, timbre) in a score frame.
type Sound = (u8, u8);

/// A note (0 = rest) held for `sounds.len()` score frames.
struct Event {
    note: u8,
    sounds: Vec<Sound>,
}

/// The sound of `cell` on voice `v`: none on the triangle (no volume) or in a rest.
fn sound(v: usize, cell: &Cell) -> Sound {
    if v == 2 || cell.note == 0 {
        (0, 0)
    } else {
        (cell.velocity, cell.timbre)
    }
}

fn events(score: &Score, v: usize) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for (i, frame) in score.frames.iter().enumerate() {
        let cell = &frame[v];
        let s = sound(v, cell);
        let held = i > 0 && score.frames[i - 1][v].note == cell.note;
        let reattack =
            held && cell.note != 0 && out.last().is_some_and(|e| s.0 > e.sounds.last().unwrap().0);
        match out.last_mut() {
            Some(e) if held && !reattack => e.sounds.push(s),
            _ => out.push(Event {
                note: cell.note,
                sounds: vec![s],
            }),
        }
    }
    out
}

/// Whether instrument `inst` (its last value held) plays `sounds`.
fn fits(inst: &[Sound], sounds: &[Sound]) -> bool {
    sounds
        .iter()
        .enumerate()
        .all(|(k, s)| inst[k.min(inst.len() - 1)] == *s)
}

/// `sounds` with its held tail cut to one value.
fn trimmed(sounds: &[Sound]) -> Vec<Sound> {
    let mut t = sounds.to_vec();
    while t.len() > 1 && t[t.len() - 1] == t[t.len() - 2] {
        t.pop();
    }
    t
}

/// Bytes of `tokens` after a greedy back-reference parse: at each token the longest run equal
/// to an earlier one (latest 64 starts) that saves bytes, a reference costing `near` bytes
/// within 253 bytes and 16 tokens, else `far`.
fn parsed_bytes<T: Eq + std::hash::Hash>(tokens: &[Vec<T>], near: usize, far: usize) -> usize {
    let mut at = vec![0usize; tokens.len() + 1];
    for (i, t) in tokens.iter().enumerate() {
        at[i + 1] = at[i] + t.len();
    }
    let mut starts: HashMap<&[T], Vec<usize>> = HashMap::new();
    let (mut i, mut out) = (0, 0);
    while i < tokens.len() {
        let mut best = (0usize, 0usize); // (tokens, bytes saved)
        for &p in starts
            .get(&tokens[i][..])
            .map_or(&[][..], |v| v)
            .iter()
            .rev()
            .take(64)
        {
            let mut k = 0;
            while i + k < tokens.len() && p + k < i && k < 255 && tokens[p + k] == tokens[i + k] {
                k += 1;
            }
            let bytes = at[i + k] - at[i];
            let cost = if at[i] - at[p] <= 253 && k <= 16 {
                near
            } else {
                far
            };
            if bytes > cost && bytes - cost > best.1 {
                best = (k, bytes - cost);
            }
        }
        let k = best.0.max(1);
        out += at[i + k] - at[i] - best.1;
        for (j, t) in tokens.iter().enumerate().skip(i).take(k) {
            starts.entry(&t[..]).or_default().push(j);
        }
        i += k;
    }
    out
}

#[test]
#[ignore = "figures: needs NES-MDB"]
fn lawn_mower_in_a_score_level_format() {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        skip::skip(format_args!(
            "NES-MDB not found at {:?}",
            nesmdb::data_dir().unwrap_or_default()
        ));
        return;
    };
    let mut scores = Vec::new();
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        if song.score.name.starts_with("202_LawnMower") {
            scores.push(song.score.clone());
        }
        Ok(())
    })
    .expect("NES-MDB loads");
    assert_eq!(scores.len(), 5, "Lawn Mower has five songs in NES-MDB");

    let mut instruments: Vec<Vec<Sound>> = Vec::new();
    let (mut n_events, mut raw, mut parsed, mut bound) = (0, 0, 0, 0);
    let (mut reg_parsed, mut reg_encoded, mut compiled) = (0, 0, Vec::new());
    for score in &scores {
        let (reg_tokens, stream, encoded) = register_tokens(score);
        compiled.push(stream);
        reg_parsed += parsed_bytes(&reg_tokens, 2, 3);
        reg_encoded += encoded;
        // One element per byte; kinds kept apart in the high bits so that no two different
        // instruments or lengths look alike to the parse.
        let mut song_tokens: Vec<Vec<u16>> = Vec::new();
        for v in 0..4 {
            let (mut inst, mut len) = (None, None);
            // Played back from the tokens and instruments, for the round trip.
            let mut replay: Vec<(u8, Sound)> = Vec::new();
            for e in events(score, v) {
                n_events += 1;
                let mut token = vec![u16::from(e.note)];
                if e.note != 0 {
                    let fitting: Vec<usize> = (0..instruments.len())
                        .filter(|&k| fits(&instruments[k], &e.sounds))
                        .collect();
                    let k = match inst {
                        Some(k) if fitting.contains(&k) => k,
                        _ => fitting.first().copied().unwrap_or_else(|| {
                            instruments.push(trimmed(&e.sounds));
                            instruments.len() - 1
                        }),
                    };
                    if inst != Some(k) {
                        token.push(INSTRUMENT | k as u16);
                        inst = Some(k);
                    }
                }
                if len != Some(e.sounds.len()) {
                    // A byte holds lengths 1-255; each further 255 costs one more.
                    let n = e.sounds.len();
                    token.push(LENGTH | (n % 255) as u16);
                    token.extend(std::iter::repeat_n(LENGTH_MORE, (n - 1) / 255));
                    len = Some(e.sounds.len());
                }
                for t in 0..e.sounds.len() {
                    let s = match (e.note, inst) {
                        (0, _) | (_, None) => (0, 0),
                        (_, Some(k)) => {
                            let i = &instruments[k];
                            i[t.min(i.len() - 1)]
                        }
                    };
                    replay.push((e.note, s));
                }
                song_tokens.push(token);
            }
            let want: Vec<(u8, Sound)> = score
                .frames
                .iter()
                .map(|f| (f[v].note, sound(v, &f[v])))
                .collect();
            assert_eq!(
                replay, want,
                "{} voice {v}: events play the score",
                score.name
            );
        }
        raw += song_tokens.iter().map(Vec::len).sum::<usize>();
        parsed += parsed_bytes(&song_tokens, 2, 3);
        bound += parsed_bytes(&song_tokens, 1, 1);
    }
    // Instruments run-length coded: a byte per run of one (velocity, timbre), one to end.
    let inst_bytes: usize = instruments
        .iter()
        .map(|i| 2 + i.windows(2).filter(|w| w[0] != w[1]).count())
        .sum();
    println!(
        "Lawn Mower, 5 songs, score level: {n_events} events, {} instruments ({inst_bytes} B \
         run-length coded); event bytes {raw} plain, {parsed} with references of 2-3 B, \
         {bound} with every reference 1 B",
        instruments.len()
    );
    let album = build_rom(&compiled, &BuildOptions::default()).expect("the album builds");
    println!(
        "the same parse prices our register format's commands at {reg_parsed} B, where its \
         encoder (cycle budget, phrases, nesting) writes {reg_encoded} B of streams \
         ({} B of song data in the album ROM)",
        album.data_bytes
    );
    println!(
        "estimate with headers left out: {} B (references 2-3 B), {} B (every reference 1 B); \
         goal 4,514 B",
        parsed + inst_bytes,
        bound + inst_bytes
    );
}
