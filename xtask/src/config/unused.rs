//! Variables that are set but mean nothing to this run: said as warnings, never refused.

use super::{Env, NodeArgs};
use crate::error::shown;

/// Variables that are set but that this run ignores: a REMOTE_DOCKER_URL_<os> for a release
/// not in OS_VERSIONS (every one in compat mode), DOCKER_CERT_BASE_PATH in compat mode, and
/// REMOTE_DOCKER_URL when every release has its own node, ISOLATION other than hyperv in compat
/// mode. Said, not refused: make often
/// carries variables a target does not use.
pub fn unused_variables(opts: &NodeArgs, os_versions: &[String], env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    let mut unused: Vec<String> = env
        .0
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(k, _)| k.strip_prefix("REMOTE_DOCKER_URL_"))
        .filter(|os| !os_versions.iter().any(|o| o == os))
        .map(|os| format!("REMOTE_DOCKER_URL_{}", shown(os)))
        .collect();
    unused.sort();
    let set = |v: &Option<String>| v.as_deref().is_some_and(|p| !p.is_empty());
    if os_versions.is_empty() {
        if set(&opts.docker_cert_base_path) {
            unused.push("DOCKER_CERT_BASE_PATH".into());
        }
        // Compat mode's argv is upstream's: only ISOLATION=hyperv adds a flag to it; auto and
        // process change nothing there, which a user who set them would not expect.
        if let Some(v) = opts
            .isolation
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "hyperv")
        {
            out.push(format!(
                "ISOLATION={} means nothing without OS_VERSIONS: compat mode runs upstream's build command, with no --isolation flag (only ISOLATION=hyperv adds one); set OS_VERSIONS for matrix mode, where isolation is chosen per release",
                shown(v)
            ));
        }
        // One line: an env file made for both modes (the test stack's) warns once.
        if !unused.is_empty() {
            out.push(format!(
                "set but not used without OS_VERSIONS (compat mode: one node, REMOTE_DOCKER_URL, certs in DOCKER_CERT_PATH): {}",
                unused.join(", ")
            ));
        }
        return out;
    }
    if !unused.is_empty() {
        out.push(format!(
            "set but not used: {} (not in OS_VERSIONS: {})",
            unused.join(", "),
            os_versions.join(" ")
        ));
    }
    let own_node = |os: &String| {
        opts.nodes
            .iter()
            .any(|n| n.split_once('=').map(|(o, _)| o) == Some(os.as_str()))
            || env
                .get(&format!("REMOTE_DOCKER_URL_{os}"))
                .is_some_and(|u| !u.is_empty())
    };
    if set(&opts.remote_docker_url) && os_versions.iter().all(own_node) {
        out.push(
            "set but not used: REMOTE_DOCKER_URL (every release of OS_VERSIONS has its own node)"
                .to_string(),
        );
    }
    out
}
