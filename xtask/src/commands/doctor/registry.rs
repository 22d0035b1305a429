//! Doctor's registry check: a read-only lookup of a tag that surely does not exist; "not
//! found" means the registry answered.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::report::{first_line, Report, Status};
use crate::config::Config;
use crate::docker::{self, Answer};
use crate::plan::Plan;

/// `docker buildx imagetools inspect` of a tag that surely does not exist: "not found" means
/// the registry answered; a connection error means it cannot be reached.
pub(super) fn check_registry(r: &mut Report, cfg: &Config, plan: &Plan, docker: &Path) {
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
        cfg.registry,
        std::process::id()
    );
    let host = cfg.registry.split('/').next().unwrap_or(&cfg.registry);
    let (status, detail, hint) = match docker::query(
        docker,
        &docker::inspect_raw(&probe),
        Some(cfg.registry_timeout),
    ) {
        Answer::Ok(_) => (Status::Ok, format!("{}: reachable", cfg.registry), None),
        Answer::TimedOut => (
            Status::Fail,
            format!(
                "{}: no answer within {} (limit: REGISTRY_TIMEOUT)",
                cfg.registry,
                docker::seconds(cfg.registry_timeout)
            ),
            Some(format!("check REGISTRY and the network path to {host}")),
        ),
        Answer::Failed(e) => registry_error(&e, &cfg.registry, host),
    };
    match hint {
        Some(h) => r.hint(status, "local", "registry", detail, h),
        None => r.add(status, "local", "registry", detail),
    }
}

/// Whether this machine holds credentials REGISTRY accepts for a push, when it asks for them
/// (`preflight::credentials`): node pushes carry this machine's credentials, never the node's.
pub(super) fn check_credentials(r: &mut Report, cfg: &Config, plan: &Plan) {
    use crate::preflight::credentials::{self, Verdict};
    let host = credentials::registry_host(&cfg.registry);
    let tag = plan
        .steps
        .iter()
        .find(|s| s.kind() != crate::plan::Kind::Build)
        .or(plan.steps.first())
        .map(|s| s.tag.clone())
        .unwrap_or_else(|| format!("{}/xtask-doctor:probe", cfg.registry));
    let repo = credentials::repository(&tag, &host);
    let v = credentials::check(
        &cfg.registry,
        &repo,
        &credentials::config_dir(),
        cfg.registry_timeout,
    );
    let detail = v.detail(&cfg.registry);
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
