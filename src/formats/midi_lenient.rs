//! Lenient reading of real-world MIDI files: a pre-pass that repairs what common MIDI libraries
//! tolerate, with a warning for each repair, before the strict parser of [`super::midi`] runs.
//!
//! * RIFF RMID (`.rmi`, or such a file named `.mid`): the Standard MIDI File inside its `data`
//!   chunk is read.
//! * A data byte above 0x7F inside a channel message (a controller value 0xFF, a program 0xD1)
//!   is clipped to 0x7F; the warning names the track and the byte's offset in the file.
//! * Running status survives meta and SysEx events (the specification cancels it there, many
//!   writers don't).
//! * A type-0 header declaring more than one track: every track is read and the tracks are
//!   merged (as type 1 is read), with a warning. A header declaring more tracks than the file
//!   holds: the tracks present are read, with a warning.
//!
//! midly (the MIDI crate in use) also reads non-strictly, but it cancels running status at meta
//! events, masks rather than clips, and says nothing about what it changed; hence this pre-pass.
//! What cannot be repaired (a message cut short by the end of its track, a data byte with no
//! status before it) is left for the strict parser, which names the track and offset.

use crate::error::{Error, Result};
use std::path::Path;

/// Warnings listed one by one; the rest are counted.
const LISTED: usize = 8;

/// A Standard MIDI File ready for the strict parser, and what was repaired.
pub struct Repaired {
    pub smf: Vec<u8>,
    pub warnings: Vec<String>,
}

/// Data bytes after a channel status byte.
fn data_len(status: u8) -> usize {
    match status & 0xF0 {
        0xC0 | 0xD0 => 1,
        _ => 2,
    }
}

/// A variable-length quantity at `d[*pos..]` (at most 4 bytes); `None` when cut short.
fn read_vlq(d: &[u8], pos: &mut usize) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..4 {
        let b = *d.get(*pos)?;
        *pos += 1;
        v = (v << 7) | (b & 0x7F) as u32;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The SMF inside a RIFF RMID file.
fn unwrap_rmid<'a>(bytes: &'a [u8], origin: &Path) -> Result<&'a [u8]> {
    let kind = bytes.get(8..12).unwrap_or_default();
    if kind != b"RMID" {
        return Err(Error::Unsupported(format!(
            "{}: a RIFF file of type '{}', not a RIFF MIDI (RMID); nesmm reads MIDI, bare or \
             in RMID",
            origin.display(),
            String::from_utf8_lossy(kind)
        )));
    }
    let mut at = 12;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let body = bytes.get(at + 8..).unwrap_or_default();
        if &head[..4] == b"data" {
            return body.get(..len).ok_or_else(|| {
                Error::format(
                    origin,
                    format!(
                        "RMID 'data' chunk at offset {at} claims {len} bytes but only {} remain",
                        body.len()
                    ),
                )
            });
        }
        at = at.saturating_add(8).saturating_add(len + (len & 1));
    }
    Err(Error::format(
        origin,
        "RIFF RMID file without a 'data' chunk: no MIDI inside",
    ))
}

