//! Docker: the only layer that knows docker's command-line flags (`argv`), how a docker child
//! is run (`process`), how its JSON answers read (`oci`), and what a tag or list holds now
//! (`resolve`), what its output says it pushed or built (`said`). `query` is the read-only
//! shorthand the checks use.

pub mod argv;
pub mod client;
pub mod oci;
pub mod process;
pub mod resolve;
pub mod said;

use std::path::Path;
use std::time::Duration;

pub use argv::*;
pub use client::{Client, Registry, Unread};

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
    let _permit = Permit::take();
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
        helper_limit: None,
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

/// Read-only docker queries in flight at once, for every check that asks about many tags
/// (verify, skip-unchanged's probe, the report's lookups, the read-back before exit 0):
/// registries rate-limit, and each query is a docker process (and a buildx plugin).
pub const QUERIES_AT_ONCE: usize = 8;

/// One of the `QUERIES_AT_ONCE` slots every read-only query (`query`) holds while its docker
/// runs, process-wide: whatever the number of tags and whichever checks run side by side
/// (skip-unchanged's probe asks about bases, labels and lists at once), no more docker queries
/// run at the same time. A query never takes a second slot, so none waits on itself.
struct Permit;

static SLOTS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

impl Permit {
    fn take() -> Permit {
        let (busy, freed) = &SLOTS;
        let mut n = busy.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= QUERIES_AT_ONCE {
            n = freed.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
        Permit
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let (busy, freed) = &SLOTS;
        let mut n = busy.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        freed.notify_one();
    }
}

/// `f` over every item, at most `at_once` at a time (each on a thread of its own, at least
/// one), answers in the items' order. Workers take the next item as they finish, so one slow
/// answer does not hold a batch back.
pub fn at_most<T: Sync, R: Send>(
    at_once: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = at_once.max(1).min(items.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut a) = answers.lock() {
                    a[i] = Some(r);
                }
            });
        }
    });
    // A worker that panicked has already panicked the scope: every slot is filled here.
    answers
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
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
