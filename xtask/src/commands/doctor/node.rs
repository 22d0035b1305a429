//! Doctor's checks of a node: its URL, mutual TLS within the deadline (with the cause of a
//! failure: wrong CA, wrong server name, refused client cert, node down), its OS and build
//! against the release it builds.

use std::path::Path;

use serde_json::Value;

use super::report::{first_line, tail_after, Report, Status};
use super::{url_var, NODE_TIMEOUT};
use crate::config::{names, Node, URL_PLACEHOLDER};
use crate::docker::{self, Answer};
use crate::preflight::cert_var;

pub(super) fn check_url(r: &mut Report, s: &str, node: &Node) -> bool {
    if node.url == URL_PLACEHOLDER {
        r.hint(
            Status::Fail,
            s,
            "URL",
            "not set".into(),
            format!(
                "set {}=tcp://<windows node>:2376 (README: Windows node set-up)",
                url_var(node)
            ),
        );
        false
    } else {
        r.add(Status::Ok, s, "URL", node.url.clone());
        true
    }
}

/// `docker … -H URL version` over mutual TLS within NODE_TIMEOUT, then the node's OS and
/// build against the OS version it builds for.
pub(super) fn check_node(r: &mut Report, s: &str, node: &Node, docker: &Path) {
    let answer = docker::query(docker, &docker::node_version(node), Some(NODE_TIMEOUT));
    let server = match answer {
        Answer::Ok(out) => match serde_json::from_str::<Value>(out.trim()) {
            Ok(v) if v.is_object() => v,
            _ => {
                r.hint(
                    Status::Fail,
                    s,
                    "TLS",
                    format!("{}: unexpected answer {:?}", node.url, first_line(&out)),
                    "is this a Docker daemon?".into(),
                );
                return;
            }
        },
        Answer::Failed(err) => {
            let (detail, hint) = node_error(&err, node);
            r.hint(Status::Fail, s, "TLS", detail, hint);
            return;
        }
        Answer::TimedOut => {
            let (detail, hint) = node_error("", node);
            r.hint(Status::Fail, s, "TLS", detail, hint);
            return;
        }
    };
    let version = server["Version"].as_str().unwrap_or("?");
    r.add(
        Status::Ok,
        s,
        "TLS",
        format!("{}: mutual TLS ok, docker {version}", node.url),
    );
    check_os(r, s, node, &server);
}

/// The node's OS (from `docker version`'s Server part): Windows, and a build at least that
/// of the OS version it builds for.
pub(super) fn check_os(r: &mut Report, s: &str, node: &Node, server: &Value) {
    let os = server["Os"].as_str().unwrap_or("?");
    let kernel = server["KernelVersion"].as_str().unwrap_or("?");
    if os != "windows" {
        r.hint(
            Status::Warn,
            s,
            "OS",
            format!("{os} (kernel {kernel}): not a Windows node, so its images are not real Windows images"),
            "fine for a test stand-in; a real node runs Windows Server".into(),
        );
        return;
    }
    let build = windows_build_of(kernel);
    r.add(
        Status::Ok,
        s,
        "OS",
        match build {
            Some(b) => format!("windows, build {b}"),
            None => format!("windows (kernel {kernel})"),
        },
    );
    let Some(want_os) = &node.os else { return };
    match (names::windows_build(want_os), build) {
        (Some(want), Some(have)) if have >= want => r.add(
            Status::Ok,
            s,
            "OS build",
            format!("{have} ≥ {want} ({want_os})"),
        ),
        (Some(want), Some(have)) => r.hint(
            Status::Fail,
            s,
            "OS build",
            format!("{have} is older than {want_os} ({want}): this node cannot run {want_os} containers"),
            format!(
                "point {} at a node with Windows build {want} or newer",
                url_var(node)
            ),
        ),
        (None, _) => r.add(
            Status::Warn,
            s,
            "OS build",
            format!("no known Windows build for OS version {want_os}: not compared"),
        ),
        (Some(_), None) => r.add(
            Status::Warn,
            s,
            "OS build",
            format!("cannot read a build number in kernel version {kernel:?}"),
        ),
    }
}

