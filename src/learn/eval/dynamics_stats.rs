//! Dynamics statistics of expressive scores: how loud the pulses and the noise play, in which
//! duty and noise mode, and how a note's volume moves over its first [`ENVELOPE_FRAMES`]
//! frames (the shape a tracker instrument's volume macro gives it). Each is computed per song
//! on 24 Hz frames and reported as the mean over songs with its standard error, like
//! [`super::music_stats`]; the velocity and duty distributions are also pooled over all
//! sounding frames and compared with a reference set's by total variation distance.

use super::music_stats::{MeanSe, StatRows};
use crate::score::{Frame, Voice};
use serde::{Deserialize, Serialize};

/// Frames of each note whose velocities make its envelope.
pub const ENVELOPE_FRAMES: usize = 6;
/// The voices with a velocity, in table order.
const LOUD_VOICES: [Voice; 3] = [Voice::Pulse1, Voice::Pulse2, Voice::Noise];
/// Envelope groups: the pulses together, the noise.
const GROUPS: [(&str, &[Voice]); 2] = [
    ("pulses", &[Voice::Pulse1, Voice::Pulse2]),
    ("NO", &[Voice::Noise]),
];
/// Pulse duties as FamiTracker and the APU name them (`$4000` bits 7-6).
const DUTIES: [&str; 4] = ["12.5%", "25%", "50%", "75%"];

/// One song's figures.
struct SongDynamics {
    mean_velocity: [Option<f64>; 3],
    velocity_sd: [Option<f64>; 3],
    duty_share: [Option<f64>; 4],
    noise_mode_share: Option<f64>,
    envelope: [[Option<f64>; ENVELOPE_FRAMES]; 2],
    decaying: [Option<f64>; 2],
    velocity_counts: [[u64; 16]; 3],
    duty_counts: [u64; 4],
}

fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// The notes of `voice` that last at least [`ENVELOPE_FRAMES`]: their first velocities. A
/// note starts where the voice sounds another note than in the frame before.
fn envelopes(frames: &[Frame], voice: Voice) -> Vec<[u8; ENVELOPE_FRAMES]> {
    let v = voice.index();
    let mut out = Vec::new();
    let mut t = 0;
    while t < frames.len() {
        let note = frames[t][v].note;
        let onset = note != 0 && (t == 0 || frames[t - 1][v].note != note);
        if !onset {
            t += 1;
            continue;
        }
        let len = frames[t..].iter().take_while(|f| f[v].note == note).count();
        if len >= ENVELOPE_FRAMES {
            out.push(std::array::from_fn(|k| frames[t + k][v].velocity));
        }
        t += len;
    }
    out
}

fn song_dynamics(frames: &[Frame]) -> SongDynamics {
    let mut velocity_counts = [[0u64; 16]; 3];
    let mut duty_counts = [0u64; 4];
    let (mut noise_frames, mut noise_mode1) = (0u64, 0u64);
    let mut velocities: [Vec<f64>; 3] = Default::default();
    for f in frames {
        for (slot, voice) in LOUD_VOICES.iter().enumerate() {
            let c = f[voice.index()];
            if c.note == 0 {
                continue;
            }
            velocity_counts[slot][usize::from(c.velocity.min(15))] += 1;
            velocities[slot].push(f64::from(c.velocity));
            if *voice == Voice::Noise {
                noise_frames += 1;
                noise_mode1 += u64::from(c.timbre == 1);
            } else {
                duty_counts[usize::from(c.timbre.min(3))] += 1;
            }
        }
    }
    let sd = |x: &[f64]| {
        let m = mean(x)?;
        mean(&x.iter().map(|v| (v - m).powi(2)).collect::<Vec<_>>()).map(f64::sqrt)
    };
    let pulse_frames: u64 = duty_counts.iter().sum();
    let groups: Vec<Vec<[u8; ENVELOPE_FRAMES]>> = GROUPS
        .iter()
        .map(|(_, voices)| voices.iter().flat_map(|&v| envelopes(frames, v)).collect())
        .collect();
    SongDynamics {
        mean_velocity: std::array::from_fn(|i| mean(&velocities[i])),
        velocity_sd: std::array::from_fn(|i| sd(&velocities[i])),
        duty_share: std::array::from_fn(|d| {
            (pulse_frames > 0).then(|| duty_counts[d] as f64 / pulse_frames as f64)
        }),
        noise_mode_share: (noise_frames > 0).then(|| noise_mode1 as f64 / noise_frames as f64),
        envelope: std::array::from_fn(|g| {
            std::array::from_fn(|k| {
                mean(
                    &groups[g]
                        .iter()
                        .map(|e| f64::from(e[k]))
                        .collect::<Vec<_>>(),
                )
            })
        }),
        decaying: std::array::from_fn(|g| {
            let falls: Vec<f64> = groups[g]
                .iter()
                .map(|e| f64::from(u8::from(e[ENVELOPE_FRAMES - 1] < e[0])))
                .collect();
            mean(&falls)
        }),
        velocity_counts,
        duty_counts,
    }
}

