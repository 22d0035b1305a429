//! The node probe a run makes before its first step: one read-only `docker … version`
//! per node (the query doctor makes), all nodes at once, each within NODE_TIMEOUT. A node
//! that does not answer ends the run before any build (exit 1, naming the node, the wait
//! and the variable); what the nodes say decides each build's isolation (`plan::resolve_isolation`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::config::Node;
use crate::docker::{self, Answer, Client};
use crate::error;
use crate::plan::{self, Action, BuildIsolation, Decided, NodeSays, Plan};

/// What `docker version --format '{{json .Server}}'` says about a node's OS.
pub fn node_says(server: &Value) -> NodeSays {
    let os = server["Os"].as_str().unwrap_or("?");
    let kernel = server["KernelVersion"].as_str().unwrap_or("?");
    // What a node says reaches messages and plans: escaped and bounded here, once (issue 19
    // §5), so no caller can show it raw.
    if os != "windows" {
        return NodeSays::StandIn(error::shown(os));
    }
    match crate::windows::build_of_kernel(kernel) {
        Some(b) => NodeSays::Windows(b),
        None => NodeSays::WindowsUnknownBuild(error::shown(kernel)),
    }
}

/// Asks the node its daemon's version, OS and kernel, within `deadline`: the `Server` object,
/// or why not (None: no answer in time).
pub fn ask(docker: &Client, node: &Node, deadline: Duration) -> Result<Value, Option<String>> {
    match docker.query(&docker::node_version(node), Some(deadline)) {
        Answer::Ok(out) => match serde_json::from_str::<Value>(out.trim()) {
            Ok(v) if v.is_object() => Ok(v),
            _ => Err(Some(format!(
                "unexpected answer {}: is this a Docker daemon?",
                error::quoted(out.lines().next().unwrap_or_default())
            ))),
        },
        Answer::Failed(e) => Err(Some(e)),
        Answer::TimedOut => Err(None),
    }
}

/// The node builds of the plan that wait for a node's answer to be decided.
pub fn undecided(plan: &Plan) -> bool {
    plan.steps.iter().any(|s| {
        matches!(
            s.action,
            Action::Build {
                isolation: BuildIsolation::FromNode,
                ..
            }
        )
    })
}

/// Probes `nodes` (each URL with each cert folder once, all at once), then decides every
/// build's isolation in `plan`. Err: a node that did not answer (exit 1), or a release its
/// node cannot run (bad input, exit 2) — either way before any build.
pub fn probe(
    docker: &Client,
    wait: Duration,
    nodes: &[&Node],
    plan: &mut Plan,
) -> anyhow::Result<Vec<Decided>> {
    let mut distinct: Vec<&Node> = Vec::new();
    for n in nodes {
        if !distinct
            .iter()
            .any(|d| d.url == n.url && d.cert_path == n.cert_path)
        {
            distinct.push(n);
        }
    }
    let answers: Vec<(&Node, Result<Value, Option<String>>)> = std::thread::scope(|s| {
        let handles: Vec<_> = distinct
            .iter()
            .map(|n| (*n, s.spawn(move || ask(docker, n, wait))))
            .collect();
        handles
            .into_iter()
            .map(|(n, h)| {
                let a = h
                    .join()
                    .unwrap_or_else(|_| Err(Some("the probe panicked".into())));
                (n, a)
            })
            .collect()
    });
    let mut said: Vec<(String, PathBuf, NodeSays)> = Vec::new();
    for (node, answer) in answers {
        let releases = releases_of(nodes, node.address());
        match answer {
            Ok(server) => said.push((
                node.address().to_string(),
                node.cert_path.clone(),
                node_says(&server),
            )),
            Err(None) => anyhow::bail!(
                "node {} ({releases}) did not answer `docker version` within {} s (NODE_TIMEOUT); no step was started. Check the node with `cargo xtask doctor`, or give it longer: NODE_TIMEOUT=<seconds>",
                node.address(),
                wait.as_secs()
            ),
            Err(Some(e)) => anyhow::bail!(
                "node {} ({releases}) did not answer `docker version`: {}; no step was started. `cargo xtask doctor` names the cause",
                node.address(),
                e.lines().next().unwrap_or_default()
            ),
        }
    }
    plan::resolve_isolation(plan, &|url| {
        said.iter()
            .find(|(u, _, _)| u == url)
            .map(|(_, _, s)| s.clone())
    })
}

/// "for 1809, ltsc2022" or "compat mode": which releases a URL builds, for messages.
fn releases_of(nodes: &[&Node], url: &str) -> String {
    let os: Vec<&str> = nodes
        .iter()
        .filter(|n| n.address() == url)
        .filter_map(|n| n.os.as_deref())
        .collect();
    if os.is_empty() {
        "compat mode".into()
    } else {
        format!("for {}", os.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_a_node_says() {
        assert_eq!(
            node_says(
                &json!({"Os": "windows", "KernelVersion": "10.0 26100 (26100.1.amd64fre.ge_release.240331-1435)"})
            ),
            NodeSays::Windows(26100)
        );
        assert_eq!(
            node_says(&json!({"Os": "linux", "KernelVersion": "6.1.0-13-amd64"})),
            NodeSays::StandIn("linux".into())
        );
        assert_eq!(
            node_says(&json!({"Os": "windows", "KernelVersion": "10.0"})),
            NodeSays::WindowsUnknownBuild("10.0".into())
        );
    }
}
