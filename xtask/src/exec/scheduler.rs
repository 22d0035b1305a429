//! Which step starts when. A step is ready when every step it waits for is done (ok or
//! skipped); it starts when its lane has room and, if JOBS caps the run, fewer than JOBS steps
//! run. The lanes are per Windows node — one node being the URL that one or several releases
//! name — and local:
//! - a node runs NODE_JOBS builds at once (default 1), whichever release they are for;
//! - beside its builds a node pushes, one push at a time: the push of image k runs while the
//!   node builds image k+1, so the node's time is its builds plus its last push;
//! - this machine runs LOCAL_JOBS cache builds at once (default 2); manifest lists are a few
//!   registry calls and take no slot.
//!
//! Ready steps start by kind — builds, then pushes, then cache builds, then lists — and in
//! plan order within a kind, so a node never waits behind local work, and with one step at a
//! time (compat mode's default) the order is upstream's: all builds, all pushes, all caches.
//! Pure bookkeeping over the plan; the executor loop starts what it says.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::state::State;
use crate::plan::{Kind, Plan, Step};

/// What the scheduler decided for one step.
pub enum Decision {
    /// Its output is already there (skip-unchanged): done without running.
    Skip(usize),
    /// Start it now.
    Start(usize),
}

/// How many steps may run at once, overall and per lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// JOBS: steps at once in all (`usize::MAX`: no overall cap).
    pub jobs: usize,
    /// NODE_JOBS: builds at once on one node.
    pub node_builds: usize,
    /// LOCAL_JOBS: cache builds at once on this machine.
    pub local: usize,
}

/// LOCAL_JOBS's default: two cache builds share this machine's cores without starving them.
pub const DEFAULT_LOCAL_JOBS: usize = 2;

impl Limits {
    /// The limits for `plan` from JOBS, NODE_JOBS and LOCAL_JOBS as given (None: default).
    /// Compat mode runs one step at a time by default, so its order is exactly upstream's;
    /// matrix mode has no overall cap: the lanes bound it.
    pub fn new(
        plan: &Plan,
        jobs: Option<usize>,
        node_jobs: Option<usize>,
        local: Option<usize>,
    ) -> Limits {
        Limits {
            jobs: jobs.unwrap_or(if plan.matrix { usize::MAX } else { 1 }),
            node_builds: node_jobs.unwrap_or(1),
            local: local.unwrap_or(DEFAULT_LOCAL_JOBS),
        }
    }
}

/// The lane a step occupies while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lane {
    /// Builds on the node at this URL.
    Build(String),
    /// Pushes from the node at this URL.
    Push(String),
    /// Cache builds on this machine.
    Cache,
}

pub struct Scheduler {
    pub state: Vec<State>,
    busy: HashMap<Lane, usize>,
    pub running: usize,
    limits: Limits,
    /// Step indices in the order they are considered: by kind, then plan order.
    order: Vec<usize>,
}

impl Scheduler {
    pub fn new(plan: &Plan, limits: Limits) -> Scheduler {
        let mut order: Vec<usize> = (0..plan.steps.len()).collect();
        order.sort_by_key(|&i| (rank(plan.steps[i].kind()), i));
        Scheduler {
            state: vec![State::Pending; plan.steps.len()],
            busy: HashMap::new(),
            running: 0,
            limits,
            order,
        }
    }

    /// The steps to skip or start now, marked skipped or running.
    pub fn next(&mut self, plan: &Plan) -> Vec<Decision> {
        let mut out = Vec::new();
        // Skips first, in plan order (dependencies come earlier in the plan, so one pass
        // settles a chain of skipped steps).
        for (i, s) in plan.steps.iter().enumerate() {
            if s.skip.is_some() && self.ready(plan, i) {
                self.state[i] = State::Skipped;
                out.push(Decision::Skip(i));
            }
        }
        for k in 0..self.order.len() {
            let i = self.order[k];
            if self.running >= self.limits.jobs {
                break;
            }
            if !self.ready(plan, i) {
                continue;
            }
            let lane = lane(&plan.steps[i]);
            if let Some(l) = &lane {
                if self.busy.get(l).copied().unwrap_or(0) >= self.capacity(l) {
                    continue;
                }
            }
            self.state[i] = State::Running(Instant::now());
            if let Some(l) = lane {
                *self.busy.entry(l).or_insert(0) += 1;
            }
            self.running += 1;
            out.push(Decision::Start(i));
        }
        out
    }

    fn ready(&self, plan: &Plan, i: usize) -> bool {
        self.state[i] == State::Pending
            && plan.steps[i]
                .after
                .iter()
                .all(|&a| self.state[a - 1].done())
    }

