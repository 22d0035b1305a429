//! Doctor's registry check: a read-only lookup of a tag that surely does not exist; "not
//! found" means the registry answered.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::Planning;
use super::report::{first_line, Report, Status};
use crate::docker::{self, Client, Unread};
use crate::plan::Plan;

/// `docker buildx imagetools inspect` of a tag that surely does not exist: "not found" means
/// the registry answered; a connection error means it cannot be reached.
pub(super) fn check_registry(r: &mut Report, cfg: &Planning, plan: &Plan, docker: &Client) {
    let image = plan
        .steps
        .first()
        .map(|s| s.image.as_str())
        .unwrap_or("xtask-doctor");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let probe = format!(
        "{}/{image}:xtask-doctor-probe-{}-{nanos}",
        cfg.registry.prefix,
        std::process::id()
    );
    let host = cfg
        .registry
        .prefix
        .split('/')
        .next()
        .unwrap_or(&cfg.registry.prefix);
    let (status, detail, hint) = match docker.registry().ask(&docker::inspect_raw(&probe)) {
        Ok(_) => (
            Status::Ok,
            format!("{}: reachable", cfg.registry.prefix),
            None,
        ),
        Err(Unread::Silent(_)) => (
            Status::Fail,
            format!(
                "{}: no answer within {} (limit: REGISTRY_TIMEOUT)",
                cfg.registry.prefix,
                docker::seconds(cfg.registry.timeout)
            ),
            Some(format!("check REGISTRY and the network path to {host}")),
        ),
        Err(Unread::Said(e)) => registry_error(&e, &cfg.registry.prefix, host),
    };
    match hint {
        Some(h) => r.hint(status, "local", "registry", detail, h),
        None => r.add(status, "local", "registry", detail),
    }
}

/// Whether this machine holds credentials REGISTRY accepts for a push, when it asks for them
/// (`preflight::credentials`): node pushes carry this machine's credentials, never the node's.
pub(super) fn check_credentials(r: &mut Report, cfg: &Planning, plan: &Plan) {
    use crate::preflight::credentials::{self, Verdict};
    let host = credentials::registry_host(&cfg.registry.prefix);
    let tag = plan
        .steps
        .iter()
        .find(|s| s.kind() != crate::plan::Kind::Build)
        .or(plan.steps.first())
        .map(|s| s.tag.clone())
        .unwrap_or_else(|| format!("{}/xtask-doctor:probe", cfg.registry.prefix));
    let repo = credentials::repository(&tag, &host);
    let v = credentials::check(
        &cfg.registry.prefix,
        &repo,
        &credentials::config_dir(),
        cfg.registry.timeout,
    );
    let detail = v.detail(&cfg.registry.prefix);
    if v.refuses() {
        r.hint(Status::Fail, "local", "credentials", detail, v.hint(&host));
    } else if matches!(v, Verdict::Unreachable(_) | Verdict::Unverified(_)) {
        r.add(Status::Warn, "local", "credentials", detail);
    } else {
        r.add(Status::Ok, "local", "credentials", detail);
    }
}

pub(super) fn registry_error(
    e: &str,
    registry: &str,
    host: &str,
) -> (Status, String, Option<String>) {
    let l = e.to_ascii_lowercase();
    if l.contains("not found") || l.contains("manifest unknown") || l.contains("name unknown") {
        return (
            Status::Ok,
            format!("{registry}: reachable (it answered for a tag that does not exist)"),
            None,
        );
    }
    if l.contains("unauthorized") || l.contains("denied") || l.contains("authentication required") {
        return (
            Status::Warn,
            format!(
                "{registry}: reachable, but it wants credentials: {}",
                first_line(e)
            ),
            Some(format!("docker login {host}")),
        );
    }
    let why = if l.contains("connection refused") {
        "nothing accepts connections there"
    } else if l.contains("no such host") {
        "the host name does not resolve"
    } else if l.contains("timeout") {
        "no answer in time"
    } else if l.contains("http response to https client") {
        "it speaks plain HTTP"
    } else {
        first_line(e)
    };
    (
        Status::Fail,
        format!("{registry}: cannot be reached: {why}"),
        Some(format!(
            "check REGISTRY (host {host}) and that the registry is up; docker said: {}",
            first_line(e)
        )),
    )
}
