//! The compiler checked end to end: every stream is replayed through an independent model of the
//! APU registers (length counters, linear-counter control, enables), which checks the write rules
//! and decodes the sounding pitch, volume and timbre of every voice at every output frame back to
//! the score cell that frame plays.

#[path = "common/skip.rs"]
mod skip;

use nesmm::compile::instrument::Instrument;
use nesmm::compile::{compile, CompileOptions, Dynamics, FrameMap};
use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::{ApuStream, Cell, Error, RegWrite, Region, Score, Voice};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LENGTH_REGS: [u16; 4] = [0x4003, 0x4007, 0x400B, 0x400F];

/// The register state of the APU as far as sound is concerned.
#[derive(Clone)]
struct Hw {
    regs: [Option<u8>; 0x18],
    /// Length counter non-zero, per channel.
    loaded: [bool; 4],
    /// Triangle linear-counter reload flag (set by $400B, kept while $4008 bit 7 is set).
    tri_reload: bool,
}

impl Hw {
    fn power_on() -> Hw {
        Hw {
            regs: [None; 0x18],
            loaded: [false; 4],
            tri_reload: false,
        }
    }

    fn reg(&self, addr: u16) -> Option<u8> {
        self.regs[(addr - 0x4000) as usize]
    }

    fn apply(&mut self, w: RegWrite) {
        self.regs[(w.addr - 0x4000) as usize] = Some(w.value);
        match w.addr {
            0x4015 => {
                for ch in 0..4 {
                    if w.value & (1 << ch) == 0 {
                        self.loaded[ch] = false;
                    }
                }
            }
            0x4008 if w.value & 0x80 == 0 => self.tri_reload = false,
            _ => {}
        }
        if let Some(ch) = LENGTH_REGS.iter().position(|&a| a == w.addr) {
            if self.reg(0x4015).unwrap_or(0) & (1 << ch) != 0 {
                self.loaded[ch] = true;
            }
            if ch == 2 && self.reg(0x4008).unwrap_or(0) & 0x80 != 0 {
                self.tri_reload = true;
            }
        }
    }

    /// Whether a write is allowed by the rules given the state before it.
    fn write_is_useful(&self, w: RegWrite) -> bool {
        let old = self.reg(w.addr);
        match w.addr {
            0x4003 | 0x4007 => {
                let ch = usize::from(w.addr == 0x4007);
                !self.loaded[ch] || old.is_none_or(|o| o & 7 != w.value & 7)
            }
            0x400B => !self.loaded[2] || old != Some(w.value),
            0x400F => !self.loaded[3],
            _ => old != Some(w.value),
        }
    }

    fn timer(&self, base: u16) -> u32 {
        let lo = u32::from(self.reg(base + 2).unwrap_or(0));
        let hi = u32::from(self.reg(base + 3).unwrap_or(0) & 7);
        hi << 8 | lo
    }

    /// What voice `v` plays: (timer or noise period index, volume, timbre), or None when silent.
    fn sounding(&self, v: Voice) -> Option<(u32, u8, u8)> {
        match v {
            Voice::Pulse1 | Voice::Pulse2 => {
                let ch = v.index();
                let base = 0x4000 + 4 * ch as u16;
                if !self.loaded[ch] {
                    return None;
                }
                let ctl = self.reg(base)?;
                assert_eq!(ctl & 0x30, 0x30, "pulse {ch}: halt + constant volume");
                assert_eq!(self.reg(base + 1), Some(0x08), "sweep off, negate");
                let t = self.timer(base);
                assert!((8..=0x7FF).contains(&t), "pulse timer {t} is muted");
                Some((t, ctl & 15, ctl >> 6))
            }
            Voice::Triangle => {
                let lin = self.reg(0x4008)?;
                if !(self.loaded[2] && self.tri_reload && lin & 0x80 != 0 && lin & 0x7F != 0) {
                    return None;
                }
                Some((self.timer(0x4008), 0, 0))
            }
            Voice::Noise => {
                if !self.loaded[3] {
                    return None;
                }
                let ctl = self.reg(0x400C)?;
                assert_eq!(ctl & 0x30, 0x30, "noise: halt + constant volume");
                let p = self.reg(0x400E)?;
                Some((u32::from(p & 15), ctl & 15, p >> 7))
            }
        }
    }
}

