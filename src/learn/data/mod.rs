//! Data and tokens: NES-MDB songs read as notes ([`notes`]), encoded in a per-voice
//! vocabulary ([`vocab`]) and cut into training windows and batches ([`dataset`]).

pub mod coding;
pub mod dataset;
pub mod event_windows;
pub mod events;
pub mod expressive_events;
pub mod notes;
pub mod vocab;

pub use notes::{
    coding_data_path, count_vocab, default_archive, default_data_path, expressive_data_path,
    load_coded, load_frames, load_notes, SplitNotes, SplitSongs,
};
