//! NSFe files: the NSF's program in chunks, with track titles and times. See the nesdev wiki
//! page "NSFe". We write INFO, DATA, BANK (banked data only), plst, time, tlbl, auth and NEND.

use crate::error::{Error, Result};
use crate::formats::nsf_file::{Nsf, NsfHeader};
use crate::region::Region;
use std::path::Path;

/// What an NSFe adds to an NSF: per-track titles and lengths, and the ripper/author line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsfe {
    /// The program and the header fields INFO/BANK/auth carry (the texts in full, UTF-8: the
    /// NSFe has no 31-character limit).
    pub nsf: Nsf,
    /// Track titles (`tlbl`), one per song.
    pub track_titles: Vec<String>,
    /// Track lengths in milliseconds (`time`), one per song.
    pub track_ms: Vec<i32>,
    /// Play order (`plst`), song indices from 0.
    pub playlist: Vec<u8>,
}

fn chunk(out: &mut Vec<u8>, id: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(data);
}

fn zstrings<'a>(out: &mut Vec<u8>, strings: impl IntoIterator<Item = &'a String>) {
    for s in strings {
        out.extend(s.bytes().filter(|&b| b != 0));
        out.push(0);
    }
}

impl Nsfe {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let h = &self.nsf.header;
        let n = h.song_count as usize;
        if self.track_titles.len() != n || self.track_ms.len() != n {
            return Err(Error::Unsupported(format!(
                "NSFe: {} songs but {} titles and {} times",
                n,
                self.track_titles.len(),
                self.track_ms.len()
            )));
        }
        let mut out = b"NSFE".to_vec();
        let mut info = Vec::with_capacity(10);
        for a in [h.load_addr, h.init_addr, h.play_addr] {
            info.extend_from_slice(&a.to_le_bytes());
        }
        info.push(match h.region {
            Region::Ntsc => 0,
            Region::Pal => 1,
        });
        info.extend_from_slice(&[h.expansion, h.song_count, h.first_song.saturating_sub(1)]);
        chunk(&mut out, b"INFO", &info);
        if h.is_banked() {
            chunk(&mut out, b"BANK", &h.banks);
        }
        if !self.playlist.is_empty() {
            chunk(&mut out, b"plst", &self.playlist);
        }
        let times: Vec<u8> = self.track_ms.iter().flat_map(|t| t.to_le_bytes()).collect();
        chunk(&mut out, b"time", &times);
        let mut tlbl = Vec::new();
        zstrings(&mut tlbl, &self.track_titles);
        chunk(&mut out, b"tlbl", &tlbl);
        let mut auth = Vec::new();
        zstrings(
            &mut auth,
            [&h.title, &h.artist, &h.copyright, &"nesmm".to_string()],
        );
        chunk(&mut out, b"auth", &auth);
        chunk(&mut out, b"DATA", &self.nsf.data);
        chunk(&mut out, b"NEND", &[]);
        Ok(out)
    }

    /// Parses an NSFe file; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<Nsfe> {
        let bad = |what: String| Error::format(origin, what);
        if bytes.get(..4) != Some(b"NSFE".as_slice()) {
            return Err(bad("not an NSFe (no 'NSFE' magic)".into()));
        }
        let mut at = 4;
        let (mut info, mut data, mut banks) = (None, None, [0u8; 8]);
        let (mut titles, mut times, mut playlist, mut auth) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut ended = false;
        while at < bytes.len() {
            let head = bytes
                .get(at..at + 8)
                .ok_or_else(|| bad(format!("chunk header at byte {at} is truncated")))?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let id = [head[4], head[5], head[6], head[7]];
            let body = bytes.get(at + 8..at + 8 + len).ok_or_else(|| {
                bad(format!(
                    "chunk '{}' at byte {at} claims {len} bytes; the file ends first",
                    String::from_utf8_lossy(&id)
                ))
            })?;
            at += 8 + len;
            match &id {
                b"INFO" => {
                    if body.len() < 9 {
                        return Err(bad(format!("INFO chunk is {} bytes, needs 9", body.len())));
                    }
                    info = Some(body.to_vec());
                }
                b"DATA" => {
                    if info.is_none() {
                        return Err(bad("DATA chunk comes before INFO".into()));
                    }
                    data = Some(body.to_vec());
                }
                b"BANK" => {
                    let n = body.len().min(8);
                    banks[..n].copy_from_slice(&body[..n]);
                }
                b"plst" => playlist = body.to_vec(),
                b"time" => {
                    times = body
                        .chunks_exact(4)
                        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                }
                b"tlbl" => titles = split_zstrings(body),
                b"auth" => auth = split_zstrings(body),
                b"NEND" => {
                    ended = true;
                    break;
                }
                // An upper-case first letter marks a chunk a player must understand: the file is
                // valid, just newer than this reader, so it is "not supported", not "damaged".
                id if id[0].is_ascii_uppercase() => {
                    return Err(Error::Unsupported(format!(
                        "{}: NSFe chunk '{}' at byte {} is mandatory and nesmm does not read it \
                         (it reads INFO, DATA, BANK, NEND and the optional plst, time, tlbl, auth)",
                        origin.display(),
                        String::from_utf8_lossy(id),
                        at - 8 - len
                    )))
                }
                _ => {}
            }
        }
        if !ended {
            return Err(bad("no NEND chunk: the file is truncated".into()));
        }
        let info = info.ok_or_else(|| bad("no INFO chunk".into()))?;
        let data = data.ok_or_else(|| bad("no DATA chunk".into()))?;
        let u16_at = |i: usize| u16::from_le_bytes([info[i], info[i + 1]]);
        let text = |i: usize| auth.get(i).cloned().unwrap_or_default();
        let song_count = info[8];
        let header = NsfHeader {
            version: 1,
            song_count,
            first_song: info.get(9).copied().unwrap_or(0).saturating_add(1),
            load_addr: u16_at(0),
            init_addr: u16_at(2),
            play_addr: u16_at(4),
            title: text(0),
            artist: text(1),
            copyright: text(2),
            ntsc_speed_us: Region::Ntsc.nsf_play_us(),
            banks,
            pal_speed_us: Region::Pal.nsf_play_us(),
            region: if info[6] & 1 == 1 {
                Region::Pal
            } else {
                Region::Ntsc
            },
            expansion: info[7],
        };
        if song_count == 0 {
            return Err(bad("INFO says 0 songs".into()));
        }
        Ok(Nsfe {
            nsf: Nsf { header, data },
            track_titles: titles,
            track_ms: times,
            playlist,
        })
    }
}

