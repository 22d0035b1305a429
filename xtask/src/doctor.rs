//! `cargo xtask doctor [TARGET]`: every problem a run of TARGET would meet, found before it
//! starts, one line per check (✓ ok, ! warning, ✗ failure with a fix hint); exit 1 when any
//! check failed. Checks: the docker CLI and its version, buildx when the target needs it,
//! per node the plan uses (one per OS version in matrix mode) its URL, cert files, client
//! cert (via `xtask-tls inspect`: signature, key, validity), TLS reachability with the cause
//! of a failure (wrong CA, wrong server name, refused client cert, node down), OS type and
//! build, and the registry. Also `local`: the cheap subset push/push-as-linux run first.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use xshell::Shell;

use crate::config::{Config, Node, URL_PLACEHOLDER};
use crate::docker::{self, Answer};
use crate::exit::{BadInput, StepFailed};
use crate::names;
use crate::plan::Plan;
use crate::tls;

/// How long a node may take to answer `docker version` over TLS.
const NODE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the registry probe may take (buildx resolves, then asks the registry).
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(20);
/// A client cert expiring sooner than this is a warning.
const EXPIRY_WARN_DAYS: i64 = 30;
/// `docker manifest annotate --os-version` arrived in docker 20.10.
const MIN_DOCKER: (u32, u32) = (20, 10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warning",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
struct Check {
    status: Status,
    /// "local", "node" (compat mode) or "node 1809".
    scope: String,
    name: &'static str,
    detail: String,
    /// How to fix it (failures and warnings).
    hint: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, status: Status, scope: &str, name: &'static str, detail: String) {
        self.checks.push(Check {
            status,
            scope: scope.to_string(),
            name,
            detail,
            hint: None,
        });
    }
    fn hint(
        &mut self,
        status: Status,
        scope: &str,
        name: &'static str,
        detail: String,
        hint: String,
    ) {
        self.checks.push(Check {
            status,
            scope: scope.to_string(),
            name,
            detail,
            hint: Some(hint),
        });
    }
    fn count(&self, s: Status) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }
}

