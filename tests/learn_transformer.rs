//! The event Transformer through the CLI: a tiny run on NES-MDB trains, refuses to overwrite
//! or to resume with other options, resumes exactly, generates deterministic songs (looped
//! too), is evaluated in nats per second, and bad model folders and options get clear errors;
//! an expressive one grows from a note model and writes, scores and measures dynamics.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/skip.rs"]
mod skip;

use cli::{fails, ok};
use nesmm::formats::nesmdb::{self, ScoreKind};
use std::path::{Path, PathBuf};

fn data() -> Option<PathBuf> {
    let p = nesmdb::archive_path(ScoreKind::Seprsco);
    if p.is_none() {
        skip::skip("NES-MDB not found (set NESMDB_DIR)");
    }
    p
}

const TINY: [&str; 16] = [
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
    "--valid-every",
    "4",
];

fn train(out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--model",
        "transformer",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    ok(&args)
}

/// `nesmm train --model transformer --out OUT EXTRA...`, which must fail: its stderr.
fn train_refused(out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--model",
        "transformer",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    fails(&args)
}

fn weights(dir: &Path) -> Vec<u8> {
    let last = dir.join("last");
    let gen = std::fs::read_dir(&last)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read(gen.join("model.safetensors")).unwrap()
}

/// `eval --json` of the model in `dir` on 2 test songs: its entry.
fn eval_json(dir: &str, tmp: &Path) -> serde_json::Value {
    let json = tmp.join("eval.json");
    ok(&[
        "eval",
        "--model",
        dir,
        "--max-songs",
        "2",
        "--no-baselines",
        "--json",
        json.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    v["event_models"][0].clone()
}

#[test]
fn a_tiny_transformer_trains_resumes_generates_and_is_scored() {
    let Some(_) = data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (straight, broken) = (tmp.path().join("straight"), tmp.path().join("broken"));
    let s = train(&straight, &["--max-steps", "10"]);
    assert!(s.contains("tokens/s of music"), "{s}");
    // Stopped at 4 steps, resumed to 10: the same weights, byte for byte.
    train(&broken, &["--max-steps", "4"]);
    let refused = train_refused(&broken, &["--max-steps", "10"]);
    assert!(
        refused.contains("already holds") && refused.contains("--resume"),
        "{refused}"
    );
    let refused = fails(&[
        "train",
        "--model",
        "transformer",
        "--resume",
        "--d-model",
        "48",
        "--out",
        broken.to_str().unwrap(),
    ]);
    assert!(
        refused.contains("model.d_model (stored 32, given 48)"),
        "{refused}"
    );
    let resumed = ok(&[
        "train",
        "--model",
        "transformer",
        "--resume",
        "--quiet",
        "--max-steps",
        "10",
        "--out",
        broken.to_str().unwrap(),
    ]);
    assert!(
        resumed.contains("resuming from") && resumed.contains("(step 4)"),
        "{resumed}"
    );
    assert_eq!(weights(&straight), weights(&broken));

    // Generation: deterministic by seed, the length asked, a loop point with --loop.
    let dir = straight.to_str().unwrap();
    let song = |seed: &str, name: &str, extra: &[&str]| -> (String, Vec<u8>) {
        let path = tmp.path().join(name);
        let mut args = vec![
            "generate",
            "--model",
            dir,
            "--seconds",
            "6",
            "--seed",
            seed,
            "-o",
        ];
        args.push(path.to_str().unwrap());
        args.extend_from_slice(extra);
        let log = ok(&args);
        (log, std::fs::read(&path).unwrap())
    };
    let (_, a) = song("5", "a.mid", &[]);
    let (_, b) = song("5", "b.mid", &[]);
    let (_, c) = song("6", "c.mid", &[]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Truncation within kinds draws another song from the same seed; a bad value is refused.
    let (_, d) = song("5", "d.mid", &["--truncation", "per-kind"]);
    assert_ne!(a, d);
    let e = fails(&["generate", "--model", dir, "--truncation", "sideways"]);
    assert!(e.contains("use per-kind or global"), "{e}");
    let (log, _) = song("5", "l.mid", &["--loop", "--top-p", "0.9"]);
    assert!(
        log.contains("loop: intro") && log.contains("nats/token against the song's mean"),
        "{log}"
    );
    let info = ok(&["info", tmp.path().join("l.mid").to_str().unwrap()]);
    assert!(info.contains("loop"), "{info}");

    // Evaluation in nats per second, as JSON.
    let m = eval_json(dir, tmp.path());
    let (per_s, per_f) = (
        m["nats_per_second"].as_f64().unwrap(),
        m["nats_per_frame"].as_f64().unwrap(),
    );
    assert!(per_s > 1.0 && (per_s / 24.0 - per_f).abs() < 1e-9, "{m}");

    // Bad input: a window past what the model allows, a primer shorter than asked, a
    // checkpoint of the wrong shape, an unknown architecture.
    let e = fails(&[
        "generate",
        "--model",
        dir,
        "--window",
        "100000",
        "-o",
        "/tmp/x.mid",
    ]);
    assert!(
        e.contains("--window 100000 is longer than the model allows"),
        "{e}"
    );
    let primer = tmp.path().join("a.mid");
    let e = fails(&[
        "generate",
        "--model",
        dir,
        "--primer",
        primer.to_str().unwrap(),
        "--primer-seconds",
        "60",
        "-o",
        "/tmp/x.mid",
    ]);
    assert!(
        e.contains("shorter than the 60 s asked") && e.contains("a.mid"),
        "{e}"
    );
    let wrong = tmp.path().join("wrong");
    std::fs::create_dir_all(&wrong).unwrap();
    let cfg = std::fs::read_to_string(straight.join("config.json")).unwrap();
    std::fs::write(
        wrong.join("config.json"),
        cfg.replace("\"d_model\": 32", "\"d_model\": 16"),
    )
    .unwrap();
    std::fs::copy(
        straight.join("model.safetensors"),
        wrong.join("model.safetensors"),
    )
    .unwrap();
    let e = fails(&[
        "generate",
        "--model",
        wrong.to_str().unwrap(),
        "-o",
        "/tmp/x.mid",
    ]);
    assert!(
        e.contains("model.safetensors") && e.contains("shape"),
        "{e}"
    );
    std::fs::write(wrong.join("config.json"), "{\"architecture\": \"mamba\"}").unwrap();
    let e = fails(&[
        "generate",
        "--model",
        wrong.to_str().unwrap(),
        "-o",
        "/tmp/x.mid",
    ]);
    assert!(
        e.contains("config.json") && e.contains("unknown architecture \"mamba\""),
        "{e}"
    );
}

#[test]
fn bad_transformer_options_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let out = out.to_str().unwrap();
    for (args, said) in [
        (vec!["--heads", "3", "--d-model", "32"], "heads"),
        (vec!["--lr", "-1"], "--lr -1 must be in (0, 1]"),
        (vec!["--batch", "0"], "--batch 0 must be at least 1"),
        (vec!["--context", "1"], "context 1 must be at least 2"),
        (vec!["--coding", "drums"], "unknown --coding 'drums'"),
        (
            vec!["--voice-drop", "1.5"],
            "--voice-drop 1.5 must be a probability",
        ),
    ] {
        let mut full = vec![
            "train",
            "--model",
            "transformer",
            "--out",
            out,
            "--data",
            "/nonexistent.tar.gz",
        ];
        full.extend(args);
        let e = fails(&full);
        assert!(e.contains(said), "{e}");
        assert!(!e.contains("reading"), "checked before the data: {e}");
    }
}

#[test]
fn an_expressive_transformer_grows_from_a_note_model_and_writes_dynamics() {
    let Some(seprsco) = data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (notes, expr) = (tmp.path().join("notes"), tmp.path().join("expr"));
    train(&notes, &["--max-steps", "4"]);
    let log = train(
        &expr,
        &[
            "--coding",
            "expressive",
            "--init-from",
            notes.to_str().unwrap(),
            "--max-steps",
            "4",
        ],
    );
    assert!(
        log.contains("expressive coding") && log.contains("starting from the"),
        "{log}"
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(expr.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["transformer"]["coding"], "expressive");
    let dir = expr.to_str().unwrap();

    // The song keeps its velocities and timbres.
    let song = tmp.path().join("song.exprsco.pkl");
    let log = ok(&[
        "generate",
        "--model",
        dir,
        "--seconds",
        "8",
        "--seed",
        "3",
        "--loop",
        "-o",
        song.to_str().unwrap(),
    ]);
    assert!(log.contains("loop: intro"), "{log}");
    let score = nesmm::formats::load_score(&song).unwrap();
    assert!(score.expressive);
    let sounding: Vec<_> = score
        .frames
        .iter()
        .flat_map(|f| [f[0], f[1], f[3]])
        .filter(|c| c.note != 0)
        .collect();
    assert!(!sounding.is_empty());
    assert!(sounding.iter().any(|c| c.velocity != 15 || c.timbre != 0));
    // Every sounding cell has a velocity: the song codes back.
    nesmm::learn::data::expressive_events::encode(&score.frames, true).unwrap();

    // Likelihood: notes and dynamics apart, adding up to the whole.
    let m = eval_json(dir, tmp.path());
    let part = |k: &str| m[k].as_f64().unwrap();
    assert_eq!(m["coding"], "expressive");
    assert!(part("nats_per_second_dynamics") > 0.0, "{m}");
    let sum = part("nats_per_second_notes") + part("nats_per_second_dynamics");
    assert!((sum - part("nats_per_second")).abs() < 1e-6, "{m}");

    // Statistics: a dynamics table against the split's exprsco excerpts.
    let stats = ok(&[
        "stats",
        "--model",
        dir,
        "--songs",
        "2",
        "--seconds",
        "6",
        "--max-songs",
        "20",
    ]);
    assert!(
        stats.contains("mean velocity P1") && stats.contains("envelope pulses, frame 5"),
        "{stats}"
    );
    assert!(stats.contains("velocity TV P1"), "{stats}");

    // Bad input: a start model of another width, a seprsco archive with no exprsco beside it.
    let e = train_refused(
        &tmp.path().join("wide"),
        &[
            "--coding",
            "expressive",
            "--init-from",
            notes.to_str().unwrap(),
            "--d-model",
            "16",
            "--max-steps",
            "1",
            "--max-songs",
            "3",
        ],
    );
    assert!(
        e.contains("model.safetensors") && e.contains("only the vocabulary may grow"),
        "{e}"
    );
    let lonely = tmp.path().join("nesmdb24_seprsco.tar.gz");
    std::os::unix::fs::symlink(&seprsco, &lonely).unwrap();
    let e = train_refused(
        &tmp.path().join("x"),
        &["--coding", "expressive", "--data", lonely.to_str().unwrap()],
    );
    assert!(
        e.contains("nesmdb24_seprsco.tar.gz") && e.contains("exprsco"),
        "{e}"
    );
}
