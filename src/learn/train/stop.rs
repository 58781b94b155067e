//! Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM: [`catch_signals`] makes the first
//! such signal only set a flag, which the trainer reads after each step ([`pending`]) to
//! write a checkpoint and stop; a second signal ends the process at once (status 128 + signal).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

struct Flags {
    received: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers (once per process).
pub fn catch_signals() -> Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        received: Arc::new(AtomicBool::new(false)),
        which: Arc::new(AtomicUsize::new(0)),
    };
    let err = |e: std::io::Error| Error::Unsupported(format!("cannot catch signals: {e}"));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Runs before the flag is set: exits only on the second signal.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, flags.received.clone())
            .map_err(err)?;
        signal_hook::flag::register_usize(sig, flags.which.clone(), sig as usize).map_err(err)?;
        signal_hook::flag::register(sig, flags.received.clone()).map_err(err)?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The signal received since [`catch_signals`], if any.
pub fn pending() -> Option<i32> {
    let flags = FLAGS.get()?;
    if flags.received.load(Ordering::SeqCst) {
        Some(flags.which.load(Ordering::SeqCst) as i32)
    } else {
        None
    }
}

/// The signal's name for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        signal_hook::consts::SIGINT => "SIGINT",
        signal_hook::consts::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
