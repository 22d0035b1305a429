//! Signals: while a plan runs, SIGINT and SIGTERM are recorded instead of killing xtask, so
//! the executor can stop its docker children, print what finished and what did not, and exit
//! 128 + signal. Two libc functions through plain FFI: a crate for this would cost more
//! compile time than the ten lines it saves.

use std::sync::atomic::{AtomicI32, Ordering};

pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: i32) {
    // Only an atomic store: the one thing that is safe in a signal handler.
    CAUGHT.store(sig, Ordering::SeqCst);
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn kill(pid: i32, sig: i32) -> i32;
}

/// From now on SIGINT/SIGTERM only set a flag (`caught`).
pub fn install() {
    // SAFETY: `on_signal` is async-signal-safe (a single atomic store) and lives forever.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
}

/// The signal received since `install`, if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Asks a child to stop the way a terminal would (docker cancels its build or push on it).
pub fn terminate(pid: u32) {
    // SAFETY: plain syscall wrapper; a stale pid at worst yields ESRCH, which is ignored.
    unsafe {
        kill(pid as i32, SIGTERM);
    }
}

/// Stops a child that ignored `terminate`.
pub fn kill_hard(pid: u32) {
    // SAFETY: as in `terminate`.
    unsafe {
        kill(pid as i32, SIGKILL);
    }
}
