//! `nesmm demo` as a library function: one new song from the bundled model, and everything a
//! new user can open: the `.nes` ROM, the `.nsf`, the `.wav`, the `.mid`, the piano-roll `.png`
//! and an `index.html` preview page, all in one folder.

use crate::compile::{compile_song, LoopMode};
use crate::error::{Error, Result};
use crate::learn::generate::{bundled_model_dir, generate, GenerateOptions, Model};
use crate::region::Region;
use crate::rom::nsf::{build_nsf, NsfOptions};
use crate::rom::pipeline::{build_rom_from_scores, RomRequest};
use crate::score::Score;
use crate::synth::{render, write_wav, RenderOptions};
use crate::viz::pianoroll::{write_piano_roll, PianoRollOptions};
use crate::viz::preview::{render_preview_page, Audio, Download, EmbedMode, TrackPreview};
use std::path::{Path, PathBuf};

/// What to make.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Folder the files go to (created).
    pub out_dir: PathBuf,
    /// Model folder; `None` = the bundled `models/lstm-full`.
    pub model: Option<PathBuf>,
    pub seed: u64,
    /// Length of the song.
    pub seconds: f64,
    /// Sampling temperature and top-k (see [`GenerateOptions`]).
    pub temperature: f32,
    pub top_k: usize,
    /// Whether the page embeds the WAV.
    pub embed: EmbedMode,
}

impl DemoOptions {
    /// Defaults: 40 s, the model's own sampling settings ([`GenerateOptions::default`]),
    /// `auto` embedding.
    pub fn new(out_dir: impl Into<PathBuf>, seed: u64) -> DemoOptions {
        let g = GenerateOptions::default();
        DemoOptions {
            out_dir: out_dir.into(),
            model: None,
            seed,
            seconds: 40.0,
            temperature: g.temperature,
            top_k: g.top_k,
            embed: EmbedMode::Auto,
        }
    }
}

/// The steps of [`make_demo`], in order, for progress reporting.
pub const DEMO_STEPS: [&str; 8] = [
    "loading the model",
    "generating the song",
    "writing the MIDI file",
    "building the ROM",
    "building the NSF",
    "rendering the WAV",
    "drawing the piano roll",
    "writing the preview page",
];

/// The files [`make_demo`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFiles {
    pub score: Score,
    pub model_dir: PathBuf,
    pub nes: PathBuf,
    pub nsf: PathBuf,
    pub wav: PathBuf,
    pub mid: PathBuf,
    pub png: PathBuf,
    pub html: PathBuf,
}

impl DemoFiles {
    /// Every file written, in the order of [`DEMO_STEPS`].
    pub fn all(&self) -> [&Path; 6] {
        [
            &self.mid, &self.nes, &self.nsf, &self.wav, &self.png, &self.html,
        ]
    }
}

/// Sample rate of the demo's WAV.
pub const DEMO_SAMPLE_RATE: u32 = 44_100;

/// Generates a song and writes the demo files; `step(i)` is called before step `i` of
/// [`DEMO_STEPS`].
pub fn make_demo(opts: &DemoOptions, step: &mut dyn FnMut(usize)) -> Result<DemoFiles> {
    step(0);
    let model_dir = match &opts.model {
        Some(d) => crate::learn::sample::vae_decode::resolve_model_dir(d)?,
        None => bundled_model_dir("lstm-full")?,
    };
    if !model_dir.join("config.json").is_file() {
        return Err(Error::Unsupported(format!(
            "{}: no model here (config.json is missing); pass a folder written by \
             `nesmm train --out DIR`, or leave out --model to use the bundled models/lstm-full",
            model_dir.display()
        )));
    }
    let model = Model::load(&model_dir)?;

    step(1);
    let name = format!("nesmm-demo-{}", opts.seed);
    let mut score = generate(
        &model,
        &GenerateOptions {
            seconds: opts.seconds,
            seed: opts.seed,
            temperature: opts.temperature,
            top_k: opts.top_k,
            name: name.clone(),
            ..GenerateOptions::default()
        },
    )?;
    score.loop_frame = None;
    let file = |ext: &str| opts.out_dir.join(format!("{name}.{ext}"));

    step(2);
    let mid = file("mid");
    crate::formats::save_score(&score, &mid)?;

    step(3);
    let nes = file("nes");
    let rom = build_rom_from_scores(
        std::slice::from_ref(&score),
        &RomRequest {
            loop_mode: LoopMode::Loop,
            title: name.clone(),
            ..RomRequest::default()
        },
    )?;
    crate::io::write_atomic(&nes, &rom.bytes)?;

    step(4);
    let nsf = file("nsf");
    let built = build_nsf(
        &[compile_song(&score, Region::Ntsc, LoopMode::Loop)?],
        &NsfOptions {
            title: name.clone(),
            artist: "nesmm demo".into(),
            ..NsfOptions::default()
        },
    )?;
    crate::io::write_atomic(&nsf, &built.nsf.to_bytes()?)?;

    step(5);
    let wav = file("wav");
    let stream = compile_song(&score, Region::Ntsc, LoopMode::AsScore)?;
    let samples = render(
        &stream,
        &RenderOptions {
            sample_rate: DEMO_SAMPLE_RATE,
        },
    );
    write_wav(&wav, &samples, DEMO_SAMPLE_RATE)?;

    step(6);
    let png = file("png");
    write_piano_roll(&score, &png, &PianoRollOptions::default())?;

    step(7);
    let html = opts.out_dir.join("index.html");
    let downloads = [&nes, &nsf, &mid, &wav, &png]
        .iter()
        .map(|f| Download::to_file(f, &opts.out_dir))
        .collect();
    let page = render_preview_page(&TrackPreview {
        title: name,
        audio: Audio::from_wav_file(&wav, &opts.out_dir, opts.embed)?,
        downloads,
        score: score.clone(),
    });
    crate::io::write_atomic(&html, page.as_bytes())?;

    Ok(DemoFiles {
        score,
        model_dir,
        nes,
        nsf,
        wav,
        mid,
        png,
        html,
    })
}
