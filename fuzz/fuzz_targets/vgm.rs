//! VGM reader: never a panic; a log that reads converts to a valid score and writes back to a
//! file that reads equal.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nesmm::formats::vgm::read_vgm;
use nesmm::formats::vgm_score::vgm_to_score;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Bound the work per input: long waits are fine to parse but slow to step through.
    if let Ok(log) = read_vgm(data, Path::new("fuzz.vgm")) {
        let back = read_vgm(&log.to_bytes(), Path::new("again.vgm")).expect("write-back reads");
        assert_eq!(back.writes, log.writes);
        if log.total_samples <= 44_100 * 60 {
            assert!(vgm_to_score(&log, "fuzz").validate().is_ok());
        }
    }
});
