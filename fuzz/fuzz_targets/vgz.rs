//! VGZ reading: never a panic, never more than the inflate cap; what unpacks and reads as a VGM
//! converts to a valid score.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nesmm::formats::vgm::read_vgm;
use nesmm::formats::vgm_score::vgm_to_score;
use nesmm::formats::vgz::{inflate_if_gzip, MAX_INFLATED};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let origin = Path::new("fuzz.vgz");
    if let Ok(vgm) = inflate_if_gzip(data.to_vec(), origin) {
        assert!(vgm.len() as u64 <= MAX_INFLATED);
        if let Ok(log) = read_vgm(&vgm, origin) {
            if log.total_samples <= 44_100 * 60 {
                assert!(vgm_to_score(&log, "fuzz").validate().is_ok());
            }
        }
    }
});
