//! Execute: runs a Plan. Each started step runs on its own thread (its docker commands
//! through the process helper, never a shell), its output streamed back line by line; this
//! thread schedules: a step starts when every step it waits for has succeeded and its lane has
//! room (`scheduler`: per node, per local lane, JOBS overall). The first failure stops new
//! steps from starting — with KEEP_GOING only those that wait for a failed step, and the
//! error names every failure. A signal (SIGINT, SIGTERM, SIGHUP) or output that can no longer be
//! written stops everything: no docker command starts any more, inside a step neither, the
//! running ones are stopped, and those steps are reported `stopped`. Either way the summary
//! says what finished and what did not. Nothing waits forever: see `watch`. A failed step's
//! message carries the step's own hint when it has one (`Step::failure_hint`: Hyper-V
//! isolation).

mod logs;
pub mod manifest;
mod output;
mod outputs;
mod owned;
pub mod report;
mod retry;
mod runner;
mod scheduler;
pub mod signals;
mod state;
mod summary;
pub mod term;
pub mod time;
pub mod watch;

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::docker::said::Said;
use crate::docker::Client;
use crate::error::{Interrupted, StepFailed};
use crate::plan::{Action, Kind, Plan, Step};
pub use logs::{folder as log_folder, prepare as prepare_logs};
use output::Output;
pub use outputs::check as check_outputs;
use runner::Runner;
pub use scheduler::Limits;
use scheduler::{Decision, Scheduler};
pub use state::State;
use summary::print_summary;
use watch::{StepWatch, Timeouts};

/// How the executor behaves; the plan says what it runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The docker client every step's commands and every check go through.
    pub docker: Client,
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
    /// KEEP_GOING: a failure stops only what depends on it; the rest goes on.
    pub keep_going: bool,
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
        /// What docker said the step pushed or built (`docker::said`), or why it failed.
        result: Result<Said, String>,
        /// Ended because xtask is stopping (a signal, closed output), not by its own fault.
        stopped: bool,
    },
}

/// Runs the plan; `ended` receives how each step ended and `starts` when each step started
/// (both for the run report: its timeline draws each step from its start).
pub fn run(
    plan: &Plan,
    opts: &Options,
    ended: &mut Vec<State>,
    starts: &mut Vec<Option<SystemTime>>,
) -> anyhow::Result<()> {
    signals::install();
    let n = plan.steps.len();
    let started_all = Instant::now();
    starts.clear();
    starts.resize(n, None);
    let mut sched = Scheduler::new(plan, opts.limits);
    let mut out = Output::new(plan, opts);
    let (tx, rx): (Sender<Event>, Receiver<Event>) = mpsc::channel();
    let pushes = plan.steps.iter().any(|s| s.kind() != Kind::Build);
    // Every failed step, in the order they failed.
    let mut failed: Vec<usize> = Vec::new();
    let mut announced = false;
    // What each finished step pushed or built, by docker's own word: what this run owns.
    let mut mine = owned::Mine::default();
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
        // Start what is ready, in plan order, while there is room. After a failure only with
        // KEEP_GOING: a step that waits for a failed one is never ready, so what depends on
        // the failure does not start.
        if (failed.is_empty() || opts.keep_going) && stopping.is_none() {
            for d in sched.next(plan) {
                match d {
                    Decision::Skip(i) => out.skipped(plan, i),
                    Decision::Start(i) => {
                        starts[i] = Some(SystemTime::now());
                        out.started(plan, i);
                        let s = plan.steps[i].clone();
                        spawn_step(s, opts.clone(), pushes, mine.clone(), tx.clone());
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
                let result = result.map(|said| mine.record(&plan.steps[step], said));
                if sched.finish(plan, step, result, stopped) {
                    failed.push(step);
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
    let failure = |i: usize| {
        let s = &plan.steps[i];
        // Docker's words may be long; the message keeps its shape (the step named first, the
        // log's name and the hint last) whatever they hold.
        let why = match &sched.state[i] {
            State::Failed(_, msg) => output::clip_chars(msg, 600),
            _ => String::new(),
        };
        let tail = out.failure_detail(plan, i);
        let hint = s
            .failure_hint()
            .map(|h| format!("\n  hint: {h}"))
            .unwrap_or_default();
        format!(
            "step {}/{n} failed: {} (image {}, {}): {why}{tail}{hint}",
            s.id,
            s.what,
            s.image,
            s.node.label(),
        )
    };
    match failed.as_slice() {
        [] => {}
        [one] => return Err(StepFailed(failure(*one)).into()),
        // KEEP_GOING: every failure named, then each in full.
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|&i| format!("{} ({})", plan.steps[i].id, plan.steps[i].image))
                .collect();
            let each: Vec<String> = many.iter().map(|&i| failure(i)).collect();
            return Err(StepFailed(format!(
                "{} steps failed: {}\n{}",
                many.len(),
                names.join(", "),
                each.join("\n")
            ))
            .into());
        }
    }
    // Exit 0 means done: every tag this run pushed still holds what it pushed (another run
    // may have pushed over it meanwhile).
    owned::read_back(opts.docker.registry(), &mine).map_err(|e| StepFailed(e).into())
}

/// Runs a step on a thread of its own. The thread waits for every docker child it starts, so
/// it outlives them: their parent-death signal (see `docker::process`) fires only with xtask.
fn spawn_step(step: Step, opts: Options, pushes: bool, mine: owned::Mine, tx: Sender<Event>) {
    thread::spawn(move || {
        let result = run_step(&step, &opts, pushes, &mine, &tx);
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

/// Runs one step's commands, retrying transient registry errors where that is safe; then
/// holds what docker said it did to what this run did before (`owned::judge`).
fn run_step(
    step: &Step,
    opts: &Options,
    pushes: bool,
    mine: &owned::Mine,
    tx: &Sender<Event>,
) -> Result<Said, String> {
    let watch = StepWatch {
        docker: &opts.docker.path,
        timeouts: opts.timeouts,
        node: step.remote_node(),
        registry: (step.kind() != Kind::Build || pushes).then_some(step.tag.as_str()),
    };
    let env = step.env();
    let runner = Runner {
        docker: &opts.docker.path,
        step: step.id - 1,
        tx,
        registry_timeout: opts.timeouts.registry,
        watch: &watch,
        stop: &signals::STOP,
        env: &env,
        gave_up: Cell::new(false),
        listen: Some((step.tag.clone(), owned::source_of(step))),
    };
    let said = match &step.action {
        Action::List(spec) => {
            manifest::publish(&runner, spec, &mine.pushed, opts.retries, opts.backoff)?
        }
        _ => {
            // A node build is long and its failures are its own: retried only when it lost a
            // naming race with another run (`retry::build_retry`); so is a cache build, which
            // names its image in the local daemon's store the same way.
            let why = match step.kind() {
                Kind::Build => retry::build_retry,
                Kind::Cache => retry::cache_retry,
                _ => retry::registry_retry,
            };
            let argv = step.commands().into_iter().next().unwrap_or_default();
            runner
                .with_retries(&argv, opts.retries, opts.backoff, why)?
                .said
        }
    };
    let said = owned::judge(step, said, mine)?;
    if let Some(d) = &said.pushed {
        runner.say(format!("xtask: pushed {d} to {}", step.tag));
    }
    Ok(said)
}