    fn capacity(&self, l: &Lane) -> usize {
        match l {
            Lane::Build(_) => self.limits.node_builds,
            Lane::Push(_) => 1,
            Lane::Cache => self.limits.local,
        }
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
            if let Some(n) = self.busy.get_mut(&l) {
                *n = n.saturating_sub(1);
            }
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

/// Which kind of ready step starts first: a node's builds are its critical path, its pushes
/// free the next local work, cache builds take longer than lists.
fn rank(k: Kind) -> u8 {
    match k {
        Kind::Build => 0,
        Kind::Push => 1,
        Kind::Cache => 2,
        Kind::List => 3,
    }
}

fn lane(s: &Step) -> Option<Lane> {
    let url = s.remote_node().map(|n| n.address().to_string());
    match (s.kind(), url) {
        (Kind::Build, Some(u)) => Some(Lane::Build(u)),
        (Kind::Push, Some(u)) => Some(Lane::Push(u)),
        (Kind::Cache, _) => Some(Lane::Cache),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::Node;
    use crate::plan::{Action, BuildIsolation, NodeRef, Step, Target};

    fn node(url: &str) -> Node {
        Node::for_test(None, url, "/c")
    }

    fn step(id: usize, os: &str, url: &str, action: &str, after: Vec<usize>) -> Step {
        let n = node(url);
        let (action, at) = match action {
            "build" => (
                Action::Build {
                    node: n,
                    dockerfile: PathBuf::from("/d"),
                    context: "/c".into(),
                    build_args: vec![],
                    isolation: BuildIsolation::NodeDefault,
                    builder: crate::plan::BuildVia::Unknown,
                },
                NodeRef::Remote(Some(os.into())),
            ),
            "push" => (Action::Push { node: n }, NodeRef::Remote(Some(os.into()))),
            _ => (
                Action::Cache {
                    context: "/c".into(),
                    build_args: vec![],
                },
                NodeRef::Local,
            ),
        };
        Step {
            id,
            what: format!("{} {id}", action_word(&action)),
            image: format!("img{id}"),
            os: Some(os.into()),
            node: at,
            tag: format!("t{id}"),
            inputs: None,
            action,
            after,
            skip: None,
        }
    }

    fn action_word(a: &Action) -> &'static str {
        match a {
            Action::Build { .. } => "build",
            Action::Push { .. } => "push",
            _ => "cache",
        }
    }

    /// Per image and release: build, push, cache; releases 1809 and ltsc2022 on `urls`.
    fn matrix(images: usize, urls: [&str; 2]) -> Plan {
        let mut steps = Vec::new();
        for _ in 0..images {
            for (os, url) in ["1809", "ltsc2022"].into_iter().zip(urls) {
                let b = steps.len() + 1;
                steps.push(step(b, os, url, "build", vec![]));
                steps.push(step(b + 1, os, url, "push", vec![b]));
                steps.push(step(b + 2, os, url, "cache", vec![b + 1]));
            }
        }
        Plan {
            target: Target::PushAsLinux,
            matrix: true,
            steps,
        }
    }

    fn started(d: Vec<Decision>) -> Vec<usize> {
        d.into_iter()
            .filter_map(|d| match d {
                Decision::Start(i) => Some(i + 1),
                Decision::Skip(_) => None,
            })
            .collect()
    }

    #[test]
    fn one_node_for_two_releases_builds_one_at_a_time_and_pushes_beside_it() {
        let p = matrix(2, ["tcp://one:2376", "tcp://one:2376"]);
        let mut s = Scheduler::new(&p, Limits::new(&p, None, None, None));
        // Only the first build: the second release's build waits for the same node.
        assert_eq!(started(s.next(&p)), vec![1]);
        s.finish(&p, 0, Ok(()), false);
        // Build 1809 done: ltsc2022's build and 1809's push start together.
        assert_eq!(started(s.next(&p)), vec![4, 2]);
        s.finish(&p, 1, Ok(()), false);
        // The push done: its cache builds; the node still builds one image.
        assert_eq!(started(s.next(&p)), vec![3]);
        s.finish(&p, 3, Ok(()), false);
        assert_eq!(started(s.next(&p)), vec![7, 5]);
    }

    #[test]
    fn two_nodes_build_at_once_and_local_work_takes_no_node_slot() {
        let p = matrix(3, ["tcp://a:2376", "tcp://b:2376"]);
        let mut s = Scheduler::new(&p, Limits::new(&p, None, None, None));
        assert_eq!(started(s.next(&p)), vec![1, 4]);
        for i in [0, 3] {
            s.finish(&p, i, Ok(()), false);
        }
        assert_eq!(started(s.next(&p)), vec![7, 10, 2, 5]);
        for i in [1, 4] {
            s.finish(&p, i, Ok(()), false);
        }
        // Two caches (LOCAL_JOBS 2) while both nodes keep building.
        assert_eq!(started(s.next(&p)), vec![3, 6]);
        assert_eq!(s.running, 4);
    }

    #[test]
    fn compat_order_with_one_job_is_all_builds_then_pushes_then_caches() {
        // Plan order of compat mode: builds 1-2, pushes 3-4, caches 5-6.
        let u = "tcp://n:2376";
        let mut p = Plan {
            target: Target::PushAsLinux,
            matrix: false,
            steps: vec![
                step(1, "x", u, "build", vec![]),
                step(2, "x", u, "build", vec![]),
                step(3, "x", u, "push", vec![1]),
                step(4, "x", u, "push", vec![2]),
                step(5, "x", u, "cache", vec![3]),
                step(6, "x", u, "cache", vec![4]),
            ],
        };
        for s in &mut p.steps {
            s.os = None;
        }
        let mut s = Scheduler::new(&p, Limits::new(&p, None, None, None));
        let mut order = Vec::new();
        loop {
            let now = started(s.next(&p));
            if now.is_empty() {
                break;
            }
            assert_eq!(now.len(), 1, "one step at a time");
            order.push(now[0]);
            s.finish(&p, now[0] - 1, Ok(()), false);
        }
        assert_eq!(order, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn jobs_caps_the_whole_run_and_node_jobs_a_node() {
        let p = matrix(2, ["tcp://one:2376", "tcp://one:2376"]);
        let mut s = Scheduler::new(&p, Limits::new(&p, None, Some(2), None));
        assert_eq!(started(s.next(&p)), vec![1, 4]);
        let mut s = Scheduler::new(&p, Limits::new(&p, Some(1), Some(2), None));
        assert_eq!(started(s.next(&p)), vec![1]);
    }
}
