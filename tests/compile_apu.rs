//! Compiled streams played on an emulated APU (tetanes-core, which passes blargg's APU tests):
//! at the end of every output frame each channel must sound exactly when the score says so, at
//! the score's pitch and volume. This checks the hardware behaviour the compiler relies on:
//! length counters loaded only while enabled, the triangle silenced by its linear counter
//! (`$4008 = $80` with the reload flag kept set) with its sequencer frozen, no sweep muting.

#[path = "common/skip.rs"]
mod skip;

use nesmm::compile::{compile, CompileOptions, Dynamics, FrameMap, PeriodTable};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::{ApuStream, Cell, RegWrite, Region, Score, Voice};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tetanes_core::apu::{Apu, Channel};
use tetanes_core::common::NesRegion;

fn write(apu: &mut Apu, w: RegWrite) {
    let v = w.value;
    match w.addr {
        0x4000 => apu.write_ctrl(Channel::Pulse1, v),
        0x4001 => apu.write_sweep(Channel::Pulse1, v),
        0x4002 => apu.write_timer_lo(Channel::Pulse1, v),
        0x4003 => apu.write_timer_hi(Channel::Pulse1, v),
        0x4004 => apu.write_ctrl(Channel::Pulse2, v),
        0x4005 => apu.write_sweep(Channel::Pulse2, v),
        0x4006 => apu.write_timer_lo(Channel::Pulse2, v),
        0x4007 => apu.write_timer_hi(Channel::Pulse2, v),
        0x4008 => apu.write_linear_counter(v),
        0x400A => apu.write_timer_lo(Channel::Triangle, v),
        0x400B => apu.write_timer_hi(Channel::Triangle, v),
        0x400C => apu.write_ctrl(Channel::Noise, v),
        0x400E => apu.write_timer_lo(Channel::Noise, v),
        0x400F => apu.write_length(Channel::Noise, v),
        0x4010 => apu.write_timer_lo(Channel::Dmc, v),
        0x4011 => apu.write_dmc_output(v),
        0x4015 => apu.write_status(v),
        0x4017 => apu.write_frame_counter(v),
        a => panic!("unexpected write to ${a:04X}"),
    }
}

/// Plays `stream` on the emulated APU and checks every frame against `score`. Returns frames.
fn play_and_check(score: &Score, stream: &ApuStream, region: Region, dynamics: Dynamics) -> usize {
    let mut apu = Apu::new(match region {
        Region::Ntsc => NesRegion::Ntsc,
        Region::Pal => NesRegion::Pal,
    });
    apu.skip_mixing = true;
    let periods = PeriodTable::new(region);
    let map = FrameMap::new(score.rate, region);
    let mut owner = Vec::new();
    for i in 0..score.len() {
        owner.extend(std::iter::repeat_n(Some(i), map.frames_of(i)));
    }
    owner.resize(stream.len(), None);
    for &w in &stream.init {
        write(&mut apu, w);
    }
    let cycles = region.cycles_per_frame();
    let mut tri_silent_seq: Option<u8> = None;
    // The stream once, then (when it loops) the loop once more, entered from the last frame.
    let order = (0..stream.len()).chain(stream.loop_frame.map_or(0..0, |l| l..stream.len()));
    let mut played = 0u64;
    for j in order {
        let frame = stream.frame(j);
        for &w in frame {
            write(&mut apu, w);
        }
        // Half of the frames get the extra half cycle (29,780.5 / 33,247.5 per frame).
        let n =
            (cycles * (played + 1) as f64).floor() as u64 - (cycles * played as f64).floor() as u64;
        played += 1;
        for _ in 0..n {
            apu.clock_lazy();
        }
        let cells = owner[j].map_or([Cell::REST; 4], |i| score.frames[i]);
        let at = |v: Voice| {
            format!(
                "{} frame {j} {}: {:?}",
                score.name,
                v.label(),
                cells[v.index()]
            )
        };
        let want_vol = |c: &Cell| match dynamics {
            Dynamics::Flat => 15,
            _ => c.velocity,
        };
        for (k, p) in [&apu.pulse1, &apu.pulse2].into_iter().enumerate() {
            let v = Voice::ALL[k];
            let c = cells[k];
            let sounding = p.length.counter > 0 && !p.is_muted();
            assert_eq!(sounding, !c.is_rest(), "{}", at(v));
            if sounding {
                assert_eq!(p.real_period, periods.pulse_timer(c.note), "{}", at(v));
                assert_eq!(p.volume(), want_vol(&c), "{}", at(v));
                assert_eq!(p.duty, c.timbre, "{}", at(v));
            }
        }
        let t = &apu.triangle;
        let c = cells[2];
        let sounding = t.length.counter > 0 && t.linear.counter > 0;
        assert_eq!(sounding, !c.is_rest(), "{}", at(Voice::Triangle));
        if sounding {
            assert_eq!(
                t.timer.period,
                periods.triangle_timer(c.note),
                "{}",
                at(Voice::Triangle)
            );
            tri_silent_seq = None;
        } else {
            // Silent: the sequencer holds still (no step to 0, no pop) from the frame after.
            if let Some(seq) = tri_silent_seq {
                assert_eq!(
                    t.sequence,
                    seq,
                    "{}: triangle sequencer moved",
                    at(Voice::Triangle)
                );
            }
            tri_silent_seq = Some(t.sequence);
        }
        let no = &apu.noise;
        let c = cells[3];
        assert_eq!(no.length.counter > 0, !c.is_rest(), "{}", at(Voice::Noise));
        if !c.is_rest() {
            let idx = PeriodTable::noise_index(c.note) as usize;
            assert_eq!(
                no.timer.period + 1,
                periods.noise_periods()[idx],
                "{}",
                at(Voice::Noise)
            );
            assert_eq!(no.volume(), want_vol(&c), "{}", at(Voice::Noise));
        }
    }
    played as usize
}

