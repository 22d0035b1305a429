//! Preflight: the cheap, read-only checks a run makes before its first step — the docker CLI
//! on PATH, buildx when the target needs it, per node the client cert files with a readable
//! key — each problem bad input (exit 2) with its fix; and (`node`) the probe of every node,
//! which also decides each build's isolation. `doctor` reuses these pieces for its report;
//! the run never depends on doctor.

pub mod credentials;
mod http;
mod node;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, Node};
use crate::docker::{self, Answer};
use crate::error::BadInput;
use crate::plan::Plan;
pub use node::{ask as ask_node, engine_of, node_says, probe as probe_nodes, undecided};

/// The docker CLI, found on PATH. Missing is bad input (exit 2): nothing can run.
pub fn find_docker() -> anyhow::Result<PathBuf> {
    which::which("docker").map_err(|_| {
        BadInput::new(
            "PATH",
            std::env::var("PATH").unwrap_or_default(),
            "no docker CLI found on it",
            "install the docker CLI (e.g. apt-get install docker-cli / docker.io) or put it on PATH",
        )
    })
}

/// The install hint for a missing buildx plugin.
pub const BUILDX_HINT: &str =
    "install docker-buildx (Debian: docker-buildx) or put docker-buildx in ~/.docker/cli-plugins/";

/// `docker buildx version`: the plugin's version line; missing buildx is bad input for the
/// targets that need it.
pub fn buildx(docker: &Path) -> anyhow::Result<String> {
    match docker::query(docker, &docker::buildx_version(), None) {
        Answer::Ok(v) => Ok(v.trim().to_string()),
        _ => Err(BadInput::new(
            "docker buildx",
            docker.display().to_string(),
            "`docker buildx version` failed: the buildx plugin is missing",
            BUILDX_HINT,
        )),
    }
}

/// A private key file's mode, and whether others may read it (group or world bits set).
/// An unreadable mode counts as private: opening the key is checked on its own.
pub fn key_mode(key: &Path) -> (u32, bool) {
    let mode = fs::metadata(key)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o600);
    (mode, mode & 0o077 != 0)
}

/// The nodes a run of the plan talks to: those its steps run on (none for a target that only
/// builds cache images, or for a selection of cache-only images).
pub fn nodes_of<'a>(cfg: &'a Config, plan: &Plan) -> Vec<&'a Node> {
    cfg.nodes
        .iter()
        .filter(|n| plan.uses_node(n.os.as_deref()))
        .collect()
}

/// The variable a node's cert folder comes from, for messages.
pub fn cert_var(node: &Node) -> &'static str {
    match &node.os {
        Some(os)
            if node.cert_path.file_name().and_then(|n| n.to_str())
                == Some(format!(".docker-{os}").as_str()) =>
        {
            "DOCKER_CERT_BASE_PATH"
        }
        _ => "DOCKER_CERT_PATH",
    }
}

/// The checks a run makes before starting (no network, no cargo): the docker CLI, and per
/// node the cert files present with a readable key. A key readable by others is a warning.
/// Returns the docker CLI it found, for the run.
pub fn local(cfg: &Config, plan: &Plan) -> anyhow::Result<PathBuf> {
    let docker_cli = find_docker()?;
    let mut seen: Vec<&Path> = Vec::new();
    for node in nodes_of(cfg, plan) {
        // Nodes often share one cert folder: check (and warn about) each folder once.
        if seen.contains(&node.cert_path.as_path()) {
            continue;
        }
        seen.push(&node.cert_path);
        let var = cert_var(node);
        config::check_certs(var, &node.cert_path)?;
        let key = node.cert_path.join("key.pem");
        if let Err(e) = fs::File::open(&key) {
            return Err(BadInput::new(
                var,
                node.cert_path.display().to_string(),
                format!("key.pem cannot be read: {e}"),
                format!("make {} readable by this user", key.display()),
            ));
        }
        if let (mode, true) = key_mode(&key) {
            eprintln!(
                "xtask: warning: {} is mode {mode:04o}, readable by others: chmod 600 it",
                key.display()
            );
        }
    }
    Ok(docker_cli)
}
