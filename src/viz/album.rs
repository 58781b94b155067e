//! The preview page of a ROM build: one page with every track of the album, as `nesmm demo`
//! and `nesmm interpolate` write for theirs. Each track's audio is the stream the ROM plays,
//! rendered by the APU synth (so the page cannot differ from the ROM); it is embedded in the
//! page or written beside it following
//! [`EmbedMode`], so an album of short songs is one self-contained file and a long album keeps
//! a small page with `.wav` files next to it.

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

/// A page and the WAV files it links to, not yet written.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumPage {
    /// Where the page goes: the ROM's path with `.html` (`roms/album.nes` -> `roms/album.html`).
    pub path: PathBuf,
    pub html: String,
    /// Linked audio: (path beside the page, WAV bytes), one per track that is not embedded.
    pub wavs: Vec<(PathBuf, Vec<u8>)>,
}

/// The page for a ROM at `rom_path` playing `streams` in order: each track's piano roll and
/// statistics from its score (`scores[i]`), its audio from `streams[i]`, the stream in the ROM.
/// The page is titled `title` when given, else after the first track and the count. Linked
/// WAVs are named after the page: `album-01.wav`, `album-02.wav`, ...
pub fn album_page(
    scores: &[Score],
    streams: &[ApuStream],
    rom_path: &Path,
    title: Option<&str>,
    embed: EmbedMode,
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
    let page_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = path
        .file_stem()
        .map_or_else(|| "album".into(), |s| s.to_string_lossy().into_owned());
    let rendered = streams
        .iter()
        .map(|stream| {
            let samples = render(
                stream,
                &RenderOptions {
                    sample_rate: ALBUM_SAMPLE_RATE,
                },
            );
            wav_bytes(&samples, ALBUM_SAMPLE_RATE)
        })
        .collect::<Result<Vec<_>>>()?;
    // One choice for the whole page, so that `auto` bounds the page's size, not each track's.
    let embedded = match embed {
        EmbedMode::Always => true,
        EmbedMode::Never => false,
        EmbedMode::Auto => rendered.iter().map(|w| w.len() as u64).sum::<u64>() <= EMBED_AUTO_LIMIT,
    };
    let mut tracks = Vec::with_capacity(scores.len());
    let mut wavs = Vec::new();
    for (i, (score, wav)) in scores.iter().zip(rendered).enumerate() {
        let mut downloads = vec![Download::to_file(rom_path, &page_dir)];
        let audio = if embedded {
            Audio::Embedded(wav)
        } else {
            let wav_path = page_dir.join(format!("{stem}-{:02}.wav", i + 1));
            let link = Download::to_file(&wav_path, &page_dir);
            let audio = Audio::Linked(link.href.clone());
            downloads.push(link);
            wavs.push((wav_path, wav));
            audio
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
    Ok(AlbumPage { path, html, wavs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile_songs, LoopMode};
    use crate::region::Region;

    /// The page for `scores` compiled for `region`.
    fn page_of(
        scores: &[Score],
        region: Region,
        title: Option<&str>,
        embed: EmbedMode,
    ) -> AlbumPage {
        let streams = compile_songs(scores, region, LoopMode::AsScore).unwrap();
        album_page(
            scores,
            &streams,
            Path::new("out/my album.nes"),
            title,
            embed,
        )
        .unwrap()
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

    #[test]
    fn every_track_is_on_the_page_with_its_audio() {
        let scores = [song("intro", 48), song("boss", 72)];
        let page = page_of(&scores, Region::Ntsc, None, EmbedMode::Never);
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

        let page = page_of(&scores, Region::Pal, Some("Mine"), EmbedMode::Auto);
        assert!(page.wavs.is_empty(), "5 s in all: embedded");
        assert_eq!(page.html.matches("data:audio/wav;base64,").count(), 2);
        assert!(page.html.contains("<title>Mine</title>"));

        // 2 x 30 s is more than 4 MiB of WAV together (each alone is less): both linked.
        let long = [song("a", 720), song("b", 720)];
        let page = page_of(&long, Region::Ntsc, None, EmbedMode::Auto);
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
            EmbedMode::Never,
        )
        .unwrap_err();
        assert!(e.to_string().contains("1 scores for 2 streams"), "{e}");
    }
}
