//! Preflight: the cheap, read-only checks a run makes before its first step — the docker CLI
//! on PATH, buildx when the target needs it, per node the client cert files with a readable
//! key — each problem bad input (exit 2) with its fix; and (`node`) the probe of every node,
//! which also decides each build's isolation; (`env`) the user's docker environment (DOCKER_HOST,
//! DOCKER_CONTEXT, DOCKER_TLS_VERIFY, BUILDX_BUILDER). `doctor` reuses these pieces for its report;
//! the run never depends on doctor.

pub mod credentials;
mod env;
mod http;
mod node;

use std::path::Path;
use std::time::Duration;

use crate::certs;
use crate::config::{Node, Nodes};
use crate::docker::{self, Answer, Client};
use crate::error::BadInput;
use crate::plan::Plan;
pub use env::check as docker_env;
pub use node::{ask as ask_node, engine_of, node_says, probe as probe_nodes, undecided};

/// The install hint for a missing buildx plugin.
pub const BUILDX_HINT: &str =
    "install docker-buildx (Debian: docker-buildx) or put docker-buildx in ~/.docker/cli-plugins/";

/// `docker buildx version`: the plugin's version line; missing buildx is bad input for the
/// targets that need it.
pub fn buildx(docker: &Client) -> anyhow::Result<String> {
    match docker.query(&docker::buildx_version(), None) {
        Answer::Ok(v) => Ok(v.trim().to_string()),
        _ => Err(BadInput::new(
            "docker buildx",
            docker.path.display().to_string(),
            "`docker buildx version` failed: the buildx plugin is missing",
            BUILDX_HINT,
        )),
    }
}

/// The nodes a run of the plan talks to: those its steps run on (none for a target that only
/// builds cache images, or for a selection of cache-only images).
pub fn nodes_of<'a>(nodes: &'a Nodes, plan: &Plan) -> Vec<&'a Node> {
    nodes
        .list
        .iter()
        .filter(|n| plan.uses_node(n.os.as_deref()))
        .collect()
}

/// The checks a run makes before starting (no network, no cargo): the docker CLI, and per
/// node the cert files sound with a readable key (`certs::examine`, the check doctor makes).
/// A key readable by others is a warning. Returns the docker client it found, for the run.
pub fn local(nodes: &Nodes, plan: &Plan, registry_timeout: Duration) -> anyhow::Result<Client> {
    let docker_cli = Client::find(registry_timeout)?;
    let mut seen: Vec<&Path> = Vec::new();
    for node in nodes_of(nodes, plan) {
        // Nodes often share one cert folder: check (and warn about) each folder once.
        if seen.contains(&node.cert_path.as_path()) {
            continue;
        }
        seen.push(&node.cert_path);
        let dir = &node.cert_path;
        let facts = certs::examine(dir).map_err(|p| p.bad_input(node.cert_variable(), dir))?;
        if facts.key_shared {
            crate::error::say(&format!(
                "xtask: warning: {} is mode {:04o}, readable by others: chmod 600 it",
                dir.join("key.pem").display(),
                facts.key_mode
            ));
        }
    }
    Ok(docker_cli)
}
