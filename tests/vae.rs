//! The VAE models: training through the shared trainer, posterior collapse checks,
//! reconstruction, generation / variation / interpolation determinism, resume, errors, and the
//! bundled models.

#[path = "common/skip.rs"]
mod skip;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::dataset::{make_batch, TokenSet};
use nesmm::learn::lstm::ModelKind;
use nesmm::learn::models::model_dir;
use nesmm::learn::train::{train, TrainOptions};
use nesmm::learn::vae::{init_from_seed, NoteVae, VaeConfig};
use nesmm::learn::vae_decode::{encode_song, generate, interpolate, vary, VaeModel, VaeOptions};
use nesmm::learn::vae_eval::evaluate_vae;
use nesmm::learn::vocab::Vocab;
use nesmm::score::Score;
use std::path::{Path, PathBuf};

/// Songs of random phrases: each voice holds a note drawn from a small scale for 4 frames, so
/// a window cannot be predicted from its context and the decoder must read it from `z`.
fn corpus(songs: usize, frames: usize) -> Vec<Score> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    (0..songs)
        .map(|s| {
            let mut notes: Vec<[u8; 4]> = Vec::with_capacity(frames);
            let mut cur = [0u8; 4];
            for f in 0..frames {
                if f % 4 == 0 {
                    cur = [
                        [60, 64, 67, 72][rng.random_range(0..4)],
                        [55, 59, 62, 0][rng.random_range(0..4)],
                        [36, 43][rng.random_range(0..2)],
                        [0, 12][rng.random_range(0..2)],
                    ];
                }
                notes.push(cur);
            }
            Score::from_notes(format!("s{s}"), 24.0, &notes)
        })
        .collect()
}

fn tiny(kind: ModelKind) -> TrainOptions {
    TrainOptions {
        epochs: 150,
        batch: 4,
        seq: 16,
        embed: 6,
        hidden: 24,
        layers: 1,
        head_hidden: 16,
        dropout: 0.0,
        lr: 2e-2,
        warmup: 2,
        progress: false,
        vae: VaeConfig {
            window: 16,
            latent: 8,
            enc_hidden: 16,
            free_bits: 1.0,
            kl_warmup: 60,
        },
        ..TrainOptions::new(kind)
    }
}

fn sets(kind: ModelKind, songs: &[Score]) -> (TokenSet, TokenSet) {
    let vocab = Vocab::from_scores(&kind.voices(), songs).unwrap();
    (
        TokenSet::from_scores(vocab.clone(), songs),
        TokenSet::from_scores(vocab, songs),
    )
}

/// A tiny trained full VAE, shared by several tests (trained once per test binary run).
fn trained() -> &'static (tempfile::TempDir, Vec<Score>) {
    static MODEL: std::sync::OnceLock<(tempfile::TempDir, Vec<Score>)> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let songs = corpus(4, 48);
        let (tr, va) = sets(ModelKind::VaeFull, &songs);
        let dir = tempfile::tempdir().unwrap();
        train(&tr, &va, &tiny(ModelKind::VaeFull), dir.path(), false).unwrap();
        (dir, songs)
    })
}

