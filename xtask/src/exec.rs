//! Execute: runs a Plan. Each started step runs on its own thread (commands through xshell,
//! never a shell), its output streamed back line by line; the main thread schedules: a step
//! starts when every step it waits for has succeeded and its node is free, at most `jobs` at
//! once. The first failure stops new steps from starting; Ctrl-C/SIGTERM stops the running
//! docker children. Either way the summary says what finished and what did not.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use xshell::Shell;

use crate::exit::{Interrupted, StepFailed};
use crate::plan::{Action, Kind, NodeRef, Plan, Step};
use crate::signals;

/// How the executor behaves; the plan says what it runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub docker: PathBuf,
    pub jobs: usize,
    /// Extra attempts after a transient registry/network error (push, list, cache build).
    pub retries: u32,
    /// First backoff; doubles on each retry.
    pub backoff: Duration,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Pending,
    Running(Instant),
    Ok(Duration),
    Failed(Duration, String),
    /// Stopped by a signal while running.
    Stopped(Duration),
    /// Not run: its output is already in the registry (skip-unchanged).
    Skipped,
}

impl State {
    /// Whether steps waiting for this one may start.
    fn done(&self) -> bool {
        matches!(self, State::Ok(_) | State::Skipped)
    }
}

/// What step threads tell the main thread.
enum Event {
    Line {
        step: usize,
        text: String,
        stderr: bool,
    },
    Done {
        step: usize,
        result: Result<(), String>,
    },
}

/// The pid of the docker command a step is running now, so a signal can stop it.
type PidSlot = Arc<Mutex<Option<u32>>>;

pub fn run(plan: &Plan, opts: &Options) -> anyhow::Result<()> {
    signals::install();
    let n = plan.steps.len();
    let started_all = Instant::now();
    let mut state = vec![State::Pending; n];
    let mut busy: HashSet<NodeRef> = HashSet::new();
    let pids: Vec<PidSlot> = (0..n).map(|_| Arc::new(Mutex::new(None))).collect();
    let mut tails: Vec<VecDeque<String>> = vec![VecDeque::new(); n];
    // Prefix lines with their step only when steps can interleave.
    let prefixed = opts.jobs > 1
        && plan
            .steps
            .iter()
            .map(|s| &s.node)
            .collect::<HashSet<_>>()
            .len()
            > 1;
    let (tx, rx): (Sender<Event>, Receiver<Event>) = mpsc::channel();
    let mut failed: Option<usize> = None;
    let mut running = 0usize;
    let mut signal: Option<i32> = None;

    let mut signalled_at: Option<Instant> = None;
    let mut killed = false;
    loop {
        // A docker child that ignores SIGTERM for 10 s is killed: nothing is left running.
        if !killed && signalled_at.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            killed = true;
            for slot in &pids {
                if let Some(pid) = *slot.lock().unwrap_or_else(|e| e.into_inner()) {
                    signals::kill_hard(pid);
                }
            }
        }
        if signal.is_none() {
            if let Some(sig) = signals::caught() {
                signal = Some(sig);
                signalled_at = Some(Instant::now());
                eprintln!(
                    "\nxtask: {} received, stopping running steps",
                    Interrupted(sig)
                );
                for slot in &pids {
                    if let Some(pid) = *slot.lock().unwrap_or_else(|e| e.into_inner()) {
                        signals::terminate(pid);
                    }
                }
            }
        }
        // Start what is ready, in plan order, while there is room.
        if failed.is_none() && signal.is_none() {
            for i in 0..n {
                if running >= opts.jobs {
                    break;
                }
                let s = &plan.steps[i];
                let deps_done = s.after.iter().all(|&a| state[a - 1].done());
                if state[i] == State::Pending && deps_done {
                    if let Some(why) = &s.skip {
                        eprintln!("[{}/{n}] skip {} ({}): {why}", s.id, s.what, s.context());
                        state[i] = State::Skipped;
                        continue;
                    }
                }
                let free = lane(s).is_none_or(|l| !busy.contains(&l));
                let ready = state[i] == State::Pending && free && deps_done;
                if !ready {
                    continue;
                }
                eprintln!("[{}/{n}] {} ({})", s.id, s.what, s.context());
                state[i] = State::Running(Instant::now());
                busy.extend(lane(s));
                running += 1;
                spawn_step(s.clone(), opts.clone(), tx.clone(), pids[i].clone());
            }
        }
        if running == 0 {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Line { step, text, stderr }) => {
                let line = if prefixed {
                    let s = &plan.steps[step];
                    match &s.os {
                        Some(os) => format!("[{} {os}] {text}", s.image),
                        None => format!("[{} {}] {text}", s.image, s.node.label()),
                    }
                } else {
                    text.clone()
                };
                if stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
                let tail = &mut tails[step];
                tail.push_back(text);
                if tail.len() > 8 {
                    tail.pop_front();
                }
            }
            Ok(Event::Done { step, result }) => {
                running -= 1;
                if let Some(l) = lane(&plan.steps[step]) {
                    busy.remove(&l);
                }
                let took = match state[step] {
                    State::Running(t) => t.elapsed(),
                    _ => Duration::ZERO,
                };
                state[step] = match result {
                    Ok(()) => State::Ok(took),
                    Err(_) if signal.is_some() => State::Stopped(took),
                    Err(msg) => {
                        failed.get_or_insert(step);
                        State::Failed(took, msg)
                    }
                };
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
    }
    let _ = std::io::stdout().flush();
    print_summary(plan, &state, started_all.elapsed());

    if let Some(sig) = signal {
        return Err(Interrupted(sig).into());
    }
    if let Some(i) = failed {
        let s = &plan.steps[i];
        let why = match &state[i] {
            State::Failed(_, msg) => msg.clone(),
            _ => String::new(),
        };
        let tail: Vec<&str> = tails[i]
            .iter()
            .map(String::as_str)
            .filter(|l| !l.trim().is_empty())
            .collect();
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("\n  last output:\n    {}", tail.join("\n    "))
        };
        return Err(StepFailed(format!(
            "step {}/{n} failed: {} (image {}, {}): {why}{tail}",
            s.id,
            s.what,
            s.image,
            s.node.label(),
        ))
        .into());
    }
    Ok(())
}

