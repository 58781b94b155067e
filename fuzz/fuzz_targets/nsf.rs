//! NSF / NSFe import: never a panic; a track that imports is a valid score no longer than asked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nesmm::formats::nsf_import::import_file;
use nesmm::formats::ImportOptions;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Two seconds per input bounds the PLAY calls; INIT has its own cycle budget.
    let opts = ImportOptions {
        track: None,
        seconds: Some(2.0),
    };
    if let Ok(loaded) = import_file(data, Path::new("fuzz.nsf"), &opts) {
        assert!(loaded.score.validate().is_ok());
        assert!(loaded.score.len() <= 49);
    }
});
