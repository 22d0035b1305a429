//! `cargo xtask doctor [TARGET]`: every problem a run of TARGET would meet, found before it
//! starts, one line per check (✓ ok, ! warning, ✗ failure with a fix hint); exit 1 when any
//! check failed. Checks: the docker CLI and its version, buildx when the target needs it,
//! per node the plan uses (one per OS version in matrix mode) its URL, cert files, client
//! cert (via `xtask-tls inspect`: signature, key, validity), TLS reachability with the cause
//! of a failure (wrong CA, wrong server name, refused client cert, node down), OS type and
//! build, and the registry. Also `local`: the cheap subset push/push-as-linux run first.

mod certs;
mod cli;
mod node;
mod registry;
mod report;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use tls_spec::Facts;

use super::Planning;
use crate::certs::tool;
use crate::config::Node;
use crate::docker::Client;
use crate::error::StepFailed;
use crate::plan::{Kind, Plan};
use crate::preflight::{self, nodes_of};
use report::{Report, Status};

/// How long the local docker CLI may take to say its version.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// `doctor [TARGET] [IMG…]`: the report for a run of TARGET [default: push-as-linux].
/// What doctor is handed: the target's planning groups and whether to answer in JSON.
#[derive(Debug, Clone)]
pub struct Input {
    pub planning: Planning,
    pub json: bool,
}

pub fn run(Input { planning, json }: Input) -> anyhow::Result<()> {
    let (_, plan) = planning.plan(Planning::as_they_are())?;
    report(&planning, json, &plan)
}

/// Text: each check printed as it finishes, then the counts. JSON: one document at the end.
fn report(cfg: &Planning, json: bool, plan: &Plan) -> anyhow::Result<()> {
    let report = if json {
        check_all(cfg, plan, Report::default())?
    } else {
        crate::error::print(&report::header(cfg, plan))?;
        let nodes = nodes_of(&cfg.nodes, plan);
        let scopes: Vec<String> = nodes.iter().map(|n| scope(n)).collect();
        let live = Report::live(scopes.iter().map(String::as_str).chain(["local"]));
        check_all(cfg, plan, live)?
    };
    let fails = report.count(Status::Fail);
    if json {
        let v = report::json(cfg, plan, &report);
        crate::error::print(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
    } else {
        crate::error::print(&report::footer(&report))?;
    }
    if fails > 0 {
        let names: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| format!("{}: {}", c.scope, c.name))
            .collect();
        return Err(StepFailed(format!(
            "doctor: {fails} check{} failed ({}); fix {} before running {}",
            if fails == 1 { "" } else { "s" },
            names.join(", "),
            if fails == 1 { "it" } else { "them" },
            plan.target.name()
        ))
        .into());
    }
    Ok(())
}

pub(super) fn scope(node: &Node) -> String {
    match &node.os {
        Some(os) => format!("node {os}"),
        None => "node".into(),
    }
}

/// The variable a node's URL comes from, for hints.
pub(super) fn url_var(node: &Node) -> String {
    match &node.os {
        Some(os) => format!("REMOTE_DOCKER_URL_{os} (or REMOTE_DOCKER_URL)"),
        None => "REMOTE_DOCKER_URL".into(),
    }
}

fn check_all(cfg: &Planning, plan: &Plan, mut r: Report) -> anyhow::Result<Report> {
    let target = &plan.target;

    // Release coverage: the lists this run pushes get one entry per OS_VERSIONS release.
    if plan.steps.iter().any(|s| s.kind() == Kind::List) {
        let builds: Vec<u32> = cfg.releases.0.iter().map(|r| r.build).collect();
        for w in crate::windows::coverage::coverage("OS_VERSIONS", &builds) {
            r.add(Status::Warn, "local", "release coverage", w);
        }
    }

    // The docker CLI.
    let docker = match Client::find(cfg.registry.timeout) {
        Ok(d) => {
            let lists = plan.steps.iter().any(|s| s.kind() == Kind::List);
            cli::check_cli(&mut r, &d, lists);
            Some(d)
        }
        Err(_) => {
            r.hint(
                Status::Fail,
                "local",
                "docker CLI",
                "no `docker` on PATH (node and registry checks skipped)".into(),
                "install the docker CLI (Debian: apt-get install docker-cli or docker.io) or put it on PATH".into(),
            );
            None
        }
    };
    // buildx: the cache step needs it, and the registry probe asks through it.
    let needs_registry = target.pushes() || target.caches();
    let mut buildx = false;
    if let Some(d) = &docker {
        if target.caches() || needs_registry {
            match preflight::buildx(d) {
                Ok(v) => {
                    buildx = true;
                    r.add(Status::Ok, "local", "buildx", v);
                }
                Err(_) if !target.caches() => r.hint(
                    Status::Warn,
                    "local",
                    "buildx",
                    "missing (this target does not need it; the registry check does)".into(),
                    preflight::BUILDX_HINT.into(),
                ),
                Err(_) => r.hint(
                    Status::Fail,
                    "local",
                    "buildx",
                    "`docker buildx version` failed: the buildx plugin is missing".into(),
                    preflight::BUILDX_HINT.into(),
                ),
            }
        }
    }

    // Each node the target uses.
    let nodes = nodes_of(&cfg.nodes, plan);
    let mut facts: HashMap<PathBuf, Result<Facts, String>> = HashMap::new();
    for node in &nodes {
        let s = scope(node);
        let url_ok = node::check_url(&mut r, &s, node);
        let files_ok = certs::check_files(&mut r, &s, node);
        if files_ok {
            let f = facts
                .entry(node.cert_path.clone())
                .or_insert_with(|| tool::inspect(&node.cert_path).map_err(|e| format!("{e:#}")));
            certs::check_client_cert(&mut r, &s, node, f);
        }
        match (&docker, url_ok && files_ok) {
            (Some(d), true) => {
                node::check_node(&mut r, &s, node, d, cfg.nodes.timeout, cfg.nodes.isolation)
            }
            (None, _) => {}
            (Some(_), false) => r.add(
                Status::Warn,
                &s,
                "TLS",
                "not tried: fix the URL and cert files first".into(),
            ),
        }
    }
    if nodes.is_empty() {
        // A target that builds or pushes yet uses no node: every image it selects is
        // cache-only (built by buildx alone).
        let why = if target.builds() || target.pushes() {
            " (its images are cache-only: built by buildx alone)"
        } else {
            ""
        };
        r.add(
            Status::Ok,
            "local",
            "node",
            format!("{} does not use a Windows node{why}", target.name()),
        );
    }

    // The registry.
    if needs_registry {
        match (&docker, buildx) {
            (Some(d), true) => {
                registry::check_registry(&mut r, cfg, plan, d);
                registry::check_credentials(&mut r, cfg, plan);
            }
            (Some(_), false) => r.add(
                Status::Warn,
                "local",
                "registry",
                format!("{}: not checked (needs docker buildx)", cfg.registry.prefix),
            ),
            (None, _) => {}
        }
    }
    Ok(r)
}
