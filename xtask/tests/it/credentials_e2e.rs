//! Credentials where they live, on the stack's registry with htpasswd auth (AUTH_REGISTRY,
//! AUTH_USER, AUTH_PASSWORD in the env file): the main job (`push-as-linux`, compat mode)
//! succeeds with only this machine logged in (`docker login` into a DOCKER_CONFIG of the
//! test's own; the node daemon holds no credentials), and is refused before any build when
//! logged out (exit 2, nothing pushed); doctor says both. Ignored without the stack.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::support::stack::Stack;

/// A DOCKER_CONFIG of the test's own (the stack's buildx plugin linked in), logged out.
fn docker_config(s: &Stack, name: &str) -> PathBuf {
    let d = s
        .root
        .join("target/tmp")
        .join(format!("creds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("cli-plugins")).expect("mkdir");
    let buildx = Path::new(&s.var("DOCKER_CONFIG")).join("cli-plugins/docker-buildx");
    std::os::unix::fs::symlink(&buildx, d.join("cli-plugins/docker-buildx")).expect("link buildx");
    std::fs::write(d.join("config.json"), "{}").expect("config.json");
    d
}

/// `docker login AUTH_REGISTRY_HOST` into `config`, the password on stdin.
fn login(s: &Stack, config: &Path) {
    let mut c = s.cmd("docker");
    c.env("DOCKER_CONFIG", config)
        .args([
            "login",
            "--username",
            &s.var("AUTH_USER"),
            "--password-stdin",
        ])
        .arg(s.var("AUTH_REGISTRY_HOST"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("docker login");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(s.var("AUTH_PASSWORD").as_bytes())
        .expect("password");
    let o = child.wait_with_output().expect("docker login");
    assert!(o.status.success(), "docker login: {}", text(&o.stderr));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// xtask against the auth registry (a namespace of this test's own), with `config`.
fn xtask(s: &Stack, config: &Path, ns: &str, args: &[&str]) -> Output {
    let registry = format!(
        "{}/{ns}-{}",
        s.var("AUTH_REGISTRY_HOST"),
        std::process::id()
    );
    s.xtask(&registry, &s.fixtures())
        .env("DOCKER_CONFIG", config)
        .args(args)
        .output()
        .expect("xtask")
}

/// Whether the auth registry holds REF (asked with the logged-in `config`).
fn holds(s: &Stack, config: &Path, reference: &str) -> bool {
    let o: Output = s
        .cmd("docker")
        .env("DOCKER_CONFIG", config)
        .args(["buildx", "imagetools", "inspect", "--raw", reference])
        .output()
        .expect("imagetools inspect");
    o.status.success()
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn the_main_job_pushes_with_this_machines_login_and_is_refused_without_it() {
    let s = Stack::get();
    let logged_in = docker_config(&s, "in");
    login(&s, &logged_in);
    let ns = "creds";
    let registry = format!(
        "{}/{ns}-{}",
        s.var("AUTH_REGISTRY_HOST"),
        std::process::id()
    );

    // Logged out: refused before any build, nothing pushed.
    let logged_out = docker_config(&s, "out");
    let o = xtask(&s, &logged_out, ns, &["push-as-linux"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("asks for credentials and this machine holds none")
            && err.contains(&format!("docker login {}", s.var("AUTH_REGISTRY_HOST"))),
        "{err}"
    );
    assert!(!err.contains("[1/"), "a step started: {err}");
    assert!(!holds(&s, &logged_in, &format!("{registry}/alpha:1.0")));

    // doctor says the same, with ✗.
    let o = xtask(&s, &logged_out, ns, &["doctor", "push-as-linux"]);
    let out = text(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with('✗') && l.contains("local: credentials")),
        "{out}"
    );

    // Logged in on this machine only: the node builds and pushes with these credentials.
    let o = xtask(&s, &logged_in, ns, &["doctor", "push-as-linux"]);
    let out = text(&o.stdout);
    assert!(
        out.lines().any(|l| l.starts_with('✓')
            && l.contains("local: credentials")
            && l.contains("accepts this machine's credentials")),
        "{out}"
    );
    let o = xtask(&s, &logged_in, ns, &["push-as-linux"]);
    assert!(o.status.success(), "push-as-linux: {}", text(&o.stderr));
    for tag in [
        "alpha:1.0",
        "alpha:1.0-linux-cache",
        "beta:2.1",
        "beta:2.1-linux-cache",
    ] {
        assert!(holds(&s, &logged_in, &format!("{registry}/{tag}")), "{tag}");
    }

    // A wrong password is refused too.
    let wrong = docker_config(&s, "wrong");
    let auth = support_base64(&format!("{}:wrong", s.var("AUTH_USER")));
    std::fs::write(
        wrong.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            s.var("AUTH_REGISTRY_HOST")
        ),
    )
    .expect("config.json");
    let o = xtask(&s, &wrong, ns, &["push-as-linux"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("refused this machine's credentials"), "{err}");
    for d in [logged_in, logged_out, wrong] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Standard base64 (for a config.json `auth` entry).
fn support_base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = s.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