fn split_zstrings(body: &[u8]) -> Vec<String> {
    let body = body.strip_suffix(&[0]).unwrap_or(body);
    body.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(banked: bool) -> Nsfe {
        Nsfe {
            nsf: Nsf {
                header: NsfHeader {
                    version: 1,
                    song_count: 2,
                    first_song: 1,
                    load_addr: 0x8000,
                    init_addr: 0x8010,
                    play_addr: 0x8020,
                    title: "Album".into(),
                    artist: "Me".into(),
                    copyright: "2026".into(),
                    ntsc_speed_us: Region::Ntsc.nsf_play_us(),
                    banks: if banked {
                        [0, 1, 2, 3, 4, 5, 6, 7]
                    } else {
                        [0; 8]
                    },
                    pal_speed_us: Region::Pal.nsf_play_us(),
                    region: Region::Ntsc,
                    expansion: 0,
                },
                data: vec![1, 2, 3],
            },
            track_titles: vec!["One".into(), "Two".into()],
            track_ms: vec![61_000, 1_500],
            playlist: vec![0, 1],
        }
    }

    #[test]
    fn chunks_round_trip() {
        for banked in [false, true] {
            let f = sample(banked);
            let bytes = f.to_bytes().unwrap();
            assert_eq!(&bytes[..4], b"NSFE");
            assert_eq!(&bytes[8..12], b"INFO");
            assert_eq!(&bytes[bytes.len() - 4..], b"NEND");
            assert_eq!(
                bytes.windows(4).any(|w| w == b"BANK"),
                banked,
                "BANK only when banked"
            );
            assert_eq!(Nsfe::parse(&bytes, Path::new("a.nsfe")).unwrap(), f);
        }
    }

    #[test]
    fn truncated_or_foreign_files_are_errors() {
        let bytes = sample(false).to_bytes().unwrap();
        for cut in [3, 10, 20, bytes.len() - 8] {
            let e = Nsfe::parse(&bytes[..cut], Path::new("t.nsfe")).unwrap_err();
            assert!(e.to_string().contains("t.nsfe"), "{e}");
        }
        let mut unknown = bytes[..4].to_vec();
        unknown.extend_from_slice(&[0, 0, 0, 0]);
        unknown.extend_from_slice(b"ZZZZ");
        let e = Nsfe::parse(&unknown, Path::new("u.nsfe")).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
        assert!(e.to_string().contains("u.nsfe") && e.to_string().contains("'ZZZZ' at byte 4"));
        // Lower case means optional: skipped, so the error is the missing chunks that follow.
        let mut optional = bytes.clone();
        optional[8..12].copy_from_slice(b"zzzz");
        assert!(matches!(
            Nsfe::parse(&optional, Path::new("o.nsfe")),
            Err(Error::Format { .. })
        ));
        let mut mismatched = sample(false);
        mismatched.track_ms.pop();
        assert!(mismatched.to_bytes().is_err());
    }
}
