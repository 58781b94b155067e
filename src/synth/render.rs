//! Rendering a stream: init writes at cycle 0, frame i's writes at the start of frame i, the APU
//! clocked at the region's CPU clock, the mix band-limited and run through the output filters.

use crate::apu_stream::ApuStream;
use crate::region::Region;
use crate::synth::apu::{Apu, LevelSink};
use crate::synth::band_limited::BlipBuffer;
use crate::synth::filter::FilterChain;
use crate::synth::mixer::{pulse_out, tnd_out, MixTable};

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Output sample rate in Hz: 44100 or 48000 (any rate from 8000 to 192000 works).
    pub sample_rate: u32,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            sample_rate: 44_100,
        }
    }
}

/// CPU cycle at which frame `frame` starts: frame lengths (29,780.5 / 33,247.5 cycles) are
/// accumulated exactly, so there is no drift over a long song.
pub fn frame_start_cycle(region: Region, frame: usize) -> u64 {
    let double = (region.cycles_per_frame() * 2.0).round() as u64;
    frame as u64 * double / 2
}

/// Plays `stream` through `apu` into `sink`; returns the cycle the last frame ends on.
fn play(stream: &ApuStream, sink: &mut impl LevelSink) -> u64 {
    let mut apu = Apu::new(stream.region);
    for w in &stream.init {
        apu.write(w.addr, w.value, sink);
    }
    for (i, frame) in stream.frames().enumerate() {
        apu.run_to(frame_start_cycle(stream.region, i), sink);
        for w in frame {
            apu.write(w.addr, w.value, sink);
        }
    }
    let end = frame_start_cycle(stream.region, stream.len());
    apu.run_to(end, sink);
    end
}

/// Total CPU cycles `stream` lasts.
fn stream_cycles(stream: &ApuStream) -> u64 {
    frame_start_cycle(stream.region, stream.len())
}

/// The mixed output: the two non-linear DACs, one band-limited step per change of the mix.
struct MixSink {
    table: MixTable,
    levels: [f32; 4],
    pulse: f32,
    tnd: f32,
    blip: BlipBuffer,
}

impl LevelSink for MixSink {
    #[inline]
    fn level(&mut self, voice: usize, cycle: u64, level: f32) {
        if let Some(slot) = self.levels.get_mut(voice) {
            *slot = level;
        }
        if voice < 2 {
            let p = self.table.pulse(self.levels[0], self.levels[1]);
            self.blip.add_delta(cycle, p - self.pulse);
            self.pulse = p;
        } else {
            let t = self.table.tnd(self.levels[2], self.levels[3]);
            self.blip.add_delta(cycle, t - self.tnd);
            self.tnd = t;
        }
    }
}

/// Each voice on its own through its DAC.
struct VoiceSink {
    outs: [f32; 4],
    blips: [BlipBuffer; 4],
}

impl LevelSink for VoiceSink {
    #[inline]
    fn level(&mut self, voice: usize, cycle: u64, level: f32) {
        let out = match voice {
            0 | 1 => pulse_out(level, 0.0),
            2 => tnd_out(level, 0.0),
            _ => tnd_out(0.0, level),
        };
        if let (Some(blip), Some(last)) = (self.blips.get_mut(voice), self.outs.get_mut(voice)) {
            blip.add_delta(cycle, out - *last);
            *last = out;
        }
    }
}

/// Renders `stream` to mono samples at `opts.sample_rate`, as the console's audio output: the
/// non-linear mix of the four voices, band-limited, through the high-pass 90 Hz, high-pass 440 Hz
/// and low-pass 14 kHz filters. Values are in the mixer's units (the full mix of all voices at
/// volume 15 spans about 1.0), so they stay within -1..1; the length is the stream's duration
/// (the frames are played once: a loop is not repeated; after the last frame the sound stops).
/// A sample rate of 0 gives no samples.
pub fn render(stream: &ApuStream, opts: &RenderOptions) -> Vec<f32> {
    let cpu_hz = stream.region.cpu_hz();
    let levels = Apu::new(stream.region).voice_levels();
    let mut sink = MixSink {
        table: MixTable::default(),
        levels,
        pulse: pulse_out(levels[0], levels[1]),
        tnd: tnd_out(levels[2], levels[3]),
        blip: BlipBuffer::new(cpu_hz, opts.sample_rate, stream_cycles(stream)),
    };
    play(stream, &mut sink);
    let mut samples = sink.blip.finish();
    FilterChain::nes(f64::from(opts.sample_rate)).process(&mut samples);
    samples
}

/// Renders each voice alone (pulse 1, pulse 2, triangle, noise), each through its own DAC and
/// the same band limiting and filters as [`render`]: for level meters and tests. Because the
/// DACs are non-linear the four do not add up exactly to [`render`]'s mix.
pub fn render_voices(stream: &ApuStream, opts: &RenderOptions) -> [Vec<f32>; 4] {
    let cpu_hz = stream.region.cpu_hz();
    let cycles = stream_cycles(stream);
    let blip = BlipBuffer::new(cpu_hz, opts.sample_rate, cycles);
    let l = Apu::new(stream.region).voice_levels();
    let mut sink = VoiceSink {
        outs: [
            pulse_out(l[0], 0.0),
            pulse_out(l[1], 0.0),
            tnd_out(l[2], 0.0),
            tnd_out(0.0, l[3]),
        ],
        blips: [blip.clone(), blip.clone(), blip.clone(), blip],
    };
    play(stream, &mut sink);
    sink.blips.map(|b| {
        let mut samples = b.finish();
        FilterChain::nes(f64::from(opts.sample_rate)).process(&mut samples);
        samples
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apu_stream::RegWrite;

    #[test]
    fn frame_starts_accumulate_exactly() {
        assert_eq!(frame_start_cycle(Region::Ntsc, 1), 29780);
        assert_eq!(frame_start_cycle(Region::Ntsc, 2), 59561);
        assert_eq!(frame_start_cycle(Region::Pal, 2), 66495);
        assert_eq!(frame_start_cycle(Region::Ntsc, 3600), 3600 * 59561 / 2);
    }

    #[test]
    fn length_and_silence() {
        let mut s = ApuStream::new("t", Region::Ntsc);
        for _ in 0..60 {
            s.push_frame(&[]);
        }
        let out = render(&s, &RenderOptions::default());
        let expect = (frame_start_cycle(Region::Ntsc, 60) as f64 * 44_100.0 / Region::Ntsc.cpu_hz())
            .ceil() as usize;
        assert_eq!(out.len(), expect);
        assert!(out.iter().all(|&x| x == 0.0));
        s.init = vec![
            RegWrite::new(0x4015, 0x01),
            RegWrite::new(0x4000, 0xBF),
            RegWrite::new(0x4001, 0x08),
            RegWrite::new(0x4002, 0xFD),
            RegWrite::new(0x4003, 0x08),
        ];
        let out = render(
            &s,
            &RenderOptions {
                sample_rate: 48_000,
            },
        );
        let peak = out.iter().fold(0f32, |m, &x| m.max(x.abs()));
        assert!(peak > 0.05 && peak <= 1.0, "{peak}");
    }
}
