//! Doctor's local checks: the docker CLI and its version.

use super::report::{first_line, Report, Status};
use super::QUERY_TIMEOUT;
use crate::docker::{self, Answer, Client};

/// `docker manifest annotate --os-version` arrived in docker 20.10.
pub(super) const MIN_DOCKER: (u32, u32) = (20, 10);

/// `docker --version` ≥ 20.10 (a failure only where the target annotates manifest lists).
pub(super) fn check_cli(r: &mut Report, docker: &Client, annotates: bool) {
    let at = docker.path.display();
    match docker.query(&docker::cli_version(), Some(QUERY_TIMEOUT)) {
        Answer::Ok(out) => match parse_cli_version(&out) {
            Some((maj, min, text)) if (maj, min) >= MIN_DOCKER => {
                r.add(Status::Ok, "local", "docker CLI", format!("{at}, {text}"))
            }
            Some((_, _, text)) => r.hint(
                if annotates { Status::Fail } else { Status::Warn },
                "local",
                "docker CLI",
                format!("{at}, {text}: older than 20.10, which `docker manifest annotate --os-version` (matrix mode) needs"),
                "install docker CLI 20.10 or newer".into(),
            ),
            None => r.add(
                Status::Warn,
                "local",
                "docker CLI",
                format!("{at}: cannot read a version in {:?}", out.trim()),
            ),
        },
        Answer::Failed(e) => r.hint(
            Status::Fail,
            "local",
            "docker CLI",
            format!("{at} --version failed: {}", first_line(&e)),
            "reinstall the docker CLI".into(),
        ),
        Answer::TimedOut => r.hint(
            Status::Fail,
            "local",
            "docker CLI",
            format!("{at} --version did not answer"),
            "reinstall the docker CLI".into(),
        ),
    }
}

/// "Docker version 28.2.2, build e6534b4" → (28, 2, "28.2.2").
pub(super) fn parse_cli_version(out: &str) -> Option<(u32, u32, String)> {
    let v = out
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?
        .trim_end_matches(',');
    let mut parts = v.split(['.', '-', '+']);
    let maj = parts.next()?.parse().ok()?;
    let min = parts.next()?.parse().ok()?;
    Some((maj, min, v.to_string()))
}
