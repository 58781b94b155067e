//! The preview page of a ROM build: one page with every track of the album, as `nesmm demo`
//! and `nesmm interpolate` write for theirs. Each track's audio is the stream the ROM plays,
//! rendered by the APU synth (so the page cannot differ from the ROM); it is embedded in the
//! page or written beside it following [`EmbedMode`], so an album of short songs is one self-contained file and a long album keeps
//! a small page with `.wav` files next to it. A track longer than [`PreviewAudio::max_seconds`]
//! is not rendered at all (2,000 s would be a 176 MB WAV): the page says so and shows the
//! command that renders it.

use super::preview::{
    render_album_page, render_page, Audio, Download, EmbedMode, TrackPreview, EMBED_AUTO_LIMIT,
};
use crate::apu_stream::ApuStream;
use crate::error::{Error, Result};
use crate::score::Score;
use crate::synth::{render, wav_bytes, RenderOptions};
use std::path::{Path, PathBuf};

/// Sample rate of the album page's audio.
pub const ALBUM_SAMPLE_RATE: u32 = 44_100;

/// Tracks longer than this many seconds get no preview audio unless asked (10 minutes: a
/// 53 MB WAV at [`ALBUM_SAMPLE_RATE`]).
pub const DEFAULT_PREVIEW_AUDIO_MAX_SECONDS: f64 = 600.0;

/// How the page gets its audio.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewAudio {
    pub embed: EmbedMode,
    /// Tracks longer than this (in seconds, as the ROM plays them) are not rendered.
    pub max_seconds: f64,
    /// Per track, the command that renders it in full, shown on the page when it is skipped
    /// (a track without one gets a generic note).
    pub render_commands: Vec<String>,
}

impl Default for PreviewAudio {
    fn default() -> Self {
        PreviewAudio {
            embed: EmbedMode::Auto,
            max_seconds: DEFAULT_PREVIEW_AUDIO_MAX_SECONDS,
            render_commands: Vec::new(),
        }
    }
}

/// A track whose audio was left out of the page for its length.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedAudio {
    /// Index of the track (0 = the first).
    pub track: usize,
    pub seconds: f64,
    /// What the page says about it.
    pub note: String,
}

/// A page and the WAV files it links to, not yet written.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumPage {
    /// Where the page goes: the ROM's path with `.html` (`roms/album.nes` -> `roms/album.html`).
    pub path: PathBuf,
    pub html: String,
    /// Linked audio: (path beside the page, WAV bytes), one per track that is not embedded.
    pub wavs: Vec<(PathBuf, Vec<u8>)>,
    /// Tracks too long for the preview's audio limit: not rendered.
    pub skipped: Vec<SkippedAudio>,
}

/// The WAV that track `index` (0 = the first) of the page for a ROM at `rom_path` links to:
/// `roms/album.nes` -> `roms/album-01.wav`, ...
pub fn linked_wav_path(rom_path: &Path, index: usize) -> PathBuf {
    let page = rom_path.with_extension("html");
    let stem = page
        .file_stem()
        .map_or_else(|| "album".into(), |s| s.to_string_lossy().into_owned());
    page_dir(&page).join(format!("{stem}-{:02}.wav", index + 1))
}