/// NES-MDB's timer for MIDI note `m`: `round(CPU / (div * f) - 1)`, div 16 (pulse) or 32.
fn formula_timer(m: u8, div: f64, region: Region) -> u32 {
    (region.cpu_hz() / (div * 440.0 * 2f64.powf((m as f64 - 69.0) / 12.0)) - 1.0).round() as u32
}

/// MIDI note of a timer, as NES-MDB decodes it: `round(69 + 12 log2(f / 440))`.
fn timer_midi(t: u32, div: f64, region: Region) -> u8 {
    let f = region.cpu_hz() / (div * (t + 1) as f64);
    (69.0 + 12.0 * (f / 440.0).log2()).round() as u8
}

/// The register value voice `v` must hold for score note `note`: the timer of the note (pulses
/// an octave up when it exceeds $7FF), or the noise period index `16 - note`.
fn expected_timer(v: Voice, note: u8, region: Region) -> u32 {
    match v {
        Voice::Pulse1 | Voice::Pulse2 => {
            let t = formula_timer(note, 16.0, region);
            let t = if t > 0x7FF {
                formula_timer(note + 12, 16.0, region)
            } else {
                t
            };
            // The timer decodes back to the note (or its octave) as NES-MDB reads logs.
            let back = timer_midi(t, 16.0, region);
            assert!(
                back == note || back == note + 12,
                "pulse {note} -> {t} -> {back}"
            );
            t
        }
        Voice::Triangle => formula_timer(note, 32.0, region),
        Voice::Noise => u32::from(16 - note),
    }
}
/// Output frame where each voice's current note started (for the instruments' envelopes).
fn note_starts(score: &Score, map: &FrameMap) -> Vec<[usize; 4]> {
    let mut cur = [0usize; 4];
    let mut out = Vec::with_capacity(score.len());
    for (i, f) in score.frames.iter().enumerate() {
        for v in 0..4 {
            let c = f[v];
            let new_after =
                |p: Option<&[Cell; 4]>| p.is_none_or(|p| p[v].is_rest() || p[v].note != c.note);
            let prev = if i == 0 {
                None
            } else {
                score.frames.get(i - 1)
            };
            if !c.is_rest()
                && (new_after(prev)
                    || (score.loop_frame == Some(i) && new_after(score.frames.last())))
            {
                cur[v] = map.start(i);
            }
        }
        out.push(cur);
    }
    out
}

