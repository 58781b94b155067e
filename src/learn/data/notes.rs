//! NES-MDB as token sets: reads the official archive (or an unpacked folder) through
//! [`crate::formats::nesmdb`], keeping only each song's notes, and encodes each split in one
//! vocabulary (counted from the train split unless a model's is given).

use super::coding::{frames_of_notes, Coding};
use super::dataset::TokenSet;
use super::vocab::Vocab;
use crate::error::{Error, Result};
use crate::formats::nesmdb::{self, ScoreKind, Split};
use crate::score::{Frame, Score, Voice};
use std::path::{Path, PathBuf};

/// The seprsco archive in the default data folder, or an error telling the user what to do.
pub fn default_data_path() -> Result<PathBuf> {
    default_archive(ScoreKind::Seprsco)
}

/// The archive of `kind` in the default data folder, or an error telling the user what to do.
pub fn default_archive(kind: ScoreKind) -> Result<PathBuf> {
    let file = nesmdb::archive_name(kind);
    nesmdb::archive_path(kind).ok_or_else(|| {
        let looked = match std::env::var_os("NESMDB_DIR") {
            Some(d) => format!("NESMDB_DIR={} holds no {file}", d.to_string_lossy()),
            None => format!("NESMDB_DIR is not set and ../shared/data/nesmdb has no {file}"),
        };
        Error::Unsupported(format!(
            "NES-MDB not found ({looked}): download {file} from \
             https://github.com/chrisdonahue/nesmdb (the dataset links in its README), put it in a \
             folder and `export NESMDB_DIR=/that/folder`, or pass --data <archive or folder>"
        ))
    })
}

/// The exprsco archive for a command given `data` (or nothing): `data` itself unless it is the
/// seprsco archive, in which case the exprsco archive beside it; else the default one.
pub fn expressive_data_path(data: Option<&Path>) -> Result<PathBuf> {
    let Some(p) = data else {
        return default_archive(ScoreKind::Exprsco);
    };
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
    let Some(name) = name.filter(|n| n.contains("seprsco")) else {
        return Ok(p.to_path_buf());
    };
    let beside = p.with_file_name(name.replace("seprsco", "exprsco"));
    if beside.is_file() {
        return Ok(beside);
    }
    Err(Error::format(
        p,
        format!(
            "holds notes only (seprsco) and no {} lies beside it; velocities and timbres need \
             NES-MDB's {} (pass it with --data)",
            beside.display(),
            nesmdb::archive_name(ScoreKind::Exprsco)
        ),
    ))
}

/// The archive or folder a model of `coding` reads: `data`, else the default seprsco archive;
/// for the expressive coding, [`expressive_data_path`].
pub fn coding_data_path(coding: Coding, data: Option<&Path>) -> Result<PathBuf> {
    match (coding, data) {
        (Coding::Notes, Some(p)) => Ok(p.to_path_buf()),
        (Coding::Notes, None) => default_data_path(),
        (Coding::Expressive, given) => expressive_data_path(given),
    }
}

/// Songs of one split (at most `max_songs`, in file-name order), each as `T`.
pub struct SplitSongs<T> {
    pub split: Split,
    pub songs: Vec<(String, T)>,
}

/// Notes of the songs of one split.
pub type SplitNotes = SplitSongs<Vec<[u8; 4]>>;

impl SplitNotes {
    /// Total frames.
    pub fn frames(&self) -> usize {
        self.songs.iter().map(|s| s.1.len()).sum()
    }

    /// Encodes the songs in `vocab`.
    pub fn encode(&self, vocab: &Vocab) -> TokenSet {
        let mut set = TokenSet::new(vocab.clone());
        for (name, notes) in &self.songs {
            set.push_notes(name, notes);
        }
        set
    }
}

/// Reads the notes of `splits` from `path` (archive or folder), at most `max_songs` per split.
pub fn load_notes(
    path: &Path,
    splits: &[Split],
    max_songs: Option<usize>,
) -> Result<Vec<SplitNotes>> {
    load_songs(path, splits, max_songs, |s| Ok(s.note_matrix()))
}

/// Reads the frames (notes, velocities, timbres) of `splits` from an exprsco archive or
/// folder; a song without dynamics (a seprsco) is an error naming it.
pub fn load_frames(
    path: &Path,
    splits: &[Split],
    max_songs: Option<usize>,
) -> Result<Vec<SplitSongs<Vec<Frame>>>> {
    load_songs(path, splits, max_songs, |s| {
        if !s.expressive {
            return Err(Error::format(
                path,
                format!(
                    "song '{}' holds notes only (seprsco); velocities and timbres need NES-MDB's \
                     exprsco songs ({})",
                    s.name,
                    nesmdb::archive_name(ScoreKind::Exprsco)
                ),
            ));
        }
        Ok(s.frames)
    })
}

/// The songs of `splits` as frames for a model of `coding`: the expressive coding's
/// ([`load_frames`]), or the notes of any score with the seprsco defaults
/// ([`frames_of_notes`]).
pub fn load_coded(
    path: &Path,
    splits: &[Split],
    max_songs: Option<usize>,
    coding: Coding,
) -> Result<Vec<SplitSongs<Vec<Frame>>>> {
    match coding {
        Coding::Notes => load_songs(path, splits, max_songs, |s| {
            Ok(frames_of_notes(&s.note_matrix()))
        }),
        Coding::Expressive => load_frames(path, splits, max_songs),
    }
}

/// Reads each song of `splits` from `path` through `keep`, at most `max_songs` per split.
fn load_songs<T>(
    path: &Path,
    splits: &[Split],
    max_songs: Option<usize>,
    mut keep: impl FnMut(Score) -> Result<T>,
) -> Result<Vec<SplitSongs<T>>> {
    let mut out: Vec<SplitSongs<T>> = splits
        .iter()
        .map(|&split| SplitSongs {
            split,
            songs: Vec::new(),
        })
        .collect();
    nesmdb::for_each_song(path, splits, |song| {
        if let Some(entry) = out.iter_mut().find(|s| s.split == song.split) {
            if max_songs.is_none_or(|m| entry.songs.len() < m) {
                let name = song.score.name.clone();
                entry.songs.push((name, keep(song.score)?));
            }
        }
        Ok(())
    })?;
    for s in &out {
        if s.songs.is_empty() {
            return Err(Error::format(
                path,
                format!("no songs in the {} split", s.split.dir_name()),
            ));
        }
    }
    Ok(out)
}

/// The vocabulary of `voices` counted over `notes`.
pub fn count_vocab(voices: &[Voice], notes: &SplitNotes) -> Result<Vocab> {
    Vocab::from_notes(voices, notes.songs.iter().flat_map(|s| s.1.iter().copied()))
}
