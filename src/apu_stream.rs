//! The compiler's output and the builder's input: APU register writes, frame by frame.
//!
//! An [`ApuStream`] is what a playback routine must do: an init block once, then for each frame
//! (NMI) the ordered writes to $4000-$4017. It is the contract between the compiler, the synth,
//! the ROM/NSF player and the tests that run ROMs in an emulator: they compare streams write for
//! write. The text form (`frame addr=value ...`) is the same contract for other tools.

use crate::error::{Error, Result};
use crate::region::Region;
use std::fmt::Write as _;

/// One write to an APU register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegWrite {
    /// $4000..=$4017.
    pub addr: u16,
    pub value: u8,
}

impl RegWrite {
    pub fn new(addr: u16, value: u8) -> RegWrite {
        RegWrite { addr, value }
    }
}

/// Register writes per frame, stored flat (one allocation for the whole song).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApuStream {
    /// Song name.
    pub name: String,
    /// Timing the stream was compiled for.
    pub region: Region,
    /// Writes done once before the first frame.
    pub init: Vec<RegWrite>,
    /// All frames' writes, concatenated.
    writes: Vec<RegWrite>,
    /// `frame_ends[i]` is the end of frame i's writes in `writes`.
    frame_ends: Vec<u32>,
    /// Frame the player jumps back to after the last frame; `None` stops (silences) at the end.
    pub loop_frame: Option<usize>,
}

impl ApuStream {
    /// An empty stream.
    pub fn new(name: impl Into<String>, region: Region) -> ApuStream {
        ApuStream {
            name: name.into(),
            region,
            ..Default::default()
        }
    }

    /// Appends a frame holding `writes`.
    pub fn push_frame(&mut self, writes: &[RegWrite]) {
        self.writes.extend_from_slice(writes);
        self.frame_ends.push(self.writes.len() as u32);
    }

    /// Starts a new empty frame; [`ApuStream::push_write`] adds to it.
    pub fn begin_frame(&mut self) {
        self.frame_ends.push(self.writes.len() as u32);
    }

    /// Adds a write to the last frame begun.
    pub fn push_write(&mut self, w: RegWrite) {
        self.writes.push(w);
        if let Some(end) = self.frame_ends.last_mut() {
            *end = self.writes.len() as u32;
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frame_ends.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frame_ends.is_empty()
    }

    /// The writes of frame `i`, in order.
    pub fn frame(&self, i: usize) -> &[RegWrite] {
        let start = if i == 0 {
            0
        } else {
            self.frame_ends[i - 1] as usize
        };
        &self.writes[start..self.frame_ends[i] as usize]
    }

    /// Iterates frames in order.
    pub fn frames(&self) -> impl Iterator<Item = &[RegWrite]> + '_ {
        (0..self.len()).map(move |i| self.frame(i))
    }

    /// Total writes over all frames (not counting init).
    pub fn write_count(&self) -> usize {
        self.writes.len()
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.len() as f64 / self.region.frame_hz()
    }

    /// The text form: a header comment, `init addr=value ...`, then one line per frame,
    /// `frame addr=value ...` with the frame number in decimal, addresses as `$40xx` and values
    /// as `$xx`.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.writes.len() * 10 + self.len() * 6);
        let _ = writeln!(
            s,
            "# nesmm apu stream: {} {} frames {} loop {}",
            self.name.replace('\n', " "),
            self.region.name(),
            self.len(),
            self.loop_frame
                .map_or("none".to_string(), |l| l.to_string())
        );
        s.push_str("init");
        for w in &self.init {
            let _ = write!(s, " ${:04X}=${:02X}", w.addr, w.value);
        }
        s.push('\n');
        for (i, f) in self.frames().enumerate() {
            let _ = write!(s, "{i}");
            for w in f {
                let _ = write!(s, " ${:04X}=${:02X}", w.addr, w.value);
            }
            s.push('\n');
        }
        s
    }

    /// Parses [`ApuStream::to_text`] output. `origin` names the source in errors.
    pub fn from_text(text: &str, origin: &str) -> Result<ApuStream> {
        let bad =
            |line: usize, what: String| Error::format(origin, format!("line {}: {what}", line + 1));
        let mut st = ApuStream::default();
        let mut saw_header = false;
        for (ln, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(h) = line.strip_prefix("# nesmm apu stream:") {
                let parts: Vec<&str> = h.split_whitespace().collect();
                // name may contain spaces: the last five tokens are region, "frames", n, "loop", l.
                if parts.len() < 5 {
                    return Err(bad(ln, "malformed header".into()));
                }
                let n = parts.len();
                st.name = parts[..n - 5].join(" ");
                st.region = match parts[n - 5] {
                    "ntsc" => Region::Ntsc,
                    "pal" => Region::Pal,
                    r => return Err(bad(ln, format!("unknown region '{r}'"))),
                };
                st.loop_frame = match parts[n - 1] {
                    "none" => None,
                    l => Some(
                        l.parse()
                            .map_err(|_| bad(ln, format!("bad loop frame '{l}'")))?,
                    ),
                };
                saw_header = true;
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let mut tokens = line.split_whitespace();
            let head = tokens.next().unwrap_or_default();
            let mut writes = Vec::new();
            for t in tokens {
                let (a, v) = t
                    .split_once('=')
                    .ok_or_else(|| bad(ln, format!("'{t}' is not addr=value")))?;
                let a = u16::from_str_radix(a.trim_start_matches('$'), 16)
                    .map_err(|_| bad(ln, format!("bad address '{a}'")))?;
                let v = u8::from_str_radix(v.trim_start_matches('$'), 16)
                    .map_err(|_| bad(ln, format!("bad value '{v}'")))?;
                if !(0x4000..=0x4017).contains(&a) {
                    return Err(bad(ln, format!("address ${a:04X} is not an APU register")));
                }
                writes.push(RegWrite::new(a, v));
            }
            if head == "init" {
                st.init = writes;
            } else {
                let i: usize = head
                    .parse()
                    .map_err(|_| bad(ln, format!("'{head}' is not a frame number")))?;
                if i != st.len() {
                    return Err(bad(
                        ln,
                        format!("frame {i} out of order (expected {})", st.len()),
                    ));
                }
                st.push_frame(&writes);
            }
        }
        if !saw_header {
            return Err(Error::format(
                origin,
                "not an nesmm stream dump (no '# nesmm apu stream' header)",
            ));
        }
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let mut s = ApuStream::new("a song", Region::Pal);
        s.init = vec![RegWrite::new(0x4017, 0x40)];
        s.push_frame(&[RegWrite::new(0x4000, 0x3F), RegWrite::new(0x4002, 0xFD)]);
        s.push_frame(&[]);
        s.begin_frame();
        s.push_write(RegWrite::new(0x4015, 0x0F));
        s.loop_frame = Some(1);
        let t = s.to_text();
        assert!(
            t.contains("\n0 $4000=$3F $4002=$FD\n1\n2 $4015=$0F\n"),
            "{t}"
        );
        assert_eq!(ApuStream::from_text(&t, "x").unwrap(), s);
        assert!(ApuStream::from_text("0 $5000=$00", "x").is_err());
    }
}
