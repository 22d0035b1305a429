//! Exit codes and the error types that carry them: 0 ok · 1 a step failed · 2 bad input or
//! config · 130/143 interrupted. Every error is an `anyhow::Error`; `exit` turns a command's result
//! into the process's exit code, so no other module decides one.

use std::fmt;
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
        // Debug-quote the value so spaces, quotes and newlines are visible.
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.what)?,
            None => f.write_str(&self.what)?,
        }
        write!(f, "={:?}: {}", self.value, self.problem)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
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
        let name = match self.0 {
            2 => "SIGINT",
            15 => "SIGTERM",
            _ => "a signal",
        };
        write!(f, "interrupted by {name}")
    }
}

impl std::error::Error for Interrupted {}

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

/// Ends the process for a command's result: the error on stderr (bad input with its own
/// prefix, others with their context chain) and the exit code it deserves.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<BadInput>().is_some() {
                eprintln!("xtask: bad input: {e}");
            } else {
                eprintln!("xtask: {e:#}");
            }
            ExitCode::from(code(&e))
        }
    }
}
