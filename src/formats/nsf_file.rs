//! NSF files: the 128-byte header and the program data after it. See the nesdev wiki page
//! "NSF" (<https://www.nesdev.org/wiki/NSF>). Read by the NSF importer and written by the NSF
//! builder ([`crate::rom::nsf`]).

use crate::error::{Error, Result};
use crate::region::Region;
use std::path::Path;

/// Size of the NSF header.
pub const HEADER_SIZE: usize = 0x80;
/// Size of one NSF bank ($5FF8-$5FFF select 4 KiB pages of $8000-$FFFF).
pub const BANK_SIZE: usize = 0x1000;
/// The longest title, artist or copyright string (32 bytes with the terminating zero).
pub const TEXT_MAX: usize = 31;

/// The fields of an NSF header (version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsfHeader {
    /// `$05` version: 1.
    pub version: u8,
    /// `$06` number of songs, 1..=255.
    pub song_count: u8,
    /// `$07` song played first, 1-based.
    pub first_song: u8,
    /// `$08` where the data after the header is loaded.
    pub load_addr: u16,
    /// `$0A` INIT routine.
    pub init_addr: u16,
    /// `$0C` PLAY routine, called every `play_us`.
    pub play_addr: u16,
    /// `$0E`, `$2E`, `$4E`: 31 ASCII characters at most.
    pub title: String,
    pub artist: String,
    pub copyright: String,
    /// `$6E` NTSC play period in microseconds.
    pub ntsc_speed_us: u16,
    /// `$70-$77` initial banks for $8000-$FFFF; all zero when the file is not banked.
    pub banks: [u8; 8],
    /// `$78` PAL play period in microseconds.
    pub pal_speed_us: u16,
    /// `$7A` bit 0 PAL, bit 1 dual; we write NTSC-only or PAL-only.
    pub region: Region,
    /// `$7B` expansion sound chips (0: none).
    pub expansion: u8,
}

impl NsfHeader {
    /// Whether the file uses bank switching.
    pub fn is_banked(&self) -> bool {
        self.banks.iter().any(|&b| b != 0)
    }

    /// The 128 header bytes. Strings longer than [`TEXT_MAX`] or not ASCII are an error.
    pub fn to_bytes(&self) -> Result<[u8; HEADER_SIZE]> {
        let mut h = [0u8; HEADER_SIZE];
        h[..5].copy_from_slice(b"NESM\x1A");
        h[5] = self.version;
        h[6] = self.song_count;
        h[7] = self.first_song;
        if self.song_count == 0 || self.first_song == 0 || self.first_song > self.song_count {
            return Err(Error::Unsupported(format!(
                "NSF: first song {} of {} songs is out of range",
                self.first_song, self.song_count
            )));
        }
        put_u16(&mut h, 0x08, self.load_addr);
        put_u16(&mut h, 0x0A, self.init_addr);
        put_u16(&mut h, 0x0C, self.play_addr);
        for (at, what, s) in [
            (0x0E, "title", &self.title),
            (0x2E, "artist", &self.artist),
            (0x4E, "copyright", &self.copyright),
        ] {
            if s.len() > TEXT_MAX || !s.is_ascii() || s.contains('\0') {
                return Err(Error::Unsupported(format!(
                    "NSF {what} '{s}' must be at most {TEXT_MAX} ASCII characters"
                )));
            }
            h[at..at + s.len()].copy_from_slice(s.as_bytes());
        }
        put_u16(&mut h, 0x6E, self.ntsc_speed_us);
        h[0x70..0x78].copy_from_slice(&self.banks);
        put_u16(&mut h, 0x78, self.pal_speed_us);
        h[0x7A] = match self.region {
            Region::Ntsc => 0,
            Region::Pal => 1,
        };
        h[0x7B] = self.expansion;
        Ok(h)
    }

    /// Parses a header from the start of `bytes`; `origin` names the file in errors.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<NsfHeader> {
        let h = bytes.get(..HEADER_SIZE).ok_or_else(|| {
            Error::format(
                origin,
                format!(
                    "NSF truncated: {} bytes, the header alone is {HEADER_SIZE}",
                    bytes.len()
                ),
            )
        })?;
        if &h[..5] != b"NESM\x1A" {
            return Err(Error::format(origin, "not an NSF (no 'NESM\\x1A' magic)"));
        }
        let text = |at: usize| {
            let field = &h[at..at + 32];
            let end = field.iter().position(|&b| b == 0).unwrap_or(32);
            String::from_utf8_lossy(&field[..end]).into_owned()
        };
        let mut banks = [0u8; 8];
        banks.copy_from_slice(&h[0x70..0x78]);
        let region = match h[0x7A] & 3 {
            0 => Region::Ntsc,
            1 => Region::Pal,
            r => {
                return Err(Error::format(
                    origin,
                    format!("NSF region byte ${r:02X} (dual) is not supported"),
                ))
            }
        };
        let header = NsfHeader {
            version: h[5],
            song_count: h[6],
            first_song: h[7],
            load_addr: get_u16(h, 0x08),
            init_addr: get_u16(h, 0x0A),
            play_addr: get_u16(h, 0x0C),
            title: text(0x0E),
            artist: text(0x2E),
            copyright: text(0x4E),
            ntsc_speed_us: get_u16(h, 0x6E),
            banks,
            pal_speed_us: get_u16(h, 0x78),
            region,
            expansion: h[0x7B],
        };
        if header.song_count == 0 {
            return Err(Error::format(origin, "NSF holds no songs (song count 0)"));
        }
        if header.load_addr < 0x8000 && !header.is_banked() {
            return Err(Error::format(
                origin,
                format!("NSF load address ${:04X} is below $8000", header.load_addr),
            ));
        }
        Ok(header)
    }
}