fn page_dir(page: &Path) -> PathBuf {
    match page.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The WAV of `stream` as album pages play it (mono, [`ALBUM_SAMPLE_RATE`]).
pub fn album_wav(stream: &ApuStream) -> Result<Vec<u8>> {
    let samples = render(
        stream,
        &RenderOptions {
            sample_rate: ALBUM_SAMPLE_RATE,
        },
    );
    wav_bytes(&samples, ALBUM_SAMPLE_RATE)
}

/// The page for a ROM at `rom_path` playing `streams` in order: each track's piano roll and
/// statistics from its score (`scores[i]`), its audio from `streams[i]`, the stream in the ROM.
/// The page is titled `title` when given, else after the first track and the count. Linked
/// WAVs are named after the page ([`linked_wav_path`]); tracks longer than `audio.max_seconds`
/// are not rendered ([`AlbumPage::skipped`]).
pub fn album_page(
    scores: &[Score],
    streams: &[ApuStream],
    rom_path: &Path,
    title: Option<&str>,
    audio: &PreviewAudio,
) -> Result<AlbumPage> {
    if scores.len() != streams.len() {
        return Err(Error::Unsupported(format!(
            "{}: {} scores for {} streams",
            rom_path.display(),
            scores.len(),
            streams.len()
        )));
    }
    let path = rom_path.with_extension("html");
    let page_dir = page_dir(&path);
    let mut skipped = Vec::new();
    let mut rendered = Vec::with_capacity(streams.len());
    for (i, stream) in streams.iter().enumerate() {
        let seconds = stream.duration_secs();
        if seconds > audio.max_seconds {
            let note = skipped_note(seconds, audio, i);
            skipped.push(SkippedAudio {
                track: i,
                seconds,
                note,
            });
            rendered.push(None);
            continue;
        }
        rendered.push(Some(album_wav(stream)?));
    }
    // One choice for the whole page, so that `auto` bounds the page's size, not each track's.
    let embedded = match audio.embed {
        EmbedMode::Always => true,
        EmbedMode::Never => false,
        EmbedMode::Auto => {
            rendered
                .iter()
                .flatten()
                .map(|w| w.len() as u64)
                .sum::<u64>()
                <= EMBED_AUTO_LIMIT
        }
    };
    let mut tracks = Vec::with_capacity(scores.len());
    let mut wavs = Vec::new();
    for (i, (score, wav)) in scores.iter().zip(rendered).enumerate() {
        let mut downloads = vec![Download::to_file(rom_path, &page_dir)];
        let audio = match wav {
            None => Audio::Skipped(
                skipped
                    .iter()
                    .find(|s| s.track == i)
                    .map(|s| s.note.clone())
                    .unwrap_or_default(),
            ),
            Some(wav) if embedded => Audio::Embedded(wav),
            Some(wav) => {
                let wav_path = linked_wav_path(rom_path, i);
                let link = Download::to_file(&wav_path, &page_dir);
                let audio = Audio::Linked(link.href.clone());
                downloads.push(link);
                wavs.push((wav_path, wav));
                audio
            }
        };
        tracks.push(TrackPreview {
            title: format!("{}. {}", i + 1, score.name),
            score: score.clone(),
            audio,
            downloads,
        });
    }
    let html = match title {
        Some(t) => render_page(t, &tracks),
        None => render_album_page(&tracks),
    };
    Ok(AlbumPage {
        path,
        html,
        wavs,
        skipped,
    })
}

/// What the page says instead of the audio of a track `seconds` long.
fn skipped_note(seconds: f64, audio: &PreviewAudio, track: usize) -> String {
    let how = match audio.render_commands.get(track) {
        Some(command) => format!("render it with: {command}"),
        None => "render it with `nesmm render`".to_string(),
    };
    format!(
        "Audio not rendered: {seconds:.0} s is over the preview's limit of {:.0} s \
         (--preview-audio-max-seconds); {how}",
        audio.max_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile_songs, LoopMode};
    use crate::region::Region;

    fn page_of(
        scores: &[Score],
        rom: &Path,
        region: Region,
        title: Option<&str>,
        audio: &PreviewAudio,
    ) -> AlbumPage {
        let streams = compile_songs(scores, region, LoopMode::AsScore).unwrap();
        album_page(scores, &streams, rom, title, audio).unwrap()
    }

    fn song(name: &str, frames: u32) -> Score {
        let notes: Vec<[u8; 4]> = (0..frames)
            .map(|f| {
                [
                    60 + (f / 6 % 5) as u8,
                    0,
                    40,
                    if f % 4 == 0 { 5 } else { 0 },
                ]
            })
            .collect();
        Score::from_notes(name, 24.0, &notes)
    }

    fn audio(embed: EmbedMode) -> PreviewAudio {
        PreviewAudio {
            embed,
            ..Default::default()
        }
    }

    #[test]
    fn every_track_is_on_the_page_with_its_audio() {
        let scores = [song("intro", 48), song("boss", 72)];
        let rom = Path::new("out/my album.nes");
        let page = page_of(&scores, rom, Region::Ntsc, None, &audio(EmbedMode::Never));
        assert_eq!(page.path, Path::new("out/my album.html"));
        let names: Vec<&Path> = page.wavs.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            names,
            [
                Path::new("out/my album-01.wav"),
                Path::new("out/my album-02.wav")
            ]
        );
        assert!(page.wavs.iter().all(|(_, w)| w.starts_with(b"RIFF")));
        // 3 s of NTSC audio is longer than 2 s: each track has its own rendering.
        assert!(page.wavs[1].1.len() > page.wavs[0].1.len());
        assert_eq!(page.html.matches("<section class=\"track\"").count(), 2);
        assert!(page.html.contains("src=\"my%20album-02.wav\""));
        assert!(page.html.contains("href=\"my%20album.nes\""));
        assert!(page.html.contains("<title>1. intro and 1 more</title>"));

        let page = page_of(
            &scores,
            rom,
            Region::Pal,
            Some("Mine"),
            &audio(EmbedMode::Auto),
        );
        assert!(page.wavs.is_empty(), "5 s in all: embedded");
        assert_eq!(page.html.matches("data:audio/wav;base64,").count(), 2);
        assert!(page.html.contains("<title>Mine</title>"));

        // 2 x 30 s is more than 4 MiB of WAV together (each alone is less): both linked.
        let long = [song("a", 720), song("b", 720)];
        let page = page_of(&long, rom, Region::Ntsc, None, &audio(EmbedMode::Auto));
        assert!(page
            .wavs
            .iter()
            .all(|(_, w)| (w.len() as u64) < EMBED_AUTO_LIMIT));
        assert_eq!(page.wavs.len(), 2);
        assert!(!page.html.contains("data:audio"));

        let streams = compile_songs(&long, Region::Ntsc, LoopMode::AsScore).unwrap();
        let e = album_page(
            &scores[..1],
            &streams,
            Path::new("x.nes"),
            None,
            &audio(EmbedMode::Never),
        )
        .unwrap_err();
        assert!(e.to_string().contains("1 scores for 2 streams"), "{e}");
    }

    #[test]
    fn tracks_over_the_audio_limit_are_not_rendered_and_the_page_says_how() {
        // 30 s and 3 s (NTSC) with a 10 s limit: the first is skipped, the second linked.
        let scores = [song("long one", 720), song("short", 72)];
        let rom = Path::new("out/x.nes");
        let audio = PreviewAudio {
            embed: EmbedMode::Never,
            max_seconds: 10.0,
            render_commands: vec!["nesmm render long.mid -o out/x-01.wav".into()],
        };
        let page = page_of(&scores, rom, Region::Ntsc, None, &audio);
        assert_eq!(page.skipped.len(), 1);
        assert_eq!(page.skipped[0].track, 0);
        assert!((page.skipped[0].seconds - 30.0).abs() < 0.1);
        let names: Vec<&Path> = page.wavs.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(names, [Path::new("out/x-02.wav")]);
        assert!(page
            .html
            .contains("limit of 10 s (--preview-audio-max-seconds)"));
        assert!(page.html.contains("nesmm render long.mid -o out/x-01.wav"));
        assert_eq!(page.html.matches("<audio").count(), 1);
        // Asked for: a limit above the length renders it.
        let audio = PreviewAudio {
            max_seconds: 31.0,
            ..audio
        };
        let page = page_of(&scores, rom, Region::Ntsc, None, &audio);
        assert!(page.skipped.is_empty());
        assert_eq!(page.wavs.len(), 2);
        assert_eq!(linked_wav_path(rom, 0), Path::new("out/x-01.wav"));
    }
}
