//! Checkpoints as one unit: a generation is a folder of named safetensors files plus a
//! `manifest.json` (the run's progress as JSON and each file's size) written last; the folder is
//! written under a temporary name and renamed into place, so a kill at any moment leaves the
//! previous generation or the new one, never a mix.
//!
//! API (any trainer of a folder can use it; take [`crate::output_lock::FolderLock`] first):
//! - [`Checkpoints::open`]`(out)`: the generations in `out/checkpoints/`; removes what a killed
//!   writer left (temporary folders, generations whose manifest is missing).
//! - [`Checkpoints::latest`]: the newest complete [`Generation`] (`None`: start from the
//!   beginning); [`Generation::tensors`]`(name)` and [`Generation::state`] read it back.
//! - [`Checkpoints::write`]`(&[(name, &tensors)], &state_json)`: writes the next generation
//!   and removes all but the newest [`KEEP`]; on error the temporary folder is removed.
//! - [`Checkpoints::remove_all`]`(out)`: for a run that replaces the folder (`--force`);
//!   [`remove_temp_files`]`(out)`: the `.NAME.PID.tmp` files a killed writer left beside.
//!
//! Fault injection (tests only): with `NESMM_TEST_KILL_AT_CHECKPOINT_OP=k` set, the process
//! exits with [`KILLED_EXIT`] at the k-th file operation of checkpointing (counted over the
//! process), as a kill would: no cleanup runs.

use crate::error::{Error, Result};
use crate::learn::models::model_dir::load_tensors;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The folder of generations inside a training folder.
pub const CHECKPOINTS: &str = "checkpoints";
/// Complete generations kept (the newest first).
pub const KEEP: usize = 2;
/// Exit status of a process stopped by the fault-injection point.
pub const KILLED_EXIT: i32 = 86;
const MANIFEST: &str = "manifest.json";
const TEMP_PREFIX: &str = ".tmp-";
const FAILPOINT_ENV: &str = "NESMM_TEST_KILL_AT_CHECKPOINT_OP";

static OPS: AtomicUsize = AtomicUsize::new(0);

/// Counts one file operation of checkpointing, and ends the process there when the
/// fault-injection point says so.
pub fn file_op() {
    let n = OPS.fetch_add(1, Ordering::SeqCst) + 1;
    let kill_at = std::env::var(FAILPOINT_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    if kill_at == Some(n) {
        std::process::exit(KILLED_EXIT);
    }
}

/// What `manifest.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub generation: u64,
    /// File name -> size in bytes.
    pub files: BTreeMap<String, u64>,
    /// The trainer's progress.
    pub state: serde_json::Value,
}

/// One complete checkpoint.
#[derive(Debug, Clone)]
pub struct Generation {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Generation {
    /// The generation's number (1 for the first checkpoint of a run).
    pub fn number(&self) -> u64 {
        self.manifest.generation
    }

    /// Whether the generation holds the tensors file `name`.
    pub fn has(&self, name: &str) -> bool {
        self.manifest.files.contains_key(&file_name(name))
    }

    /// The tensors saved under `name`.
    pub fn tensors(&self, name: &str) -> Result<HashMap<String, Tensor>> {
        load_tensors(&self.dir.join(file_name(name)))
    }

    /// The progress saved with the tensors.
    pub fn state<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.manifest.state.clone())
            .map_err(|e| Error::format(self.dir.join(MANIFEST), format!("state: {e}")))
    }
}

fn file_name(name: &str) -> String {
    format!("{name}.safetensors")
}

fn generation_dir_name(n: u64) -> String {
    format!("{n:08}")
}

/// The generations of one training folder.
#[derive(Debug)]
pub struct Checkpoints {
    root: PathBuf,
    latest: Option<Generation>,
}