/// Steps at once when -j is not given. Compat mode: 1, so the order is exactly upstream's.
/// Matrix mode: one per Windows node, plus two local ones (cache builds and lists), so no node
/// waits for the local builder and the local builder does not starve the 2 cores it shares.
pub fn default_jobs(plan: &Plan) -> usize {
    if !plan.matrix {
        return 1;
    }
    let remote: HashSet<&NodeRef> = plan
        .steps
        .iter()
        .map(|s| &s.node)
        .filter(|n| matches!(n, NodeRef::Remote(_)))
        .collect();
    remote.len() + 2
}

/// The lane a step occupies: a Windows node runs one step at a time (a build, then its
/// push, never two builds fighting for one node). Local steps — buildx cache builds and
/// manifest lists — take no lane: BuildKit runs builds side by side, so each starts as soon
/// as its image is pushed; only `jobs` bounds them.
fn lane(s: &Step) -> Option<NodeRef> {
    matches!(s.node, NodeRef::Remote(_)).then(|| s.node.clone())
}

fn spawn_step(step: Step, opts: Options, tx: Sender<Event>, pid: PidSlot) {
    thread::spawn(move || {
        let result = run_step(&step, &opts, &tx, &pid);
        let _ = tx.send(Event::Done {
            step: step.id - 1,
            result,
        });
    });
}

/// Runs one step's commands, retrying transient registry errors where that is safe.
fn run_step(step: &Step, opts: &Options, tx: &Sender<Event>, pid: &PidSlot) -> Result<(), String> {
    let runner = Runner {
        docker: &opts.docker,
        step: step.id - 1,
        tx,
        pid,
    };
    match &step.action {
        Action::Run(argv) => {
            // A node build is not retried: it is long, and its failures are rarely transient.
            let retries = if step.kind == Kind::Build {
                0
            } else {
                opts.retries
            };
            runner.with_retries(argv, retries, opts.backoff).map(|_| ())
        }
        Action::List(spec) => crate::manifest::publish(&runner, spec, opts.retries, opts.backoff),
    }
}

/// Runs docker commands for one step and reports their output.
pub struct Runner<'a> {
    docker: &'a Path,
    step: usize,
    tx: &'a Sender<Event>,
    pid: &'a PidSlot,
}

/// What a finished command left behind.
pub struct Output {
    pub stdout: String,
}

