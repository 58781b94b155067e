//! One writer per output: a lock file that a second writer is refused on.
//!
//! API: [`OutputLock::acquire`]`(lock_path, what)` creates `lock_path` (created exclusively,
//! with the writer's PID already in it) and returns a guard that removes the file when dropped, on every
//! return and on a panic's unwinding. A second writer gets an error naming the holder's PID
//! and `what` the lock covers. A lock whose PID no longer runs (its writer was killed) is stale
//! and is taken over.
//!
//! Users: a training folder ([`FolderLock::acquire`]: `DIR/.lock`, taken by every trainer
//! before it reads or writes anything else in the folder), and `build` / `generate`, which
//! lock a set of outputs with [`OutputLock::beside`] (`NAME.nes.lock` covers the ROM, its
//! page and its WAVs).

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside a locked folder.
pub const LOCK_FILE: &str = ".lock";

/// Holds a lock file until dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

/// The lock of a whole folder (a training run's).
pub type FolderLock = OutputLock;

impl OutputLock {
    /// Takes the lock of folder `dir` (created if missing): `dir/.lock`.
    pub fn acquire_folder(dir: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        OutputLock::acquire(
            &dir.join(LOCK_FILE),
            &format!("{}: this folder", dir.display()),
        )
    }

    /// Takes the lock of the outputs named after `output`: `OUTPUT.lock` beside it (its folder
    /// is created if missing). `what` says what else the lock covers, for the error.
    pub fn beside(output: &Path, what: &str) -> Result<OutputLock> {
        let mut name = output.as_os_str().to_os_string();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        OutputLock::acquire(&path, &format!("{}{what}", output.display()))
    }

    /// Takes the lock file `path` for this process; `what` names what it guards in the error.
    pub fn acquire(path: &Path, what: &str) -> Result<OutputLock> {
        // The PID goes into a file of this process first, which is then linked to `path`: the
        // link is the exclusive create, so a lock file never exists without its PID (an empty
        // one would look stale to a racing writer, which would take it over).
        let pid = std::process::id();
        let mut own = path.as_os_str().to_os_string();
        own.push(format!(".{pid}.tmp"));
        let own = PathBuf::from(own);
        let written = std::fs::File::create(&own)
            .and_then(|mut f| writeln!(f, "{pid}").and_then(|_| f.sync_all()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&own);
            return Err(Error::io(&own, e));
        }
        let taken = OutputLock::link_own(&own, path, what);
        let _ = std::fs::remove_file(&own);
        taken
    }

    /// Links `own` (this process's PID file) to `path`, taking over a stale lock once.
    fn link_own(own: &Path, path: &Path, what: &str) -> Result<OutputLock> {
        // Two tries: the second after removing a stale lock.
        for _ in 0..2 {
            match std::fs::hard_link(own, path) {
                Ok(()) => {
                    return Ok(OutputLock {
                        path: path.to_path_buf(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    match read_holder(path) {
                        Some(pid) if pid_alive(pid) => {
                            return Err(Error::Unsupported(format!(
                                "{what}: another process (PID {pid}) is writing it (lock {}); \
                                 wait for it to finish or stop it (kill {pid})",
                                path.display()
                            )))
                        }
                        // Dead holder or unreadable file: the lock is stale.
                        _ => match std::fs::remove_file(path) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => return Err(Error::io(path, e)),
                        },
                    }
                }
                Err(e) => return Err(Error::io(path, e)),
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

impl Drop for OutputLock {
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
        let lock = FolderLock::acquire_folder(d.path()).unwrap();
        let e = FolderLock::acquire_folder(d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("PID {}", std::process::id())), "{e}");
        drop(lock);
        assert!(!d.path().join(LOCK_FILE).exists());
        FolderLock::acquire_folder(d.path()).unwrap();
    }

    #[test]
    fn an_output_lock_sits_beside_the_output_and_names_it() {
        let d = tempfile::tempdir().unwrap();
        let rom = d.path().join("roms/x.nes");
        let lock = OutputLock::beside(&rom, " (and its page)").unwrap();
        assert_eq!(lock.path(), d.path().join("roms/x.nes.lock"));
        let e = OutputLock::beside(&rom, " (and its page)")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.nes (and its page)"), "{e}");
        drop(lock);
        assert!(!d.path().join("roms/x.nes.lock").exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stale_lock_of_a_dead_process_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(d.path().join(LOCK_FILE), format!("{dead}\n")).unwrap();
        let lock = FolderLock::acquire_folder(d.path()).unwrap();
        let held = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(held.trim(), std::process::id().to_string());
    }
}
