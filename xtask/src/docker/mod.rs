//! Docker: the only layer that knows docker's command-line flags (`argv`), how a docker child
//! is run (`process`), how its JSON answers read (`oci`), and what a tag or list holds now
//! (`resolve`). `query` is the read-only shorthand the checks use.

pub mod argv;
pub mod oci;
pub mod process;
pub mod resolve;

use std::path::Path;
use std::time::Duration;

pub use argv::*;

/// What a read-only query came to.
#[derive(Debug)]
pub enum Answer {
    /// Exit 0: its stdout.
    Ok(String),
    /// A non-zero exit: its stderr (or stdout when stderr is empty).
    Failed(String),
    /// Still running at the deadline: killed.
    TimedOut,
}

/// Runs a read-only docker query quietly, killed after `deadline` when one is given (a node
/// behind a silent firewall would make docker wait for minutes).
pub fn query(docker: &Path, argv: &[String], deadline: Option<Duration>) -> Answer {
    let f = process::run(process::Spec {
        program: docker,
        argv,
        deadline,
        sink: None,
        keep_stdout: true,
        pid: None,
    });
    match f.exit {
        process::Exit::Success => Answer::Ok(f.stdout),
        process::Exit::TimedOut => Answer::TimedOut,
        process::Exit::Error(e) => Answer::Failed(e),
        process::Exit::Failed(_) if f.stderr.trim().is_empty() => {
            Answer::Failed(f.stdout.trim().to_string())
        }
        process::Exit::Failed(_) => Answer::Failed(f.stderr.trim().to_string()),
    }
}

impl Answer {
    /// Ok(stdout) or Err(why), for callers that treat a timeout as any other failure.
    pub fn result(self) -> Result<String, String> {
        match self {
            Answer::Ok(s) => Ok(s),
            Answer::Failed(e) => Err(e),
            Answer::TimedOut => Err("no answer in time".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_query_is_killed_at_its_deadline() {
        let sleep = which::which("sleep").expect("sleep on PATH");
        let t = std::time::Instant::now();
        let a = query(
            &sleep,
            &["sleep".to_string(), "30".to_string()],
            Some(Duration::from_millis(200)),
        );
        assert!(matches!(a, Answer::TimedOut), "{a:?}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        let a = query(
            &sleep,
            &["sleep".to_string(), "0".to_string()],
            Some(Duration::from_secs(5)),
        );
        assert!(matches!(a, Answer::Ok(_)), "{a:?}");
    }
}
