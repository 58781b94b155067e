//! The preview page: one self-contained HTML file per build (or per album) that plays the song
//! and shows what it is made of.
//!
//! The page (template `templates/preview.html`) holds, per track: the title, an `<audio>`
//! element, the piano roll of the four voices as inline SVG (one `<rect class="note p1|p2|tr|no">`
//! per note of [`super::note_spans`], colours as in [`super::pianoroll::voice_colour`]), a
//! playhead that follows the audio (`timeupdate`, and `requestAnimationFrame` while playing;
//! clicking the roll seeks), per-voice statistics ([`super::voice_stats`]) and download links.
//! CSS and JS are inline; the page loads nothing from the network.
//!
//! The audio is either embedded as a `data:audio/wav;base64,...` URI or referenced as a file
//! beside the page ([`EmbedMode`]): `auto` embeds WAVs up to [`EMBED_AUTO_LIMIT`] bytes (about
//! 45 s of 44.1 kHz 16-bit mono), so a short song's page can be mailed alone, while a long
//! song's page stays small and plays the `.wav` next to it.
//!
//! The page checks itself: its script writes into `<div id="selftest">` the number of tracks,
//! the note marks per track (`data-marks`), each audio's duration once its metadata loaded
//! (`data-durations`) and any script error (`data-errors`), which the headless-browser test reads.

use super::pianoroll::{PianoRollOptions, RollLayout, NOISE_ROW_H, ROW_H};
use super::{note_name, note_spans, voice_stats};
use crate::error::{Error, Result};
use crate::score::{Score, Voice};
use askama::Template;
use std::fmt::Write as _;
use std::path::Path;

/// WAVs up to this many bytes are embedded by [`EmbedMode::Auto`].
pub const EMBED_AUTO_LIMIT: u64 = 4 * 1024 * 1024;

/// Whether the WAV goes inside the page or beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedMode {
    /// Embed when the WAV is at most [`EMBED_AUTO_LIMIT`] bytes, else link it.
    #[default]
    Auto,
    /// Always embed (the page is self-contained, about 4/3 of the WAV's size).
    Always,
    /// Always link the WAV file beside the page.
    Never,
}

impl std::str::FromStr for EmbedMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(EmbedMode::Auto),
            "always" => Ok(EmbedMode::Always),
            "never" => Ok(EmbedMode::Never),
            _ => Err(format!("'{s}' is not one of auto, always, never")),
        }
    }
}

/// The sound of a track on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Audio {
    /// No audio element.
    None,
    /// WAV bytes, embedded as a data: URI.
    Embedded(Vec<u8>),
    /// A URL relative to the page (already percent-encoded by [`href_for`]).
    Linked(String),
    /// Not rendered (too long for the preview): what the page says instead.
    Skipped(String),
}

impl Audio {
    /// The audio for `wav`, a file in `page_dir` or below it, chosen by `mode`.
    pub fn from_wav_file(wav: &Path, page_dir: &Path, mode: EmbedMode) -> Result<Audio> {
        let size = std::fs::metadata(wav).map_err(|e| Error::io(wav, e))?.len();
        let embed = match mode {
            EmbedMode::Always => true,
            EmbedMode::Never => false,
            EmbedMode::Auto => size <= EMBED_AUTO_LIMIT,
        };
        if embed {
            let bytes = crate::io::read_file(wav)?;
            if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
                return Err(Error::format(wav, "not a RIFF/WAVE file"));
            }
            Ok(Audio::Embedded(bytes))
        } else {
            Ok(Audio::Linked(relative_href(wav, page_dir)))
        }
    }
}

/// A link on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    /// What the user sees (`song.nes`).
    pub label: String,
    /// Percent-encoded URL relative to the page.
    pub href: String,
}

impl Download {
    /// A link to `file` from a page in `page_dir`, labelled with the file name.
    pub fn to_file(file: &Path, page_dir: &Path) -> Download {
        Download {
            label: file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            href: relative_href(file, page_dir),
        }
    }
}

/// One track of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackPreview {
    pub title: String,
    pub score: Score,
    pub audio: Audio,
    /// Links to the build's files (`.nes`, `.nsf`, `.mid`, ...), in order.
    pub downloads: Vec<Download>,
}