impl Runner<'_> {
    /// Runs `argv` (argv[0] is "docker"), streaming its output. Err carries the exit status
    /// and the output tail.
    pub fn run(&self, argv: &[String], capture: bool) -> Result<Output, (String, Vec<String>)> {
        let sh =
            Shell::new().map_err(|e| (format!("cannot start a shell context: {e}"), vec![]))?;
        let mut cmd: Command = sh.cmd(self.docker).args(&argv[1..]).into();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| (format!("cannot run {}: {e}", self.docker.display()), vec![]))?;
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(child.id());

        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let out = child
            .stdout
            .take()
            .map(|s| self.pump(s, false, capture, tail.clone()));
        let err = child
            .stderr
            .take()
            .map(|s| self.pump(s, true, false, tail.clone()));
        let stdout = out
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if let Some(h) = err {
            let _ = h.join();
        }
        let status = child.wait();
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let tail: Vec<String> = tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        match status {
            Ok(s) if s.success() => Ok(Output { stdout }),
            Ok(s) => Err((format!("docker exited with {s}"), tail)),
            Err(e) => Err((format!("waiting for docker failed: {e}"), tail)),
        }
    }

    /// Forwards a child's stream line by line (or keeps it, when captured).
    fn pump<R: Read + Send + 'static>(
        &self,
        stream: R,
        stderr: bool,
        capture: bool,
        tail: Arc<Mutex<VecDeque<String>>>,
    ) -> thread::JoinHandle<String> {
        let tx = self.tx.clone();
        let step = self.step;
        thread::spawn(move || {
            let mut kept = String::new();
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_string();
                buf.clear();
                if let Ok(mut t) = tail.lock() {
                    t.push_back(text.clone());
                    if t.len() > 20 {
                        t.pop_front();
                    }
                }
                if capture {
                    kept.push_str(&text);
                    kept.push('\n');
                } else {
                    let _ = tx.send(Event::Line { step, text, stderr });
                }
            }
            kept
        })
    }

    /// Tells the user something about this step, on stderr, in the step's stream.
    pub fn say(&self, text: String) {
        let _ = self.tx.send(Event::Line {
            step: self.step,
            text,
            stderr: true,
        });
    }

    /// Runs `argv`, retrying up to `retries` times with doubling backoff when the failure
    /// looks transient (see `transient`). Each retry is announced.
    pub fn with_retries(
        &self,
        argv: &[String],
        retries: u32,
        backoff: Duration,
    ) -> Result<Output, String> {
        let mut wait = backoff;
        let mut attempt = 0;
        loop {
            match self.run(argv, false) {
                Ok(out) => return Ok(out),
                Err((msg, tail)) => {
                    if signals::caught().is_some() || attempt >= retries || !transient(&tail) {
                        return Err(msg);
                    }
                    attempt += 1;
                    self.say(format!(
                        "xtask: transient error, retry {attempt}/{retries} in {:.1}s",
                        wait.as_secs_f64()
                    ));
                    if !sleep_unless_signalled(wait) {
                        return Err(msg);
                    }
                    wait *= 2;
                }
            }
        }
    }
}

/// Sleeps, waking early (false) when a signal arrives.
fn sleep_unless_signalled(d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if signals::caught().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
    true
}

/// Whether a failed registry operation is worth retrying: network trouble and 5xx are;
/// anything the registry refused on purpose (auth, invalid or unknown content) is not.
pub fn transient(tail: &[String]) -> bool {
    let text = tail.join("\n").to_lowercase();
    const PERMANENT: [&str; 8] = [
        "denied",
        "unauthorized",
        "authentication required",
        "manifest invalid",
        "blob unknown",
        "name unknown",
        "manifest unknown",
        "no such host",
    ];
    const TRANSIENT: [&str; 14] = [
        "connection refused",
        "connection reset",
        "broken pipe",
        "i/o timeout",
        "tls handshake timeout",
        "timeout exceeded",
        "deadline exceeded",
        "unexpected eof",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "too many requests",
        "server misbehaving",
    ];
    !PERMANENT.iter().any(|p| text.contains(p)) && TRANSIENT.iter().any(|t| text.contains(t))
}

fn print_summary(plan: &Plan, state: &[State], total: Duration) {
    let count = |f: fn(&State) -> bool| state.iter().filter(|s| f(s)).count();
    let ok = count(|s| matches!(s, State::Ok(_)));
    let bad = count(|s| matches!(s, State::Failed(..)));
    let stopped = count(|s| matches!(s, State::Stopped(_)));
    let not = count(|s| matches!(s, State::Pending));
    let skipped = count(|s| matches!(s, State::Skipped));
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped (unchanged)")
    } else {
        String::new()
    };
    eprintln!(
        "\nsummary {}: {ok} ok, {bad} failed, {stopped} stopped, {not} not started{skipped}, {:.1}s",
        plan.target.name(),
        total.as_secs_f64()
    );
    for (s, st) in plan.steps.iter().zip(state) {
        let (word, took) = match st {
            State::Ok(d) => ("ok", Some(d)),
            State::Failed(d, _) => ("FAILED", Some(d)),
            State::Stopped(d) => ("stopped", Some(d)),
            State::Skipped => ("skipped", None),
            State::Pending | State::Running(_) => ("not started", None),
        };
        let took = took
            .map(|d| format!("{:.1}s", d.as_secs_f64()))
            .unwrap_or_default();
        eprintln!(
            "  {:>3}  {:<11} {:>8}  {:<14} {}",
            s.id,
            word,
            took,
            s.node.label(),
            s.what
        );
    }
}

#[cfg(test)]
mod tests {
    use super::transient;

    fn t(s: &str) -> bool {
        transient(&[s.to_string()])
    }

    #[test]
    fn classifies_registry_errors() {
        assert!(t("dial tcp 127.0.0.1:5000: connect: connection refused"));
        assert!(t(
            "received unexpected HTTP status: 503 Service Unavailable"
        ));
        assert!(t("read: connection reset by peer"));
        assert!(!t("denied: requested access to the resource is denied"));
        assert!(!t("manifest invalid: manifest invalid"));
        assert!(!t("unauthorized: authentication required"));
        assert!(!t("failed to solve: process did not complete successfully"));
    }
}
