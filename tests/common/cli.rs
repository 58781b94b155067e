//! Running the `nesmm` binary from an integration test (one Rayon thread, as CI's 2 cores
//! run several tests at once).
#![allow(dead_code)] // each test file uses what it needs

use std::process::{Command, Output};

pub fn nesmm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nesmm"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap()
}

/// `nesmm ARGS`, which must succeed: its stderr, then its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = nesmm(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "nesmm {args:?} failed:\n{err}");
    err + &String::from_utf8_lossy(&out.stdout)
}

/// `nesmm ARGS`, which must fail: its stderr.
pub fn fails(args: &[&str]) -> String {
    let out = nesmm(args);
    assert!(!out.status.success(), "nesmm {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