impl Checkpoints {
    /// Reads `out/checkpoints/`, removing temporary folders and incomplete generations.
    pub fn open(out: &Path) -> Result<Checkpoints> {
        let root = out.join(CHECKPOINTS);
        let mut latest: Option<Generation> = None;
        if root.is_dir() {
            let entries = std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))?;
            for entry in entries {
                let dir = entry.map_err(|e| Error::io(&root, e))?.path();
                let name = dir.file_name().unwrap_or_default().to_string_lossy();
                if name.starts_with(TEMP_PREFIX) {
                    remove_dir(&dir)?;
                    continue;
                }
                if !dir.is_dir() || name.parse::<u64>().is_err() {
                    continue;
                }
                match read_generation(&dir) {
                    Some(g) if latest.as_ref().is_none_or(|l| g.number() > l.number()) => {
                        latest = Some(g)
                    }
                    Some(_) => {}
                    None => remove_dir(&dir)?,
                }
            }
        }
        let latest = latest.or_else(|| legacy_last(out));
        Ok(Checkpoints { root, latest })
    }

    /// The newest complete generation.
    pub fn latest(&self) -> Option<&Generation> {
        self.latest.as_ref()
    }

    /// Writes the next generation: each `(name, tensors)` as `name.safetensors`, then the
    /// manifest with `state`, then the switch (a rename); then drops old generations.
    pub fn write(
        &mut self,
        files: &[(&str, &HashMap<String, Tensor>)],
        state: &serde_json::Value,
    ) -> Result<&Generation> {
        let number = self.latest.as_ref().map_or(1, |g| g.number() + 1);
        let tmp = self
            .root
            .join(format!("{TEMP_PREFIX}{}", generation_dir_name(number)));
        let generation = match self.write_into(&tmp, number, files, state) {
            Ok(g) => g,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        self.latest = Some(generation);
        self.prune(number)?;
        Ok(self.latest.as_ref().expect("just written"))
    }

    fn write_into(
        &self,
        tmp: &Path,
        number: u64,
        files: &[(&str, &HashMap<String, Tensor>)],
        state: &serde_json::Value,
    ) -> Result<Generation> {
        if tmp.exists() {
            remove_dir(tmp)?;
        }
        std::fs::create_dir_all(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut sizes = BTreeMap::new();
        for (name, tensors) in files {
            file_op();
            let path = tmp.join(file_name(name));
            // No rename per file: the folder's rename below is the switch.
            candle_core::safetensors::save(*tensors, &path)
                .map_err(|e| Error::format(&path, format!("cannot write safetensors: {e}")))?;
            let f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            f.sync_all().map_err(|e| Error::io(&path, e))?;
            let size = f.metadata().map_err(|e| Error::io(&path, e))?.len();
            sizes.insert(file_name(name), size);
        }
        let manifest = Manifest {
            generation: number,
            files: sizes,
            state: state.clone(),
        };
        file_op();
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| Error::format(tmp.join(MANIFEST), e.to_string()))?;
        crate::io::write_atomic(tmp.join(MANIFEST), text.as_bytes())?;
        sync_dir(tmp)?;
        file_op();
        let dir = self.root.join(generation_dir_name(number));
        std::fs::rename(tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        sync_dir(&self.root)?;
        Ok(Generation { dir, manifest })
    }

    /// Removes the generations older than the newest [`KEEP`], the manifest first so a kill
    /// midway leaves an incomplete folder that [`Checkpoints::open`] removes.
    fn prune(&self, newest: u64) -> Result<()> {
        let entries = std::fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        for entry in entries {
            let dir = entry.map_err(|e| Error::io(&self.root, e))?.path();
            let old = dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n + KEEP as u64 <= newest);
            if old {
                file_op();
                let manifest = dir.join(MANIFEST);
                if manifest.exists() {
                    std::fs::remove_file(&manifest).map_err(|e| Error::io(&manifest, e))?;
                }
                remove_dir(&dir)?;
            }
        }
        Ok(())
    }

    /// Removes every generation of `out` (a run that replaces the folder), `last/` of older
    /// runs included.
    pub fn remove_all(out: &Path) -> Result<()> {
        for dir in [out.join(CHECKPOINTS), out.join("last")] {
            if dir.exists() {
                remove_dir(&dir)?;
            }
        }
        Ok(())
    }
}