/// Replays `stream` (once, then the loop twice when it loops) and checks every rule and every
/// sounding voice against `score`. Returns the number of output frames checked.
fn check_stream(score: &Score, stream: &ApuStream, region: Region, dynamics: Dynamics) -> usize {
    let map = FrameMap::new(score.rate, region);
    let n = score.len();
    let total = map.start(n);
    let name = &score.name;
    match score.loop_frame {
        None => assert_eq!(stream.len(), total + 1, "{name}: frames + end frame"),
        Some(l) => {
            assert_eq!(stream.len(), total, "{name}");
            assert_eq!(stream.loop_frame, Some(map.start(l)), "{name}: loop frame");
        }
    }
    // Init.
    assert_eq!(
        stream.init.first(),
        Some(&RegWrite::new(0x4017, 0x40)),
        "{name}"
    );
    for w in &stream.init {
        assert!((0x4000..=0x4017).contains(&w.addr), "{name}: init {w:?}");
    }
    let mut hw = Hw::power_on();
    for &w in &stream.init {
        hw.apply(w);
    }
    assert_eq!(hw.reg(0x4001), Some(0x08), "{name}: sweep 1 in init");
    assert_eq!(hw.reg(0x4005), Some(0x08), "{name}: sweep 2 in init");
    // Score frame of every output frame (None: the end frame).
    let mut owner = Vec::with_capacity(stream.len());
    for i in 0..n {
        owner.extend(std::iter::repeat_n(Some(i), map.frames_of(i)));
    }
    owner.resize(stream.len(), None);
    let starts = note_starts(score, &map);
    let inst = |v: Voice| Instrument::default_for(v);

    let mut useful: Vec<Vec<bool>> = stream.frames().map(|f| vec![false; f.len()]).collect();
    // The first pass, then the loop twice (its entry state after the first pass and after
    // itself can differ).
    let loop_start = stream.loop_frame.unwrap_or(stream.len());
    let runs = [
        0..stream.len(),
        loop_start..stream.len(),
        loop_start..stream.len(),
    ];
    let mut checked = 0;
    for run in runs {
        for j in run {
            // Fixed order: $4015 first, then the channels' registers in address order.
            let order: Vec<u16> = stream
                .frame(j)
                .iter()
                .map(|w| if w.addr == 0x4015 { 0 } else { w.addr })
                .collect();
            assert!(
                order.windows(2).all(|p| p[0] < p[1]),
                "{name} frame {j}: order {order:04X?}"
            );
            for (k, &w) in stream.frame(j).iter().enumerate() {
                assert!(
                    (0x4000..=0x4015).contains(&w.addr),
                    "{name} frame {j}: {w:?}"
                );
                assert!(
                    !matches!(w.addr, 0x4001 | 0x4005 | 0x4017),
                    "{name} frame {j}: {w:?} only at init"
                );
                if w.addr == 0x4015 {
                    assert!(
                        w.value & 0x04 != 0,
                        "{name} frame {j}: triangle disabled by $4015"
                    );
                }
                useful[j][k] |= hw.write_is_useful(w);
                hw.apply(w);
            }
            let cells = owner[j].map_or([Cell::REST; 4], |i| score.frames[i]);
            for v in Voice::ALL {
                let c = cells[v.index()];
                let got = hw.sounding(v);
                let ctx = || {
                    format!(
                        "{name}: output frame {j} (score frame {:?}) voice {}",
                        owner[j],
                        v.label()
                    )
                };
                match got {
                    None => assert!(c.is_rest(), "{}: silent, score has {c:?}", ctx()),
                    Some((timer, vol, timbre)) => {
                        assert!(!c.is_rest(), "{}: sounds {timer}, score rests", ctx());
                        assert_eq!(timer, expected_timer(v, c.note, region), "{}: pitch", ctx());
                        if v.has_velocity() {
                            let i = owner[j].expect("sounding in the end frame");
                            let want = match dynamics {
                                Dynamics::Score => (c.velocity, c.timbre),
                                Dynamics::Flat => (15, c.timbre),
                                Dynamics::Instruments => {
                                    (inst(v).volume_at(j - starts[i][v.index()]), inst(v).timbre)
                                }
                            };
                            assert_eq!(
                                (vol, timbre),
                                want,
                                "{}: volume, timbre ({dynamics:?})",
                                ctx()
                            );
                        }
                    }
                }
            }
            // $4015 holds exactly the sounding pulses and noise, plus the triangle.
            let want_enable = 4
                | (0..4)
                    .filter(|&v| v != 2 && !cells[v].is_rest())
                    .map(|v| 1u8 << v)
                    .sum::<u8>();
            assert_eq!(
                hw.reg(0x4015),
                Some(want_enable),
                "{name}: $4015 at frame {j}"
            );
            checked += 1;
        }
    }
    for (j, f) in useful.iter().enumerate() {
        for (k, ok) in f.iter().enumerate() {
            assert!(
                ok,
                "{name}: frame {j} write {:?} changes nothing / breaks a rule",
                stream.frame(j)[k]
            );
        }
    }
    checked
}

