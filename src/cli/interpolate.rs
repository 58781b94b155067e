//! `nesmm interpolate`: walk through a VAE's latent space from one song to another.

use super::model_arg::VaeArgs;
use clap::Args;
use nesmm::compile::{compile_songs, LoopMode};
use nesmm::formats;
use nesmm::learn::vae_decode::interpolate;
use nesmm::rom::{build_rom, BuildOptions};
use nesmm::viz::album::album_wav;
use nesmm::viz::preview::{render_album_page, Audio, Download, EmbedMode, TrackPreview};
use nesmm::Region;
use std::path::PathBuf;

/// Spherical interpolation between two songs' latents, window by window.
#[derive(Args)]
#[command(
    long_about = "Encode both songs window by window with a VAE and decode --steps scores whose \
                  windows lie on the great circle between the two songs' posterior means \
                  (slerp, window k of A towards window k of B, over the full windows both \
                  have). Step 0 is the model's rendering of A, the last step its rendering of B. \
                  Writes <out>/interp-00.seprsco.pkl, ... and <out>/interpolation.nes, an \
                  iNES ROM with one song per step (Right/Left on controller 1 change songs), \
                  <out>/interp-00.wav, ... and <out>/index.html, one album page with every \
                  step's piano roll, audio and download links.",
    after_help = "Example: nesmm interpolate a.seprsco.pkl b.seprsco.pkl --steps 8 -o interp/"
)]
pub struct InterpolateArgs {
    pub a: PathBuf,
    pub b: PathBuf,
    /// Number of scores, ends included (at least 2).
    #[arg(long, default_value_t = 8)]
    pub steps: usize,
    #[command(flatten)]
    pub vae: VaeArgs,
    /// Output folder (created if missing).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(a: InterpolateArgs) -> anyhow::Result<()> {
    let (model, _) = a.vae.load()?;
    let sa = super::info::load_song(&a.a)?;
    let sb = super::info::load_song(&a.b)?;
    let scores = interpolate(&model, &sa, &sb, a.steps, &a.vae.options())?;
    std::fs::create_dir_all(&a.output).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {}: {e}\nhint: pass a writable folder with -o",
            a.output.display()
        )
    })?;
    for s in &scores {
        let p = a.output.join(format!("{}.seprsco.pkl", s.name));
        formats::save_score(s, &p)?;
    }
    // The ROM and its page play the very same streams (each step looping).
    let streams = compile_songs(&scores, Region::Ntsc, LoopMode::Loop)?;
    let rom = build_rom(
        &streams,
        &BuildOptions {
            region: Region::Ntsc,
            title: "nesmm interpolation".to_string(),
            ..BuildOptions::default()
        },
    )?;
    let rom_path = a.output.join("interpolation.nes");
    nesmm::io::write_atomic(&rom_path, &rom.bytes)?;
    // One album page: every step's piano roll, its WAV (linked, beside the page) and downloads.
    let mut tracks = Vec::with_capacity(scores.len());
    for (s, stream) in scores.iter().zip(&streams) {
        let wav = a.output.join(format!("{}.wav", s.name));
        nesmm::io::write_atomic(&wav, &album_wav(stream)?)?;
        let score_path = a.output.join(format!("{}.seprsco.pkl", s.name));
        tracks.push(TrackPreview {
            title: s.name.clone(),
            audio: Audio::from_wav_file(&wav, &a.output, EmbedMode::Never)?,
            downloads: vec![
                Download::to_file(&score_path, &a.output),
                Download::to_file(&wav, &a.output),
                Download::to_file(&rom_path, &a.output),
            ],
            score: s.clone(),
        });
    }
    let page_path = a.output.join("index.html");
    nesmm::io::write_atomic(&page_path, render_album_page(&tracks).as_bytes())?;
    eprintln!(
        "wrote {} scores of {} frames with their WAVs, {} ({} songs) and {} to {}",
        scores.len(),
        scores[0].len(),
        rom_path.display(),
        rom.songs.len(),
        page_path.display(),
        a.output.display()
    );
    Ok(())
}