/// The `last/` folder of runs from before generations (four files renamed one by one), as
/// generation 0 when its progress file is readable.
fn legacy_last(out: &Path) -> Option<Generation> {
    let dir = out.join("last");
    let state = serde_json::from_slice(&std::fs::read(dir.join("state.json")).ok()?).ok()?;
    let mut files = BTreeMap::new();
    for name in ["model", "optimizer", "carry"] {
        if let Ok(m) = std::fs::metadata(dir.join(file_name(name))) {
            files.insert(file_name(name), m.len());
        }
    }
    Some(Generation {
        dir,
        manifest: Manifest {
            generation: 0,
            files,
            state,
        },
    })
}

fn read_generation(dir: &Path) -> Option<Generation> {
    let bytes = std::fs::read(dir.join(MANIFEST)).ok()?;
    let manifest: Manifest = serde_json::from_slice(&bytes).ok()?;
    let complete = manifest
        .files
        .iter()
        .all(|(name, size)| std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() == *size));
    complete.then(|| Generation {
        dir: dir.to_path_buf(),
        manifest,
    })
}

/// Removes the temporary files (`.NAME.PID.tmp`) a killed writer left in `out`.
pub fn remove_temp_files(out: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry.map_err(|e| Error::io(out, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") && path.is_file() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Makes a rename inside `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> Result<()> {
    match std::fs::File::open(dir) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn tensors(v: f32) -> HashMap<String, Tensor> {
        let t = Tensor::from_slice(&[v, v + 1.0], 2, &Device::Cpu).unwrap();
        HashMap::from([("w".to_string(), t)])
    }

    #[test]
    fn generations_switch_whole_and_old_ones_are_dropped() {
        let d = tempfile::tempdir().unwrap();
        let mut ck = Checkpoints::open(d.path()).unwrap();
        assert!(ck.latest().is_none());
        for i in 1..=4u64 {
            let state = serde_json::json!({ "step": i });
            let g = ck.write(&[("model", &tensors(i as f32))], &state).unwrap();
            assert_eq!(g.number(), i);
        }
        let again = Checkpoints::open(d.path()).unwrap();
        let g = again.latest().unwrap();
        assert_eq!(g.number(), 4);
        assert_eq!(g.state::<serde_json::Value>().unwrap()["step"], 4);
        let w = g.tensors("model").unwrap()["w"].to_vec1::<f32>().unwrap();
        assert_eq!(w, [4.0, 5.0]);
        let kept = std::fs::read_dir(d.path().join(CHECKPOINTS))
            .unwrap()
            .count();
        assert_eq!(kept, KEEP);
    }

    #[test]
    fn leftovers_of_a_killed_writer_are_removed_and_ignored() {
        let d = tempfile::tempdir().unwrap();
        let mut ck = Checkpoints::open(d.path()).unwrap();
        ck.write(&[("model", &tensors(1.0))], &serde_json::json!(1))
            .unwrap();
        let root = d.path().join(CHECKPOINTS);
        // A temporary folder, and a generation whose file was cut short.
        std::fs::create_dir_all(root.join(".tmp-00000002")).unwrap();
        ck.write(&[("model", &tensors(2.0))], &serde_json::json!(2))
            .unwrap();
        std::fs::create_dir_all(root.join(".tmp-00000003")).unwrap();
        let torn = root.join("00000002/model.safetensors");
        let len = std::fs::metadata(&torn).unwrap().len();
        std::fs::File::options()
            .write(true)
            .open(&torn)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let ck = Checkpoints::open(d.path()).unwrap();
        assert_eq!(ck.latest().unwrap().number(), 1);
        let left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["00000001"], "{left:?}");
    }
}
