//! What a silent step is held to. Docker prints nothing while it extracts a big Windows layer,
//! pushes one, or runs a long `RUN`, so silence alone does not mean trouble; a node or registry
//! that accepts connections and never answers does, and docker waits for it forever. So after
//! `STEP_IDLE_CHECK` of silence (and again after each further one) xtask asks what the step
//! talks to whether it still answers: the node (`docker version`, within `NODE_TIMEOUT`) and
//! the registry (a manifest query, within `REGISTRY_TIMEOUT`). One that does not ends the step,
//! named. One that answers lets it go on, up to `STEP_IDLE_TIMEOUT` of silence: then docker
//! itself is stuck, and the step ends anyway.

use std::path::Path;
use std::time::Duration;

use super::signals;
use crate::config::Node;
use crate::docker::{self, process};

/// The limits, from the variables of the same names.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// REGISTRY_TIMEOUT: every registry query.
    pub registry: Duration,
    /// NODE_TIMEOUT: a node's `docker version`.
    pub node: Duration,
    /// STEP_IDLE_CHECK: silence after which the node and registry are asked.
    pub idle_check: Duration,
    /// STEP_IDLE_TIMEOUT: silence after which a step ends whatever they answer.
    pub idle: Duration,
}

impl Timeouts {
    /// How often silence is looked at: STEP_IDLE_CHECK, or STEP_IDLE_TIMEOUT when that is
    /// shorter — the watch is asked only at these moments, so a limit below the check
    /// interval would otherwise be enforced only at the first check, long after it passed.
    pub fn every(&self) -> Duration {
        self.idle_check.min(self.idle)
    }
}

/// What one step talks to.
pub struct StepWatch<'a> {
    pub docker: &'a Path,
    pub timeouts: Timeouts,
    /// The Windows node of a build or push.
    pub node: Option<&'a Node>,
    /// A reference in the registry the step writes to, to ask about (its tag): a push, cache
    /// or list step, and a build when the run pushes afterwards (a wedged registry would fail
    /// the run after the build anyway).
    pub registry: Option<&'a str>,
}

impl StepWatch<'_> {
    /// Called by the process helper after each `idle_check` of silence: Some(why) ends the step.
    pub fn check(&self, silent: Duration) -> Option<String> {
        let silent_s = docker::seconds(Duration::from_secs(silent.as_secs()));
        if silent >= self.timeouts.idle {
            let who = match self.node {
                Some(n) => format!("node {}", node_name(n)),
                None => "the local docker".to_string(),
            };
            return Some(format!(
                "no output for {silent_s} although {who} answers: docker seems stuck (limit: STEP_IDLE_TIMEOUT)"
            ));
        }
        if let Some(node) = self.node {
            if ask(self.docker, &docker::node_version(node), self.timeouts.node) {
                return Some(format!(
                    "node {} did not answer `docker version` within {} after {silent_s} without output (limit: NODE_TIMEOUT)",
                    node_name(node),
                    docker::seconds(self.timeouts.node)
                ));
            }
        }
        self.registry_silent()
            .map(|why| format!("{why} after {silent_s} without output"))
    }

    /// Whether the step's registry fails to answer a query within REGISTRY_TIMEOUT: Some(the
    /// words naming it). Asked before a retry too: retrying against a registry that accepts
    /// connections and never answers would only wait as long again.
    pub fn registry_silent(&self) -> Option<String> {
        let reference = self.registry?;
        ask(
            self.docker,
            &docker::inspect_raw(reference),
            self.timeouts.registry,
        )
        .then(|| docker::registry_silent(reference, self.timeouts.registry))
    }
}

/// `tcp://host:port (1809)`: how the messages name a node.
pub fn node_name(node: &Node) -> String {
    match &node.os {
        Some(os) => format!("{} ({os})", node.address()),
        None => node.address().to_string(),
    }
}

/// Runs a read-only query; true when it got no answer within `limit`. Any answer, even an
/// error (no such manifest, no buildx), shows the peer is alive. Stopped with the run.
fn ask(docker_cli: &Path, argv: &[String], limit: Duration) -> bool {
    let f = process::run(process::Spec {
        program: docker_cli,
        env: &[],
        stdin: None,
        argv,
        deadline: Some(limit),
        sink: None,
        keep_stdout: true,
        stop: Some(&signals::STOP),
        watch: None,
        helper_limit: None,
    });
    f.exit == process::Exit::TimedOut
}
