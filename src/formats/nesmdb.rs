//! The NES Music Database: finding it and loading its songs.
//!
//! Songs load from the official `nesmdb24_<kind>.tar.gz` read in place (streamed through gzip
//! and tar, nothing extracted to disk), from an unpacked root folder holding `train/`, `valid/`
//! and `test/`, or from one split folder. Songs always come sorted by split (train, valid, test)
//! and then by file name, whatever order the archive or the file system lists them in.

use crate::error::{Error, Result};
use crate::formats::pickle::{read_pickle, song_name};
use crate::score::Score;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use crate::formats::pickle::PickleKind as ScoreKind;

/// Largest pickle accepted inside an archive (the longest NES-MDB exprsco is about 1.5 MB).
const MAX_MEMBER_BYTES: u64 = 64 << 20;

/// One of NES-MDB's official splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    /// All splits in their canonical order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    /// The folder name (`train`, `valid`, `test`).
    pub fn dir_name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    /// The split a folder name stands for.
    pub fn from_dir_name(name: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|s| s.dir_name() == name)
    }
}

/// A dataset song and the split it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    pub split: Split,
    pub score: Score,
}

/// The NES-MDB folder: env `NESMDB_DIR`, else `<crate>/../shared/data/nesmdb`, else
/// `shared/data/nesmdb` or `../shared/data/nesmdb` below the working directory. Only an
/// existing folder is returned.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NESMDB_DIR") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/nesmdb"),
        PathBuf::from("shared/data/nesmdb"),
        PathBuf::from("../shared/data/nesmdb"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

/// The file name of NES-MDB's official archive of `kind`.
pub fn archive_name(kind: ScoreKind) -> &'static str {
    match kind {
        ScoreKind::Seprsco => "nesmdb24_seprsco.tar.gz",
        ScoreKind::Exprsco => "nesmdb24_exprsco.tar.gz",
    }
}

/// The official archive of `kind` ([`archive_name`]) in [`data_dir`], if present.
pub fn archive_path(kind: ScoreKind) -> Option<PathBuf> {
    let path = data_dir()?.join(archive_name(kind));
    path.is_file().then_some(path)
}

/// Loads every song of `splits` from an archive, a root folder or a split folder, sorted by
/// split then name.
pub fn load(path: &Path, splits: &[Split]) -> Result<Vec<Song>> {
    let mut songs = Vec::new();
    if is_archive(path) && path.is_file() {
        // Everything is kept anyway: read the archive once and sort afterwards.
        let mut buf = Vec::new();
        walk_archive(path, |member, size, reader| {
            if let Some((split, _)) = member_key(member).filter(|(s, _)| splits.contains(s)) {
                let score = read_member(path, member, size, reader, &mut buf)?;
                songs.push(Song { split, score });
            }
            Ok(())
        })?;
        songs.sort_by(|a, b| (a.split, &a.score.name).cmp(&(b.split, &b.score.name)));
        return Ok(songs);
    }
    for_each_song(path, splits, |song| {
        songs.push(song);
        Ok(())
    })?;
    Ok(songs)
}

/// Whether the name is that of a gzip'd tar archive.
fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// Reads and parses one archive member (at most [`MAX_MEMBER_BYTES`]).
fn read_member(
    archive: &Path,
    member: &Path,
    size: u64,
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
) -> Result<Score> {
    let origin = archive.join(member);
    if size > MAX_MEMBER_BYTES {
        return Err(Error::format(
            &origin,
            format!("archive member claims {size} bytes; NES-MDB pickles are under 2 MB"),
        ));
    }
    buf.clear();
    reader
        .take(MAX_MEMBER_BYTES)
        .read_to_end(buf)
        .map_err(|e| Error::format(&origin, format!("archive member is corrupt: {e}")))?;
    read_pickle(buf, &origin)
}

/// Calls `f` with each song of `splits`, sorted by split then name, holding only the songs that
/// arrive ahead of their turn. An error from `f` stops the walk and is returned.
pub fn for_each_song(
    path: &Path,
    splits: &[Split],
    mut f: impl FnMut(Song) -> Result<()>,
) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("{e} (expected an NES-MDB .tar.gz, or a folder of train/valid/test)"),
        ),
    })?;
    if meta.is_dir() {
        return for_each_in_folder(path, splits, &mut f);
    }
    if is_archive(path) {
        return for_each_in_archive(path, splits, &mut f);
    }
    Err(Error::format(
        path,
        "not an NES-MDB dataset: expected nesmdb24_<kind>.tar.gz or a folder holding \
         train/, valid/ and test/",
    ))
}

