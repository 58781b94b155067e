//! NTSC and PAL timing. See the nesdev wiki page "Cycle reference chart".

/// The console's TV system, which sets the CPU clock and the frame (NMI) rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Region {
    #[default]
    Ntsc,
    Pal,
}

impl Region {
    /// CPU clock in Hz: NTSC 21.477272 MHz / 12, PAL 26.601712 MHz / 16.
    pub fn cpu_hz(self) -> f64 {
        match self {
            Region::Ntsc => 1_789_772.727_272,
            Region::Pal => 1_662_607.0,
        }
    }

    /// CPU cycles per frame: 29,780.5 (NTSC, rendering off) and 33,247.5 (PAL).
    pub fn cycles_per_frame(self) -> f64 {
        match self {
            Region::Ntsc => 29_780.5,
            Region::Pal => 33_247.5,
        }
    }

    /// Frames (NMIs) per second: 60.0988 NTSC, 50.007 PAL.
    pub fn frame_hz(self) -> f64 {
        self.cpu_hz() / self.cycles_per_frame()
    }

    /// NSF play period in microseconds (header $6E / $78).
    pub fn nsf_play_us(self) -> u16 {
        match self {
            Region::Ntsc => 16_639,
            Region::Pal => 19_997,
        }
    }

    /// Lower-case name used in file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Region::Ntsc => "ntsc",
            Region::Pal => "pal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates() {
        assert!((Region::Ntsc.frame_hz() - 60.0988).abs() < 1e-3);
        assert!((Region::Pal.frame_hz() - 50.007).abs() < 1e-3);
    }
}
