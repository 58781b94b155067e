//! `nesmm train` killed, interrupted, raced and misused: a run killed at any file operation of
//! checkpointing resumes to the same weights, bit for bit, as a run never stopped; SIGINT and
//! SIGTERM write a checkpoint and exit 130 / 143; one writer per folder; refusals name the
//! option at fault. The data is a small synthetic corpus written as NES-MDB pickles.

use nesmm::learn::train::checkpoint::{Checkpoints, KILLED_EXIT};
use nesmm::score::Score;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder of NES-MDB-style splits: 4 training songs and 1 validation song.
fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (split, songs) in [("train", 0..4u8), ("valid", 4..5u8)] {
        std::fs::create_dir_all(dir.path().join(split)).unwrap();
        for s in songs {
            let notes: Vec<[u8; 4]> = (0..70usize)
                .map(|f| {
                    let root = 60 + s * 2;
                    [root + [0u8, 4, 7, 12][(f / 2) % 4], 0, 0, 0]
                })
                .collect();
            let score = Score::from_notes(format!("song{s}"), 24.0, &notes);
            let path = dir.path().join(split).join(format!("song{s}.seprsco.pkl"));
            nesmm::formats::save_score(&score, &path).unwrap();
        }
    }
    dir
}

const TINY: [&str; 18] = [
    "train",
    "--model",
    "lstm-reduced",
    "--quiet",
    "--hidden",
    "8",
    "--embed",
    "4",
    "--head-hidden",
    "4",
    "--layers",
    "1",
    "--batch",
    "2",
    "--seq",
    "16",
    "--threads",
    "1",
];

fn nesmm(data: &Path, out: &Path, extra: &[&str], kill_at: Option<usize>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nesmm"));
    cmd.args(TINY).arg("--data").arg(data).arg("--out").arg(out);
    cmd.args(["--epochs", "2", "--checkpoint-minutes", "0"]);
    cmd.args(extra);
    cmd.env_remove("NESMM_TEST_KILL_AT_CHECKPOINT_OP");
    if let Some(k) = kill_at {
        cmd.env("NESMM_TEST_KILL_AT_CHECKPOINT_OP", k.to_string());
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every tensor of the newest checkpoint and of the best model, as raw bits.
fn weights(out: &Path) -> Vec<(String, Vec<u32>)> {
    let ck = Checkpoints::open(out).unwrap();
    let g = ck.latest().expect("a checkpoint");
    let best = nesmm::learn::models::model_dir::load_tensors(&out.join("model.safetensors"));
    let mut all = Vec::new();
    for (prefix, set) in [
        ("last", g.tensors("model").unwrap()),
        ("optimizer", g.tensors("optimizer").unwrap()),
        ("best", best.unwrap()),
    ] {
        for (k, t) in set {
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            all.push((
                format!("{prefix}.{k}"),
                v.iter().map(|x| x.to_bits()).collect(),
            ));
        }
    }
    all.sort();
    all
}

fn leftovers(out: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [out.to_path_buf(), out.join("checkpoints")] {
        for e in std::fs::read_dir(&dir).into_iter().flatten() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".tmp") || name.starts_with(".tmp-") || name == ".lock" {
                found.push(p);
            }
        }
    }
    found
}