/// The dynamics statistics of a set of songs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicsStats {
    pub songs: usize,
    /// Mean velocity of sounding frames, P1, P2, NO.
    pub mean_velocity: [MeanSe; 3],
    /// Standard deviation of the velocity within a song, P1, P2, NO.
    pub velocity_sd: [MeanSe; 3],
    /// Share of sounding pulse frames at each duty (12.5%, 25%, 50%, 75%).
    pub duty_share: [MeanSe; 4],
    /// Share of sounding noise frames in mode 1 (the short, metallic period).
    pub noise_mode_share: MeanSe,
    /// Mean velocity at frames 0..6 of the notes that last 6 frames or more: pulses, noise.
    pub envelope: [[MeanSe; ENVELOPE_FRAMES]; 2],
    /// Share of those notes quieter at frame 5 than at frame 0: pulses, noise.
    pub decaying: [MeanSe; 2],
    /// Sounding frames at each velocity 0..15, pooled over the songs: P1, P2, NO.
    pub velocity_counts: [[u64; 16]; 3],
    /// Sounding pulse frames at each duty, pooled.
    pub duty_counts: [u64; 4],
}

/// The dynamics statistics of `songs` (24 Hz frames of cells).
pub fn dynamics_stats(songs: &[Vec<Frame>]) -> DynamicsStats {
    let per: Vec<SongDynamics> = songs.iter().map(|s| song_dynamics(s)).collect();
    let of = |f: &dyn Fn(&SongDynamics) -> Option<f64>| MeanSe::of(per.iter().map(f));
    let mut velocity_counts = [[0u64; 16]; 3];
    let mut duty_counts = [0u64; 4];
    for s in &per {
        for (total, song) in velocity_counts.iter_mut().zip(&s.velocity_counts) {
            for (t, c) in total.iter_mut().zip(song) {
                *t += c;
            }
        }
        for (t, c) in duty_counts.iter_mut().zip(&s.duty_counts) {
            *t += c;
        }
    }
    DynamicsStats {
        songs: songs.len(),
        mean_velocity: std::array::from_fn(|i| of(&|s| s.mean_velocity[i])),
        velocity_sd: std::array::from_fn(|i| of(&|s| s.velocity_sd[i])),
        duty_share: std::array::from_fn(|d| of(&|s| s.duty_share[d])),
        noise_mode_share: of(&|s| s.noise_mode_share),
        envelope: std::array::from_fn(|g| std::array::from_fn(|k| of(&|s| s.envelope[g][k]))),
        decaying: std::array::from_fn(|g| of(&|s| s.decaying[g])),
        velocity_counts,
        duty_counts,
    }
}

/// Total variation distance between two histograms (0 = the same distribution, 1 = disjoint);
/// None when either is empty.
pub fn total_variation(a: &[u64], b: &[u64]) -> Option<f64> {
    let (sa, sb) = (a.iter().sum::<u64>(), b.iter().sum::<u64>());
    if sa == 0 || sb == 0 {
        return None;
    }
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 / sa as f64 - y as f64 / sb as f64).abs())
        .sum();
    Some(d / 2.0)
}

impl StatRows for DynamicsStats {
    fn songs(&self) -> usize {
        self.songs
    }