/// Percent-encodes `s` for use as a path in a URL (keeps `/` and RFC 3986 unreserved bytes).
pub fn href_for(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `file`'s URL from a page in `page_dir`: the path below the folder when it is inside it,
/// else the path as given (absolute paths become `file://` URLs).
fn relative_href(file: &Path, page_dir: &Path) -> String {
    let rel = file.strip_prefix(page_dir).unwrap_or(file);
    let text: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if rel.is_absolute() {
        format!("file://{}", href_for(&rel.to_string_lossy()))
    } else {
        href_for(&text.join("/"))
    }
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct StatRow {
    class: &'static str,
    label: &'static str,
    notes: usize,
    range: String,
    sounding: String,
    changes: String,
}

struct TrackView {
    index: usize,
    title: String,
    duration_text: String,
    frames: usize,
    rate: f64,
    note_count: usize,
    audio_src: Option<String>,
    /// Why there is no audio, when it was skipped.
    audio_note: Option<String>,
    svg: String,
    stats: Vec<StatRow>,
    downloads: Vec<Download>,
}

#[derive(Template)]
#[template(path = "preview.html")]
struct PageTemplate {
    title: String,
    version: &'static str,
    tracks: Vec<TrackView>,
}

/// The piano roll of `score` as an SVG element (class `roll`), with one `<rect class="note ..">`
/// per note and a `<line class="playhead">`. Geometry as in the PNG ([`RollLayout`]).
pub fn roll_svg(score: &Score) -> String {
    let l = RollLayout::new(score, &PianoRollOptions::default());
    let top = l.pitch_top - 40;
    let (w, h) = (l.width, l.height - top);
    let y = |v: i64| v - top as i64;
    let pitch_h = (l.high_note - l.low_note + 1) as u32 * ROW_H;
    let noise_h = 16 * NOISE_ROW_H;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="roll" width="{w}" height="{h}" viewBox="0 0 {w} {h}" data-px-per-sec="{}" data-plot-x="{}">"#,
        l.px_per_sec, l.plot_x
    );
    let _ = write!(
        s,
        r#"<rect class="lane" x="{}" y="{}" width="{}" height="{pitch_h}"/><rect class="lane" x="{}" y="{}" width="{}" height="{noise_h}"/>"#,
        l.plot_x,
        y(l.pitch_top as i64),
        l.plot_w,
        l.plot_x,
        y(l.noise_top as i64),
        l.plot_w
    );
    // Time ticks every 5 s (every 30 s past 5 minutes), labelled in seconds.
    let secs = score.duration_secs();
    let step = if secs > 300.0 { 30 } else { 5 };
    let mut t = 0u64;
    while t as f64 <= secs {
        let x = l.x_of_secs(t as f64);
        let _ = write!(
            s,
            r#"<line class="tick" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text x="{x}" y="{}" text-anchor="middle">{t}s</text>"#,
            y(l.pitch_top as i64),
            y((l.noise_top + noise_h) as i64),
            y((l.noise_top + noise_h + 14) as i64)
        );
        t += step;
    }
    for note in (l.low_note..=l.high_note).filter(|n| n % 12 == 0) {
        let (rt, rh) = l.row_of(Voice::Pulse1, note);
        let ly = y(rt + rh);
        let _ = write!(
            s,
            r#"<line class="octave" x1="{}" x2="{}" y1="{ly}" y2="{ly}"/><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            l.plot_x,
            l.plot_x + l.plot_w,
            l.plot_x - 4,
            ly + 3,
            note_name(Voice::Pulse1, note)
        );
    }
    let _ = write!(
        s,
        r#"<text x="4" y="{}">NO</text>"#,
        y((l.noise_top + noise_h / 2 + 4) as i64)
    );
    let spans = note_spans(score);
    for voice in [Voice::Noise, Voice::Triangle, Voice::Pulse2, Voice::Pulse1] {
        for n in spans.iter().filter(|n| n.voice == voice) {
            let x0 = l.plot_x as f64 + n.start as f64 / score.rate * l.px_per_sec;
            let x1 = l.plot_x as f64 + n.end as f64 / score.rate * l.px_per_sec;
            let (rt, rh) = l.row_of(voice, n.note);
            let _ = write!(
                s,
                r#"<rect class="note {v}" data-voice="{v}" data-note="{}" x="{x0:.2}" y="{}" width="{:.2}" height="{rh}"/>"#,
                n.note,
                y(rt),
                (x1 - x0).max(1.0),
                v = voice.short_name()
            );
        }
    }
    let _ = write!(
        s,
        r#"<line class="playhead" x1="{x}" x2="{x}" y1="{}" y2="{}"/></svg>"#,
        y(l.pitch_top as i64 - 4),
        y((l.noise_top + noise_h) as i64),
        x = l.plot_x
    );
    s
}

fn track_view(index: usize, t: &TrackPreview) -> TrackView {
    let secs = t.score.duration_secs();
    let stats = voice_stats(&t.score)
        .into_iter()
        .map(|v| StatRow {
            class: v.voice.short_name(),
            label: v.voice.label(),
            notes: v.notes,
            range: v.range.map_or("-".into(), |(lo, hi)| {
                format!("{}..{}", note_name(v.voice, lo), note_name(v.voice, hi))
            }),
            sounding: format!("{:.1}%", 100.0 * v.sounding_share),
            changes: format!("{:.2}", v.changes_per_sec),
        })
        .collect();
    TrackView {
        index,
        title: t.title.clone(),
        duration_text: format!("{}:{:04.1}", (secs / 60.0).floor() as u64, secs % 60.0),
        frames: t.score.len(),
        rate: t.score.rate,
        note_count: note_spans(&t.score).len(),
        audio_src: match &t.audio {
            Audio::None | Audio::Skipped(_) => None,
            Audio::Embedded(wav) => Some(format!("data:audio/wav;base64,{}", base64(wav))),
            Audio::Linked(href) => Some(href.clone()),
        },
        audio_note: match &t.audio {
            Audio::Skipped(note) => Some(note.clone()),
            _ => None,
        },
        svg: roll_svg(&t.score),
        stats,
        downloads: t.downloads.clone(),
    }
}

/// One page holding every track (an album, an interpolation), titled after the first track
/// and the count.
pub fn render_album_page(tracks: &[TrackPreview]) -> String {
    let title = match tracks {
        [] => "nesmm preview (no tracks)".to_string(),
        [one] => one.title.clone(),
        [first, ..] => format!("{} and {} more", first.title, tracks.len() - 1),
    };
    render_page(&title, tracks)
}

/// The page of one build.
pub fn render_preview_page(track: &TrackPreview) -> String {
    render_album_page(std::slice::from_ref(track))
}

/// A page with an explicit title.
pub fn render_page(title: &str, tracks: &[TrackPreview]) -> String {
    let page = PageTemplate {
        title: title.to_string(),
        version: env!("CARGO_PKG_VERSION"),
        tracks: tracks
            .iter()
            .enumerate()
            .map(|(i, t)| track_view(i, t))
            .collect(),
    };
    // Rendering into a String fails only if a Display impl fails; ours (str, numbers) never do.
    page.render()
        .expect("rendering the preview template into a String cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let v = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in v {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn hrefs_are_percent_encoded_and_relative() {
        assert_eq!(href_for("a b#c?.wav"), "a%20b%23c%3F.wav");
        let d = Download::to_file(Path::new("/x/out/My Song.nes"), Path::new("/x/out"));
        assert_eq!(
            (d.label.as_str(), d.href.as_str()),
            ("My Song.nes", "My%20Song.nes")
        );
        assert_eq!(
            Download::to_file(Path::new("/y/s.nsf"), Path::new("/x")).href,
            "file:///y/s.nsf"
        );
    }

    #[test]
    fn page_escapes_titles_and_counts_marks() {
        let s = Score::from_notes("t", 24.0, &[[60, 0, 40, 3], [62, 0, 40, 3]]);
        let html = render_preview_page(&TrackPreview {
            title: "<b>&x</b>".into(),
            score: s,
            audio: Audio::None,
            downloads: vec![],
        });
        assert!(
            html.contains("&#60;b&#62;&#38;x&#60;/b&#62;")
                || html.contains("&lt;b&gt;&amp;x&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>&x</b>"));
        assert_eq!(html.matches("<rect class=\"note ").count(), 4);
        assert!(html.contains("data-notes=\"4\""));
        assert!(html.contains("(no audio)"));
    }
}
