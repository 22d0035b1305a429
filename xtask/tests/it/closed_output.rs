//! Output whose reader has gone (issue 19 §5): help and completions into a closed pipe end as
//! every command's output does (exit 141, "output closed"), and a closed stderr never panics
//! (before: help and completions exited 1 with "Broken pipe", a warning on a closed stderr
//! panicked, exit 101).

use std::process::{Command, Stdio};

use crate::support::*;

/// A pipe whose reader has already gone: the write end of `true`'s stdin, taken once `true`
/// has exited (it held the only read end). Closed before xtask starts, so no write of xtask's
/// can land in the pipe's buffer first, however small the output and however the threads of
/// this test binary are scheduled.
fn gone_reader() -> Stdio {
    let mut sink = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true");
    let w = sink.stdin.take().expect("stdin");
    sink.wait().expect("wait");
    Stdio::from(w)
}

/// Runs xtask with stdout (or stderr) a pipe whose reader is already gone: the child's writes
/// fail with EPIPE. The exit code, and what it said on the other stream.
fn closed(mut c: Command, stdout_closed: bool) -> (Option<i32>, String) {
    if stdout_closed {
        c.stdout(gone_reader()).stderr(Stdio::piped());
    } else {
        c.stdout(Stdio::null()).stderr(gone_reader());
    }
    let mut child = c.spawn().expect("xtask");
    let other = if stdout_closed {
        child.stderr.take()
    } else {
        None
    };
    let mut said = String::new();
    if let Some(mut e) = other {
        use std::io::Read;
        let _ = e.read_to_string(&mut said);
    }
    (child.wait().expect("wait").code(), said)
}

#[test]
fn help_and_completions_into_a_closed_pipe_end_as_output_closed() {
    let w = World::new("closed-help");
    // Big enough that nothing fits in the pipe before the reader is gone: the write fails.
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["help", "plan"],
        vec!["plan", "--help"],
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
    ] {
        let mut c = w.xtask();
        c.args(&args);
        let (code, said) = closed(c, true);
        assert_eq!(code, Some(141), "{args:?}: {said}");
        assert!(
            said.ends_with("xtask: exit 141 (output closed)\n"),
            "{args:?}: {said}"
        );
    }
}

#[test]
fn a_warning_on_a_closed_stderr_does_not_panic() {
    let w = World::new("closed-stderr");
    w.image("alpha", "1.0");
    // A variable set but unused in compat mode: the plan prints a warning on stderr.
    let mut c = w.xtask();
    c.args(["plan", "push"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL_1809", "tcp://x:2376");
    let (code, _) = closed(c, false);
    assert_eq!(
        code,
        Some(141),
        "as for a closed stdout, never a panic (101)"
    );
    // Bad input keeps its own code whatever stderr is.
    let mut c = w.xtask();
    c.args(["plan"]);
    assert_eq!(closed(c, false).0, Some(2));
}
