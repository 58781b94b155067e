//! One writer per training folder.
//!
//! API: [`FolderLock::acquire`]`(dir)` creates `dir/.lock` (created exclusively, holding the
//! writer's PID) and returns a guard that removes the file when dropped. A second writer gets
//! an error naming the holder's PID. A lock whose PID no longer runs (the writer was killed)
//! is stale and is taken over. Any trainer of a folder (the LSTMs, the VAEs, the Transformer)
//! takes the lock before it reads or writes anything else in the folder.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside the folder.
pub const LOCK_FILE: &str = ".lock";

/// Holds `dir/.lock` until dropped.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
}

impl FolderLock {
    /// Takes the lock of `dir` (created if missing) for this process.
    pub fn acquire(dir: &Path) -> Result<FolderLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        // Two tries: the second after removing a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(FolderLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_holder(&path);
                    match holder {
                        Some(pid) if pid_alive(pid) => {
                            return Err(Error::Unsupported(format!(
                                "{}: another process (PID {pid}) is writing this folder; wait \
                                 for it to finish or stop it (kill {pid})",
                                dir.display()
                            )))
                        }
                        // Dead holder or unreadable file: the lock is stale.
                        _ => {
                            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Unsupported(format!(
            "{}: cannot take the lock (another writer keeps re-creating it)",
            path.display()
        )))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether process `pid` runs (Linux: `/proc/<pid>` exists; elsewhere a held lock is assumed
/// live and has to be removed by hand).
fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid() {
        let d = tempfile::tempdir().unwrap();
        let lock = FolderLock::acquire(d.path()).unwrap();
        let e = FolderLock::acquire(d.path()).unwrap_err().to_string();
        assert!(e.contains(&format!("PID {}", std::process::id())), "{e}");
        drop(lock);
        assert!(!d.path().join(LOCK_FILE).exists());
        FolderLock::acquire(d.path()).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stale_lock_of_a_dead_process_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(d.path().join(LOCK_FILE), format!("{dead}\n")).unwrap();
        let lock = FolderLock::acquire(d.path()).unwrap();
        let held = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(held.trim(), std::process::id().to_string());
    }
}
