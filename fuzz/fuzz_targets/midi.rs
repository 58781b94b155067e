//! MIDI reader (both the NES-MDB layout and the general import): never a panic; a score that
//! reads is valid and writes back as MIDI.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nesmm::formats::midi::{read_midi, write_midi};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok((score, _)) = read_midi(data, Path::new("fuzz.mid")) {
        assert!(score.validate().is_ok(), "read_midi returned an invalid score");
        let _ = write_midi(&score);
    }
});