#[test]
fn shapes_of_encoder_decoder_and_loss_parts() {
    let songs = corpus(2, 40);
    let (set, _) = sets(ModelKind::VaeFull, &songs);
    let opts = tiny(ModelKind::VaeFull);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let mut cfg_opts = opts.clone();
    cfg_opts.vae.window = 16;
    let config = nesmm::learn::lstm::ModelConfig {
        kind: ModelKind::VaeFull,
        vocab: set.vocab.clone(),
        embed: 6,
        hidden: 24,
        layers: 2,
        head_hidden: 16,
        dropout: 0.0,
        vae: Some(cfg_opts.vae.clone()),
    };
    let net = NoteVae::new(config, vb).unwrap();
    init_from_seed(&varmap, 1).unwrap();
    let wins = set.windows(16);
    let order: Vec<u32> = (0..wins.len() as u32).collect();
    let b = make_batch(&set, &wins, &order, 0, 3, 16, None);
    let x = Tensor::from_vec(b.inputs.clone(), (3, 16, 4), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(b.targets.clone(), (3, 16, 4), &Device::Cpu).unwrap();
    let m = Tensor::from_vec(b.mask.clone(), (3, 16), &Device::Cpu).unwrap();
    let (mu, lv) = net.encode(&y, &m).unwrap();
    assert_eq!(mu.dims(), &[3, 8]);
    assert_eq!(lv.dims(), &[3, 8]);
    assert_eq!(net.initial_states(&mu).unwrap().len(), 2);
    assert_eq!(
        net.decoder_hidden(&x, &mu, None).unwrap().dims(),
        &[3, 16, 24]
    );
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    let parts = net.training_loss(&x, &y, &m, &mut rng, 0).unwrap();
    assert_eq!(parts.len(), 5, "four voices and the KL term");
    for p in &parts {
        let v = p.to_scalar::<f32>().unwrap();
        assert!(v.is_finite() && v >= 0.0, "{v}");
    }
    // The encoder sees the window: changing a frame changes the posterior mean.
    let mut t2 = b.targets.clone();
    t2[5 * 4] = if t2[5 * 4] == 1 { 2 } else { 1 };
    let (mu2, _) = net
        .encode(&Tensor::from_vec(t2, (3, 16, 4), &Device::Cpu).unwrap(), &m)
        .unwrap();
    let d = mu
        .sub(&mu2)
        .unwrap()
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(d > 0.0);
}

#[test]
fn tiny_vae_trains_and_keeps_its_latents_active() {
    let (dir, songs) = trained();
    let state: serde_json::Value = latest(dir.path()).state().unwrap();
    let hist = state["history"].as_array().unwrap();
    let first = hist[0]["valid_nll"].as_f64().unwrap();
    let last = hist[hist.len() - 1]["valid_nll"].as_f64().unwrap();
    assert!(last < 0.5 * first, "-ELBO/frame {first} -> {last}");
    for f in ["config.json", "model.safetensors", "checkpoints"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let model = VaeModel::load(dir.path()).unwrap();
    let set = TokenSet::from_scores(model.vocab().clone(), songs);
    let e = evaluate_vae(&model, &set, "train", None, 8).unwrap();
    assert_eq!(
        e.windows, 16,
        "4 songs of 48 frames = 49 pairs -> 4 windows of 16 each"
    );
    assert!(
        e.kl_per_window > 0.5,
        "posterior collapsed: KL {}",
        e.kl_per_window
    );
    assert!(
        e.active_dims >= 1,
        "no active latent dimension: {:?}",
        e.mean_variance
    );
    assert!((e.neg_elbo_per_frame - (e.recon_nll + e.kl_per_frame)).abs() < 1e-6);
    assert!(e.recon_frame_accuracy > 0.5, "{e:?}");
    // The LSTM is scored on the same windows, in its own vocabulary.
    let ldir = tempfile::tempdir().unwrap();
    let (tr, va) = sets(ModelKind::LstmFull, songs);
    let o = TrainOptions {
        max_steps: Some(3),
        ..tiny(ModelKind::LstmFull)
    };
    train(&tr, &va, &o, ldir.path(), false).unwrap();
    let lstm = model_dir::load_model(ldir.path()).unwrap();
    let with = evaluate_vae(&model, &set, "train", Some((&lstm, &tr)), 8).unwrap();
    let l = with.lstm.as_ref().unwrap();
    let (direct, _) = nesmm::learn::models::scoring::window_nll(&lstm.model, &tr, 16, 8).unwrap();
    assert!(
        (l.nll - direct).abs() < 1e-9 && l.nll_voices.len() == 4,
        "{l:?}"
    );
    assert!(nesmm::learn::vae_eval::markdown(&with).contains("| LSTM ("));
    let md = nesmm::learn::vae_eval::markdown(&e);
    assert!(
        md.contains("active dims") && md.contains("vae-full"),
        "{md}"
    );
}

#[test]
fn memorised_windows_are_reconstructed() {
    let (dir, songs) = trained();
    let model = VaeModel::load(dir.path()).unwrap();
    let greedy = VaeOptions {
        temperature: 0.0,
        ..Default::default()
    };
    let mut right = 0;
    let mut total = 0;
    for s in songs {
        let r = vary(&model, s, 0.0, &greedy).unwrap();
        assert_eq!(r.len(), s.len());
        for (a, b) in r.note_matrix().iter().zip(s.note_matrix()) {
            right += (*a == b) as usize;
            total += 1;
        }
    }
    eprintln!("{right}/{total}");
    assert!(
        right as f64 > 0.9 * total as f64,
        "{right}/{total} frames reconstructed"
    );
}

#[test]
fn same_seed_same_output_for_generate_vary_and_interpolate() {
    let (dir, songs) = trained();
    let model = VaeModel::load(dir.path()).unwrap();
    let o = VaeOptions {
        seed: 5,
        ..Default::default()
    };
    let g1 = generate(&model, 3.0, "g", &o).unwrap();
    assert_eq!(g1.len(), 72);
    assert_eq!(g1, generate(&model, 3.0, "g", &o).unwrap());
    assert_ne!(
        g1,
        generate(
            &model,
            3.0,
            "g",
            &VaeOptions {
                seed: 6,
                ..o.clone()
            }
        )
        .unwrap()
    );
    let v1 = vary(&model, &songs[0], 0.5, &o).unwrap();
    assert_eq!(v1, vary(&model, &songs[0], 0.5, &o).unwrap());
    assert_ne!(
        v1,
        vary(
            &model,
            &songs[0],
            0.5,
            &VaeOptions {
                seed: 9,
                ..o.clone()
            }
        )
        .unwrap()
    );
    let i1 = interpolate(&model, &songs[0], &songs[3], 4, &o).unwrap();
    assert_eq!(i1.len(), 4);
    assert_eq!(
        i1,
        interpolate(&model, &songs[0], &songs[3], 4, &o).unwrap()
    );
}

#[test]
fn interpolation_runs_from_one_song_to_the_other() {
    let (dir, songs) = trained();
    let model = VaeModel::load(dir.path()).unwrap();
    let greedy = VaeOptions {
        temperature: 0.0,
        ..Default::default()
    };
    let (a, b) = (&songs[0], &songs[3]);
    let steps = interpolate(&model, a, b, 5, &greedy).unwrap();
    let n = steps[0].len();
    assert_eq!(n, 48, "three full windows of 16");
    let same = |x: &Score, y: &Score| {
        x.note_matrix()
            .iter()
            .zip(y.note_matrix())
            .filter(|(p, q)| **p == *q)
            .count()
    };
    // The ends render the two songs; the first step is closer to A than the last, and back.
    assert!(same(&steps[0], a) > same(&steps[4], a));
    assert!(same(&steps[4], b) > same(&steps[0], b));
    assert!(same(&steps[0], a) as f64 > 0.8 * n as f64);
    let enc = encode_song(&model, a).unwrap();
    assert_eq!(enc.mu.len(), 4);
    assert_eq!(enc.lens, vec![16, 16, 16, 0]);
}

#[test]
fn vae_resume_continues_exactly() {
    let songs = corpus(4, 40);
    let (tr, va) = sets(ModelKind::VaeReduced, &songs);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut o = tiny(ModelKind::VaeReduced);
    o.max_steps = Some(6);
    train(&tr, &va, &o, a.path(), false).unwrap();
    o.max_steps = Some(3);
    train(&tr, &va, &o, b.path(), false).unwrap();
    o.max_steps = Some(6);
    let r = train(&tr, &va, &o, b.path(), true).unwrap();
    assert_eq!(r.state.step, 6);
    let ta = latest(a.path()).tensors("model").unwrap();
    let tb = latest(b.path()).tensors("model").unwrap();
    assert!(
        ta.keys().any(|k| k.starts_with("enc.")),
        "the encoder is saved"
    );
    for (k, x) in &ta {
        let d = model_dir::max_abs_diff(x, &tb[k]).unwrap();
        assert!(d <= 1e-6, "{k}: {d}");
    }
    let c = tempfile::tempdir().unwrap();
    o.max_steps = Some(3);
    train(&tr, &va, &o, c.path(), false).unwrap();
    let tc = latest(c.path()).tensors("model").unwrap();
    assert!(ta.iter().any(|(k, x)| x
        .sub(&tc[k])
        .unwrap()
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
        > 1e-6));
}

#[test]
fn errors_name_the_problem() {
    let (dir, songs) = trained();
    let model = VaeModel::load(dir.path()).unwrap();
    let e = VaeModel::load(Path::new("/nonexistent/vae"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("/nonexistent/vae"), "{e}");
    let short = Score::from_notes("short", 24.0, &songs[0].note_matrix()[..10]);
    let e = vary(&model, &short, 0.3, &VaeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("short") && e.contains("10 frames") && e.contains("16 frames"),
        "{e}"
    );
    let e = interpolate(&model, &songs[0], &short, 4, &VaeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("shorter than one VAE window"), "{e}");
    let e = interpolate(&model, &songs[0], &songs[1], 1, &VaeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--steps"), "{e}");
    let e = generate(
        &model,
        3.0,
        "x",
        &VaeOptions {
            walk: 2.0,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--walk"), "{e}");
    // A VAE folder is not an LSTM and the other way round.
    let e = model_dir::load_model(dir.path()).err().unwrap().to_string();
    assert!(e.contains("vae-full") && e.contains("not an LSTM"), "{e}");
    let lstm = tempfile::tempdir().unwrap();
    let (tr, va) = sets(ModelKind::LstmReduced, songs);
    let o = TrainOptions {
        max_steps: Some(1),
        ..tiny(ModelKind::LstmReduced)
    };
    train(&tr, &va, &o, lstm.path(), false).unwrap();
    let e = VaeModel::load(lstm.path()).err().unwrap().to_string();
    assert!(
        e.contains("lstm-reduced") && e.contains("needs a VAE"),
        "{e}"
    );
    // A config.json whose vae section lacks for a vae kind.
    let bad = tempfile::tempdir().unwrap();
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    cfg["model"].as_object_mut().unwrap().remove("vae");
    std::fs::write(bad.path().join("config.json"), cfg.to_string()).unwrap();
    let e = VaeModel::load(bad.path()).err().unwrap().to_string();
    assert!(e.contains("config.json") && e.contains("vae"), "{e}");
}

fn nesmm() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_nesmm"))
}

#[test]
fn cli_vary_and_interpolate_write_scores_and_explain_errors() {
    let (dir, songs) = trained();
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.seprsco.pkl");
    let b = tmp.path().join("b.seprsco.pkl");
    nesmm::formats::save_score(&songs[0], &a).unwrap();
    nesmm::formats::save_score(&songs[2], &b).unwrap();
    let out = tmp.path().join("v.seprsco.pkl");
    let st = nesmm()
        .args(["vary"])
        .arg(&a)
        .args(["--amount", "0.3", "--model"])
        .arg(dir.path())
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(
        nesmm::formats::load_score(&out).unwrap().len(),
        songs[0].len()
    );
    let idir = tmp.path().join("interp");
    let st = nesmm()
        .arg("interpolate")
        .arg(&a)
        .arg(&b)
        .args(["--steps", "3", "--model"])
        .arg(dir.path())
        .arg("-o")
        .arg(&idir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    for i in 0..3 {
        assert!(idir.join(format!("interp-{i:02}.seprsco.pkl")).is_file());
    }
    let rom = std::fs::read(idir.join("interpolation.nes")).unwrap();
    assert_eq!(&rom[..4], b"NES\x1a", "an iNES ROM");
    // One album page: every step a track, its WAV beside the page, links to its files.
    let page = std::fs::read_to_string(idir.join("index.html")).unwrap();
    assert!(
        page.contains("<title>interp-00 and 2 more</title>"),
        "album title"
    );
    for i in 0..3 {
        let name = format!("interp-{i:02}");
        let wav = std::fs::read(idir.join(format!("{name}.wav"))).unwrap();
        assert_eq!(&wav[..4], b"RIFF", "{name}.wav is a WAV");
        // The page plays what the ROM plays: the step's stream compiled looping, as in the ROM.
        let score = nesmm::formats::load_score(&idir.join(format!("{name}.seprsco.pkl"))).unwrap();
        let looping = nesmm::compile::LoopMode::Loop;
        let stream =
            &nesmm::compile::compile_songs(&[score], nesmm::Region::Ntsc, looping).unwrap()[0];
        let rate = nesmm::viz::album::ALBUM_SAMPLE_RATE;
        let samples =
            nesmm::synth::render(stream, &nesmm::synth::RenderOptions { sample_rate: rate });
        let want = nesmm::synth::wav_bytes(&samples, rate).unwrap();
        assert!(wav == want, "{name}.wav is the ROM's looping stream");
        assert!(page.contains(&format!(">{name}<")), "track {name} named");
        for f in [format!("{name}.seprsco.pkl"), format!("{name}.wav")] {
            assert!(page.contains(&format!("href=\"{f}\"")), "link to {f}");
        }
        assert!(
            page.contains(&format!("src=\"{name}.wav\"")),
            "audio of {name}"
        );
    }
    assert_eq!(page.matches("href=\"interpolation.nes\"").count(), 3);
    let g = tmp.path().join("g.seprsco.pkl");
    let st = nesmm()
        .args(["generate", "--seconds", "2", "--model"])
        .arg(dir.path())
        .arg("-o")
        .arg(&g)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(nesmm::formats::load_score(&g).unwrap().len(), 48);
    let st = nesmm()
        .arg("vary")
        .arg(&a)
        .args(["--model", "/nonexistent/model"])
        .output()
        .unwrap();
    assert!(!st.status.success());
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("/nonexistent/model") && err.contains("bundled model name"),
        "{err}"
    );
}

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

/// The committed models load, sample, and their evaluation shows no posterior collapse.
#[test]
fn bundled_models_load_sample_and_use_their_latents() {
    for name in ["vae-full", "vae-reduced"] {
        let dir = bundled(name);
        let model = VaeModel::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = generate(
            &model,
            4.0,
            "x",
            &VaeOptions {
                seed: 1,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.len(), 96);
        assert_eq!(
            s,
            generate(
                &model,
                4.0,
                "x",
                &VaeOptions {
                    seed: 1,
                    ..Default::default()
                }
            )
            .unwrap()
        );
        let eval: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("eval.json")).unwrap()).unwrap();
        assert_eq!(eval["model"], name);
        assert_eq!(eval["split"], "test");
        assert!(
            eval["active_dims"].as_u64().unwrap() >= 4,
            "{name}: {}",
            eval["active_dims"]
        );
        assert!(eval["kl_per_window"].as_f64().unwrap() > 1.0, "{name}");
        let size: u64 = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(size < 6_000_000, "{name}: {size} bytes");
    }
}

fn nesmdb() -> Option<PathBuf> {
    let p = nesmm::learn::data::default_data_path().ok()?;
    p.exists().then_some(p)
}

/// A few NES-MDB test songs: vary and reconstruct with the bundled model.
#[test]
fn bundled_vae_on_nesmdb_test_songs() {
    let Some(data) = nesmdb() else {
        skip::skip(format_args!(
            "NES-MDB not found at {}",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/data/nesmdb")
                .display()
        ));
        return;
    };
    let model = VaeModel::load(&bundled("vae-full")).unwrap();
    let e = nesmm::learn::vae_eval::evaluate_vae_on(
        &model,
        &data,
        nesmm::formats::nesmdb::Split::Test,
        Some(3),
        None,
    )
    .unwrap();
    assert!(e.windows > 3 && e.neg_elbo_per_frame.is_finite());
    assert!(e.recon_nll < e.neg_elbo_per_frame);
    assert!(e.active_dims >= 1);
    let req = nesmm::learn::stats::SampleRequest {
        data: &data,
        split: nesmm::formats::nesmdb::Split::Test,
        max_songs: Some(3),
        songs: 2,
        seconds: 4.0,
    };
    let (reference, rows) =
        nesmm::learn::vae_eval::sample_stats(&req, &model, &VaeOptions::default()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].1.songs, 2);
    assert_eq!(rows[1].1.frames, 192);
    assert_eq!(reference.songs, 3);
    let table = nesmm::learn::stats::markdown_table(&rows, &reference);
    assert!(table.contains("vae-full samples"), "{table}");
}

/// The newest checkpoint generation of a training folder.
fn latest(dir: &std::path::Path) -> nesmm::learn::train::checkpoint::Generation {
    let ck = nesmm::learn::train::checkpoint::Checkpoints::open(dir).unwrap();
    ck.latest().expect("a checkpoint").clone()
}
