//! `cargo xtask doctor` on the real stack (ci/stack.sh, whose nodes run on certs made by
//! `cargo xtask tls`): exit 0 on the good stack, compat and matrix mode; exit 1 naming the
//! cause for a node that is down, a client cert from another CA, a node whose cert is for
//! another name, an expired client cert and a missing key. Nothing shared is stopped: a
//! "down" node is a free port, the misnamed node is an `openssl s_server` of the test's own,
//! stopped by pid. Ignored without the stack (`make e2e` runs them on one).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::stack::Stack;
use crate::support::TempDir;
use serde_json::Value;

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `xtask doctor` against the stack's registry and fixtures, compat mode on node 1809, with
/// cargo reachable so doctor can run the xtask-tls checker.
fn doctor(s: &Stack) -> Command {
    let mut c = s.xtask(&s.var("REGISTRY"), &s.fixtures());
    c.env("CARGO", env!("CARGO")).arg("doctor");
    c
}

fn matrix(c: &mut Command, s: &Stack) {
    c.env("OS_VERSIONS", "1809 ltsc2022")
        .env("REMOTE_DOCKER_URL_1809", s.var("REMOTE_DOCKER_URL_1809"))
        .env(
            "REMOTE_DOCKER_URL_ltsc2022",
            s.var("REMOTE_DOCKER_URL_ltsc2022"),
        )
        .env("DOCKER_CERT_BASE_PATH", s.var("DOCKER_CERT_BASE_PATH"));
}

/// `cargo xtask tls ARGS` through the built binary (it runs the xtask-tls crate via cargo).
fn tls(s: &Stack, args: &[&str]) {
    let o = s
        .cmd(env!("CARGO_BIN_EXE_xtask"))
        .env("CARGO", env!("CARGO"))
        .arg("tls")
        .args(args)
        .output()
        .expect("xtask tls");
    assert!(o.status.success(), "tls {args:?}:\n{}", text(&o));
}

/// The stack's CA folder (certs/ca, made by `cargo xtask tls`), when it has one.
fn stack_ca(s: &Stack) -> Option<PathBuf> {
    let ca = Path::new(&s.var("DOCKER_CERT_PATH"))
        .parent()
        .expect("certs dir")
        .join("ca");
    ca.join("ca-key.pem").is_file().then_some(ca)
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Lines of the text report whose mark is ✗, as "scope: check  detail".
fn failures(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('✗'))
        .map(String::from)
        .collect()
}

