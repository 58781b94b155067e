//! The bundled event Transformer (models/transformer, with its song cache): it loads and
//! generates the same song for the same seed without NES-MDB; its eval.json holds what its
//! issue requires (at most 45 nats per second with the cache, ahead of lstm-full); on NES-MDB a
//! sample of the test split scores lower with the cache than without, and (ignored: the whole
//! split) `eval` reproduces eval.json.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/skip.rs"]
mod skip;

use cli::ok;
use nesmm::formats::nesmdb::{self, ScoreKind};
use nesmm::learn::generate::bundled_model_dir;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    bundled_model_dir("transformer").unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The event models' rows of an `eval --json` report: (model, nats per second).
fn rows(report: &serde_json::Value) -> Vec<(String, f64)> {
    report["event_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap().to_string(),
                r["nats_per_second"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_bundled_transformer_generates_the_same_song_for_the_same_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let song = |name: &str, seed: &str| {
        let path = tmp.path().join(name);
        let log = ok(&[
            "generate",
            "--model",
            "transformer",
            "--seconds",
            "20",
            "--seed",
            seed,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(log.contains("x real time"), "{log}");
        std::fs::read(path).unwrap()
    };
    let a = song("a.mid", "1");
    assert_eq!(a, song("b.mid", "1"));
    assert_ne!(a, song("c.mid", "2"));
    assert!(dir().join("song_cache.json").is_file());
    assert!(dir().join("training.json").is_file());
}

#[test]
fn its_eval_json_has_it_with_its_cache_under_45_nats_per_second_and_ahead_of_lstm_full() {
    let report = json(&dir().join("eval.json"));
    assert_eq!(report["split"], "test");
    let rows = rows(&report);
    let cached = rows.iter().find(|r| r.0.ends_with("+ song cache")).unwrap();
    let alone = rows.iter().find(|r| r.0.ends_with("transformer")).unwrap();
    let lstm = report["frame_models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0].as_str().unwrap().contains("lstm-full"))
        .unwrap()[2]
        .as_f64()
        .unwrap();
    // The required figure: <= 45 nats per second on the test split. The model alone
    // (68.9) is behind lstm-full (62.8); with its cache it is well ahead.
    assert!(
        cached.1 <= 45.0 && cached.1 < alone.1 && cached.1 < lstm,
        "{rows:?}, lstm-full {lstm}"
    );
}

fn data() -> Option<PathBuf> {
    let p = nesmdb::archive_path(ScoreKind::Seprsco);
    if p.is_none() {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
    }
    p
}

/// `eval --model transformer --no-baselines` on the first `songs` test songs (all: None).
fn eval(songs: Option<&str>) -> Vec<(String, f64)> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval.json");
    let mut args = vec![
        "eval",
        "--model",
        "transformer",
        "--no-baselines",
        "--json",
        out.to_str().unwrap(),
    ];
    if let Some(n) = songs {
        args.extend(["--max-songs", n]);
    }
    ok(&args);
    rows(&json(&out))
}

#[test]
fn on_test_songs_the_cache_lowers_the_nll() {
    let Some(_) = data() else { return };
    let rows = eval(Some("8"));
    assert!(rows[0].0.ends_with("+ song cache"), "{rows:?}");
    assert!(rows[0].1 < 0.9 * rows[1].1, "{rows:?}");
}

#[test]
#[ignore = "scores the whole test split (about 5 minutes on 2 cores)"]
fn eval_reproduces_eval_json_on_the_whole_test_split() {
    let Some(_) = data() else { return };
    let got = eval(None);
    let want = rows(&json(&dir().join("eval.json")));
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g.1 - w.1).abs() < 1e-6,
            "{got:?} against eval.json {want:?}"
        );
    }
}
