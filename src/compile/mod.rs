//! The compiler: [`Score`] -> [`ApuStream`], hardware-safe and click-free.
//!
//! nesdev wiki pages "APU", "APU Pulse", "APU Triangle", "APU Noise", "APU Length Counter",
//! "APU Sweep", "APU Frame Counter".
//!
//! Files: [`period`] (note -> timer tables), [`timing`] (score frames -> 60/50 Hz frames),
//! [`instrument`] (volume and timbre: the default instruments), [`shadow`] (register shadow),
//! `compiler` (the frame loop).
//!
//! # Rules
//! * **Init** (`ApuStream::init`): `$4017 = $40` (4-step, IRQ off), `$4015 = $04` (pulses,
//!   noise, DMC off; triangle enabled), `$4010 = $00`, `$4011 = $00` (DMC quiet, level 0),
//!   `$4000/$4004 = $30 | duty << 6` (halt + constant volume 0), `$4001/$4005 = $08` (sweep off,
//!   negate: no sweep muting at high periods), `$4008 = $80` then `$400B = $08` (triangle silent
//!   through its linear counter, length loaded), `$400C = $30`.
//! * **Length counters** are halted everywhere and loaded (index 1) by the fourth register.
//! * **On / off**: pulses and noise sound while their `$4015` bit is set; the bit is set on the
//!   frame a voice starts after a rest and cleared on the frame it rests (NES-MDB's rule, and the
//!   only way a note with velocity 0 in an expressive score still counts as a note). Clearing a
//!   bit drops the output to 0 at once, exactly as volume 0 would, so it costs no click. The
//!   triangle's bit stays set from init on: it is started and stopped by `$4008` ($FF / $80),
//!   whose reload value the linear counter takes at each quarter frame (the reload flag is kept
//!   set by the control bit after the init `$400B` write), so its sequencer freezes in place
//!   instead of jumping to 0.
//! * **Fourth registers** `$4003/$4007` are written only when a note starts after a rest (to load
//!   the length counter) or when the timer's high 3 bits change (the write restarts the duty
//!   sequence, a click that a change of note masks; no sweep trick). A pitch change that keeps
//!   the high bits writes only the timer low register. `$400F` is written only at a note start;
//!   `$400B` at init and when the triangle's high bits change.
//! * **No redundant writes**: a shadow of every register skips writes that change nothing,
//!   except those deliberate fourth-register writes.
//! * **Order per frame**: `$4015`, pulse 1 `$4000 $4002 $4003`, pulse 2 `$4004 $4006 $4007`,
//!   triangle `$4008 $400A $400B`, noise `$400C $400E $400F`.
//! * **End**: a non-looping stream ends with one frame that silences every voice (`$4015 = $04`,
//!   `$4008 = $80`, each only if needed; it may be empty when the song ends in a rest).
//! * **Loop**: `score.loop_frame = Some(l)` gives `stream.loop_frame = Some(first output frame of
//!   l)`. That frame is compiled against the *merge* of the state after the frame before it and
//!   the state at the end of the stream: registers that differ are unknown and written, a voice
//!   that is silent in either is started with its full note start (`$4015` bit, fourth
//!   register), and the envelope restarts if the note starts after either predecessor. The end
//!   state depends on the loop frame's writes, so this is iterated to a fixed point (a few
//!   passes at most). The loop target frame is thus correct after frame l-1 and after the last
//!   frame.
//! * **Pitch**: [`period`]: NES-MDB's formula; NTSC pulse notes below MIDI 33 play an octave up.
//! * **Timing**: [`timing`]: exact ratio, 24 Hz -> 3,2,3,2 NTSC frames (0.16% fast), PAL with
//!   no drift.
//! * **Dynamics**: [`instrument`]: default instruments for seprsco scores, the score's own
//!   velocity and timbre for expressive ones, or flat volume 15.

mod compiler;
pub mod instrument;
pub mod period;
pub mod shadow;
mod songs;
pub mod timing;

pub use instrument::{Dynamics, Instrument};
pub use period::PeriodTable;
pub use shadow::ApuShadow;
pub use songs::{compile_song, compile_songs, LoopMode};
pub use timing::FrameMap;

use crate::apu_stream::ApuStream;
use crate::error::Result;
use crate::region::Region;
use crate::score::Score;

/// Options of [`compile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompileOptions {
    /// Console timing (NTSC default).
    pub region: Region,
    /// Volume and timbre policy; `None` picks [`Dynamics::auto`] from `Score::expressive`.
    pub dynamics: Option<Dynamics>,
}

impl CompileOptions {
    /// The dynamics used for `score`.
    pub fn dynamics_for(&self, score: &Score) -> Dynamics {
        self.dynamics
            .unwrap_or_else(|| Dynamics::auto(score.expressive))
    }
}

/// Compiles `score` to APU register writes. The score is validated first; the error names song,
/// frame, voice and value.
pub fn compile(score: &Score, opts: &CompileOptions) -> Result<ApuStream> {
    score.validate()?;
    compiler::compile_score(score, opts.region, opts.dynamics_for(score))
}
