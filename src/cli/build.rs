//! `nesmm build`: score files -> a playable iNES ROM.

use super::info::load_song_with;
use anyhow::Context;
use clap::Args;
use nesmm::output_lock::OutputLock;
use nesmm::rom::{build_rom, BuildOptions};
use nesmm::viz::album::{album_page, linked_wav_path, PreviewAudio};
use nesmm::viz::preview::EmbedMode;
use std::path::PathBuf;

/// Build an iNES ROM (NROM, or UxROM when the songs need more than 32 KiB) that plays the songs.
/// Right and Left on controller 1 change songs.
#[derive(Args)]
#[command(
    long_about = "Build an iNES ROM (NROM, or UxROM when the songs need more than 32 KiB) that \
                  plays the songs; Right and Left on controller 1 change songs. Beside the ROM \
                  goes its preview page, NAME.html for NAME.nes: every song's piano roll, audio \
                  (rendered by nesmm's APU synth, embedded or as NAME-01.wav, ... beside it, see \
                  --embed), per-voice statistics and a download link.",
    after_help = "Example: nesmm build intro.mid level1.mid boss.mid -o roms/album.nes --title \"My Album\""
)]
pub struct BuildArgs {
    #[command(flatten)]
    pub input: super::song_inputs::SongsArgs,
    /// The ROM to write (e.g. roms/album.nes); it must end in .nes.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Album title stored in the ROM and shown on the page [default: nesmm in the ROM; the
    /// first song's name on the page].
    #[arg(long)]
    pub title: Option<String>,
    /// Put the songs' WAVs inside the page: auto (when together at most 4 MiB, about 45 s),
    /// always, never (write NAME-01.wav, ... beside it).
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub embed: String,
    /// Write no preview page.
    #[arg(long)]
    pub no_preview: bool,
    /// Songs longer than this get no audio on the preview page (render them with the command
    /// the page shows, or raise this): 600 s is a 53 MB WAV.
    #[arg(long, value_name = "SECONDS", default_value_t = nesmm::viz::album::DEFAULT_PREVIEW_AUDIO_MAX_SECONDS,
          value_parser = parse_audio_seconds)]
    pub preview_audio_max_seconds: f64,
    /// In an album, stay on a song that has ended instead of playing the next one (a single
    /// song always stays: it shows END).
    #[arg(long)]
    pub no_advance: bool,
    #[command(flatten)]
    pub import: super::import_args::ImportArgs,
}

/// The longest accepted `--preview-audio-max-seconds`: a day.
const MAX_PREVIEW_AUDIO_SECONDS: f64 = 86_400.0;

/// `--preview-audio-max-seconds`: a number of seconds in 1..=86400.
fn parse_audio_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (1.0..=MAX_PREVIEW_AUDIO_SECONDS).contains(&v) => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds in 1..={MAX_PREVIEW_AUDIO_SECONDS}"
        )),
    }
}

pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let region = args.input.region();
    let opts = BuildOptions {
        region,
        title: args.title.clone().unwrap_or_else(|| "nesmm".into()),
        force_uxrom: false,
        advance: !args.no_advance,
    };
    super::output_path::expect_extension(&args.output, "build", "an iNES ROM", &["nes"])?;
    super::output_path::refuse_input_as_output(&args.input.songs, &args.output)?;
    // One build at a time writes the ROM, its page and its WAVs, so they are of one album.
    let _lock = OutputLock::beside(&args.output, " (with its preview page and WAVs)")?;
    let songs = super::song_inputs::load_song_inputs(
        &args.input.songs,
        region,
        args.input.looping.mode(),
        &|p| load_song_with(p, &args.import),
    )?;
    // The ROM and its page play the very same streams.
    let streams: Vec<_> = songs.iter().map(|s| s.stream.clone()).collect();
    let rom = build_rom(&streams, &opts).map_err(|e| {
        anyhow::anyhow!(
            "cannot build the ROM: {e}\nhint: fix or convert that song, or put fewer songs in \
             one ROM"
        )
    })?;
    let page = if args.no_preview {
        None
    } else {
        let embed = args
            .embed
            .parse::<EmbedMode>()
            .map_err(anyhow::Error::msg)?;
        let audio = PreviewAudio {
            embed,
            max_seconds: args.preview_audio_max_seconds,
            render_commands: render_commands(&args),
        };
        let scores = songs
            .iter()
            .map(|s| s.score_to_show())
            .collect::<anyhow::Result<Vec<_>>>()?;
        Some(album_page(
            &scores,
            &streams,
            &args.output,
            args.title.as_deref(),
            &audio,
        )?)
    };
    nesmm::io::write_atomic(&args.output, &rom.bytes).with_context(|| {
        format!(
            "cannot write {}; check that its folder is writable",
            args.output.display()
        )
    })?;
    println!(
        "{}: {}, {} KiB PRG, {} {} song(s), {} bytes of song data, {} bytes of player",
        args.output.display(),
        rom.mapper.name(),
        rom.prg_size / 1024,
        rom.region.name().to_uppercase(),
        rom.songs.len(),
        rom.data_bytes,
        rom.player_bytes
    );
    for (i, s) in rom.songs.iter().enumerate() {
        println!(
            "  {i:3} {:<48} {:6} frames {:6} bytes; music_update worst {} mean {:.0} cycles",
            s.name,
            s.frames,
            s.data_bytes,
            s.worst_cycles,
            s.cycles_sum as f64 / s.frames.max(1) as f64
        );
    }
    if let Some(page) = page {
        for (path, wav) in &page.wavs {
            nesmm::io::write_atomic(path, wav)?;
        }
        nesmm::io::write_atomic(&page.path, page.html.as_bytes())?;
        println!(
            "preview: {}{}",
            page.path.display(),
            match page.wavs.len() {
                0 => String::new(),
                n => format!(" (+{n} WAV files beside it)"),
            }
        );
        for skipped in &page.skipped {
            println!(
                "  song {} ({:.0} s): {}",
                skipped.track + 1,
                skipped.seconds,
                skipped.note
            );
        }
    }
    Ok(())
}

/// Per song, the `nesmm render` command that writes the WAV the page would link to.
fn render_commands(args: &BuildArgs) -> Vec<String> {
    args.input
        .songs
        .iter()
        .enumerate()
        .map(|(i, song)| {
            let mut c = format!(
                "nesmm render {} -o {}",
                shell_word(&song.to_string_lossy()),
                shell_word(&linked_wav_path(&args.output, i).to_string_lossy())
            );
            if args.input.pal {
                c.push_str(" --pal");
            }
            if let Some(t) = args.import.track {
                c.push_str(&format!(" --track {t}"));
            }
            if let Some(s) = args.import.seconds {
                c.push_str(&format!(" --seconds {s}"));
            }
            c
        })
        .collect()
}

/// `s` as one POSIX shell word: as it is when plain, else in single quotes.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./+,:=@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