/// Root folder (with split subfolders) or one split folder.
fn for_each_in_folder(
    dir: &Path,
    splits: &[Split],
    f: &mut impl FnMut(Song) -> Result<()>,
) -> Result<()> {
    let own_split = dir
        .file_name()
        .and_then(|n| Split::from_dir_name(&n.to_string_lossy()));
    let folders: Vec<(Split, PathBuf)> = match own_split {
        Some(split) => {
            if !splits.contains(&split) {
                return Err(Error::Unsupported(format!(
                    "{}: this folder holds the '{}' split, which was not asked for",
                    dir.display(),
                    split.dir_name()
                )));
            }
            vec![(split, dir.to_path_buf())]
        }
        None => {
            let found: Vec<_> = Split::ALL
                .into_iter()
                .map(|s| (s, dir.join(s.dir_name())))
                .filter(|(_, p)| p.is_dir())
                .collect();
            if found.is_empty() {
                return Err(Error::format(
                    dir,
                    "no train/, valid/ or test/ folder inside; point at an unpacked NES-MDB \
                     folder or at nesmdb24_<kind>.tar.gz",
                ));
            }
            let mut sorted: Vec<_> = found
                .into_iter()
                .filter(|(s, _)| splits.contains(s))
                .collect();
            sorted.sort();
            sorted
        }
    };
    for (split, folder) in folders {
        let entries = fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&folder, e))?;
            let p = entry.path();
            if p.is_file() && p.to_string_lossy().ends_with(".pkl") {
                files.push(p);
            }
        }
        files.sort_by_key(|p| song_name(p));
        for p in files {
            let bytes = crate::io::read_file(&p)?;
            let score = read_pickle(&bytes, &p)?;
            f(Song { split, score })?;
        }
    }
    Ok(())
}

/// The split and song name of an archive member, if it is a song pickle.
fn member_key(member: &Path) -> Option<(Split, String)> {
    let file = member.file_name()?.to_string_lossy();
    if !file.ends_with(".pkl") || file.starts_with("._") {
        return None;
    }
    let split = Split::from_dir_name(&member.parent()?.file_name()?.to_string_lossy())?;
    Some((split, song_name(member)))
}

/// Opens the archive and calls `visit` with each member's path, size and reader.
fn walk_archive(
    archive: &Path,
    mut visit: impl FnMut(&Path, u64, &mut dyn Read) -> Result<()>,
) -> Result<()> {
    let file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
    let mut tar = tar::Archive::new(gz);
    let bad = |e: std::io::Error| {
        Error::format(
            archive,
            format!("not a readable gzip'd tar archive ({e}); re-download NES-MDB"),
        )
    };
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry.path().map_err(bad)?.into_owned();
        let size = entry.header().size().map_err(bad)?;
        visit(&member, size, &mut entry)?;
    }
    Ok(())
}

/// Streams an archive twice: once to list its members, once to read them in sorted order,
/// keeping only members that arrive before their turn.
fn for_each_in_archive(
    archive: &Path,
    splits: &[Split],
    f: &mut impl FnMut(Song) -> Result<()>,
) -> Result<()> {
    let mut order = Vec::new();
    walk_archive(archive, |member, _, _| {
        if let Some(key) = member_key(member).filter(|(s, _)| splits.contains(s)) {
            order.push(key);
        }
        Ok(())
    })?;
    if order.is_empty() {
        return Ok(());
    }
    order.sort();
    order.dedup();
    let mut next = 0;
    let mut early: BTreeMap<(Split, String), Song> = BTreeMap::new();
    let mut buf = Vec::new();
    walk_archive(archive, |member, size, reader| {
        let Some(key) = member_key(member).filter(|(s, _)| splits.contains(s)) else {
            return Ok(());
        };
        let score = read_member(archive, member, size, reader, &mut buf)?;
        let song = Song {
            split: key.0,
            score,
        };
        if order.get(next) == Some(&key) {
            next += 1;
            f(song)?;
            while let Some(song) = order.get(next).and_then(|k| early.remove(k)) {
                next += 1;
                f(song)?;
            }
        } else {
            early.insert(key, song);
        }
        Ok(())
    })?;
    if next < order.len() {
        let missing = &order[next];
        return Err(Error::format(
            archive,
            format!(
                "archive changed while reading: '{}' was listed but not read",
                missing.1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_keys_need_a_split_folder_and_pkl() {
        assert_eq!(
            member_key(Path::new("nesmdb24_seprsco/valid/a_b.seprsco.pkl")),
            Some((Split::Valid, "a_b".to_string()))
        );
        assert_eq!(member_key(Path::new("nesmdb24_seprsco/other/a.pkl")), None);
        assert_eq!(member_key(Path::new("nesmdb24_seprsco/test/a.txt")), None);
        assert_eq!(member_key(Path::new("nesmdb24_seprsco/test/._a.pkl")), None);
    }

    #[test]
    fn split_names_round_trip_and_order() {
        for s in Split::ALL {
            assert_eq!(Split::from_dir_name(s.dir_name()), Some(s));
        }
        assert!(Split::Train < Split::Valid && Split::Valid < Split::Test);
    }
}
