//! The node probe a run makes before its first step: one read-only `docker … info` per node
//! (the query doctor makes), all nodes at once, each within NODE_TIMEOUT. A node that does
//! not answer ends the run before any build (exit 1, naming the node, the wait and the
//! variable); what the nodes say — OS and build, engine, builder, image store, default
//! isolation (`facts`) — decides each build's isolation (`plan::resolve_isolation`) and the
//! builder that keeps it (`plan::route_builders`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::config::Node;
use crate::docker::{self, Answer, Client};
use crate::error;
use crate::plan::{self, Action, BuildIsolation, Decided, Engine, NodeSays, Plan, Routed};
use crate::windows::{Builder, Isolation};

/// What a node's `docker info` (or `docker version`'s Server part) says about its OS.
pub fn node_says(server: &Value) -> NodeSays {
    let os = server["OSType"]
        .as_str()
        .or(server["Os"].as_str())
        .unwrap_or("?");
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

/// The image store `docker info` shows: the containerd snapshotter (`DriverStatus`
/// `[["driver-type", "io.containerd.snapshotter.v1"]]`) or the graph driver's name.
pub fn image_store(info: &Value) -> String {
    let containerd = info["DriverStatus"].as_array().is_some_and(|rows| {
        rows.iter().any(|r| {
            r.as_array()
                .is_some_and(|kv| kv.iter().any(|v| v == "io.containerd.snapshotter.v1"))
        })
    });
    if containerd {
        "containerd snapshotter".into()
    } else {
        info["Driver"].as_str().unwrap_or("?").to_string()
    }
}

/// The builder the docker CLI picks for a node, from what `docker info` shows and this
/// process's `DOCKER_BUILDKIT` (which the CLI obeys first, docker/cli `BuildKitEnabled`).
///
/// The CLI decides from `/_ping`'s `Builder-Version`, which no CLI command prints (`docker
/// info` and `docker version` carry no builder field), so without the header it is inferred
/// from the daemon's own rule: Linux engines advertise BuildKit; a Windows engine advertises
/// it only with the containerd image store (moby/moby#51998 enables BuildKit there,
/// moby/moby#53625 makes it the default; with windowsfilter the daemon answers `1`). A
/// containerd-store Windows engine is taken as BuildKit: the worse case for isolation, and
/// routing its build to the classic builder costs nothing when the CLI would have picked it.
pub fn builder_of(info: &Value, store: &str, env_buildkit: Option<&str>) -> Builder {
    if let Some(v) = env_buildkit.filter(|v| !v.is_empty()) {
        // docker/cli parses it with strconv.ParseBool.
        return match v {
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Builder::Classic,
            _ => Builder::BuildKit,
        };
    }
    let os = info["OSType"].as_str().unwrap_or("?");
    if os != "windows" || store.starts_with("containerd") {
        Builder::BuildKit
    } else {
        Builder::Classic
    }
}

/// The daemon's default isolation (`Isolation` in `docker info`: "process" or "hyperv"; a
/// Linux daemon says none).
pub fn default_isolation(info: &Value) -> Option<Isolation> {
    match info["Isolation"].as_str()? {
        "process" => Some(Isolation::Process),
        "hyperv" => Some(Isolation::HyperV),
        _ => None,
    }
}

/// The engine facts of a Windows node's `docker info` (None: not Windows — a stand-in keeps
/// its default builder and gets no isolation).
pub fn engine_of(info: &Value) -> Option<Engine> {
    if info["OSType"].as_str() != Some("windows") {
        return None;
    }
    let store = image_store(info);
    let env = std::env::var("DOCKER_BUILDKIT").ok();
    Some(Engine {
        version: engine_name(info),
        builder: builder_of(info, &store, env.as_deref()),
        // Every Docker Engine and Mirantis engine so far keeps the classic builder (deprecated,
        // not removed: `DOCKER_BUILDKIT=0` still reaches it), also with the containerd store
        // on Windows (moby/moby#46539). `config::builder_route` refuses where it is gone.
        classic: true,
        store,
        default_isolation: default_isolation(info),
    })
}

/// "Docker 27.5.1" or "Mirantis Container Runtime 23.0.15" (`docker info` names the product
/// in `ProductLicense` on Mirantis engines).
pub fn engine_name(info: &Value) -> String {
    let version = info["ServerVersion"]
        .as_str()
        .or(info["Version"].as_str())
        .unwrap_or("?");
    let mirantis = info["ProductLicense"]
        .as_str()
        .is_some_and(|l| l.contains("Mirantis"));
    if mirantis {
        format!("Mirantis Container Runtime {version}")
    } else {
        format!("Docker {version}")
    }
}

/// Asks the node's engine what it is (`docker info`), within `deadline`: its JSON object, or
/// why not (None: no answer in time).
pub fn ask(docker: &Client, node: &Node, deadline: Duration) -> Result<Value, Option<String>> {
    match docker.query(&docker::node_info(node), Some(deadline)) {
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
/// build's isolation in `plan` and the builder that keeps it. Err: a node that did not answer
/// (exit 1), or a release its node cannot run or whose isolation nothing on it honours (bad
/// input, exit 2) — either way before any build.
pub fn probe(
    docker: &Client,
    wait: Duration,
    nodes: &[&Node],
    plan: &mut Plan,
) -> anyhow::Result<(Vec<Decided>, Vec<Routed>)> {
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
    let mut said: Vec<(String, PathBuf, NodeSays, Option<Engine>)> = Vec::new();
    for (node, answer) in answers {
        let releases = releases_of(nodes, node.address());
        match answer {
            Ok(info) => said.push((
                node.address().to_string(),
                node.cert_path.clone(),
                node_says(&info),
                engine_of(&info),
            )),
            Err(None) => anyhow::bail!(
                "node {} ({releases}) did not answer `docker info` within {} s (NODE_TIMEOUT); no step was started. Check the node with `cargo xtask doctor`, or give it longer: NODE_TIMEOUT=<seconds>",
                node.address(),
                wait.as_secs()
            ),
            Err(Some(e)) => anyhow::bail!(
                "node {} ({releases}) did not answer `docker info`: {}; no step was started. `cargo xtask doctor` names the cause",
                node.address(),
                e.lines().next().unwrap_or_default()
            ),
        }
    }
    let decided = plan::resolve_isolation(plan, &|url| {
        said.iter()
            .find(|(u, ..)| u == url)
            .map(|(_, _, s, _)| s.clone())
    })?;
    let routed = plan::route_builders(plan, &|url| {
        said.iter()
            .find(|(u, ..)| u == url)
            .and_then(|(.., e)| e.clone())
    })?;
    Ok((decided, routed))
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
    fn engine_facts_from_docker_info() {
        // Shapes of real answers: a classic Windows Server 2022 engine, a Docker 29 engine
        // with the containerd store, a Linux dockerd.
        let classic = json!({"OSType": "windows", "ServerVersion": "26.1.3", "Isolation": "process",
            "Driver": "windowsfilter", "DriverStatus": [], "KernelVersion": "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"});
        let e = engine_of(&classic).unwrap();
        assert_eq!(e.store, "windowsfilter");
        assert_eq!(e.default_isolation, Some(Isolation::Process));
        assert_eq!(e.version, "Docker 26.1.3");
        assert_eq!(builder_of(&classic, &e.store, None), Builder::Classic);
        let c8d = json!({"OSType": "windows", "ServerVersion": "29.1.4", "Isolation": "hyperv",
            "Driver": "windows", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]});
        let e = engine_of(&c8d).unwrap();
        assert_eq!(e.store, "containerd snapshotter");
        assert_eq!(e.default_isolation, Some(Isolation::HyperV));
        assert_eq!(builder_of(&c8d, &e.store, None), Builder::BuildKit);
        // The CLI obeys DOCKER_BUILDKIT first.
        assert_eq!(builder_of(&c8d, &e.store, Some("0")), Builder::Classic);
        assert_eq!(
            builder_of(&classic, "windowsfilter", Some("1")),
            Builder::BuildKit
        );
        let mcr = json!({"OSType": "windows", "ServerVersion": "23.0.15", "ProductLicense": "Mirantis Container Runtime"});
        assert_eq!(engine_name(&mcr), "Mirantis Container Runtime 23.0.15");
        assert!(engine_of(&json!({"OSType": "linux", "Driver": "overlayfs"})).is_none());
    }

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
