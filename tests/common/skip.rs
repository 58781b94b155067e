//! One rule for the tests that need what a checkout may lack (NES-MDB, cc65, numpy, Chromium):
//! without it they say why and pass; under `NESMM_REQUIRE_DATA` (`.ci/run` sets it) they fail,
//! so CI cannot pass by skipping. Test files without `mod common` take this file alone
//! (`#[path = "common/skip.rs"] mod skip;`).

/// Says that a test does not run for want of what `why` names (and how to get it): under
/// `NESMM_REQUIRE_DATA` the test fails here; elsewhere it prints `skipping: {why}` and the
/// caller returns.
#[track_caller]
pub fn skip(why: impl std::fmt::Display) {
    if std::env::var_os("NESMM_REQUIRE_DATA").is_some() {
        panic!("{why}; NESMM_REQUIRE_DATA is set, so this test must not skip");
    }
    eprintln!("skipping: {why}");
}
