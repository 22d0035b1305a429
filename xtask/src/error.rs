//! Exit codes and the error types that carry them: 0 ok · 1 a step failed · 2 bad input or
//! config · 129/130/143 interrupted (SIGHUP/SIGINT/SIGTERM) · 141 output closed (SIGPIPE).
//! Every error is an `anyhow::Error`; `exit` turns a command's result
//! into the process's exit code, so no other module decides one. Also how a value typed by the
//! user is shown in a message (`shown`, `quoted`): control characters escaped, long values cut,
//! a password in a URL masked — so no message can rewrite the terminal or flood it.

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

/// How many characters of a value a message shows.
pub const SHOWN_MAX: usize = 200;

/// A value as a message shows it: control characters escaped (`\n`, `\u{1b}`), a password
/// in a URL's user part masked, and cut after `SHOWN_MAX` characters with the full size said:
/// `abc… (300000 bytes)`.
pub fn shown(s: &str) -> String {
    bounded(&mask_password(s), SHOWN_MAX, false)
}

/// `shown`, in double quotes with quotes and backslashes escaped too (as Rust's `{:?}`).
pub fn quoted(s: &str) -> String {
    let masked = mask_password(s);
    let (head, cut) = cut(&masked, SHOWN_MAX);
    let mut out = format!("{head:?}");
    if cut {
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    out
}

/// Free text that may embed values (a problem, a hint, an error chain): escaped like `shown`,
/// newlines and tabs kept, and cut only when far longer than any message of ours.
pub fn shown_long(s: &str) -> String {
    bounded(&mask_password(s), 2000, true)
}

/// Text from elsewhere (a node, a registry, docker) shown on one line of a table or report:
/// every control character escaped, newlines too, cut only far beyond any real answer.
pub fn shown_line(s: &str) -> String {
    bounded(&mask_password(s), 2000, false)
}

/// The first `max` characters of `s`, and whether anything was cut.
fn cut(s: &str, max: usize) -> (&str, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (&s[..i], true),
        None => (s, false),
    }
}

fn bounded(s: &str, max: usize, keep_lines: bool) -> String {
    let (head, was_cut) = cut(s, max);
    let mut out = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_control() && !(keep_lines && (c == '\n' || c == '\t')) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if was_cut {
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    out
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…` (also without a scheme): a
/// password typed into a URL must not reach a terminal or a CI log.
pub fn mask_password(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Each "user:pass@" before the host of a URL-like word; words end at whitespace.
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        out.push_str(&mask_word(word));
        let ws_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..ws_end]);
        rest = &tail[ws_end..];
    }
    out
}

fn mask_word(word: &str) -> String {
    let start = word.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = word[start..]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(word.len());
    let authority = &word[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return word.to_string();
    };
    let Some(colon) = authority[..at].find(':') else {
        return word.to_string();
    };
    format!(
        "{}{}:***{}",
        &word[..start],
        &authority[..colon],
        &word[start + at..]
    )
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
                    bounded(&mask_password(&format!("{e:#}")), 20_000, true)
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

    #[test]
    fn values_are_escaped_and_bounded() {
        assert_eq!(shown("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(quoted("x\"y"), "\"x\\\"y\"");
        let long = "7".repeat(300_000);
        let q = quoted(&long);
        assert!(q.len() < 260, "{}", q.len());
        assert!(q.ends_with("\"… (300000 bytes)"), "{q}");
        assert_eq!(shown("é".repeat(3).as_str()), "ééé");
        assert_eq!(shown_long("a\n\tb\r"), "a\n\tb\\r");
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_password("tcp://bob:hunter2@host:2376"),
            "tcp://bob:***@host:2376"
        );
        assert_eq!(
            mask_password("see https://u:p@r.io/x and user:pw@reg.io/a"),
            "see https://u:***@r.io/x and user:***@reg.io/a"
        );
        assert_eq!(mask_password("tcp://host:2376"), "tcp://host:2376");
        assert_eq!(mask_password("bob@host"), "bob@host");
        assert_eq!(mask_password("reg.io/a@sha256:ab"), "reg.io/a@sha256:ab");
        let e = BadInput::new("REMOTE_DOCKER_URL", "tcp://u:s3cret@h:1", "bad", "fix");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn exit_codes_have_a_meaning() {
        assert_eq!(meaning(2), "bad input");
        assert_eq!(meaning(1), "failed");
        assert_eq!(meaning(130), "interrupted by SIGINT");
    }
}
