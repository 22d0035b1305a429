//! Signals: while a plan runs, SIGINT, SIGTERM and SIGHUP are recorded instead of killing
//! xtask, so the executor can stop its docker children, print what finished and what did
//! not, and exit 128 + signal. Output that can no longer be written (a closed pipe: `… |
//! head`) stops the run the same way, as SIGPIPE would have. `STOP` is what the process
//! helper reads: set, no docker child starts and running ones are stopped. One libc function
//! through plain FFI: a crate for this would cost more compile time than the lines it saves.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;

/// The first reason to stop (a signal number), 0 while none.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// Set with `CAUGHT`: xtask is stopping (read by `docker::process`).
pub static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: i32) {
    // Only atomic operations: the one thing that is safe in a signal handler.
    let _ = CAUGHT.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

/// From now on SIGINT, SIGTERM and SIGHUP only set the flags (`caught`). SIGHUP (the terminal
/// or the ssh session went away) is a request to stop like SIGTERM: without a handler xtask
/// would die and leave nobody to stop the builds on the node.
pub fn install() {
    // SAFETY: `on_signal` is async-signal-safe (atomics only) and lives forever.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
    }
}

/// Output to the user failed (EPIPE: the reader went away): stop as SIGPIPE would have,
/// minus the abrupt death (Rust ignores SIGPIPE, so the write returned an error instead).
pub fn output_closed() {
    on_signal(SIGPIPE);
}

/// Why xtask is stopping (the first signal, or SIGPIPE for closed output), if it is.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
