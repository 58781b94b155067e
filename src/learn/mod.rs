//! Learning NES music from NES-MDB, in stages that import only downward:
//!
//! - [`data`]: NES-MDB songs as token sets in a vocabulary, cut into training windows;
//! - [`models`]: the note models (the LSTMs, the VAEs, the n-gram baselines), their
//!   configuration, how they score a token set, and model directories on disk;
//! - [`train`]: the trainer (options, optimizer, checkpoints, exact resume);
//! - [`sample`]: generation from a trained model;
//! - [`eval`]: evaluation against n-gram baselines and statistics of generated songs.
//!
//! `train` and `sample` read `data` and `models`; `eval` reads those and `sample`. Nothing in
//! `models` or `data` imports a later stage.
//!
//! The models follow candle's mnist-training example: a model is a struct of layers with a
//! `forward`; training uses a `VarMap`, AdamW, `backward` and safetensors checkpoints.

pub mod data;
pub mod eval;
pub mod models;
pub mod sample;
pub mod train;

// The module paths of the flat layout, kept for callers outside learn/ (the CLI, tests,
// benches and examples).
pub use data::{dataset, vocab};
pub use eval::{music_stats, music_stats_recurrence, report, stats, vae_eval};
pub use models::{fused_lstm, infer, lstm, lstm_grad, ngram, vae};
pub use sample::{generate, vae_decode};
pub use train::optim;

/// The stages import only downward: each folder's code (tests aside) names only the stages
/// this table allows, so no circle can form between them.
#[cfg(test)]
mod layering {
    const ALLOWED: [(&str, &[&str]); 5] = [
        ("data", &[]),
        ("models", &["data"]),
        ("train", &["data", "models"]),
        ("sample", &["data", "models"]),
        ("eval", &["data", "models", "sample"]),
    ];

    /// The stages `code` (a file of `stage`) names through `crate::learn::` or `super::super::`.
    fn named_stages(code: &str, is_mod_rs: bool) -> Vec<String> {
        let mut found = Vec::new();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let prefixes: &[&str] = if is_mod_rs {
                &["crate::learn::", "super::"]
            } else {
                &["crate::learn::", "super::super::"]
            };
            for prefix in prefixes {
                for (i, _) in line.match_indices(prefix) {
                    let before = line[..i].chars().last();
                    if before.is_some_and(|c| c == ':' || c.is_alphanumeric()) {
                        continue;
                    }
                    let rest = &line[i + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if name != "super" && !name.is_empty() {
                        found.push(name);
                    }
                }
            }
        }
        found
    }

    #[test]
    fn stages_import_only_downward() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/learn");
        let stages: Vec<&str> = ALLOWED.iter().map(|(s, _)| *s).collect();
        let mut checked = 0;
        for (stage, allowed) in ALLOWED {
            let dir = root.join(stage);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let is_mod_rs = path.file_name().is_some_and(|n| n == "mod.rs");
                for name in named_stages(code, is_mod_rs) {
                    let bad = stages.contains(&name.as_str())
                        && name != stage
                        && !allowed.contains(&name.as_str());
                    assert!(!bad, "{} imports learn::{name}", path.display());
                }
                checked += 1;
            }
        }
        assert!(checked >= 30, "only {checked} files checked");
    }

    #[test]
    fn an_upward_import_is_caught() {
        let code = "use crate::learn::train::TrainOptions;\nuse super::super::eval::stats;";
        assert_eq!(named_stages(code, false), ["train", "eval"]);
        assert_eq!(
            named_stages("// crate::learn::train", false),
            Vec::<String>::new()
        );
    }
}