fn random_score(rng: &mut StdRng, k: usize) -> Score {
    let n = rng.random_range(20..250);
    let mut score = Score::new(format!("random{k}"), 24.0);
    score.expressive = true;
    score.frames = vec![[Cell::REST; 4]; n];
    for v in Voice::ALL {
        let (lo, hi) = v.note_range();
        let mut i = 0;
        while i < n {
            let len = rng.random_range(1..10).min(n - i);
            let note = if rng.random_bool(0.35) {
                0
            } else {
                rng.random_range(lo..=hi)
            };
            let timbre = if note == 0 {
                0
            } else {
                rng.random_range(0..=v.max_timbre())
            };
            for f in &mut score.frames[i..i + len] {
                let velocity = if note == 0 || !v.has_velocity() {
                    0
                } else {
                    rng.random_range(0..=15)
                };
                f[v.index()] = Cell {
                    note,
                    velocity,
                    timbre,
                };
            }
            i += len;
        }
    }
    if rng.random_bool(0.5) {
        score.loop_frame = Some(rng.random_range(0..n));
    }
    score
}

#[test]
fn random_scores_sound_as_written_on_the_emulated_apu() {
    let mut rng = StdRng::seed_from_u64(2026);
    let (mut frames, mut loops) = (0, 0);
    for k in 0..40 {
        let score = random_score(&mut rng, k);
        loops += usize::from(score.loop_frame.is_some());
        for (region, dynamics) in [
            (Region::Ntsc, Dynamics::Score),
            (Region::Pal, Dynamics::Flat),
        ] {
            let opts = CompileOptions {
                region,
                dynamics: Some(dynamics),
            };
            frames += play_and_check(&score, &compile(&score, &opts).unwrap(), region, dynamics);
        }
    }
    assert!(frames > 10_000, "{frames}");
    assert!(loops >= 10, "{loops}");
}

#[test]
fn nesmdb_songs_sound_as_written_on_the_emulated_apu() {
    let Some(path) = nesmdb::archive_path(ScoreKind::Exprsco) else {
        skip::skip(format_args!(
            "NES-MDB not found at {:?}",
            nesmdb::data_dir()
        ));
        return;
    };
    let (mut k, mut songs) = (0usize, 0);
    nesmdb::for_each_song(&path, &[Split::Test], |song| {
        k += 1;
        if k % 75 == 1 {
            let mut score = song.score;
            score.frames.truncate(1200);
            let opts = CompileOptions::default();
            play_and_check(
                &score,
                &compile(&score, &opts)?,
                Region::Ntsc,
                Dynamics::Score,
            );
            songs += 1;
        }
        Ok(())
    })
    .unwrap();
    assert!(songs >= 4, "{songs}");
}

#[test]
fn the_check_fails_without_the_init_triangle_load() {
    // Without the init `$400B` write the triangle's length counter is never loaded (the
    // compiler writes `$400B` only when the high timer bits change): the emulated APU must then
    // disagree with the score, proving the check looks at the channel state.
    let score = Score::from_notes("tri", 24.0, &[[0, 0, 57, 0]; 8]);
    let mut stream = compile(&score, &CompileOptions::default()).unwrap();
    stream.init.retain(|w| w.addr != 0x400B);
    let r =
        std::panic::catch_unwind(|| play_and_check(&score, &stream, Region::Ntsc, Dynamics::Score));
    assert!(r.is_err());
    let good = compile(&score, &CompileOptions::default()).unwrap();
    play_and_check(&score, &good, Region::Ntsc, Dynamics::Score);
}
