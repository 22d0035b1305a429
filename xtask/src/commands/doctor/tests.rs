//! Doctor's judgements, without docker: versions, builds, error classification.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::cli::{parse_cli_version, MIN_DOCKER};
use super::node::{check_os, node_error, windows_build_of};
use super::registry::registry_error;
use super::report::{Report, Status};
use crate::config::Node;
use crate::preflight::cert_var;

fn node(os: Option<&str>) -> Node {
    Node {
        os: os.map(String::from),
        url: "tcp://127.0.0.1:2376".into(),
        cert_path: PathBuf::from("/certs/.docker-1809"),
    }
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
fn windows_builds() {
    assert_eq!(
        windows_build_of("10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)"),
        Some(17763)
    );
    assert_eq!(
        windows_build_of("10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"),
        Some(20348)
    );
    assert_eq!(windows_build_of("10.0.26100.2314"), Some(26100));
    assert_eq!(windows_build_of("6.1.0-13-amd64"), None);
    assert_eq!(windows_build_of(""), None);
}

#[test]
fn node_errors_name_their_cause() {
    let n = node(Some("1809"));
    let (d, h) = node_error(
        "error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
        &n,
    );
    assert!(d.contains("wrong CA"), "{d}");
    assert!(h.contains("cargo xtask tls"), "{h}");

    let (d, h) = node_error(
        "error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": tls: failed to verify certificate: x509: certificate is valid for other.example, 127.0.0.2, not 127.0.0.1",
        &n,
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
    );
    assert!(
        d.contains("refused the client certificate (certificate required)"),
        "{d}"
    );

    let (d, _) = node_error(
        "Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?",
        &n,
    );
    assert!(d.contains("node down"), "{d}");

    let (d, _) = node_error("", &n);
    assert!(d.contains("no answer within 10 s"), "{d}");

    let (d, h) = node_error("something new", &node(None));
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

fn os_report(os: Option<&str>, server: Value) -> Vec<(Status, &'static str, String)> {
    let mut r = Report::default();
    check_os(&mut r, "node", &node(os), &server);
    r.checks
        .into_iter()
        .map(|c| (c.status, c.name, c.detail))
        .collect()
}

#[test]
fn node_os_and_build() {
    let win = |kernel: &str| json!({"Os": "windows", "KernelVersion": kernel});
    let k1809 = "10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)";
    let k2022 = "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)";
    // Same build, newer build: ok.
    let r = os_report(Some("1809"), win(k1809));
    assert_eq!(r[0].0, Status::Ok, "{r:?}");
    assert_eq!(
        r[1],
        (Status::Ok, "OS build", "17763 ≥ 17763 (1809)".into())
    );
    let r = os_report(Some("1809"), win(k2022));
    assert_eq!(r[1].0, Status::Ok, "{r:?}");
    // Older than the version it must build: a failure naming both.
    let r = os_report(Some("ltsc2022"), win(k1809));
    assert_eq!(r[1].0, Status::Fail, "{r:?}");
    assert!(
        r[1].2.contains("17763 is older than ltsc2022 (20348)"),
        "{r:?}"
    );
    let r = os_report(Some("ltsc2025"), win("10.0.20348.2849"));
    assert_eq!(r[1].0, Status::Fail, "{r:?}");
    // Compat mode: no version to compare against, the build is shown.
    let r = os_report(None, win(k2022));
    assert_eq!(r, vec![(Status::Ok, "OS", "windows, build 20348".into())]);
    // A Linux stand-in: a warning, no build check.
    let r = os_report(
        Some("1809"),
        json!({"Os": "linux", "KernelVersion": "6.1.0-13-amd64"}),
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].0, r[0].1), (Status::Warn, "OS"));
    // An OS version without a known build: warned, not compared.
    let r = os_report(Some("20H1"), win(k2022));
    assert_eq!(r[1].0, Status::Warn, "{r:?}");
}

#[test]
fn cert_var_follows_the_folder() {
    assert_eq!(cert_var(&node(Some("1809"))), "DOCKER_CERT_BASE_PATH");
    assert_eq!(cert_var(&node(None)), "DOCKER_CERT_PATH");
    let mut n = node(Some("ltsc2022"));
    n.cert_path = PathBuf::from("/home/u/.docker");
    assert_eq!(cert_var(&n), "DOCKER_CERT_PATH");
}
