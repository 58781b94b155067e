//! The bundled models load and generate (always run), and on NES-MDB (when present) the full
//! LSTM beats every baseline and its samples are closer to the test split than a bigram's.

#[path = "common/skip.rs"]
mod skip;

use nesmm::formats::nesmdb::{self, ScoreKind, Split};
use nesmm::learn::generate::{bundled_model_dir, generate, GenerateOptions, Model};
use nesmm::learn::report::{evaluate_models, sample_stats};
use nesmm::learn::stats::distance;
use nesmm::learn::stats::SampleRequest;
use nesmm::{Score, Voice};
use std::path::PathBuf;

fn bundled(name: &str) -> Model {
    Model::load(&bundled_model_dir(name).unwrap()).unwrap()
}

fn data() -> Option<PathBuf> {
    let p = nesmdb::archive_path(ScoreKind::Seprsco);
    if p.is_none() {
        skip::skip(format_args!(
            "NES-MDB not found at {:?} (set NESMDB_DIR)",
            nesmdb::data_dir()
        ));
    }
    p
}

#[test]
fn bundled_full_model_generates_the_same_song_for_the_same_seed() {
    let m = bundled("lstm-full");
    // Trained with the state carried across windows: sampling never resets it.
    assert_eq!(m.refresh, 0);
    assert_eq!(bundled("lstm-reduced").refresh, 0);
    let opts = GenerateOptions {
        seconds: 10.0,
        seed: 3,
        ..Default::default()
    };
    let a = generate(&m, &opts).unwrap();
    let b = generate(&m, &opts).unwrap();
    let c = generate(
        &m,
        &GenerateOptions {
            seed: 4,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!(a.len(), 240);
    assert_eq!(a, b);
    assert_ne!(a.note_matrix(), c.note_matrix());
    a.validate().unwrap();
    // A trained model plays: the pulses sound most of the time, and notes change.
    let sounding = a.notes(Voice::Pulse1).filter(|&n| n != 0).count();
    assert!(sounding > 60, "P1 sounds in {sounding} of 240 frames");
    let changes = a.note_matrix().windows(2).filter(|w| w[0] != w[1]).count();
    assert!(changes > 5, "{changes} changes");
}

#[test]
fn bundled_reduced_model_plays_pulse_1_only() {
    let m = bundled("lstm-reduced");
    let s = generate(
        &m,
        &GenerateOptions {
            seconds: 5.0,
            seed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(s.notes(Voice::Pulse1).any(|n| n != 0));
    for v in [Voice::Pulse2, Voice::Triangle, Voice::Noise] {
        assert!(s.notes(v).all(|n| n == 0));
    }
}

#[test]
fn generation_continues_a_primer() {
    let m = bundled("lstm-full");
    let notes: Vec<[u8; 4]> = (0..200).map(|f| [60 + (f % 12) as u8, 55, 43, 0]).collect();
    let primer = Score::from_notes("primer", 24.0, &notes);
    let opts = GenerateOptions {
        seconds: 8.0,
        primer: Some(primer),
        primer_seconds: 4.0,
        ..Default::default()
    };
    let s = generate(&m, &opts).unwrap();
    assert_eq!(s.len(), 192);
    assert_eq!(s.note_matrix()[..96], notes[..96]);
    let bad = GenerateOptions {
        temperature: 0.0,
        ..Default::default()
    };
    assert!(generate(&m, &bad)
        .unwrap_err()
        .to_string()
        .contains("temperature"));
}

#[test]
fn corrupt_model_files_are_named_in_errors() {
    let src = bundled_model_dir("lstm-full").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("config.json"), dir.path().join("config.json")).unwrap();
    let weights = std::fs::read(src.join("model.safetensors")).unwrap();
    std::fs::write(
        dir.path().join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let e = Model::load(dir.path()).err().unwrap().to_string();
    assert!(e.contains("model.safetensors"), "{e}");
    std::fs::write(dir.path().join("config.json"), b"{\"model\": 3}").unwrap();
    let e = Model::load(dir.path()).err().unwrap().to_string();
    assert!(e.contains("config.json"), "{e}");
    let e = Model::load(&dir.path().join("missing"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn cli_generate_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(["generate", "--seed", "5", "--seconds", "6", "-o"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::read(out).unwrap()
    };
    let a = run("a.seprsco.pkl");
    assert_eq!(a, run("b.seprsco.pkl"));
    let back = nesmm::formats::load_score(&dir.path().join("a.seprsco.pkl")).unwrap();
    assert_eq!(back.len(), 144);
}

#[test]
fn cli_generate_writes_every_output_of_one_song() {
    // One sample, four files: two scores, and a ROM and a WAV through compiler and builder.
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(["generate", "--seed", "9", "--seconds", "5"])
        .args(["-o".as_ref(), p("s.mid").as_os_str()])
        .args(["-o".as_ref(), p("s.seprsco.pkl").as_os_str()])
        .args(["-o".as_ref(), p("s.nes").as_os_str()])
        .args(["-o".as_ref(), p("s.wav").as_os_str()])
        .status()
        .unwrap();
    assert!(st.success());
    let pkl = nesmm::formats::load_score(&p("s.seprsco.pkl")).unwrap();
    assert_eq!(pkl.len(), 120);
    let mid = nesmm::formats::load_score(&p("s.mid")).unwrap();
    assert_eq!(mid.len(), pkl.len(), "the MIDI holds the same song");
    let rom = std::fs::read(p("s.nes")).unwrap();
    assert_eq!(&rom[..4], b"NES\x1a");
    let wav = std::fs::read(p("s.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
}

/// CI-sized: the first 40 songs of the train and test splits.
#[test]
fn full_lstm_beats_baselines_on_a_test_sample() {
    let Some(data) = data() else { return };
    let full = bundled("lstm-full");
    let r = evaluate_models(&data, &[full], Split::Test, Some(40), true, None).unwrap();
    let lstm = r.last().unwrap();
    for b in &r[..r.len() - 1] {
        assert!(
            lstm.nll_total < b.nll_total,
            "{} {} vs {}",
            b.model,
            b.nll_total,
            lstm.nll_total
        );
        assert!(lstm.change_nll_total < b.change_nll_total, "{}", b.model);
    }
}

/// The whole test split against baselines fitted on the whole train split.
#[test]
#[ignore = "whole NES-MDB: about a minute in release"]
fn full_lstm_beats_every_baseline_on_the_test_split() {
    let Some(data) = data() else { return };
    let r = evaluate_models(
        &data,
        &[bundled("lstm-full")],
        Split::Test,
        None,
        true,
        None,
    )
    .unwrap();
    let lstm = r.last().unwrap();
    for b in &r[..r.len() - 1] {
        assert!(
            lstm.nll_total < b.nll_total,
            "{} {} vs {}",
            b.model,
            b.nll_total,
            lstm.nll_total
        );
        assert!(lstm.change_nll_total < b.change_nll_total, "{}", b.model);
    }
}

/// The figure models/README.md reports (`nesmm stats --songs 2000 --seconds 30`): 2,000
/// samples of 30 s from each generator against the whole test split; the LSTM's must be closer
/// on every statistic, not only on their mean. With 373 samples the pitch-class distance of the
/// LSTM's moves by +-0.015 from seed set to seed set (each song picks a key; 373 real songs of
/// the train split land 0.024-0.067 from the test split), too noisy to rank; a bigram's songs
/// wander through every key and barely move.
#[test]
fn lstm_samples_are_closer_to_the_test_split_than_bigram_samples() {
    let Some(data) = data() else { return };
    let full = bundled("lstm-full");
    let req = SampleRequest {
        data: &data,
        split: Split::Test,
        max_songs: None,
        songs: 2000,
        seconds: 30.0,
    };
    let (reference, rows) = sample_stats(&req, &full, &GenerateOptions::default()).unwrap();
    let d_lstm = distance(&rows[1].1, &reference);
    let d_bigram = distance(&rows[2].1, &reference);
    let why = format!("lstm {d_lstm:?} bigram {d_bigram:?}");
    assert!(d_lstm.total < d_bigram.total, "{why}");
    assert!(d_lstm.pitch_class < d_bigram.pitch_class, "{why}");
    assert!(d_lstm.changes < d_bigram.changes, "{why}");
    assert!(d_lstm.rest < d_bigram.rest, "{why}");
    assert!(d_lstm.repetition < d_bigram.repetition, "{why}");
}

#[test]
fn cli_train_quick_run_writes_a_loadable_model() {
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args([
            "train",
            "--model",
            "lstm-reduced",
            "--max-songs",
            "4",
            "--max-steps",
            "3",
            "--hidden",
            "16",
            "--embed",
            "8",
            "--head-hidden",
            "8",
            "--quiet",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let m = Model::load(&out).unwrap();
    assert_eq!(m.fast.config.hidden, 16);
    let ck = nesmm::learn::train::checkpoint::Checkpoints::open(&out).unwrap();
    assert!(ck.latest().expect("a checkpoint").has("optimizer"));
}
