//! Doctor's checks of a node: its URL, mutual TLS within NODE_TIMEOUT (with the cause of a
//! failure: wrong CA, wrong server name, refused client cert, node down), its OS and build,
//! and for the release it builds the isolation a run will use, or why it cannot build it.

use std::time::Duration;

use serde_json::Value;

use super::report::{first_line, tail_after, Report, Status};
use super::url_var;
use crate::config::{IsolationChoice, Node};
use crate::docker::Client;
use crate::plan::{self, BuildIsolation, NodeSays};
use crate::preflight;
use crate::windows::{decide_isolation, isolation_reason, Isolation};

pub(super) fn check_url(r: &mut Report, s: &str, node: &Node) -> bool {
    let Some(url) = &node.url else {
        r.hint(
            Status::Fail,
            s,
            "URL",
            "not set".into(),
            format!(
                "set {}=tcp://<windows node>:2376 (docs/node-setup.md)",
                url_var(node)
            ),
        );
        return false;
    };
    r.add(Status::Ok, s, "URL", url.clone());
    true
}

/// `docker … -H URL version` over mutual TLS within `wait` (NODE_TIMEOUT), then the node's
/// OS and build, and the isolation of the release it builds.
pub(super) fn check_node(
    r: &mut Report,
    s: &str,
    node: &Node,
    docker: &Client,
    wait: Duration,
    choice: IsolationChoice,
) {
    let server = match preflight::ask_node(docker, node, wait) {
        Ok(v) => v,
        Err(err) => {
            let (detail, hint) = node_error(err.as_deref().unwrap_or(""), node, wait);
            r.hint(Status::Fail, s, "TLS", detail, hint);
            return;
        }
    };
    let version = crate::error::shown(
        server["ServerVersion"]
            .as_str()
            .or(server["Version"].as_str())
            .unwrap_or("?"),
    );
    r.add(
        Status::Ok,
        s,
        "TLS",
        format!("{}: mutual TLS ok, docker {version}", node.address()),
    );
    check_os(r, s, node, &server, choice);
    check_engine(r, s, node, &server, choice);
}

/// The node's engine (version, builder, image store, default isolation) and, for the release
/// it builds, which builder keeps the isolation the build needs — or why nothing does.
pub(super) fn check_engine(
    r: &mut Report,
    s: &str,
    node: &Node,
    info: &Value,
    choice: IsolationChoice,
) {
    let Some(e) = preflight::engine_of(info) else {
        return;
    };
    let default = e
        .default_isolation
        .map(Isolation::word)
        .unwrap_or("not said");
    r.add(
        Status::Ok,
        s,
        "engine",
        format!(
            "{}, {} builder, {} image store, default isolation {default}",
            e.version,
            e.builder.word(),
            e.store
        ),
    );
    let host = match preflight::node_says(info) {
        NodeSays::Windows(b) => Some(b),
        _ => None,
    };
    let needs = match (&node.os, choice) {
        (_, IsolationChoice::Force(f)) if node.os.is_some() || f == Isolation::HyperV => Some(f),
        (Some(_), IsolationChoice::Auto) => host
            .zip(node.build)
            .and_then(|(h, rel)| decide_isolation(h, rel).ok()),
        _ => None,
    };
    let isolation = match needs {
        Some(i) => BuildIsolation::Is(i),
        None => BuildIsolation::NodeDefault,
    };
    let release = node.os.as_deref().unwrap_or("compat mode");
    match plan::route_one(node.address(), node.os.as_deref(), &e, isolation) {
        Ok(routed) => r.add(
            Status::Ok,
            s,
            "builder",
            format!(
                "{release}: {} — {}",
                routed.via.word().unwrap_or_default(),
                routed.why
            ),
        ),
        Err(err) => {
            let text = err.to_string();
            let hint = text
                .split_once("\n  hint: ")
                .map(|(_, h)| h.to_string())
                .unwrap_or_default();
            r.hint(
                Status::Fail,
                s,
                "builder",
                first_line(&text).to_string(),
                hint,
            );
        }
    }
}

