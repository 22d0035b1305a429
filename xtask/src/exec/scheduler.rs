//! Which step starts when: a step is ready when every step it waits for is done (ok or
//! skipped), its node's lane is free (a Windows node runs one step at a time) and fewer than
//! `jobs` steps run. Pure bookkeeping over the plan; the executor loop starts what it says.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::summary::State;
use crate::plan::{NodeRef, Plan, Step};

/// What the scheduler decided for one step.
pub enum Decision {
    /// Its output is already there (skip-unchanged): done without running.
    Skip(usize),
    /// Start it now.
    Start(usize),
}

pub struct Scheduler {
    pub state: Vec<State>,
    busy: HashSet<NodeRef>,
    pub running: usize,
    jobs: usize,
}

impl Scheduler {
    pub fn new(plan: &Plan, jobs: usize) -> Scheduler {
        Scheduler {
            state: vec![State::Pending; plan.steps.len()],
            busy: HashSet::new(),
            running: 0,
            jobs,
        }
    }

    /// The steps to skip or start now, in plan order, marked running.
    pub fn next(&mut self, plan: &Plan) -> Vec<Decision> {
        let mut out = Vec::new();
        for (i, s) in plan.steps.iter().enumerate() {
            if self.running >= self.jobs {
                break;
            }
            let deps_done = s.after.iter().all(|&a| self.state[a - 1].done());
            if self.state[i] != State::Pending || !deps_done {
                continue;
            }
            if s.skip.is_some() {
                self.state[i] = State::Skipped;
                out.push(Decision::Skip(i));
                continue;
            }
            if lane(s).is_some_and(|l| self.busy.contains(&l)) {
                continue;
            }
            self.state[i] = State::Running(Instant::now());
            self.busy.extend(lane(s));
            self.running += 1;
            out.push(Decision::Start(i));
        }
        out
    }

    /// Records how a running step ended; true when it failed (not stopped by a signal).
    pub fn finish(
        &mut self,
        plan: &Plan,
        step: usize,
        result: Result<(), String>,
        signalled: bool,
    ) -> bool {
        self.running -= 1;
        if let Some(l) = lane(&plan.steps[step]) {
            self.busy.remove(&l);
        }
        let took = match self.state[step] {
            State::Running(t) => t.elapsed(),
            _ => Duration::ZERO,
        };
        let (state, failed) = match result {
            Ok(()) => (State::Ok(took), false),
            Err(_) if signalled => (State::Stopped(took), false),
            Err(msg) => (State::Failed(took, msg), true),
        };
        self.state[step] = state;
        failed
    }
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