/// The build of a Windows kernel version: "10.0 17763 (17763.1.amd64fre.rs5_release…)"
/// (what a Windows daemon reports) or "10.0.17763.6532".
pub(super) fn windows_build_of(kernel: &str) -> Option<u32> {
    let rest = kernel.trim().strip_prefix("10.0")?;
    let digits: String = rest
        .trim_start_matches([' ', '.'])
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// What docker's error says went wrong with a node, and the fix. An empty message means the
/// node did not answer in time.
pub(super) fn node_error(err: &str, node: &Node) -> (String, String) {
    let url = &node.url;
    let var = url_var(node);
    let certs = node.cert_path.display();
    let tls_remake = format!(
        "make matching certs with `cargo xtask tls` (node/ to the node's install.ps1, client/ to {})",
        cert_var(node)
    );
    if err.is_empty() || err.contains("i/o timeout") || err.contains("handshake timeout") {
        return (
            format!("{url}: no answer within {} s", NODE_TIMEOUT.as_secs()),
            format!("check the host and port in {var}, and that the node's firewall lets TCP 2376 in (install.ps1 opens it)"),
        );
    }
    if err.contains("signed by unknown authority") {
        return (
            format!("{url}: wrong CA: the node's certificate is not signed by {certs}/ca.pem"),
            format!("use the ca.pem from the same `cargo xtask tls` run as the node's certs, or {tls_remake}"),
        );
    }
    if let Some(i) = err.find("certificate is valid for ") {
        let rest = &err[i + "certificate is valid for ".len()..];
        let (valid, wanted) = match rest.rfind(", not ") {
            Some(j) => (&rest[..j], rest[j + 6..].trim()),
            None => (rest, ""),
        };
        let first = valid.split(", ").next().unwrap_or(valid);
        let flag = if wanted.parse::<std::net::IpAddr>().is_ok() {
            "--ip"
        } else {
            "--server-name"
        };
        return (
            format!("{url}: wrong server name: the node's certificate is valid for {valid}, not {wanted}"),
            format!(
                "connect by a name in the cert ({var}=tcp://{first}:PORT), or remake the node's certs with `cargo xtask tls --ca OUT/ca … {flag} {wanted}` and run its install.ps1 on the node"
            ),
        );
    }
    if err.contains("doesn't contain any IP SANs") || err.contains("not valid for any names") {
        return (
            format!("{url}: wrong server name: {}", tail_after(err, "x509: ")),
            format!("remake the node's certs with `cargo xtask tls --ip <the node's address>`, or {tls_remake}"),
        );
    }
    if err.contains("certificate has expired or is not yet valid") {
        return (
            format!("{url}: the node's certificate has expired or is not yet valid"),
            format!("check both clocks; {tls_remake}"),
        );
    }
    if let Some(i) = err.find("remote error: tls: ") {
        let alert = first_line(&err[i + "remote error: tls: ".len()..]).to_string();
        return (
            format!("{url}: the node refused the client certificate ({alert})"),
            format!("{certs}/cert.pem must be signed by the CA the node trusts and be valid: {tls_remake}"),
        );
    }
    if err.contains("connection reset by peer") || err.contains("broken pipe") {
        // TLS 1.3: the server checks the client cert after the client's side of the
        // handshake, so a rejected cert often shows as a reset instead of an alert.
        return (
            format!("{url}: the node reset the connection: it most likely refused the client certificate"),
            format!("{certs}/cert.pem must be signed by the CA the node trusts and be valid: {tls_remake}"),
        );
    }
    if err.contains("does not look like a TLS handshake")
        || err.contains("server gave HTTP response")
    {
        return (
            format!("{url}: something answers, but not with TLS"),
            "the daemon there is not set up for TLS: run install.ps1 from `cargo xtask tls` on the node".into(),
        );
    }
    if err.contains("no such host") {
        return (
            format!("{url}: the host name does not resolve"),
            format!("check the host in {var}"),
        );
    }
    if err.contains("Cannot connect to the Docker daemon") || err.contains("connection refused") {
        return (
            format!("{url}: node down: nothing accepts connections there"),
            format!("start the docker service on the node (Restart-Service docker), check the port in {var} and the node's firewall (TCP 2376)"),
        );
    }
    (
        format!("{url}: {}", first_line(err)),
        format!("check {var} and {}", cert_var(node)),
    )
}
