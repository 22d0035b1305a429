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
        env: &[],
        stdin: None,
        argv,
        deadline,
        sink: None,
        keep_stdout: true,
        stop: None,
        watch: None,
    });
    match f.exit {
        process::Exit::Success => Answer::Ok(f.stdout),
        process::Exit::TimedOut => Answer::TimedOut,
        process::Exit::Error(e) | process::Exit::Abandoned(e) => Answer::Failed(e),
        process::Exit::Stopped => Answer::Failed("stopped: xtask is stopping".into()),
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

/// A read-only registry query within `limit` (REGISTRY_TIMEOUT): its stdout, or why not. The
/// query's last word is the reference asked about (as every query of `argv` has it), so a
/// timeout names that reference's registry (`registry_silent`).
pub fn ask_registry(docker: &Path, argv: &[String], limit: Duration) -> Result<String, String> {
    let reference = argv.last().map(String::as_str).unwrap_or_default();
    match query(docker, argv, Some(limit)) {
        Answer::TimedOut => Err(registry_silent(reference, limit)),
        other => other.result(),
    }
}

/// The registry a reference names, as docker reads it: its first component when that looks
/// like a host (a dot, a port, or `localhost`), else Docker Hub.
pub fn registry_of(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// What a registry that did not answer in time is told as: which one, how long xtask waited,
/// and the variable that changes the limit.
pub fn registry_silent(reference: &str, waited: Duration) -> String {
    format!(
        "registry {} did not answer within {} (limit: REGISTRY_TIMEOUT)",
        registry_of(reference),
        seconds(waited)
    )
}

/// A duration as the variables give it: "30 s" (or "0.5 s" in tests).
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
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

    #[test]
    fn names_the_registry_of_a_reference() {
        assert_eq!(
            registry_of("127.0.0.1:5000/e2e/alpha:1.0"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            registry_of("registry.k8s.io/e2e-test-images/x:1"),
            "registry.k8s.io"
        );
        assert_eq!(registry_of("localhost/x"), "localhost");
        assert_eq!(registry_of("library/busybox"), "docker.io");
        assert_eq!(registry_of("busybox"), "docker.io");
        let m = registry_silent("127.0.0.1:5000/e2e/a:1", Duration::from_secs(30));
        assert_eq!(
            m,
            "registry 127.0.0.1:5000 did not answer within 30 s (limit: REGISTRY_TIMEOUT)"
        );
    }
}