/// A random score: runs of notes and rests per voice, expressive values when asked.
fn random_score(rng: &mut StdRng, name: String, expressive: bool) -> Score {
    let rates = [24.0, 24.0, 24.0, 60.0, 30.0, 50.0, 12.5, 100.0];
    let rate = rates[rng.random_range(0..rates.len())];
    let n = rng.random_range(1..400);
    let mut score = Score::new(name, rate);
    score.expressive = expressive;
    score.frames = vec![[Cell::REST; 4]; n];
    for v in Voice::ALL {
        let (lo, hi) = v.note_range();
        let mut i = 0;
        while i < n {
            let len = rng.random_range(1..12).min(n - i);
            let rest = rng.random_bool(0.3);
            let mut note = if rest { 0 } else { rng.random_range(lo..=hi) };
            let mut timbre = rng.random_range(0..=v.max_timbre());
            for f in &mut score.frames[i..i + len] {
                if !rest && rng.random_bool(0.1) {
                    // A small pitch move inside the run (crosses timer high-bit boundaries).
                    note =
                        (note as i16 + rng.random_range(-2..=2)).clamp(lo as i16, hi as i16) as u8;
                }
                if expressive && rng.random_bool(0.2) {
                    timbre = rng.random_range(0..=v.max_timbre());
                }
                let velocity = if rest || !v.has_velocity() {
                    0
                } else if expressive {
                    rng.random_range(0..=15)
                } else {
                    15
                };
                let timbre = if expressive { timbre } else { 0 };
                f[v.index()] = Cell {
                    note,
                    velocity,
                    timbre,
                };
            }
            i += len;
        }
    }
    if rng.random_bool(0.4) {
        let map = FrameMap::new(rate, Region::Ntsc);
        let pal = FrameMap::new(rate, Region::Pal);
        let l = rng.random_range(0..n);
        if map.start(l) < map.start(n) && pal.start(l) < pal.start(n) {
            score.loop_frame = Some(l);
        }
    }
    score
}

#[test]
fn random_scores_replay_to_the_score() {
    let mut rng = StdRng::seed_from_u64(0x4E45_5300);
    let mut frames = 0;
    let mut loops = 0;
    for k in 0..300 {
        let expressive = k % 2 == 0;
        let score = random_score(&mut rng, format!("random{k}"), expressive);
        loops += usize::from(score.loop_frame.is_some());
        for region in [Region::Ntsc, Region::Pal] {
            for dynamics in [Dynamics::Instruments, Dynamics::Flat, Dynamics::Score] {
                let opts = CompileOptions {
                    region,
                    dynamics: Some(dynamics),
                };
                let stream = compile(&score, &opts).unwrap();
                frames += check_stream(&score, &stream, region, dynamics);
            }
        }
    }
    assert!(loops > 50, "{loops} looping scores");
    assert!(frames > 500_000, "{frames}");
}

#[test]
fn oracle_catches_broken_streams() {
    // The checker must reject a stream with a redundant write, a stray $4003 and a wrong pitch.
    let score = Score::from_notes("o", 24.0, &[[69, 0, 0, 0], [69, 0, 0, 0], [0; 4]]);
    let good = compile(&score, &CompileOptions::default()).unwrap();
    check_stream(&score, &good, Region::Ntsc, Dynamics::Instruments);
    let rebuild = |edit: &dyn Fn(usize, &mut Vec<RegWrite>)| {
        let mut s = ApuStream::new("o", Region::Ntsc);
        s.init = good.init.clone();
        for (j, f) in good.frames().enumerate() {
            let mut f = f.to_vec();
            edit(j, &mut f);
            s.push_frame(&f);
        }
        s
    };
    let bad = [
        rebuild(&|j, f| {
            if j == 3 {
                f.push(RegWrite::new(0x4002, 0xFD))
            }
        }),
        rebuild(&|j, f| {
            if j == 3 {
                f.push(RegWrite::new(0x4003, 0x08))
            }
        }),
        rebuild(&|j, f| {
            if j == 0 {
                f[2].value = 0xFC
            }
        }),
        rebuild(&|j, f| {
            if j == 5 {
                f.clear()
            }
        }),
    ];
    for (k, s) in bad.iter().enumerate() {
        let r = std::panic::catch_unwind(|| {
            check_stream(&score, s, Region::Ntsc, Dynamics::Instruments)
        });
        assert!(r.is_err(), "broken stream {k} passed");
    }
}

