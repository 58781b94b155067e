//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod audio;
pub mod emu;
pub mod skip;
pub mod songs;
pub mod stepper;

use tetanes_core::debug::{Access, Breakpoint};

/// A breakpoint that records `access` to `start..=end` in the access log and never stops.
pub fn logging_breakpoint(start: u16, end: u16, access: Access) -> Breakpoint {
    Breakpoint {
        start,
        end,
        offset: None,
        access,
        breaks: false,
        condition: None,
    }
}
