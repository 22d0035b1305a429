//! Exit codes and the error types that carry them: 0 ok · 1 a step failed · 2 bad input or
//! config · 129/130/143 interrupted (SIGHUP/SIGINT/SIGTERM) · 141 output closed (SIGPIPE).
//! Every error is an `anyhow::Error`; `exit` turns a command's result
//! into the process's exit code, so no other module decides one. How a value typed by the user
//! is shown in a message (`shown`, `quoted`: controls and bidi/invisible characters escaped,
//! long values cut, a password in a URL masked) is tls-spec's one policy, re-exported here.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// Bad input found before any work starts (exit 2): names the variable or file, the value,
/// what is wrong with it, and how to fix it.
#[derive(Debug)]
pub struct BadInput {
    pub what: String,
    /// The line of the file `what` names, when the problem is on one line of it.
    pub line: Option<usize>,
    pub value: String,
    pub problem: String,
    pub hint: String,
}

#[allow(clippy::new_ret_no_self)] // the error is always wanted wrapped
impl BadInput {
    pub fn new(
        what: impl Into<String>,
        value: impl Into<String>,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> anyhow::Error {
        anyhow::Error::new(BadInput {
            what: what.into(),
            line: None,
            value: value.into(),
            problem: problem.into(),
            hint: hint.into(),
        })
    }

    /// A problem on line `line` of the file `file`.
    pub fn at_line(
        file: impl Into<String>,
        line: usize,
        value: impl Into<String>,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> anyhow::Error {
        anyhow::Error::new(BadInput {
            what: file.into(),
            line: Some(line),
            value: value.into(),
            problem: problem.into(),
            hint: hint.into(),
        })
    }
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value quoted so spaces, quotes and newlines are visible; every part escaped and
        // bounded, since any of them may hold what the user typed.
        f.write_str(&shown(&self.what))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, "={}: {}", quoted(&self.value), shown_long(&self.problem))?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", shown_long(&self.hint))?;
        }
        Ok(())
    }
}

/// How a value appears in a message (escaped, bounded, password masked): the one policy,
/// tls-spec's, which xtask-tls's messages follow too.
pub use tls_spec::{quoted, shown, shown_long};

/// Text from elsewhere (a node, a registry, docker) shown on one line of a table or report:
/// every control character escaped, newlines too, cut only far beyond any real answer.
pub fn shown_line(s: &str) -> String {
    tls_spec::escaped(s, tls_spec::LONG_MAX)
}

impl std::error::Error for BadInput {}

/// A step of the plan failed (exit 1). The executor has already printed the summary.
#[derive(Debug)]
pub struct StepFailed(pub String);

impl fmt::Display for StepFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StepFailed {}

/// The run was interrupted by a signal (exit 128 + signal number: 130 for SIGINT).
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("interrupted by SIGHUP"),
            2 => f.write_str("interrupted by SIGINT"),
            13 => f.write_str("output closed (SIGPIPE)"),
            15 => f.write_str("interrupted by SIGTERM"),
            _ => f.write_str("interrupted by a signal"),
        }
    }
}

impl std::error::Error for Interrupted {}

/// Writes a command's report to stdout. A reader that has gone (`cargo xtask verify | head
/// -1` closes the pipe) ends the command as SIGPIPE would, exit 141, instead of `println!`'s
/// panic.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Interrupted(13).into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

/// The exit code an error deserves. Unclassified errors (I/O on our own files, say) are 1.
pub fn code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<BadInput>().is_some() {
        2
    } else if let Some(Interrupted(sig)) = err.downcast_ref::<Interrupted>() {
        (128 + sig) as u8
    } else {
        1
    }
}

/// What an exit code means, for the last line of a failed run.
pub fn meaning(code: u8) -> &'static str {
    match code {
        0 => "done",
        2 => "bad input",
        129 => "interrupted by SIGHUP",
        130 => "interrupted by SIGINT",
        141 => "output closed",
        143 => "interrupted by SIGTERM",
        c if c > 128 => "interrupted",
        _ => "failed",
    }
}

/// Set once a write to stderr failed because its reader has gone (a closed pipe).
static STDERR_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes a line to stderr, never panicking as `eprintln!` does when the reader has gone: the
/// line is lost, and the command ends as for a closed stdout (`exit`: 141) unless it fails
/// anyway. False when it could not be written.
pub fn say(text: &str) -> bool {
    let r = writeln!(std::io::stderr().lock(), "{text}");
    if let Err(e) = &r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDERR_GONE.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    r.is_ok()
}

/// An I/O result of writing to stdout or stderr: a reader that has gone ends the command as
/// SIGPIPE would (exit 141), as `print` does — for help, `--version` and completions too.
pub fn written(r: std::io::Result<()>) -> anyhow::Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Interrupted(13).into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing the output")),
    }
}

/// Ends the process for a command's result: the error on stderr (bad input with its own
/// prefix, others with their context chain), then — since make replaces every failure's code
/// with its own 2 — a last line with xtask's own code, `xtask: exit 2 (bad input)`.
/// A stderr that is gone (a closed pipe) loses the lines, not the exit code: no panic.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        // Done, but what it had to say on stderr was lost: as for a closed stdout.
        Ok(()) if STDERR_GONE.load(std::sync::atomic::Ordering::SeqCst) => ExitCode::from(141),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = if e.downcast_ref::<BadInput>().is_some() {
                writeln!(err, "xtask: bad input: {e}")
            } else if e.downcast_ref::<StepFailed>().is_some() {
                // Bounded part by part where it is made (exec: docker's words cut, the log's
                // name and the hint last, every tag a read-back found replaced): escaped here,
                // cut only far beyond any of those, so its end is never lost.
                writeln!(
                    err,
                    "xtask: {}",
                    tls_spec::escaped_lines(&format!("{e:#}"), 20_000)
                )
            } else {
                writeln!(err, "xtask: {}", shown_long(&format!("{e:#}")))
            };
            let code = code(&e);
            let _ = writeln!(err, "xtask: exit {code} ({})", meaning(code));
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The policy itself is tested where it lives (tls-spec's shown.rs); here, that BadInput
    // applies it to every part.
    #[test]
    fn bad_input_shows_every_part_by_the_policy() {
        let e = BadInput::new("REMOTE_DOCKER_URL", "tcp://u:s3cret@h:1", "bad", "fix");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = BadInput::new(
            "IMAGES\u{202e}",
            format!("a\u{202e}b{}", "7".repeat(300)), // 305 bytes: U+202E is 3
            "problem \u{1b}[2J",
            "hint \u{200b}",
        );
        assert_eq!(
            e.to_string(),
            format!(
                "IMAGES\\u{{202e}}=\"a\\u{{202e}}b{}\"… (305 bytes): problem \\u{{1b}}[2J\n  hint: hint \\u{{200b}}",
                "7".repeat(197)
            )
        );
    }

    #[test]
    fn exit_codes_have_a_meaning() {
        assert_eq!(meaning(2), "bad input");
        assert_eq!(meaning(1), "failed");
        assert_eq!(meaning(130), "interrupted by SIGINT");
    }
}
