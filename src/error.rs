//! The one error type of the library. Every variant names the file (or song) it is about, so a
//! message can tell the user what went wrong and where, without a backtrace.

use std::path::{Path, PathBuf};

/// Errors from reading, validating, compiling and building music.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is truncated, corrupt or not of the format its name or contents claimed.
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    /// A score holds a value outside what its voice can play.
    #[error("song '{song}', frame {frame}, voice {voice}: {what}")]
    Invalid {
        song: String,
        frame: usize,
        voice: &'static str,
        what: String,
    },
    /// Something the user asked for cannot be done (too long for a mapper, unknown option, ...).
    #[error("{0}")]
    Unsupported(String),
    /// A model computation failed (candle: a shape, device or kernel error) while doing `what`.
    #[error("{what}: {source}")]
    Model {
        what: String,
        #[source]
        source: candle_core::Error,
    },
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Wraps a candle error of a model computation, for `map_err(Error::model("step"))`.
    pub fn model(what: impl Into<String>) -> impl FnOnce(candle_core::Error) -> Self {
        let what = what.into();
        move |source| Error::Model { what, source }
    }

    /// A format error about `path`.
    pub fn format(path: impl AsRef<Path>, what: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            what: what.into(),
        }
    }
}
