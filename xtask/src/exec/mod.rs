//! Execute: runs a Plan. Each started step runs on its own thread (its docker commands
//! through the process helper, never a shell), its output streamed back line by line; this
//! thread schedules: a step starts when every step it waits for has succeeded and its lane has
//! room (`scheduler`: per node, per local lane, JOBS overall). The first failure stops new
//! steps from starting. A signal (SIGINT, SIGTERM, SIGHUP) or output that can no longer be
//! written stops everything: no docker command starts any more, inside a step neither, the
//! running ones are stopped, and those steps are reported `stopped`. Either way the summary
//! says what finished and what did not. Nothing waits forever: see `watch`. A failed step's
//! message carries the step's own hint when it has one (`Step::failure_hint`: Hyper-V
//! isolation).

mod logs;
pub mod manifest;
mod output;
pub mod report;
mod retry;
mod runner;
mod scheduler;
pub mod signals;
mod summary;
pub mod term;
pub mod watch;

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Interrupted, StepFailed};
use crate::plan::{Action, Kind, Plan, Step};
pub use logs::prepare as prepare_logs;
use output::Output;
use runner::Runner;
pub use scheduler::Limits;
use scheduler::{Decision, Scheduler};
use summary::print_summary;
pub use summary::State;
use watch::{StepWatch, Timeouts};

/// How the executor behaves; the plan says what it runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub docker: PathBuf,
    /// Steps at once, overall and per lane (see `scheduler`).
    pub limits: Limits,
    /// Extra attempts after a transient registry/network error (push, list, cache build).
    pub retries: u32,
    /// First backoff; doubles on each retry.
    pub backoff: Duration,
    /// Only step starts and ends, a failure's tail and the summary reach the terminal.
    pub quiet: bool,
    /// Each step's output also goes to a file here (`prepare_logs` made it).
    pub log_dir: Option<PathBuf>,
    /// How long a registry or node may keep a step waiting.
    pub timeouts: Timeouts,
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
        /// Ended because xtask is stopping (a signal, closed output), not by its own fault.
        stopped: bool,
    },
}

/// Runs the plan; `ended` receives how each step ended (for the run report).
pub fn run(plan: &Plan, opts: &Options, ended: &mut Vec<State>) -> anyhow::Result<()> {
    signals::install();
    let n = plan.steps.len();
    let started_all = Instant::now();
    let mut sched = Scheduler::new(plan, opts.limits);
    let mut out = Output::new(plan, opts);
    let (tx, rx): (Sender<Event>, Receiver<Event>) = mpsc::channel();
    let pushes = plan.steps.iter().any(|s| s.kind() != Kind::Build);
    let mut failed: Option<usize> = None;
    let mut announced = false;
    loop {
        // The step threads read the same flag: their children stop, nothing new starts.
        let stopping = signals::caught();
        if let (Some(sig), false) = (stopping, announced) {
            announced = true;
            term::write_line(
                true,
                &format!("\nxtask: {}, stopping running steps", Interrupted(sig)),
            );
        }
        // Start what is ready, in plan order, while there is room.
        if failed.is_none() && stopping.is_none() {
            for d in sched.next(plan) {
                match d {
                    Decision::Skip(i) => out.skipped(plan, i),
                    Decision::Start(i) => {
                        out.started(plan, i);
                        let s = plan.steps[i].clone();
                        spawn_step(s, opts.clone(), pushes, tx.clone());
                    }
                }
            }
        }
        if sched.running == 0 {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Line { step, text, stderr }) => out.line(plan, step, text, stderr),
            Ok(Event::Done {
                step,
                result,
                stopped,
            }) => {
                if sched.finish(plan, step, result, stopped) {
                    failed.get_or_insert(step);
                }
                out.ended(plan, step, &sched.state[step]);
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
    }
    print_summary(plan, &sched.state, started_all.elapsed());
    ended.clone_from(&sched.state);

    if let Some(sig) = signals::caught() {
        return Err(Interrupted(sig).into());
    }
    if let Some(i) = failed {
        let s = &plan.steps[i];
        let why = match &sched.state[i] {
            State::Failed(_, msg) => msg.clone(),
            _ => String::new(),
        };
        let tail = out.failure_detail(plan, i);
        let hint = s
            .failure_hint()
            .map(|h| format!("\n  hint: {h}"))
            .unwrap_or_default();
        return Err(StepFailed(format!(
            "step {}/{n} failed: {} (image {}, {}): {why}{tail}{hint}",
            s.id,
            s.what,
            s.image,
            s.node.label(),
        ))
        .into());
    }
    Ok(())
}

/// Runs a step on a thread of its own. The thread waits for every docker child it starts, so
/// it outlives them: their parent-death signal (see `docker::process`) fires only with xtask.
fn spawn_step(step: Step, opts: Options, pushes: bool, tx: Sender<Event>) {
    thread::spawn(move || {
        let result = run_step(&step, &opts, pushes, &tx);
        // Decided here, after the step's last child ended: a child that failed because xtask
        // was stopping it is stopped, not failed.
        let stopped = result.is_err() && signals::caught().is_some();
        let _ = tx.send(Event::Done {
            step: step.id - 1,
            result,
            stopped,
        });
    });
}

/// Runs one step's commands, retrying transient registry errors where that is safe.
fn run_step(step: &Step, opts: &Options, pushes: bool, tx: &Sender<Event>) -> Result<(), String> {
    let watch = StepWatch {
        docker: &opts.docker,
        timeouts: opts.timeouts,
        node: step.remote_node(),
        registry: (step.kind() != Kind::Build || pushes).then_some(step.tag.as_str()),
    };
    let env = step.env();
    let runner = Runner {
        docker: &opts.docker,
        step: step.id - 1,
        tx,
        registry_timeout: opts.timeouts.registry,
        watch: &watch,
        stop: &signals::STOP,
        env: &env,
        gave_up: Cell::new(false),
    };
    match &step.action {
        Action::List(spec) => manifest::publish(&runner, spec, opts.retries, opts.backoff),
        _ => {
            // A node build is long and its failures are its own: retried only when it lost a
            // naming race with another run (`retry::build_retry`).
            let why = if step.kind() == Kind::Build {
                retry::build_retry
            } else {
                retry::registry_retry
            };
            let argv = step.commands().into_iter().next().unwrap_or_default();
            runner
                .with_retries(&argv, opts.retries, opts.backoff, why)
                .map(|_| ())
        }
    }
}