fn assert_fails_with(o: &Output, check: &str, cause: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    let f = failures(o);
    assert!(
        f.iter().any(|l| l.contains(check) && l.contains(cause)),
        "no ✗ line with {check:?} and {cause:?}: {f:#?}\n{}",
        text(o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("doctor: ") && err.contains(check),
        "the summary names {check}: {err}"
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn good_stack_compat_and_matrix() {
    let s = Stack::get();
    let o = doctor(&s).output().expect("doctor");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "✓  local: docker CLI",
        "✓  local: buildx",
        "✓  node: certs",
        "✓  node: client cert",
        "✓  node: TLS",
        "✓  local: registry",
    ] {
        assert!(out.contains(want), "lacks {want:?}:\n{out}");
    }
    // Node 1809 answers as Windows Server 2019 (its persona front, docs/personas.md).
    assert!(
        out.contains("✓  node: OS") && out.contains("build 17763"),
        "{out}"
    );
    assert!(failures(&o).is_empty(), "{out}");

    let mut c = doctor(&s);
    matrix(&mut c, &s);
    let o = c.arg("--json").output().expect("doctor --json");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["mode"], "matrix");
    assert_eq!(v["failures"], 0);
    for node in ["node 1809", "node ltsc2022"] {
        let tls = v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["scope"] == node && c["check"] == "TLS")
            .unwrap_or_else(|| panic!("no TLS check for {node}: {v:#}"));
        assert_eq!(tls["status"], "ok", "{tls:#}");
    }
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn node_down_is_named() {
    let s = Stack::get();
    let url = format!("tcp://127.0.0.1:{}", free_port());
    // Matrix mode: only the ltsc2022 node is "down"; 1809 stays good.
    let mut c = doctor(&s);
    matrix(&mut c, &s);
    let o = c
        .env("REMOTE_DOCKER_URL_ltsc2022", &url)
        .output()
        .expect("doctor");
    assert_fails_with(&o, "node ltsc2022: TLS", "node down");
    let f = failures(&o);
    assert_eq!(f.len(), 1, "only the down node fails: {f:#?}");
    assert!(f[0].contains(&url), "{f:#?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("✓  node 1809: TLS"),
        "{}",
        text(&o)
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn client_cert_from_another_ca_is_named() {
    let s = Stack::get();
    let t = TempDir::new("doctor-other-ca");
    let other = t.path().join("other");
    tls(
        &s,
        &[
            "--server-name",
            "localhost",
            "--ip",
            "127.0.0.1",
            "--out",
            &other.display().to_string(),
        ],
    );

    // A whole client folder of another CA: the node's cert is not signed by its ca.pem.
    let o = doctor(&s)
        .env("DOCKER_CERT_PATH", other.join("client"))
        .output()
        .expect("doctor");
    assert_fails_with(&o, "node: TLS", "wrong CA");

    // The stack's ca.pem with another CA's client cert: caught locally (the signature does
    // not verify) and by the node (it refuses the cert).
    let mixed = t.path().join("mixed");
    std::fs::create_dir_all(&mixed).expect("mkdir");
    let stack_certs = PathBuf::from(s.var("DOCKER_CERT_PATH"));
    std::fs::copy(stack_certs.join("ca.pem"), mixed.join("ca.pem")).expect("cp");
    for f in ["cert.pem", "key.pem"] {
        std::fs::copy(other.join("client").join(f), mixed.join(f)).expect("cp");
    }
    let o = doctor(&s)
        .env("DOCKER_CERT_PATH", &mixed)
        .output()
        .expect("doctor");
    assert_fails_with(
        &o,
        "node: client cert",
        "is not signed by the ca.pem next to it",
    );
    assert_fails_with(&o, "node: TLS", "refused the client certificate");
}

/// A TLS endpoint of the test's own, stopped by pid when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn server_cert_for_another_name_is_named() {
    let s = Stack::get();
    let t = TempDir::new("doctor-other-name");
    let out = t.path().join("srv");
    // Issued by the stack's CA (so only the name is wrong), for 127.0.0.2 / other.example.
    let out_s = out.display().to_string();
    let ca_s = stack_ca(&s).map(|p| p.display().to_string());
    let mut args = vec![
        "--server-name",
        "other.example",
        "--ip",
        "127.0.0.2",
        "--out",
        &out_s,
    ];
    if let Some(ca) = &ca_s {
        args.extend(["--ca", ca]);
    }
    tls(&s, &args);

    let port = free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(out.join("node/server-cert.pem"))
        .arg("-key")
        .arg(out.join("node/server-key.pem"))
        .arg("-CAfile")
        .arg(out.join("node/ca.pem"))
        .args(["-Verify", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let mut server = Server(child);
    // Ready when it accepts a connection (bounded wait, no fixed sleep).
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            server.0.try_wait().expect("try_wait").is_none(),
            "openssl s_server exited"
        );
        assert!(Instant::now() < deadline, "openssl s_server not listening");
        std::thread::sleep(Duration::from_millis(50));
    }

    let o = doctor(&s)
        .env("REMOTE_DOCKER_URL", format!("tcp://127.0.0.1:{port}"))
        .output()
        .expect("doctor");
    drop(server);
    assert_fails_with(&o, "node: TLS", "wrong server name");
    let f = failures(&o).join("\n");
    assert!(
        f.contains("127.0.0.2") && f.contains("not 127.0.0.1"),
        "{f}"
    );
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn expired_client_cert_is_named() {
    let s = Stack::get();
    let t = TempDir::new("doctor-expired");
    let out = t.path().join("exp");
    let out_s = out.display().to_string();
    let ca_s = stack_ca(&s).map(|p| p.display().to_string());
    // Valid for one day, ten days ago.
    let mut args = vec![
        "--server-name",
        "localhost",
        "--ip",
        "127.0.0.1",
        "--days",
        "1",
        "--backdate",
        "10",
        "--out",
        &out_s,
    ];
    if let Some(ca) = &ca_s {
        args.extend(["--ca", ca]);
    }
    tls(&s, &args);
    let o = doctor(&s)
        .env("DOCKER_CERT_PATH", out.join("client"))
        .output()
        .expect("doctor");
    assert_fails_with(&o, "node: client cert", "cert.pem expired on");
    if ca_s.is_some() {
        // Same CA as the node: the node itself refuses the expired cert too.
        assert_fails_with(&o, "node: TLS", "refused the client certificate");
    }
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn missing_key_is_named() {
    let s = Stack::get();
    let t = TempDir::new("doctor-nokey");
    let stack_certs = PathBuf::from(s.var("DOCKER_CERT_PATH"));
    for f in ["ca.pem", "cert.pem"] {
        std::fs::copy(stack_certs.join(f), t.path().join(f)).expect("cp");
    }
    let o = doctor(&s)
        .env("DOCKER_CERT_PATH", t.path())
        .output()
        .expect("doctor");
    assert_fails_with(&o, "node: certs", "key.pem missing");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("!  node: TLS") && out.contains("not tried"),
        "{out}"
    );
}