#[test]
fn out_of_range_values_are_errors_naming_the_cell() {
    let cases: [(usize, u8, u8, &str); 5] = [
        (0, 31, 15, "note 31"),
        (1, 109, 15, "note 109"),
        (2, 120, 0, "note 120"),
        (3, 17, 15, "note 17"),
        (0, 60, 16, "velocity 16"),
    ];
    for (v, note, velocity, what) in cases {
        let mut score = Score::from_notes("bad song", 24.0, &[[0; 4]; 5]);
        score.frames[3][v] = Cell {
            note,
            velocity,
            timbre: 0,
        };
        let e = compile(&score, &CompileOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
        let msg = e.to_string();
        let voice = Voice::ALL[v].label();
        assert!(
            msg.contains("bad song")
                && msg.contains("frame 3")
                && msg.contains(voice)
                && msg.contains(what),
            "{msg}"
        );
    }
    let mut s = Score::from_notes("r", 0.0, &[[0; 4]]);
    assert!(compile(&s, &CompileOptions::default())
        .unwrap_err()
        .to_string()
        .contains("frame rate"));
    s.rate = 24.0;
    s.loop_frame = Some(5);
    assert!(compile(&s, &CompileOptions::default())
        .unwrap_err()
        .to_string()
        .contains("loop frame 5"));
}

#[test]
fn ntsc_24hz_stream_length_and_low_note_fold() {
    let score = Score::from_notes("fold", 24.0, &[[32, 33, 21, 1]; 4]);
    let s = compile(&score, &CompileOptions::default()).unwrap();
    assert_eq!(s.len(), 10 + 1);
    check_stream(&score, &s, Region::Ntsc, Dynamics::Instruments);
    let pal = CompileOptions {
        region: Region::Pal,
        dynamics: None,
    };
    let s = compile(&score, &pal).unwrap();
    assert_eq!(s.region, Region::Pal);
    check_stream(&score, &s, Region::Pal, Dynamics::Instruments);
}

/// Checks every `step`-th song of an archive (with a loop added to every other one).
fn check_dataset(kind: ScoreKind, step: usize) -> Option<(usize, usize)> {
    let Some(path) = nesmdb::archive_path(kind) else {
        skip::skip(format_args!(
            "NES-MDB not found at {:?} (set NESMDB_DIR)",
            nesmdb::data_dir()
        ));
        return None;
    };
    let (mut songs, mut frames, mut k) = (0, 0, 0usize);
    nesmdb::for_each_song(&path, &Split::ALL, |song| {
        k += 1;
        if k % step != 0 {
            return Ok(());
        }
        let mut score = song.score;
        for (region, dynamics) in [(Region::Ntsc, None), (Region::Pal, Some(Dynamics::Flat))] {
            let opts = CompileOptions { region, dynamics };
            let d = opts.dynamics_for(&score);
            frames += check_stream(&score, &compile(&score, &opts)?, region, d);
        }
        if songs % 2 == 0 && score.len() > 4 {
            score.loop_frame = Some(score.len() / 3);
            let opts = CompileOptions::default();
            frames += check_stream(
                &score,
                &compile(&score, &opts)?,
                Region::Ntsc,
                opts.dynamics_for(&score),
            );
        }
        songs += 1;
        Ok(())
    })
    .unwrap();
    Some((songs, frames))
}

#[test]
fn nesmdb_sample_replays_to_the_score() {
    if let Some((songs, frames)) = check_dataset(ScoreKind::Seprsco, 53) {
        eprintln!("seprsco: {songs} songs, {frames} output frames checked");
        assert!(songs >= 99, "{songs}");
    }
    if let Some((songs, frames)) = check_dataset(ScoreKind::Exprsco, 211) {
        eprintln!("exprsco: {songs} songs, {frames} output frames checked");
        assert!(songs >= 25, "{songs}");
    }
}

#[test]
#[ignore = "whole dataset (30 s in release): cargo test --release --test compile -- --ignored"]
fn nesmdb_every_song_replays_to_the_score() {
    for kind in [ScoreKind::Seprsco, ScoreKind::Exprsco] {
        if let Some((songs, frames)) = check_dataset(kind, 1) {
            eprintln!("{kind:?}: {songs} songs, {frames} output frames checked");
            assert_eq!(songs, 5278);
        }
    }
}