    fn rows(&self) -> Vec<(String, MeanSe, usize)> {
        let mut r = Vec::new();
        for (v, x) in LOUD_VOICES.iter().zip(self.mean_velocity) {
            r.push((format!("mean velocity {}", v.label()), x, 2));
        }
        for (v, x) in LOUD_VOICES.iter().zip(self.velocity_sd) {
            r.push((format!("velocity spread (SD) {}", v.label()), x, 2));
        }
        for (d, x) in DUTIES.iter().zip(self.duty_share) {
            r.push((format!("pulse duty {d} share"), x, 3));
        }
        r.push(("noise mode 1 share".to_string(), self.noise_mode_share, 3));
        for ((name, _), env) in GROUPS.iter().zip(&self.envelope) {
            for (k, x) in env.iter().enumerate() {
                r.push((format!("envelope {name}, frame {k}"), *x, 2));
            }
        }
        for ((name, _), x) in GROUPS.iter().zip(self.decaying) {
            r.push((format!("decaying notes {name}"), x, 3));
        }
        r
    }
}

/// Markdown lines giving, for each set after the first, the total variation distance of its
/// pooled velocity (P1, P2, NO) and duty distributions from the first set's.
pub fn distribution_distances(sets: &[(String, DynamicsStats)]) -> String {
    let Some((_, reference)) = sets.first() else {
        return String::new();
    };
    let fmt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    let mut s = String::from(
        "| set | velocity TV P1 | velocity TV P2 | velocity TV NO | duty TV |\n|---|---:|---:|---:|---:|\n",
    );
    for (name, st) in &sets[1..] {
        let v: Vec<String> = (0..3)
            .map(|i| {
                fmt(total_variation(
                    &st.velocity_counts[i],
                    &reference.velocity_counts[i],
                ))
            })
            .collect();
        s += &format!(
            "| {name} | {} | {} | {} | {} |\n",
            v[0],
            v[1],
            v[2],
            fmt(total_variation(&st.duty_counts, &reference.duty_counts))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Cell;

    /// A pulse note of `len` frames whose velocity falls from 15 by one a frame, at duty 2,
    /// with a noise hit every 4 frames at velocity 8, mode 1.
    fn song(notes: usize, len: usize) -> Vec<Frame> {
        let mut frames = Vec::new();
        for n in 0..notes {
            for k in 0..len {
                let mut f = [Cell::REST; 4];
                f[0] = Cell::new(60 + (n % 2) as u8, 15 - k.min(14) as u8, 2);
                if k % 4 == 0 {
                    f[3] = Cell::new(5, 8, 1);
                }
                frames.push(f);
            }
        }
        frames
    }

    #[test]
    fn envelopes_duties_and_distances_are_measured() {
        let st = dynamics_stats(&[song(10, 8), song(4, 8)]);
        assert_eq!(st.songs, 2);
        // Pulses: frames 0..5 of every note play 15, 14, ..., 10.
        for k in 0..ENVELOPE_FRAMES {
            assert_eq!(st.envelope[0][k].mean, 15.0 - k as f64);
        }
        assert_eq!(st.decaying[0].mean, 1.0);
        // Noise hits last one frame: no envelope.
        assert_eq!(st.envelope[1][0].n, 0);
        assert_eq!(st.duty_share[2].mean, 1.0);
        assert_eq!(st.noise_mode_share.mean, 1.0);
        assert_eq!(st.mean_velocity[2].mean, 8.0);
        assert_eq!(st.mean_velocity[1].n, 0);
        assert_eq!(st.velocity_counts[0].iter().sum::<u64>(), 14 * 8);
        // Short notes have no envelope; a louder flat song is far from the falling one.
        let flat: Vec<Frame> = (0..40)
            .map(|t| {
                let mut f = [Cell::REST; 4];
                f[0] = Cell::new(60 + (t / 2 % 2) as u8, 15, 0);
                f
            })
            .collect();
        let other = dynamics_stats(&[flat]);
        assert_eq!(other.envelope[0][0].n, 0);
        assert_eq!(
            total_variation(&st.duty_counts, &other.duty_counts),
            Some(1.0)
        );
        assert_eq!(total_variation(&st.duty_counts, &st.duty_counts), Some(0.0));
        let table = distribution_distances(&[("a".into(), st), ("b".into(), other)]);
        assert!(
            table.contains("| b |") && table.contains("| 1.000 |"),
            "{table}"
        );
    }
}
