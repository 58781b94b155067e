//! NES-MDB as token sets: reads the official archive (or an unpacked folder) through
//! [`crate::formats::nesmdb`], keeping only each song's notes, and encodes each split in one
//! vocabulary (counted from the train split unless a model's is given).

use super::dataset::TokenSet;
use super::vocab::Vocab;
use crate::error::{Error, Result};
use crate::formats::nesmdb::{self, ScoreKind, Split};
use crate::score::Voice;
use std::path::{Path, PathBuf};

/// The seprsco archive in the default data folder, or an error telling the user what to do.
pub fn default_data_path() -> Result<PathBuf> {
    nesmdb::archive_path(ScoreKind::Seprsco).ok_or_else(|| {
        let looked = match std::env::var_os("NESMDB_DIR") {
            Some(d) => format!(
                "NESMDB_DIR={} holds no nesmdb24_seprsco.tar.gz",
                d.to_string_lossy()
            ),
            None => {
                "NESMDB_DIR is not set and ../shared/data/nesmdb has no nesmdb24_seprsco.tar.gz"
                    .into()
            }
        };
        Error::Unsupported(format!(
            "NES-MDB not found ({looked}): download nesmdb24_seprsco.tar.gz from \
             https://github.com/chrisdonahue/nesmdb (the dataset links in its README), put it in a \
             folder and `export NESMDB_DIR=/that/folder`, or pass --data <archive or folder>"
        ))
    })
}

/// Notes of the songs of one split (at most `max_songs`, in file-name order).
pub struct SplitNotes {
    pub split: Split,
    pub songs: Vec<(String, Vec<[u8; 4]>)>,
}

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
    let mut out: Vec<SplitNotes> = splits
        .iter()
        .map(|&split| SplitNotes {
            split,
            songs: Vec::new(),
        })
        .collect();
    nesmdb::for_each_song(path, splits, |song| {
        if let Some(entry) = out.iter_mut().find(|s| s.split == song.split) {
            if max_songs.is_none_or(|m| entry.songs.len() < m) {
                entry
                    .songs
                    .push((song.score.name.clone(), song.score.note_matrix()));
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
