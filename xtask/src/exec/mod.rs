//! Execute: runs a Plan. Each started step runs on its own thread (its docker commands
//! through the process helper, never a shell), its output streamed back line by line; this
//! thread schedules: a step starts when every step it waits for has succeeded and its node is
//! free, at most `jobs` at once. The first failure stops new steps from starting;
//! Ctrl-C/SIGTERM stops the running docker children. Either way the summary says what
//! finished and what did not.

pub mod manifest;
mod retry;
mod runner;
pub mod signals;
mod summary;

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::docker::process::PidSlot;
use crate::error::{Interrupted, StepFailed};
use crate::plan::{Action, Kind, NodeRef, Plan, Step};
use runner::Runner;
use summary::{print_summary, State};

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

/// What step threads tell the main thread.
pub enum Event {
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
        Action::List(spec) => manifest::publish(&runner, spec, opts.retries, opts.backoff),
        _ => {
            // A node build is not retried: it is long, and its failures are rarely transient.
            let retries = if step.kind() == Kind::Build {
                0
            } else {
                opts.retries
            };
            let argv = step.commands().into_iter().next().unwrap_or_default();
            runner
                .with_retries(&argv, retries, opts.backoff)
                .map(|_| ())
        }
    }
}
