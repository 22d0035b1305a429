//! Writing to the user while a plan runs, without `println!`'s panic when the reader has
//! gone (`cargo xtask build | head -1` closes the pipe): a failed write stops the run as
//! SIGPIPE would (`signals::output_closed`: the children are stopped, exit 141), and later
//! writes fail quietly.

use std::io::Write;

use super::signals;

/// Writes `text` and a newline to stderr or stdout; false when it could not be written.
pub fn write_line(stderr: bool, text: &str) -> bool {
    let written = if stderr {
        writeln!(std::io::stderr().lock(), "{text}")
    } else {
        let mut out = std::io::stdout().lock();
        // Flushed per line: the user sees docker's output as it comes, and a closed pipe is
        // noticed now, not when a buffer fills.
        writeln!(out, "{text}").and_then(|_| out.flush())
    };
    if written.is_err() {
        signals::output_closed();
    }
    written.is_ok()
}
