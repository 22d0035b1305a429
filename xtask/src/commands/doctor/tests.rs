//! Doctor's judgements, without docker: versions, builds, error classification.

use serde_json::{json, Value};

use super::cli::{parse_cli_version, MIN_DOCKER};
use super::node::{check_os, node_error};
use super::registry::registry_error;
use super::report::{Report, Status};
use crate::config::{IsolationChoice, Node};
use crate::windows::Isolation;

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn node(os: Option<&str>) -> Node {
    Node::for_test(os, "tcp://127.0.0.1:2376", "/certs/.docker-1809")
}

#[test]
fn cli_versions() {
    assert_eq!(
        parse_cli_version("Docker version 28.2.2, build e6534b4\n"),
        Some((28, 2, "28.2.2".into()))
    );
    assert_eq!(
        parse_cli_version("Docker version 20.10.24+dfsg1, build 297e128"),
        Some((20, 10, "20.10.24+dfsg1".into()))
    );
    assert_eq!(
        parse_cli_version("Docker version 19.03.8, build afacb8b7f0").map(|v| (v.0, v.1)),
        Some((19, 3))
    );
    assert!((19, 3) < MIN_DOCKER && (20, 10) >= MIN_DOCKER && (28, 0) >= MIN_DOCKER);
    assert_eq!(parse_cli_version("nonsense"), None);
}

#[test]
fn node_errors_name_their_cause() {
    let n = node(Some("1809"));
    let (d, h) = node_error(
        "error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
        &n,
        WAIT,
    );
    assert!(d.contains("wrong CA"), "{d}");
    assert!(h.contains("cargo xtask tls"), "{h}");

    let (d, h) = node_error(
        "error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": tls: failed to verify certificate: x509: certificate is valid for other.example, 127.0.0.2, not 127.0.0.1",
        &n,
        WAIT,
    );
    assert!(d.contains("wrong server name"), "{d}");
    assert!(
        d.contains("valid for other.example, 127.0.0.2, not 127.0.0.1"),
        "{d}"
    );
    assert!(h.contains("tcp://other.example:PORT"), "{h}");
    assert!(h.contains("REMOTE_DOCKER_URL_1809"), "{h}");

    let (d, _) = node_error(
        "error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": remote error: tls: certificate required",
        &n,
        WAIT,
    );
    assert!(
        d.contains("refused the client certificate (certificate required)"),
        "{d}"
    );

    let (d, _) = node_error(
        "Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?",
        &n,
        WAIT,
    );
    assert!(d.contains("node down"), "{d}");

    let (d, _) = node_error("", &n, std::time::Duration::from_secs(3));
    assert!(d.contains("no answer within 3 s (NODE_TIMEOUT)"), "{d}");

    let (d, h) = node_error("something new", &node(None), WAIT);
    assert!(d.ends_with("something new"), "{d}");
    assert!(h.contains("REMOTE_DOCKER_URL"), "{h}");
}

#[test]
fn registry_errors() {
    let r = "127.0.0.1:5000/e2e";
    let h = "127.0.0.1:5000";
    assert_eq!(
        registry_error("ERROR: 127.0.0.1:5000/e2e/a:x: not found", r, h).0,
        Status::Ok
    );
    assert_eq!(
        registry_error("ERROR: failed to do request: Head \"http://127.0.0.1:1/v2/e2e/alpha/manifests/nope\": dial tcp 127.0.0.1:1: connect: connection refused", r, h).0,
        Status::Fail
    );
    let (s, d, _) = registry_error(
        "ERROR: failed to do request: dial tcp: lookup x.invalid: no such host",
        r,
        h,
    );
    assert_eq!(s, Status::Fail);
    assert!(d.contains("does not resolve"), "{d}");
    assert_eq!(
        registry_error("ERROR: unauthorized: authentication required", r, h).0,
        Status::Warn
    );
}

