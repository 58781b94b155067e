//! The song cache through the CLI: `fit-cache` fits a tiny Transformer's weights on NES-MDB's
//! valid split and writes them into its folder; `eval` then scores the model with and without
//! them, `generate` samples with them (or without, `--no-cache`), and a broken weights file or
//! a folder without a Transformer gets an error naming it.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/skip.rs"]
mod skip;

use cli::{fails, ok};
use nesmm::formats::nesmdb::{self, ScoreKind};
use std::path::Path;

fn generate(dir: &str, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "generate",
        "--model",
        dir,
        "--seconds",
        "60",
        "--seed",
        "3",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    std::fs::read(out).unwrap()
}

#[test]
fn a_fitted_song_cache_lowers_the_nll_and_changes_the_samples() {
    if nesmdb::archive_path(ScoreKind::Seprsco).is_none() {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    let dir = model.to_str().unwrap();
    ok(&[
        "train",
        "--model",
        "transformer",
        "--quiet",
        "--out",
        dir,
        "--max-songs",
        "3",
        "--d-model",
        "32",
        "--layers",
        "1",
        "--heads",
        "2",
        "--d-ff",
        "64",
        "--context",
        "64",
        "--batch",
        "2",
        "--max-steps",
        "6",
    ]);
    let plain = generate(dir, &tmp.path().join("plain.mid"), &[]);

    let log = ok(&[
        "fit-cache",
        "--model",
        dir,
        "--max-songs",
        "3",
        "--threads",
        "2",
    ]);
    assert!(
        log.contains("without the cache") && log.contains("song_cache.json"),
        "{log}"
    );
    let weights: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("song_cache.json")).unwrap()).unwrap();
    let classes = weights["weights"].as_array().unwrap();
    assert_eq!(classes.len(), 25);
    let mut cache_share = 0.0f64;
    for c in classes {
        let w: Vec<f64> = c
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(w.len(), 10);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{w:?}");
        cache_share = cache_share.max(1.0 - w[0]);
    }
    assert!(cache_share > 0.5, "{weights}");

    // eval: the model with its cache, then alone; an untrained model gains a lot from the
    // songs' repetition.
    let json = tmp.path().join("eval.json");
    ok(&[
        "eval",
        "--model",
        dir,
        "--max-songs",
        "3",
        "--no-baselines",
        "--json",
        json.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = v["event_models"].as_array().unwrap();
    assert!(
        rows[0]["model"].as_str().unwrap().ends_with("+ song cache"),
        "{v}"
    );
    let (cached, alone) = (
        rows[0]["nats_per_second"].as_f64().unwrap(),
        rows[1]["nats_per_second"].as_f64().unwrap(),
    );
    assert_eq!(rows[0]["tokens"], rows[1]["tokens"]);
    assert!(
        cached < 0.9 * alone,
        "with the cache {cached}, alone {alone}"
    );

    // generate: the cache changes the song; --no-cache gives back the model's own.
    let with = generate(dir, &tmp.path().join("with.mid"), &[]);
    assert_ne!(with, plain);
    assert_eq!(with, generate(dir, &tmp.path().join("with2.mid"), &[]));
    assert_eq!(
        plain,
        generate(dir, &tmp.path().join("none.mid"), &["--no-cache"])
    );

    // Bad input.
    std::fs::write(model.join("song_cache.json"), "{\"weights\": [[2.0]]}").unwrap();
    let e = fails(&["generate", "--model", dir, "-o", "/tmp/x.mid"]);
    assert!(
        e.contains("song_cache.json") && e.contains("fit-cache"),
        "{e}"
    );
    let lstm = tmp.path().join("lstm");
    std::fs::create_dir_all(&lstm).unwrap();
    std::fs::write(lstm.join("config.json"), "{\"model\": \"lstm-full\"}").unwrap();
    let e = fails(&["fit-cache", "--model", lstm.to_str().unwrap()]);
    assert!(e.contains("event models") && e.contains("lstm"), "{e}");
}