pub fn run(cfg: &Config, plan: &Plan) -> anyhow::Result<()> {
    let report = check_all(cfg, plan)?;
    let fails = report.count(Status::Fail);
    let warns = report.count(Status::Warn);
    if cfg.json {
        let checks: Vec<Value> = report
            .checks
            .iter()
            .map(|c| {
                json!({
                    "status": c.status.word(),
                    "scope": c.scope,
                    "check": c.name,
                    "detail": c.detail,
                    "hint": c.hint,
                })
            })
            .collect();
        let v = json!({
            "target": plan.target.name(),
            "mode": if cfg.is_matrix() { "matrix" } else { "compat" },
            "ok": fails == 0,
            "failures": fails,
            "warnings": warns,
            "checks": checks,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render(cfg, plan, &report));
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

fn render(cfg: &Config, plan: &Plan, report: &Report) -> String {
    let mode = if cfg.is_matrix() {
        format!("matrix mode: {}", cfg.os_versions.join(" "))
    } else {
        "compat mode".to_string()
    };
    let mut out = format!("doctor {} ({mode})\n", plan.target.name());
    let label = |c: &Check| format!("{}: {}", c.scope, c.name);
    let w = report
        .checks
        .iter()
        .map(|c| label(c).chars().count())
        .max()
        .unwrap_or(0);
    for c in &report.checks {
        out.push_str(&format!(
            "{}  {:<w$}  {}\n",
            c.status.mark(),
            label(c),
            c.detail
        ));
        if let (Some(h), true) = (&c.hint, c.status != Status::Ok) {
            out.push_str(&format!("   {:<w$}  fix: {h}\n", ""));
        }
    }
    let (f, wn) = (report.count(Status::Fail), report.count(Status::Warn));
    out.push_str(&match (f, wn) {
        (0, 0) => "all checks passed\n".to_string(),
        (0, w) => format!("all checks passed, {w} warning{}\n", plural(w)),
        (f, w) => format!("{f} failed, {w} warning{}\n", plural(w)),
    });
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The nodes a run of the plan's target talks to: every configured node when the target
/// builds or pushes (matrix mode builds each image on every OS version's node), else none.
fn nodes_of<'a>(cfg: &'a Config, plan: &Plan) -> Vec<&'a Node> {
    if plan.target.needs_node() {
        cfg.nodes.iter().collect()
    } else {
        Vec::new()
    }
}

fn scope(node: &Node) -> String {
    match &node.os {
        Some(os) => format!("node {os}"),
        None => "node".into(),
    }
}

/// The variable a node's URL comes from, for hints.
fn url_var(node: &Node) -> String {
    match &node.os {
        Some(os) => format!("REMOTE_DOCKER_URL_{os} (or REMOTE_DOCKER_URL)"),
        None => "REMOTE_DOCKER_URL".into(),
    }
}

/// The variable a node's cert folder comes from, for hints.
fn cert_var(node: &Node) -> &'static str {
    match &node.os {
        Some(os)
            if node.cert_path.file_name().and_then(|n| n.to_str())
                == Some(format!(".docker-{os}").as_str()) =>
        {
            "DOCKER_CERT_BASE_PATH"
        }
        _ => "DOCKER_CERT_PATH",
    }
}

const CERT_FILES: [&str; 3] = ["ca.pem", "cert.pem", "key.pem"];

fn check_all(cfg: &Config, plan: &Plan) -> anyhow::Result<Report> {
    let mut r = Report::default();
    let sh = Shell::new()?;
    let target = &plan.target;

    // The docker CLI.
    let docker = match which::which("docker") {
        Ok(d) => {
            check_cli(&mut r, &d, cfg.is_matrix() && target.pushes());
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
            match docker::buildx_version(&sh, d) {
                Ok(v) => {
                    buildx = true;
                    r.add(Status::Ok, "local", "buildx", v);
                }
                Err(_) if !target.caches() => r.hint(
                    Status::Warn,
                    "local",
                    "buildx",
                    "missing (this target does not need it; the registry check does)".into(),
                    "install docker-buildx (Debian: docker-buildx) or put docker-buildx in ~/.docker/cli-plugins/".into(),
                ),
                Err(_) => r.hint(
                    Status::Fail,
                    "local",
                    "buildx",
                    "`docker buildx version` failed: the buildx plugin is missing".into(),
                    "install docker-buildx (Debian: docker-buildx) or put docker-buildx in ~/.docker/cli-plugins/".into(),
                ),
            }
        }
    }

    // Each node the target uses.
    let nodes = nodes_of(cfg, plan);
    let mut facts: HashMap<PathBuf, Result<Value, String>> = HashMap::new();
    for node in &nodes {
        let s = scope(node);
        let url_ok = check_url(&mut r, &s, node);
        let files_ok = check_files(&mut r, &s, node);
        if files_ok {
            let f = facts.entry(node.cert_path.clone()).or_insert_with(|| {
                tls::inspect(&sh, &node.cert_path).map_err(|e| format!("{e:#}"))
            });
            check_client_cert(&mut r, &s, node, f);
        }
        match (&docker, url_ok && files_ok) {
            (Some(d), true) => check_node(&mut r, &s, node, d),
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
        r.add(
            Status::Ok,
            "local",
            "node",
            format!("{} does not use a Windows node", target.name()),
        );
    }

    // The registry.
    if needs_registry {
        match (&docker, buildx) {
            (Some(d), true) => check_registry(&mut r, cfg, plan, d),
            (Some(_), false) => r.add(
                Status::Warn,
                "local",
                "registry",
                format!("{}: not checked (needs docker buildx)", cfg.registry),
            ),
            (None, _) => {}
        }
    }
    Ok(r)
}

/// `docker --version` ≥ 20.10 (a failure only where the target annotates manifest lists).
fn check_cli(r: &mut Report, docker: &Path, annotates: bool) {
    let at = docker.display();
    match docker::query_timeout(docker, &docker::cli_version(), NODE_TIMEOUT) {
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
fn parse_cli_version(out: &str) -> Option<(u32, u32, String)> {
    let v = out
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?
        .trim_end_matches(',');
    let mut parts = v.split(['.', '-', '+']);
    let maj = parts.next()?.parse().ok()?;
    let min = parts.next()?.parse().ok()?;
    Some((maj, min, v.to_string()))
}

fn check_url(r: &mut Report, s: &str, node: &Node) -> bool {
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

/// The three files, readable; the key private to its owner (a warning otherwise: docker
/// itself does not insist).
fn check_files(r: &mut Report, s: &str, node: &Node) -> bool {
    let dir = &node.cert_path;
    let var = cert_var(node);
    let make_hint = format!(
        "put the client/ folder of `cargo xtask tls --out OUT` there (ca.pem, cert.pem, key.pem), or point {var} at it"
    );
    if !dir.is_dir() {
        r.hint(
            Status::Fail,
            s,
            "certs",
            format!("{}: no such folder", dir.display()),
            make_hint,
        );
        return false;
    }
    let mut problems = Vec::new();
    for f in CERT_FILES {
        let p = dir.join(f);
        if !p.is_file() {
            problems.push(format!("{f} missing"));
        } else if let Err(e) = fs::File::open(&p) {
            problems.push(format!("{f} unreadable ({e})"));
        }
    }
    if !problems.is_empty() {
        r.hint(
            Status::Fail,
            s,
            "certs",
            format!("{}: {}", dir.display(), problems.join(", ")),
            make_hint,
        );
        return false;
    }
    let key = dir.join("key.pem");
    let mode = fs::metadata(&key)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o600);
    if mode & 0o077 != 0 {
        r.hint(
            Status::Warn,
            s,
            "certs",
            format!(
                "{}: key.pem is mode {mode:04o}, readable by others",
                dir.display()
            ),
            format!("chmod 600 {}", key.display()),
        );
    } else {
        r.add(
            Status::Ok,
            s,
            "certs",
            format!("{}: ca.pem, cert.pem, key.pem ({mode:04o})", dir.display()),
        );
    }
    true
}

/// The client cert's facts from `xtask-tls inspect`: signed by the ca.pem beside it, the
/// key is its key, a client cert, valid now and for 30 more days.
fn check_client_cert(r: &mut Report, s: &str, node: &Node, facts: &Result<Value, String>) {
    let f = match facts {
        Ok(f) => f,
        Err(e) => {
            r.hint(
                Status::Warn,
                s,
                "client cert",
                format!("not checked: {}", first_line(e)),
                "run `cargo xtask doctor` through cargo (it builds the xtask-tls checker)".into(),
            );
            return;
        }
    };
    let dir = node.cert_path.display();
    let remake =
        "make a matching set with `cargo xtask tls --ca OUT/ca …` and use its client/ folder";
    let now = f["now"].as_i64().unwrap_or_else(unix_now);
    let cert = &f["certs"]["cert.pem"];
    let ca = &f["certs"]["ca.pem"];
    for (name, c) in [("ca.pem", ca), ("cert.pem", cert)] {
        if let Some(e) = c["error"].as_str() {
            r.hint(
                Status::Fail,
                s,
                "client cert",
                format!("{dir}/{name}: {e}"),
                remake.into(),
            );
            return;
        }
    }
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    if cert["signed_by_ca"] != true {
        fails.push(format!(
            "cert.pem (issuer {}) is not signed by the ca.pem next to it ({})",
            cn(&cert["issuer_cn"]),
            cn(&ca["subject_cn"])
        ));
    }
    let key = &f["keys"]["key.pem"];
    match (&key["matches_cert"], key["error"].as_str()) {
        (Value::Bool(false), _) => fails.push("key.pem is not the key of cert.pem".into()),
        (_, Some(e)) => warns.push(format!("key.pem not checked against cert.pem: {e}")),
        _ => {}
    }
    let eku: Vec<&str> = cert["extended_key_usage"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if !eku.is_empty() && !eku.iter().any(|e| *e == "clientAuth" || *e == "any") {
        fails.push(format!(
            "cert.pem is not a client cert (extended key usage {})",
            eku.join(", ")
        ));
    }
    for (name, c) in [("cert.pem", cert), ("ca.pem", ca)] {
        let nb = c["not_before"].as_i64().unwrap_or(i64::MIN);
        let na = c["not_after"].as_i64().unwrap_or(i64::MAX);
        let until = c["not_after_utc"].as_str().unwrap_or("?");
        if na < now {
            fails.push(format!("{name} expired on {until}"));
        } else if nb > now {
            fails.push(format!(
                "{name} is not valid before {} (check this machine's clock)",
                c["not_before_utc"].as_str().unwrap_or("?")
            ));
        } else if na - now < EXPIRY_WARN_DAYS * 86_400 {
            warns.push(format!(
                "{name} expires in {} days ({until})",
                (na - now) / 86_400
            ));
        }
    }
    if !fails.is_empty() {
        r.hint(
            Status::Fail,
            s,
            "client cert",
            format!("{dir}: {}", fails.join("; ")),
            remake.into(),
        );
    } else if !warns.is_empty() {
        r.hint(
            Status::Warn,
            s,
            "client cert",
            format!("{dir}: {}", warns.join("; ")),
            format!("renew it: {remake}"),
        );
    } else {
        let na = cert["not_after"].as_i64().unwrap_or(now);
        r.add(
            Status::Ok,
            s,
            "client cert",
            format!(
                "{}, signed by ca.pem ({}), valid until {} ({} days)",
                cn(&cert["subject_cn"]),
                cn(&ca["subject_cn"]),
                cert["not_after_utc"].as_str().unwrap_or("?"),
                (na - now) / 86_400
            ),
        );
    }
}

fn cn(v: &Value) -> String {
    v.as_str()
        .map(|s| format!("CN={s}"))
        .unwrap_or_else(|| "no CN".into())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `docker … -H URL version` over mutual TLS within NODE_TIMEOUT, then the node's OS and
/// build against the OS version it builds for.
fn check_node(r: &mut Report, s: &str, node: &Node, docker: &Path) {
    let answer = docker::query_timeout(docker, &docker::node_version(node), NODE_TIMEOUT);
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
fn check_os(r: &mut Report, s: &str, node: &Node, server: &Value) {
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
fn windows_build_of(kernel: &str) -> Option<u32> {
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
fn node_error(err: &str, node: &Node) -> (String, String) {
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

fn tail_after<'a>(s: &'a str, marker: &str) -> &'a str {
    first_line(s.find(marker).map(|i| &s[i + marker.len()..]).unwrap_or(s))
}

fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or_default()
}

/// `docker buildx imagetools inspect` of a tag that surely does not exist: "not found" means
/// the registry answered; a connection error means it cannot be reached.
fn check_registry(r: &mut Report, cfg: &Config, plan: &Plan, docker: &Path) {
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
    let (status, detail, hint) =
        match docker::query_timeout(docker, &docker::inspect_raw(&probe), REGISTRY_TIMEOUT) {
            Answer::Ok(_) => (Status::Ok, format!("{}: reachable", cfg.registry), None),
            Answer::TimedOut => (
                Status::Fail,
                format!(
                    "{}: no answer within {} s",
                    cfg.registry,
                    REGISTRY_TIMEOUT.as_secs()
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

fn registry_error(e: &str, registry: &str, host: &str) -> (Status, String, Option<String>) {
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

/// The cheap local checks push/push-as-linux run before starting (no network, no cargo):
/// the docker CLI, and per node the cert files present with a readable key. A problem is
/// bad input (exit 2) with its fix; a key readable by others is only a warning. Returns the
/// docker CLI it found, for the run.
pub fn local(cfg: &Config, plan: &Plan) -> anyhow::Result<PathBuf> {
    let docker_cli = docker::find()?;
    let mut seen: Vec<&Path> = Vec::new();
    for node in nodes_of(cfg, plan) {
        // Nodes often share one cert folder: check (and warn about) each folder once.
        if seen.contains(&node.cert_path.as_path()) {
            continue;
        }
        seen.push(&node.cert_path);
        let var = cert_var(node);
        crate::config::check_certs(var, &node.cert_path)?;
        let key = node.cert_path.join("key.pem");
        if let Err(e) = fs::File::open(&key) {
            return Err(BadInput::new(
                var,
                node.cert_path.display().to_string(),
                format!("key.pem cannot be read: {e}"),
                format!("make {} readable by this user", key.display()),
            ));
        }
        let mode = fs::metadata(&key)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o600);
        if mode & 0o077 != 0 {
            eprintln!(
                "xtask: warning: {} is mode {mode:04o}, readable by others: chmod 600 it",
                key.display()
            );
        }
    }
    Ok(docker_cli)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_slow_query_is_killed_at_its_deadline() {
        let sleep = which::which("sleep").expect("sleep on PATH");
        let t = std::time::Instant::now();
        let a = docker::query_timeout(
            &sleep,
            &["sleep".to_string(), "30".to_string()],
            Duration::from_millis(200),
        );
        assert!(matches!(a, Answer::TimedOut), "{a:?}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        let a = docker::query_timeout(
            &sleep,
            &["sleep".to_string(), "0".to_string()],
            Duration::from_secs(5),
        );
        assert!(matches!(a, Answer::Ok(_)), "{a:?}");
    }
}