/// The node's OS (from `docker version`'s Server part) and build, then what a run does with
/// it: in matrix mode the isolation of the node's release by the compatibility table (or why
/// the node cannot build it); in compat mode (upstream's argv, no --isolation flag) a warning
/// when the node is not a 1809 host.
pub(super) fn check_os(
    r: &mut Report,
    s: &str,
    node: &Node,
    server: &Value,
    choice: IsolationChoice,
) {
    // The node's words, escaped and bounded (issue 19 §5).
    let kernel = crate::error::shown(server["KernelVersion"].as_str().unwrap_or("?"));
    let host = match preflight::node_says(server) {
        NodeSays::StandIn(os) => {
            r.hint(
                Status::Warn,
                s,
                "OS",
                format!(
                    "{os} (kernel {kernel}): not a Windows node, so its images are not real Windows images; it stands in for {}, with no --isolation flag",
                    node.os.as_deref().unwrap_or("the compat-mode node")
                ),
                "fine for a test stand-in; a real node runs Windows Server".into(),
            );
            return;
        }
        NodeSays::WindowsUnknownBuild(_) => {
            r.add(Status::Ok, s, "OS", format!("windows (kernel {kernel})"));
            let auto = node.os.is_some() && choice == IsolationChoice::Auto;
            r.hint(
                if auto { Status::Fail } else { Status::Warn },
                s,
                "isolation",
                format!("cannot read a build number in kernel version \"{kernel}\""),
                "set ISOLATION=process or ISOLATION=hyperv".into(),
            );
            return;
        }
        NodeSays::Windows(b) => b,
    };
    r.add(Status::Ok, s, "OS", format!("windows, build {host}"));
    let Some(os) = &node.os else {
        compat_build(r, s, host, choice);
        return;
    };
    let Some(release) = node.build else {
        r.hint(
            if choice == IsolationChoice::Auto {
                Status::Fail
            } else {
                Status::Warn
            },
            s,
            "isolation",
            format!("no known Windows build for release {os}: not compared"),
            "use 1809, ltsc2022 or ltsc2025, or set ISOLATION=process or ISOLATION=hyperv".into(),
        );
        return;
    };
    let Ok(table) = decide_isolation(host, release) else {
        r.hint(
            Status::Fail,
            s,
            "isolation",
            format!("none: {os} (build {release}) is newer than this node (build {host}), which cannot run {os} containers"),
            format!(
                "point {} at a node of build {release} or newer (Windows Server 2025, build 26100, builds 1809, ltsc2022 and ltsc2025), or drop {os} from OS_VERSIONS",
                url_var(node)
            ),
        );
        return;
    };
    let hyperv_needs = ": the node needs the Hyper-V role (nested virtualisation on a cloud VM)";
    match choice {
        IsolationChoice::Auto => r.add(
            Status::Ok,
            s,
            "isolation",
            format!(
                "{os}: {} ({}){}",
                table.word(),
                isolation_reason(host, release),
                if table == Isolation::HyperV { hyperv_needs } else { "" }
            ),
        ),
        IsolationChoice::Force(Isolation::Process) if table == Isolation::HyperV => r.hint(
            Status::Fail,
            s,
            "isolation",
            format!("{os}: ISOLATION=process, but build {host} runs {os} (build {release}) containers only with Hyper-V isolation"),
            "unset ISOLATION (auto chooses per release) or set ISOLATION=hyperv".into(),
        ),
        IsolationChoice::Force(f) => r.add(
            Status::Ok,
            s,
            "isolation",
            format!(
                "{os}: {} (forced by ISOLATION; auto would choose {}){}",
                f.word(),
                table.word(),
                if f == Isolation::HyperV { hyperv_needs } else { "" }
            ),
        ),
    }
}

/// Compat mode builds upstream's 1809 images with upstream's argv (no --isolation flag), so
/// only a 1809 host runs them, with its default process isolation.
fn compat_build(r: &mut Report, s: &str, host: u32, choice: IsolationChoice) {
    let want = crate::windows::build_of_release("1809").unwrap_or(17763);
    if host == want {
        return;
    }
    if host > want && choice == IsolationChoice::Force(Isolation::HyperV) {
        r.add(
            Status::Ok,
            s,
            "isolation",
            format!("hyperv (ISOLATION=hyperv): build {host} runs 1809 containers under Hyper-V"),
        );
        return;
    }
    r.hint(
        Status::Warn,
        s,
        "isolation",
        format!("compat mode builds 1809 images with upstream's command (no --isolation flag), but this node runs build {host}, not 1809's {want}"),
        "use a Windows Server 2019 node, or matrix mode (OS_VERSIONS=1809 …), which chooses Hyper-V isolation on a newer host".into(),
    );
}

/// What docker's error says went wrong with a node, and the fix. An empty message means the
/// node did not answer in time.
pub(super) fn node_error(err: &str, node: &Node, wait: Duration) -> (String, String) {
    let url = node.address();
    // The variable that set the URL, when one did; the ones to set, when none did.
    let var = if node.url.is_some() {
        node.url_var.clone()
    } else {
        url_var(node)
    };
    let certs = node.cert_path.display();
    let tls_remake = format!(
        "make matching certs with `cargo xtask tls` (node/ to the node's install.ps1, client/ to {})",
        node.cert_variable()
    );
    if err.is_empty() || err.contains("i/o timeout") || err.contains("handshake timeout") {
        return (
            format!("{url}: no answer within {} s (NODE_TIMEOUT)", wait.as_secs()),
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
        format!("check {var} and {}", node.cert_variable()),
    )
}
