//! `NESMM_REQUIRE_DATA` turns a skip into a failure: the helper every skipping test calls
//! (`tests/common/skip.rs`) is run in a child test process with and without it.

#[path = "common/skip.rs"]
mod skip;

use std::process::Command;

/// Skips as a test without its data does; run only as the child of the test below.
#[test]
#[ignore = "run by skipping_fails_under_require_data"]
fn child_that_skips() {
    skip::skip("the data this child pretends to lack");
}

fn run_child(require: bool) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", "child_that_skips", "--nocapture"]);
    cmd.env_remove("NESMM_REQUIRE_DATA");
    if require {
        cmd.env("NESMM_REQUIRE_DATA", "1");
    }
    cmd.output().unwrap()
}

#[test]
fn skipping_fails_under_require_data() {
    let free = run_child(false);
    let err = String::from_utf8_lossy(&free.stderr);
    assert!(free.status.success(), "{err}");
    assert!(
        err.contains("skipping: the data this child pretends to lack"),
        "{err}"
    );
    let required = run_child(true);
    let out = String::from_utf8_lossy(&required.stdout).to_string()
        + &String::from_utf8_lossy(&required.stderr);
    assert!(!required.status.success(), "{out}");
    assert!(out.contains("NESMM_REQUIRE_DATA is set"), "{out}");
}