/// Rewrites one track's events with explicit status bytes and clipped data bytes. `base` is
/// the track body's offset in the file. Stops copying verbatim at the first thing it cannot
/// repair, so the strict parser reports it.
fn repair_track(d: &[u8], base: usize, track: usize, warn: &mut Vec<String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.len() + d.len() / 4);
    let mut pos = 0;
    let mut running: Option<u8> = None;
    // Set by a meta or SysEx event; a running-status event after one is warned about once.
    let mut after_meta = false;
    let mut warned_running = false;
    while pos < d.len() {
        let start = pos;
        let verbatim = |out: &mut Vec<u8>| out.extend_from_slice(&d[start..]);
        let Some(_) = read_vlq(d, &mut pos) else {
            verbatim(&mut out);
            break;
        };
        let delta = &d[start..pos];
        let Some(&b) = d.get(pos) else {
            verbatim(&mut out);
            break;
        };
        match b {
            0xFF | 0xF0 | 0xF7 => {
                let mut end = pos + 1 + usize::from(b == 0xFF);
                let Some(len) = read_vlq(d, &mut end) else {
                    verbatim(&mut out);
                    break;
                };
                // A length past the track's end is cut by the strict parser, as before.
                let end = end.saturating_add(len as usize).min(d.len());
                out.extend_from_slice(&d[start..end]);
                pos = end;
                after_meta = running.is_some();
            }
            0x00..=0xEF => {
                let status = if b >= 0x80 {
                    pos += 1;
                    b
                } else if let Some(s) = running {
                    if after_meta && !warned_running {
                        warned_running = true;
                        warn.push(format!(
                            "warning: track {track}: running status 0x{s:02X} carried across a \
                             meta or SysEx event (offset {})",
                            base + pos
                        ));
                    }
                    s
                } else {
                    verbatim(&mut out);
                    break;
                };
                let n = data_len(status);
                let Some(data) = d.get(pos..pos + n) else {
                    verbatim(&mut out);
                    break;
                };
                running = Some(status);
                after_meta = false;
                out.extend_from_slice(delta);
                out.push(status);
                for (k, &v) in data.iter().enumerate() {
                    if v > 0x7F {
                        warn.push(format!(
                            "warning: track {track}: data byte 0x{v:02X} at offset {} clipped \
                             to 0x7F (status 0x{status:02X})",
                            base + pos + k
                        ));
                    }
                    out.push(v.min(0x7F));
                }
                pos += n;
            }
            _ => {
                verbatim(&mut out);
                break;
            }
        }
    }
    out
}

/// Repairs `bytes` (a MIDI file, bare or RMID) as the module documentation says.
pub fn repair(bytes: &[u8], origin: &Path) -> Result<Repaired> {
    let bytes = if bytes.starts_with(b"RIFF") {
        unwrap_rmid(bytes, origin)?
    } else {
        bytes
    };
    let mut warnings = Vec::new();
    let header_ok = bytes.len() >= 14 && bytes.starts_with(b"MThd");
    let hlen = if header_ok {
        u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize
    } else {
        0
    };
    if !header_ok || hlen < 6 || hlen > bytes.len() - 8 {
        // Not repairable here: the strict parser says what is wrong with the header.
        return Ok(Repaired {
            smf: bytes.to_vec(),
            warnings,
        });
    }
    let format = u16::from_be_bytes([bytes[8], bytes[9]]);
    let declared = u16::from_be_bytes([bytes[10], bytes[11]]) as usize;
    let mut out = bytes[..8 + hlen].to_vec();
    let mut pos = 8 + hlen;
    let mut found = 0usize;
    while found < declared {
        let Some(head) = bytes.get(pos..pos + 8) else {
            break;
        };
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let Some(body) = bytes.get(pos + 8..pos + 8 + len) else {
            // A chunk cut short: left for the strict parser's message.
            out.extend_from_slice(&bytes[pos..]);
            return Ok(Repaired { smf: out, warnings });
        };
        if &head[..4] == b"MTrk" {
            let fixed = repair_track(body, pos + 8, found, &mut warnings);
            out.extend_from_slice(b"MTrk");
            out.extend_from_slice(&(fixed.len() as u32).to_be_bytes());
            out.extend_from_slice(&fixed);
            found += 1;
        }
        pos += 8 + len;
    }
    if found < declared && found > 0 {
        warnings.push(format!(
            "warning: the header declares {declared} tracks but the file holds {found}; \
             reading those"
        ));
        out[10..12].copy_from_slice(&(found as u16).to_be_bytes());
    }
    if format == 0 && found > 1 {
        warnings.push(format!(
            "warning: a type-0 file with {found} tracks; their events are merged"
        ));
        out[8..10].copy_from_slice(&1u16.to_be_bytes());
    }
    if warnings.len() > LISTED + 1 {
        let more = warnings.len() - LISTED;
        warnings.truncate(LISTED);
        warnings.push(format!("warning: {more} more repairs like those"));
    }
    Ok(Repaired { smf: out, warnings })
}