/// Kills the run at every file operation of checkpointing in turn, resumes it, and checks the
/// result equals the uninterrupted run's bit for bit.
#[test]
fn a_run_killed_at_any_checkpoint_operation_resumes_to_the_same_bytes() {
    let data = corpus();
    let base = tempfile::tempdir().unwrap();
    let steps = ["--max-steps", "6"];
    let reference_dir = base.path().join("reference");
    let o = nesmm(data.path(), &reference_dir, &steps, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = weights(&reference_dir);
    let mut killed = 0;
    for k in 1.. {
        let out = base.path().join(format!("k{k}"));
        let o = nesmm(data.path(), &out, &steps, Some(k));
        if o.status.success() {
            break; // k is past the run's last operation
        }
        assert_eq!(o.status.code(), Some(KILLED_EXIT), "k={k}: {}", stderr(&o));
        killed += 1;
        if !out.join("model.safetensors").exists() {
            // Killed before the first validation: generate says what the folder lacks.
            let g = Command::new(env!("CARGO_BIN_EXE_nesmm"))
                .args(["generate", "--seconds", "1", "--model"])
                .arg(&out)
                .arg("-o")
                .arg(base.path().join("g.mid"))
                .output()
                .unwrap();
            assert!(
                stderr(&g).contains("no trained weights yet"),
                "{}",
                stderr(&g)
            );
        }
        let r = nesmm(data.path(), &out, &["--max-steps", "6", "--resume"], None);
        assert!(r.status.success(), "k={k}: {}", stderr(&r));
        let said = stderr(&r);
        assert!(
            said.contains("resuming from checkpoint generation")
                || said.contains("starting the run from the beginning"),
            "k={k}: {said}"
        );
        assert!(weights(&out) == reference, "k={k}: weights differ");
        assert!(leftovers(&out).is_empty(), "k={k}: {:?}", leftovers(&out));
        std::fs::remove_dir_all(&out).unwrap();
    }
    // 6 steps with a checkpoint after each, plus the validations' best weights.
    assert!(killed >= 30, "only {killed} kill points");
    eprintln!("{killed} kill points, every one resumed to the same bytes");
}

/// SIGKILL at pseudo-random moments (fixed seed, so a failure repeats), then resume.
#[cfg(unix)]
#[test]
fn a_run_killed_at_random_times_resumes_to_the_same_bytes() {
    let data = corpus();
    let base = tempfile::tempdir().unwrap();
    let steps = ["--max-steps", "6"];
    let reference_dir = base.path().join("reference");
    assert!(nesmm(data.path(), &reference_dir, &steps, None)
        .status
        .success());
    let reference = weights(&reference_dir);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..8 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = std::time::Duration::from_millis(20 + x % 400);
        let out = base.path().join(format!("r{i}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(TINY)
            .args(["--epochs", "2", "--checkpoint-minutes", "0"])
            .args(steps)
            .arg("--data")
            .arg(data.path())
            .arg("--out")
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; the run may have ended already
        let _ = child.wait();
        let r = nesmm(data.path(), &out, &["--max-steps", "6", "--resume"], None);
        if !out.join("config.json").exists() {
            continue; // killed before anything was written: nothing to resume
        }
        assert!(r.status.success(), "{delay:?}: {}", stderr(&r));
        assert!(weights(&out) == reference, "{delay:?}: weights differ");
    }
}

#[test]
fn a_second_writer_is_refused_and_a_dead_ones_lock_taken_over() {
    let data = corpus();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m");
    std::fs::create_dir_all(&out).unwrap();
    // This test process is alive: its lock holds.
    std::fs::write(out.join(".lock"), format!("{}\n", std::process::id())).unwrap();
    let o = nesmm(data.path(), &out, &["--max-steps", "1"], None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("PID {}", std::process::id())),
        "{}",
        stderr(&o)
    );
    // A killed writer's lock (its PID gone) is taken over.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(out.join(".lock"), format!("{dead}\n")).unwrap();
    let o = nesmm(data.path(), &out, &["--max-steps", "1"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join(".lock").exists());
}

#[test]
fn a_model_is_never_overwritten_and_resume_refuses_other_options() {
    let data = corpus();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m");
    let o = nesmm(
        data.path(),
        &out,
        &["--max-steps", "2", "--max-songs", "3"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = weights(&out);
    let again = nesmm(data.path(), &out, &["--max-steps", "2"], None);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already holds a model"),
        "{}",
        stderr(&again)
    );
    assert!(weights(&out) == before, "the refused run changed the model");
    let e = stderr(&nesmm(
        data.path(),
        &out,
        &["--resume", "--max-steps", "3", "--lr", "0.01"],
        None,
    ));
    assert!(e.contains("--lr 0.01 (stored: 0.003)"), "{e}");
    // --max-songs is stored: a resume without it reads the same 3 songs.
    let r = nesmm(data.path(), &out, &["--resume", "--max-steps", "3"], None);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stderr(&r).contains("3 train songs"), "{}", stderr(&r));
    assert!(stderr(&r).contains("lstm-reduced"), "{}", stderr(&r));
    let e = stderr(&nesmm(
        data.path(),
        &out,
        &["--resume", "--max-steps", "4", "--max-songs", "4"],
        None,
    ));
    assert!(e.contains("--max-songs 4 (stored: 3)"), "{e}");
    let f = nesmm(data.path(), &out, &["--force", "--max-steps", "1"], None);
    assert!(f.status.success(), "{}", stderr(&f));
}

#[test]
fn numbers_are_checked_before_the_data_is_read() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("no-data-here");
    for (flag, value, accepted) in [
        ("--lr", "-1", "1e-9 to 10"),
        ("--max-steps", "0", "at least 1"),
        ("--batch", "0", "1 to 4096"),
        ("--dropout", "1.5", "0 to 0.999"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(["train", "--quiet", flag, value, "--out"])
            .arg(d.path().join("m"))
            .arg("--data")
            .arg(&missing)
            .output()
            .unwrap();
        let e = stderr(&o);
        assert!(!o.status.success());
        assert!(e.contains(&format!("{flag} {value}")), "{e}");
        assert!(e.contains(accepted), "{e}");
        assert!(!e.contains("no-data-here"), "{e}");
        assert!(!d.path().join("m").exists(), "{e}");
    }
}

#[cfg(unix)]
#[test]
fn sigint_and_sigterm_write_a_checkpoint_and_exit_130_and_143() {
    let data = corpus();
    let d = tempfile::tempdir().unwrap();
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let out = d.path().join(sig);
        let child = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(TINY)
            .args(["--epochs", "100000", "--checkpoint-minutes", "60"])
            .arg("--data")
            .arg(data.path())
            .arg("--out")
            .arg(&out)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Training has begun once config.json is written.
        let t0 = std::time::Instant::now();
        while !out.join("config.json").exists() {
            assert!(t0.elapsed().as_secs() < 60, "training did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let k = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(k.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        assert!(stderr(&o).contains("checkpoint written"), "{}", stderr(&o));
        let ck = Checkpoints::open(&out).unwrap();
        assert!(ck.latest().is_some(), "no checkpoint after SIG{sig}");
        assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    }
}