/// An NSF file: header and program data (loaded at `header.load_addr`, or bank by bank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsf {
    pub header: NsfHeader,
    pub data: Vec<u8>,
}

impl Nsf {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(HEADER_SIZE + self.data.len());
        out.extend_from_slice(&self.header.to_bytes()?);
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    /// Parses a whole NSF file.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<Nsf> {
        let header = NsfHeader::parse(bytes, origin)?;
        let data = bytes[HEADER_SIZE..].to_vec();
        if data.is_empty() {
            return Err(Error::format(
                origin,
                "NSF has a header but no program data",
            ));
        }
        let room = if header.is_banked() {
            256 * BANK_SIZE
        } else {
            0x10000 - header.load_addr as usize
        };
        if data.len() > room {
            return Err(Error::format(
                origin,
                format!(
                    "NSF data is {} bytes; only {room} fit from ${:04X}",
                    data.len(),
                    header.load_addr
                ),
            ));
        }
        Ok(Nsf { header, data })
    }

    /// The byte the CPU reads at `addr` ($8000-$FFFF) with the initial banks, or `None` where
    /// no data is loaded.
    pub fn cpu_byte(&self, addr: u16) -> Option<u8> {
        if addr < 0x8000 {
            return None;
        }
        let load = self.header.load_addr as usize;
        let offset = if self.header.is_banked() {
            let slot = (addr as usize - 0x8000) / BANK_SIZE;
            let bank = self.header.banks[slot] as usize;
            // Bank 0 starts at the load address rounded down to 4 KiB.
            (bank * BANK_SIZE + (addr as usize % BANK_SIZE)).checked_sub(load % BANK_SIZE)?
        } else {
            (addr as usize).checked_sub(load)?
        };
        self.data.get(offset).copied()
    }
}

fn put_u16(h: &mut [u8], at: usize, v: u16) {
    h[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn get_u16(h: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([h[at], h[at + 1]])
}

/// Makes `s` fit an NSF text field: non-ASCII characters become `?`, at most [`TEXT_MAX`].
pub fn nsf_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii() && c != '\0' { c } else { '?' })
        .take(TEXT_MAX)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> NsfHeader {
        NsfHeader {
            version: 1,
            song_count: 3,
            first_song: 1,
            load_addr: 0x8000,
            init_addr: 0x8123,
            play_addr: 0x8456,
            title: "Album".into(),
            artist: "nesmm".into(),
            copyright: "2026".into(),
            ntsc_speed_us: Region::Ntsc.nsf_play_us(),
            banks: [0; 8],
            pal_speed_us: Region::Pal.nsf_play_us(),
            region: Region::Pal,
            expansion: 0,
        }
    }

    #[test]
    fn header_round_trips_at_the_documented_offsets() {
        let h = header();
        let b = h.to_bytes().unwrap();
        assert_eq!(&b[..5], b"NESM\x1A");
        assert_eq!(b[6], 3);
        assert_eq!(&b[0x0A..0x0C], &[0x23, 0x81]);
        assert_eq!(&b[0x0E..0x14], b"Album\0");
        assert_eq!(&b[0x6E..0x70], &16_639u16.to_le_bytes());
        assert_eq!(&b[0x78..0x7A], &19_997u16.to_le_bytes());
        assert_eq!(b[0x7A], 1);
        let nsf = Nsf {
            header: h.clone(),
            data: vec![0xEA; 10],
        };
        let back = Nsf::parse(&nsf.to_bytes().unwrap(), Path::new("x.nsf")).unwrap();
        assert_eq!(back, nsf);
        assert_eq!(back.cpu_byte(0x8009), Some(0xEA));
        assert_eq!(back.cpu_byte(0x800A), None);
    }

    #[test]
    fn bad_headers_are_errors_naming_the_file() {
        let bytes = Nsf {
            header: header(),
            data: vec![0; 4],
        }
        .to_bytes()
        .unwrap();
        let e = Nsf::parse(&bytes[..100], Path::new("cut.nsf")).unwrap_err();
        assert!(e.to_string().contains("cut.nsf"), "{e}");
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(Nsf::parse(&bad, Path::new("m.nsf")).is_err());
        let mut bad = bytes.clone();
        bad[6] = 0;
        assert!(Nsf::parse(&bad, Path::new("m.nsf")).is_err());
        assert!(Nsf::parse(&bytes[..HEADER_SIZE], Path::new("m.nsf")).is_err());
        let mut long = header();
        long.title = "x".repeat(32);
        assert!(long.to_bytes().is_err());
        assert_eq!(nsf_text(&"é".repeat(40)).len(), TEXT_MAX);
    }

    #[test]
    fn banked_reads_follow_the_bank_bytes() {
        let mut h = header();
        h.load_addr = 0x8000;
        h.banks = [0, 1, 2, 3, 4, 5, 6, 7];
        let mut data = vec![0u8; 9 * BANK_SIZE];
        data[8 * BANK_SIZE] = 0x42;
        data[7 * BANK_SIZE + 5] = 0x17;
        let nsf = Nsf { header: h, data };
        assert_eq!(nsf.cpu_byte(0xF005), Some(0x17));
        let mut swapped = nsf.clone();
        swapped.header.banks[7] = 8;
        assert_eq!(swapped.cpu_byte(0xF000), Some(0x42));
    }
}
