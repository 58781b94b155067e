//! What the compiler knows about the APU's registers between frames.
//!
//! nesdev wiki page "APU" (register map) and "APU Length Counter".
//!
//! The shadow holds the last value written to each register $4000-$4017 (`None` when it is not
//! known: never written, or different between the two ways the loop target frame can be
//! reached), and whether each channel's length counter is loaded (a pulse, triangle or noise
//! channel only sounds while it is). A write that leaves the shadow unchanged changes nothing on
//! the hardware and is skipped, except the deliberate note-start writes to the fourth register.

use crate::apu_stream::RegWrite;

/// Number of APU registers, $4000..=$4017.
pub const REG_COUNT: usize = 0x18;

/// `$4015` bit and fourth ("length / timer high") register of each of the four tone channels.
pub const LENGTH_REGS: [u16; 4] = [0x4003, 0x4007, 0x400B, 0x400F];

/// Register shadow: the compiler's knowledge of the APU state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApuShadow {
    regs: [Option<u8>; REG_COUNT],
    /// Per channel (pulse 1, pulse 2, triangle, noise): whether the length counter is loaded.
    loaded: [Option<bool>; 4],
}

impl ApuShadow {
    /// Nothing known: the state at power-on or reset as far as a player can tell.
    pub fn unknown() -> ApuShadow {
        ApuShadow {
            regs: [None; REG_COUNT],
            loaded: [None; 4],
        }
    }

    /// Last value written to `addr`, if known.
    pub fn get(&self, addr: u16) -> Option<u8> {
        self.regs
            .get(usize::from(addr.wrapping_sub(0x4000)))
            .copied()
            .flatten()
    }

    /// Whether channel `ch`'s (0..4) length counter is loaded, if known.
    pub fn loaded(&self, ch: usize) -> Option<bool> {
        self.loaded.get(ch).copied().flatten()
    }

    /// Records a write: `$4015` with a channel's bit clear zeroes its length counter; a write to
    /// a channel's fourth register loads it when the channel is enabled.
    pub fn apply(&mut self, w: RegWrite) {
        let Some(slot) = self.regs.get_mut(usize::from(w.addr.wrapping_sub(0x4000))) else {
            return;
        };
        *slot = Some(w.value);
        if w.addr == 0x4015 {
            for (ch, loaded) in self.loaded.iter_mut().enumerate() {
                if w.value & (1 << ch) == 0 {
                    *loaded = Some(false);
                }
            }
        } else if let Some(ch) = LENGTH_REGS.iter().position(|&a| a == w.addr) {
            self.loaded[ch] = match self.get(0x4015) {
                Some(en) if en & (1 << ch) != 0 => Some(true),
                Some(_) => self.loaded[ch],
                None => None,
            };
        }
    }

    /// The knowledge that holds whichever of `self` and `other` is the real state: values that
    /// agree stay known, the rest become unknown.
    pub fn merge(&self, other: &ApuShadow) -> ApuShadow {
        let mut m = *self;
        for (a, b) in m.regs.iter_mut().zip(other.regs) {
            if *a != b {
                *a = None;
            }
        }
        for (a, b) in m.loaded.iter_mut().zip(other.loaded) {
            if *a != b {
                *a = None;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counter_tracking_and_merge() {
        let mut s = ApuShadow::unknown();
        s.apply(RegWrite::new(0x4015, 0x01));
        assert_eq!(
            s.loaded(0),
            None,
            "setting the bit keeps an unknown counter"
        );
        assert_eq!(s.loaded(1), Some(false));
        s.apply(RegWrite::new(0x4003, 0x08));
        assert_eq!(s.loaded(0), Some(true));
        s.apply(RegWrite::new(0x4007, 0x08));
        assert_eq!(s.loaded(1), Some(false), "pulse 2 is disabled: no load");
        let mut t = s;
        t.apply(RegWrite::new(0x4015, 0x00));
        assert_eq!(t.loaded(0), Some(false));
        let m = s.merge(&t);
        assert_eq!(m.loaded(0), None);
        assert_eq!(m.get(0x4015), None);
        assert_eq!(m.get(0x4003), Some(0x08));
        assert_eq!(s.get(0x4018), None);
    }
}