fn os_report(
    os: Option<&str>,
    server: Value,
    choice: IsolationChoice,
) -> Vec<(Status, &'static str, String)> {
    let mut r = Report::default();
    check_os(&mut r, "node", &node(os), &server, choice);
    r.checks
        .into_iter()
        .map(|c| (c.status, c.name, c.detail))
        .collect()
}

const AUTO: IsolationChoice = IsolationChoice::Auto;

fn win(build: u32) -> Value {
    json!({"Os": "windows", "KernelVersion": format!("10.0 {build} ({build}.1.amd64fre.test)")})
}

#[test]
fn node_os_build_and_the_isolation_of_its_release() {
    // Same build: process.
    let r = os_report(Some("1809"), win(17763), AUTO);
    assert_eq!(r[0], (Status::Ok, "OS", "windows, build 17763".into()));
    assert_eq!(r[1].0, Status::Ok, "{r:?}");
    assert!(r[1].2.starts_with("1809: process (same build"), "{r:?}");
    // A host newer than the release: Hyper-V, not the old "build ≥ target" ✓ for process.
    let r = os_report(Some("1809"), win(20348), AUTO);
    assert_eq!(r[1].0, Status::Ok, "{r:?}");
    assert!(
        r[1].2.starts_with("1809: hyperv") && r[1].2.contains("Hyper-V role"),
        "{r:?}"
    );
    // 2025 host, 2022 release: process.
    let r = os_report(Some("ltsc2022"), win(26100), AUTO);
    assert!(r[1].2.starts_with("ltsc2022: process"), "{r:?}");
    // Older than the release it must build: a failure naming both builds.
    let r = os_report(Some("ltsc2022"), win(17763), AUTO);
    assert_eq!(r[1].0, Status::Fail, "{r:?}");
    assert!(
        r[1].2
            .contains("ltsc2022 (build 20348) is newer than this node (build 17763)"),
        "{r:?}"
    );
    let r = os_report(
        Some("ltsc2025"),
        json!({"Os": "windows", "KernelVersion": "10.0.20348.2849"}),
        AUTO,
    );
    assert_eq!(r[1].0, Status::Fail, "{r:?}");
    // Forced process where only Hyper-V runs the release: a failure; forced hyperv: ok.
    let process = IsolationChoice::Force(Isolation::Process);
    let hyperv = IsolationChoice::Force(Isolation::HyperV);
    assert_eq!(
        os_report(Some("1809"), win(26100), process)[1].0,
        Status::Fail
    );
    assert_eq!(os_report(Some("1809"), win(26100), hyperv)[1].0, Status::Ok);
    assert_eq!(
        os_report(Some("ltsc2022"), win(20348), process)[1].0,
        Status::Ok
    );
    // Compat mode: the build is shown; a node that is not 1809's is warned about (upstream's
    // argv has no isolation flag), unless ISOLATION=hyperv.
    let r = os_report(None, win(17763), AUTO);
    assert_eq!(r, vec![(Status::Ok, "OS", "windows, build 17763".into())]);
    let r = os_report(None, win(20348), AUTO);
    assert_eq!(r[1].0, Status::Warn, "{r:?}");
    assert!(r[1].2.contains("not 1809's 17763"), "{r:?}");
    assert_eq!(os_report(None, win(20348), hyperv)[1].0, Status::Ok);
    // A Linux stand-in: a warning saying what it stands in for, no build check.
    let r = os_report(
        Some("1809"),
        json!({"Os": "linux", "KernelVersion": "6.1.0-13-amd64"}),
        AUTO,
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].0, r[0].1), (Status::Warn, "OS"));
    assert!(r[0].2.contains("stands in for 1809"), "{r:?}");
    // A release without a known build: auto cannot choose (a failure); forced: a warning.
    assert_eq!(os_report(Some("20H1"), win(20348), AUTO)[1].0, Status::Fail);
    assert_eq!(
        os_report(Some("20H1"), win(20348), hyperv)[1].0,
        Status::Warn
    );
}
