//! NES-MDB pickle reader: any bytes give a score or an error, never a panic; a score that reads
//! validates and writes back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nesmm::formats::pickle::{read_pickle, write_pickle, PickleKind};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(score) = read_pickle(data, Path::new("fuzz.exprsco.pkl")) {
        let kind = if score.expressive {
            PickleKind::Exprsco
        } else {
            PickleKind::Seprsco
        };
        let _ = write_pickle(&score, kind);
    }
});
