//! decode(encode(s)) == s over random and music-like streams, loops, pieces and edge cases.

use crate::apu_stream::{ApuStream, RegWrite};
use crate::region::Region;
use crate::rom::codec::decode::{decode, decode_frames};
use crate::rom::codec::encode::{encode_stream, encode_stream_with, plan_streams};
use crate::rom::codec::format::EncodeOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A stream of random writes to random registers in random order.
pub(crate) fn random_stream(rng: &mut StdRng, frames: usize) -> ApuStream {
    let mut s = ApuStream::new("random", Region::Ntsc);
    s.init = vec![RegWrite::new(0x4015, 0x0F), RegWrite::new(0x4001, 0x08)];
    for _ in 0..frames {
        let n = match rng.random_range(0..10) {
            0..=4 => 0,
            5..=8 => rng.random_range(1..6),
            _ => rng.random_range(6..40),
        };
        let w: Vec<RegWrite> = (0..n)
            .map(|_| RegWrite::new(0x4000 + rng.random_range(0..0x18u16), rng.random()))
            .collect();
        s.push_frame(&w);
    }
    s
}

/// A music-like stream: per-voice writes in voice order with a repeating pattern, 3/2 frames
/// per score step, a `$4015` write first, and small variations.
pub(crate) fn music_stream(rng: &mut StdRng, steps: usize) -> ApuStream {
    let mut s = ApuStream::new("music", Region::Ntsc);
    s.init = vec![
        RegWrite::new(0x4015, 0x00),
        RegWrite::new(0x4000, 0x30),
        RegWrite::new(0x4001, 0x08),
    ];
    let pattern: Vec<[u8; 4]> = (0..32)
        .map(|_| [rng.random(), rng.random(), rng.random(), rng.random()])
        .collect();
    for step in 0..steps {
        let p = pattern[step % 32];
        let mut w = Vec::new();
        if step % 16 == 0 {
            w.push(RegWrite::new(0x4015, 0x0F));
        }
        for (voice, &b) in p.iter().enumerate() {
            let base = 0x4000 + 4 * voice as u16;
            if b & 1 != 0 {
                w.push(RegWrite::new(base, b | 0x30));
            }
            if b & 2 != 0 {
                let wobble = u8::from(rng.random_range(0..50) == 0);
                w.push(RegWrite::new(base + 2, b.wrapping_mul(7) ^ wobble));
            }
            if b & 4 != 0 {
                w.push(RegWrite::new(base + 3, b >> 5));
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

fn unrolled(s: &ApuStream, n: usize) -> Vec<Vec<RegWrite>> {
    let mut out = Vec::new();
    let mut f = 0;
    while out.len() < n {
        if f >= s.len() {
            match s.loop_frame.filter(|&l| l < s.len()) {
                Some(l) => f = l,
                None => {
                    out.push(Vec::new());
                    continue;
                }
            }
        }
        out.push(s.frame(f).to_vec());
        f += 1;
    }
    out
}

fn check(s: &ApuStream, opts: &EncodeOptions) {
    check_one(s, opts);
    // One address space: references across streams and a phrase table.
    check_one(
        s,
        &EncodeOptions {
            cross_stream_refs: true,
            ..*opts
        },
    );
}

fn check_one(s: &ApuStream, opts: &EncodeOptions) {
    let e = encode_stream_with(s, opts);
    if !opts.cross_stream_refs {
        assert!(e.phrases.is_empty(), "phrases need one address space");
        for p in e.streams.iter().flat_map(|s| &s.pieces) {
            assert!(p.xrefs.is_empty(), "references stay in their piece");
        }
    }
    for p in e.streams.iter().flat_map(|s| &s.pieces) {
        assert!(p.bytes.len() <= opts.max_piece, "piece over the limit");
    }
    let d = decode(&e).expect("decodes");
    let mut want = s.clone();
    want.loop_frame = s.loop_frame.filter(|&l| l < s.len());
    assert_eq!(d, want, "decode(encode(s)) differs");
    let extra = s.len() * 2 + 70;
    assert_eq!(
        decode_frames(&e, extra).expect("decodes"),
        unrolled(s, extra),
        "looping / stopping differs"
    );
}

#[test]
fn random_streams_round_trip() {
    let mut rng = StdRng::seed_from_u64(1);
    for case in 0..200 {
        let n = rng.random_range(0..300);
        let mut s = random_stream(&mut rng, n);
        s.loop_frame = match case % 4 {
            0 => None,
            1 => Some(0),
            2 => Some(rng.random_range(0..s.len().max(1))),
            _ => Some(s.len() + rng.random_range(0..3)),
        };
        check(&s, &EncodeOptions::default());
    }
}

#[test]
fn music_streams_round_trip_and_compress() {
    let mut rng = StdRng::seed_from_u64(2);
    for case in 0..40 {
        let n = rng.random_range(1..600);
        let mut s = music_stream(&mut rng, n);
        s.loop_frame = (case % 2 == 0).then(|| rng.random_range(0..s.len()));
        check(&s, &EncodeOptions::default());
    }
    let s = music_stream(&mut rng, 2000);
    let e = encode_stream(&s);
    let raw = 2 * s.write_count() + s.len();
    // 7x: this song writes every voice on every step, so the frame-cycle budget, not the
    // repeats, limits its back-references (4,133 bytes; 1,571 with no budget at all).
    assert!(
        e.stream_bytes() * 7 < raw,
        "a repeating song should compress 7x: {} of {raw}",
        e.stream_bytes()
    );
    assert!(e.streams.len() >= 4, "voices get their own streams");
    let masked = e
        .streams
        .iter()
        .filter(|s| matches!(s.mode, crate::rom::codec::format::StreamMode::Mask { .. }))
        .count();
    assert!(
        masked >= 4,
        "rising-order voice streams use mask mode: {masked}"
    );
    let mut rng2 = StdRng::seed_from_u64(9);
    let r = encode_stream(&random_stream(&mut rng2, 300));
    assert!(r
        .streams
        .iter()
        .all(|s| s.mode == crate::rom::codec::format::StreamMode::Pairs));
}

#[test]
fn small_pieces_round_trip() {
    let mut rng = StdRng::seed_from_u64(3);
    for case in 0..60 {
        let mut s = if case % 2 == 0 {
            random_stream(&mut rng, 400)
        } else {
            music_stream(&mut rng, 3000)
        };
        s.loop_frame = (case % 3 != 0).then(|| rng.random_range(0..s.len()));
        let opts = EncodeOptions {
            max_piece: 64 + case * 3,
            ..Default::default()
        };
        let e = encode_stream_with(&s, &opts);
        assert!(e.streams.iter().any(|st| st.pieces.len() > 1));
        check(&s, &opts);
    }
}

#[test]
fn edge_cases_round_trip() {
    let o = EncodeOptions::default();
    // Empty song, silent song, one long rest, a frame of 40 writes, a 1000-frame gap.
    let mut s = ApuStream::new("edge", Region::Pal);
    check(&s, &o);
    for _ in 0..200 {
        s.push_frame(&[]);
    }
    check(&s, &o);
    s.loop_frame = Some(3);
    check(&s, &o);
    let many: Vec<RegWrite> = (0..40)
        .map(|i| RegWrite::new(0x4000 + (i % 0x18), i as u8))
        .collect();
    s.push_frame(&many);
    for _ in 0..1000 {
        s.push_frame(&[]);
    }
    s.push_frame(&[RegWrite::new(0x4017, 0x40)]);
    check(&s, &o);
    s.loop_frame = Some(200);
    check(&s, &o);
    s.loop_frame = Some(s.len() - 1);
    check(&s, &o);
}

#[test]
fn stream_plan_follows_the_song_order() {
    let mut s = ApuStream::new("order", Region::Ntsc);
    s.push_frame(&[
        RegWrite::new(0x4015, 1),
        RegWrite::new(0x4000, 1),
        RegWrite::new(0x4002, 1),
        RegWrite::new(0x4008, 1),
    ]);
    s.push_frame(&[RegWrite::new(0x400C, 1), RegWrite::new(0x4004, 1)]);
    let plan = plan_streams(&s);
    let firsts: Vec<u8> = plan.iter().map(|r| r[0]).collect();
    // $4015 first, then pulse 1, triangle; noise before pulse 2.
    assert_eq!(plan.len(), 5);
    let pos = |r: u8| firsts.iter().position(|&f| f == r).unwrap();
    assert!(pos(0x14) < pos(0x00) && pos(0x00) < pos(0x08) && pos(0x0C) < pos(0x04));
    // Interleaving pulse 1 around $4015 merges the two groups.
    s.push_frame(&[
        RegWrite::new(0x4000, 1),
        RegWrite::new(0x4015, 1),
        RegWrite::new(0x4002, 1),
    ]);
    let plan = plan_streams(&s);
    assert!(plan.iter().any(|r| r.contains(&0x00) && r.contains(&0x15)));
    check(&s, &EncodeOptions::default());
}

#[test]
fn busy_frames_start_no_back_references() {
    let mut rng = StdRng::seed_from_u64(4);
    let s = music_stream(&mut rng, 800);
    let refs = |budget: u32| {
        let opts = EncodeOptions {
            ref_cycle_budget: budget,
            ..Default::default()
        };
        let e = encode_stream_with(&s, &opts);
        check(&s, &opts);
        e.streams
            .iter()
            .flat_map(|st| &st.pieces)
            .map(|p| p.refs.len())
            .sum::<usize>()
    };
    assert_eq!(refs(0), 0, "no frame has room for a reference");
    assert!(
        refs(u32::MAX) > refs(450),
        "the budget trades references for cycles"
    );
    assert!(refs(450) > 0);
}

#[test]
fn score_tick_songs_count_waits_in_ticks() {
    use crate::rom::codec::tick::TickRule;
    let mut rng = StdRng::seed_from_u64(5);
    // music_stream writes on frames 0, 3, 5, 8, ...: the NTSC 24 Hz ticks.
    let s = music_stream(&mut rng, 400);
    let e = encode_stream(&s);
    assert_eq!((e.tick.step, e.tick.modulus), (2, 5));
    check(&s, &EncodeOptions::default());
    // A 5-step figure with rests: in frames it lasts 13 then 12 frames and its waits differ, so
    // only every other repeat matches; in ticks every repeat does.
    let mut fig = ApuStream::new("figure", Region::Ntsc);
    for step in 0..600usize {
        let w = match step % 5 {
            0 => vec![
                RegWrite::new(0x4000, 0x7F),
                RegWrite::new(0x4002, 0x40 + (step / 5 % 3) as u8),
            ],
            1 => vec![RegWrite::new(0x4000, 0x78)],
            3 => vec![RegWrite::new(0x4000, 0x74)],
            _ => vec![],
        };
        fig.push_frame(&w);
        for _ in 1..(if step % 2 == 0 { 3 } else { 2 }) {
            fig.push_frame(&[]);
        }
    }
    let ticks = encode_stream(&fig);
    assert_eq!((ticks.tick.step, ticks.tick.modulus), (2, 5));
    // The commands back-references match: fewer kinds in ticks (3 notes, 2 volume steps, the
    // last step) than in frames, where the same step comes with 1 or 2 empty frames.
    let kinds = |rule: TickRule| {
        let (on_tick, _) = rule.ticks(fig.len());
        let units: Vec<&[RegWrite]> = fig
            .frames()
            .zip(&on_tick)
            .filter(|(_, &t)| t)
            .map(|(f, _)| f)
            .collect();
        let frames = crate::rom::codec::lz::stream_frames(&units, &[0, 1, 2, 3]);
        let mode = crate::rom::codec::format::StreamMode::Mask { base: 0 };
        let (tokens, _) = crate::rom::codec::lz::stream_tokens(&frames, None, mode, &fig.init);
        tokens
            .into_iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let (in_ticks, in_frames) = (kinds(ticks.tick), kinds(TickRule::EVERY_FRAME));
    assert!(
        in_ticks < in_frames,
        "waits in ticks repeat better: {in_ticks} kinds of command vs {in_frames}"
    );
    check(&fig, &EncodeOptions::default());
    // A write off the ticks (frame 1) falls back to frame waits, and still round-trips.
    let mut off = s.clone();
    off.loop_frame = None;
    let mut t = ApuStream::new("off", Region::Ntsc);
    for (i, f) in off.frames().enumerate() {
        if i == 1 {
            t.push_frame(&[RegWrite::new(0x4008, 0x81)]);
        } else {
            t.push_frame(f);
        }
    }
    assert_eq!(encode_stream(&t).tick, TickRule::EVERY_FRAME);
    check(&t, &EncodeOptions::default());
}

#[test]
fn one_address_space_shares_across_streams_with_phrases() {
    let mut rng = StdRng::seed_from_u64(6);
    let s = music_stream(&mut rng, 1500);
    let apart = encode_stream_with(&s, &EncodeOptions::default());
    let shared = encode_stream_with(
        &s,
        &EncodeOptions {
            max_piece: 0x7FFF,
            cross_stream_refs: true,
            ..Default::default()
        },
    );
    assert!(
        !shared.phrases.is_empty(),
        "repeated references become phrases"
    );
    assert!(shared.phrases.len() <= crate::rom::codec::format::cmd::MAX_PHRASES);
    assert!(
        shared.rom_bytes() < apart.rom_bytes(),
        "phrases pay for their table: {} vs {}",
        shared.rom_bytes(),
        apart.rom_bytes()
    );
    // Pulse 2 copies pulse 1's pattern: mask commands are relative to the group, so pulse 2
    // may play pulse 1's bytes.
    let mut dup = ApuStream::new("dup", Region::Ntsc);
    for f in s.frames() {
        let mut w: Vec<RegWrite> = f.iter().filter(|w| w.addr < 0x4004).copied().collect();
        let copy: Vec<RegWrite> = w
            .iter()
            .map(|x| RegWrite::new(x.addr + 4, x.value))
            .collect();
        w.extend(copy);
        dup.push_frame(&w);
    }
    let e = encode_stream_with(
        &dup,
        &EncodeOptions {
            max_piece: 0x7FFF,
            cross_stream_refs: true,
            ..Default::default()
        },
    );
    let xrefs: usize = e
        .streams
        .iter()
        .flat_map(|s| &s.pieces)
        .map(|p| p.xrefs.len())
        .sum();
    let calls_other = e.phrases.iter().any(|p| p.stream == 0) && e.streams.len() == 2;
    assert!(xrefs > 0 || calls_other, "pulse 2 reuses pulse 1's bytes");
    check(&dup, &EncodeOptions::default());
}

#[test]
fn volume_steps_take_one_byte_and_the_loop_point_writes_in_full() {
    use crate::rom::codec::format::{cmd, StreamMode};
    use crate::rom::codec::lz::{stream_frames, stream_tokens};
    // A decay on duty 2 from the init's duty 2, then the same on duty 1; loops to frame 16.
    let mut s = ApuStream::new("envelope", Region::Ntsc);
    s.init = vec![RegWrite::new(0x4000, 0xB0)];
    for f in 0..64u8 {
        let duty = if f < 32 { 0x80 } else { 0x40 };
        s.push_frame(&[RegWrite::new(0x4000, duty | 0x30 | (15 - f % 16))]);
    }
    s.loop_frame = Some(16);
    let units: Vec<&[RegWrite]> = s.frames().collect();
    let frames = stream_frames(&units, &[0, 1, 2, 3]);
    let (tokens, loop_token) =
        stream_tokens(&frames, Some(16), StreamMode::Mask { base: 0 }, &s.init);
    assert_eq!(loop_token, Some(16));
    for (f, t) in tokens.iter().enumerate() {
        let value = 0x30 | if f < 32 { 0x80 } else { 0x40 } | (15 - f as u8 % 16);
        // In full: the loop point (reached from two places) and the change of duty.
        let full = f == 16 || f == 32;
        let want = if full {
            vec![0x01, value]
        } else {
            vec![cmd::VOLUME | (value & 0x0F)]
        };
        assert_eq!(t, &want, "frame {f}");
    }
    check(&s, &EncodeOptions::default());
    // Not for the control group, whose first register ($4014) has no volume.
    let units: Vec<&[RegWrite]> = (0..4).map(|_| &[][..]).collect();
    let control = stream_frames(&units, &[0x14, 0x15, 0x16, 0x17]);
    let (tokens, _) = stream_tokens(&control, None, StreamMode::Mask { base: 0x14 }, &[]);
    assert!(tokens.iter().all(|t| !(cmd::VOLUME..=0xEF).contains(&t[0])));
}

/// A one-stream pulse 1 song from hand-written bytes, for the decoder's own checks.
fn hand_song(bytes: &[u8], frames: usize) -> crate::rom::codec::format::EncodedSong {
    use crate::rom::codec::format::{EncodedSong, EncodedStream, Piece, StreamMode};
    EncodedSong {
        name: "hand".into(),
        frames,
        init: vec![RegWrite::new(0x4000, 0xB0)],
        streams: vec![EncodedStream {
            registers: vec![0, 1, 2, 3],
            mode: StreamMode::Mask { base: 0 },
            pieces: vec![Piece {
                bytes: bytes.to_vec(),
                ..Default::default()
            }],
        }],
        ..Default::default()
    }
}

#[test]
fn near_references_nest_two_deep_and_no_more() {
    use crate::rom::codec::decode::decode_census;
    let values = |bytes: &[u8], frames: usize| -> Vec<u8> {
        decode_frames(&hand_song(bytes, frames), frames)
            .expect("decodes")
            .into_iter()
            .map(|f| f.first().map_or(0, |w| w.value))
            .collect()
    };
    // $4000 = $B5; volume 4; play those two again (3 bytes back); then the three commands
    // from the start again, the near reference among them (5 bytes back): nested.
    let song = [0x01, 0xB5, 0xE4, 0x91, 0x03, 0x92, 0x05, 0xFF];
    assert_eq!(
        values(&song, 9),
        [0xB5, 0xB4, 0xB5, 0xB4, 0xB5, 0xB4, 0xB5, 0xB4, 0]
    );
    let census = decode_census(&hand_song(&song, 9), 9).unwrap();
    assert_eq!((census.volumes, census.near_refs, census.nested), (4, 3, 1));
    // A reference to a reference to a reference: three deep, which the player cannot hold.
    let deep = [0x01, 0xB5, 0x90, 0x02, 0x90, 0x02, 0x90, 0x02, 0xFF];
    let err = decode_frames(&hand_song(&deep, 6), 6).unwrap_err();
    assert!(err.to_string().contains("nest more than two deep"), "{err}");
    // A near reference before the piece's start.
    let before = [0x01, 0xB5, 0x90, 0x05, 0xFF];
    let err = decode_frames(&hand_song(&before, 3), 3).unwrap_err();
    assert!(err.to_string().contains("near reference"), "{err}");
}
