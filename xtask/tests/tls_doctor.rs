//! `cargo xtask tls` and `cargo xtask doctor` without the Docker stack: every bad flag of
//! `tls` is exit 2 naming it, before anything is written (and before cargo is even asked);
//! a good run writes the layout through the xtask-tls crate, keys 0600, and refuses to
//! overwrite it; doctor reports a missing REMOTE_DOCKER_URL as a failed check (exit 1, not
//! 2); push runs doctor's cheap local checks first.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use support::{run, snapshot, stderr, stdout, TempDir, World};

/// The xtask binary with an empty environment and no cargo anywhere: validation must not
/// need it.
fn bare(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .current_dir(dir);
    c
}

/// Lets a command run cargo as the test's own cargo does (the toolchain, its home).
fn with_cargo(c: &mut Command) -> &mut Command {
    c.env("CARGO", env!("CARGO"));
    for k in [
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
    ] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    if std::env::var_os("CARGO_HOME").is_none() {
        if let Some(h) = std::env::var_os("HOME") {
            c.env("CARGO_HOME", Path::new(&h).join(".cargo"));
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    c.env("PATH", format!("{path}:/usr/bin:/bin"));
    c
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

#[test]
fn bad_tls_flags_are_exit_2_naming_the_flag_and_write_nothing() {
    let t = TempDir::new("tls-bad");
    let out = t.path().join("out");
    let out_s = out.display().to_string();
    let no_ca = t.path().join("no-ca");
    fs::create_dir_all(&no_ca).expect("mkdir");
    fs::write(no_ca.join("ca.pem"), "x").expect("write");
    let no_ca_s = no_ca.display().to_string();
    let file = t.path().join("a-file");
    fs::write(&file, "x").expect("write");
    let file_s = file.display().to_string();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["--server-name", "", "--ip", "10.0.0.5"],
            "--server-name=\"\"",
            "empty",
        ),
        (
            vec!["--server-name", "   ", "--ip", "10.0.0.5"],
            "--server-name=\"   \"",
            "empty",
        ),
        (
            vec!["--server-name", "10.0.0.5", "--ip", "10.0.0.5"],
            "--server-name=\"10.0.0.5\"",
            "not a host name",
        ),
        (
            vec!["--server-name", "win build", "--ip", "10.0.0.5"],
            "--server-name=\"win build\"",
            "not a host name",
        ),
        (
            vec!["--server-name", "$(id)", "--ip", "10.0.0.5"],
            "--server-name=\"$(id)\"",
            "not a host name",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.256"],
            "--ip=\"10.0.0.256\"",
            "'10.0.0.256' is not an IP address",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5,"],
            "--ip=\"10.0.0.5,\"",
            "'' is not an IP address",
        ),
        (
            vec!["--server-name", "win", "--ip", "win.example.com"],
            "--ip=\"win.example.com\"",
            "not an IP address",
        ),
        (
            vec!["--server-name", "win", "--ip", ""],
            "--ip=\"\"",
            "not an IP address",
        ),
        (
            vec![
                "--server-name",
                "win",
                "--ip",
                "10.0.0.5",
                "--dns",
                "ok,bad name",
            ],
            "--dns=\"ok,bad name\"",
            "'bad name' is not a DNS name",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--days", "0"],
            "--days=\"0\"",
            "from 1 to 3650",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--days", "3651"],
            "--days=\"3651\"",
            "from 1 to 3650",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--days=-1"],
            "--days=\"-1\"",
            "from 1 to 3650",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--days", "1y"],
            "--days=\"1y\"",
            "from 1 to 3650",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--ca", &no_ca_s],
            "--ca=",
            "no ca-key.pem in it",
        ),
        (
            vec![
                "--server-name",
                "win",
                "--ip",
                "10.0.0.5",
                "--ca",
                "/nonexistent",
            ],
            "--ca=\"/nonexistent\"",
            "no ca.pem in it",
        ),
    ];
    for (args, what, problem) in &cases {
        let o = run(bare(t.path()).arg("tls").args(args).args(["--out", &out_s]));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?} names {what}: {err}");
        assert!(err.contains(problem), "{args:?} says {problem}: {err}");
        assert!(err.contains("hint: "), "{args:?} gives a hint: {err}");
        assert!(!out.exists(), "{args:?} wrote something");
    }

    // --out: empty, a file, or missing altogether (clap's own usage error, also exit 2).
    let o = run(bare(t.path()).args([
        "tls",
        "--server-name",
        "win",
        "--ip",
        "10.0.0.5",
        "--out",
        "",
    ]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--out=\"\": it is empty"),
        "{}",
        stderr(&o)
    );
    let o = run(bare(t.path()).args([
        "tls",
        "--server-name",
        "win",
        "--ip",
        "10.0.0.5",
        "--out",
        &file_s,
    ]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("exists and is not a folder"),
        "{}",
        stderr(&o)
    );
    let o = run(bare(t.path()).args(["tls", "--server-name", "win", "--ip", "10.0.0.5"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
}

#[test]
fn tls_writes_the_layout_refuses_to_overwrite_and_reuses_its_ca() {
    let t = TempDir::new("tls-make");
    let out = t.path().join("certs");
    let out_s = out.display().to_string();
    let args = [
        "tls",
        "--server-name",
        "winbuild.example.com",
        "--ip",
        "10.0.0.5, fd00::5",
        "--dns",
        "winbuild",
        "--out",
        &out_s,
    ];
    let o = run(with_cargo(&mut bare(t.path())).args(args));
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let files = [
        ("ca/ca.pem", 0o644),
        ("ca/ca-key.pem", 0o600),
        ("node/ca.pem", 0o644),
        ("node/server-cert.pem", 0o644),
        ("node/server-key.pem", 0o600),
        ("node/daemon.json", 0o644),
        ("node/install.ps1", 0o644),
        ("client/ca.pem", 0o644),
        ("client/cert.pem", 0o644),
        ("client/key.pem", 0o600),
    ];
    for (f, m) in files {
        let p = out.join(f);
        assert!(p.is_file(), "{f} missing: {}", stdout(&o));
        assert_eq!(mode(&p), m, "{f}");
        assert!(
            stdout(&o).contains(&format!("wrote {}", p.display())),
            "{f}"
        );
    }
    // No private key is ever printed.
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("PRIVATE KEY"), "{all}");
    let daemon: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("node/daemon.json")).expect("read"))
            .expect("daemon.json");
    assert_eq!(daemon["tlsverify"], true);

    // Again without --force: exit 2 naming the first file, nothing touched.
    let before = snapshot(&out);
    let o = run(with_cargo(&mut bare(t.path())).args(args));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}/ca/ca.pem exists", out.display())),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(snapshot(&out), before);

    // A second node from the same CA: --ca OUT/ca, into another folder; no CA copy there.
    let out2 = t.path().join("node2");
    let o = run(with_cargo(&mut bare(t.path())).args([
        "tls",
        "--server-name",
        "winbuild2",
        "--ip",
        "10.0.0.6",
        "--ca",
        &out.join("ca").display().to_string(),
        "--out",
        &out2.display().to_string(),
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out2.join("ca").exists());
    assert_eq!(
        fs::read(out2.join("client/ca.pem")).expect("read"),
        fs::read(out.join("ca/ca.pem")).expect("read")
    );

    // --force replaces the certs (new keys), modes kept.
    let o = run(with_cargo(&mut bare(t.path())).args(args).arg("--force"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        fs::read(out.join("client/key.pem")).expect("read"),
        before
            .iter()
            .find(|(p, _)| p.ends_with("client/key.pem"))
            .expect("old key")
            .1
    );
    assert_eq!(mode(&out.join("client/key.pem")), 0o600);
}

#[test]
fn doctor_reports_a_missing_url_as_a_failed_check() {
    let w = World::new("doctor-nourl");
    w.image("alpha", "1.0");
    let o = run(with_cargo(&mut w.xtask())
        .env(
            "PATH",
            format!(
                "{}:{}",
                w.bin().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .arg("doctor"));
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(out.contains("✗  node: URL"), "{out}");
    assert!(out.contains("not set"), "{out}");
    assert!(out.contains("fix: set REMOTE_DOCKER_URL=tcp://"), "{out}");
    // The fake certs are not certificates: said so, from the real checker.
    assert!(out.contains("✗  node: client cert"), "{out}");
    assert!(out.contains("not a PEM certificate"), "{out}");
    assert!(stderr(&o).contains("doctor: "), "{}", stderr(&o));

    // --json: the same checks for machines.
    let o = run(with_cargo(&mut w.xtask())
        .env(
            "PATH",
            format!(
                "{}:{}",
                w.bin().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .args(["doctor", "--json"]));
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["ok"], false);
    let url = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "URL")
        .expect("URL check");
    assert_eq!(url["status"], "fail");
    assert_eq!(url["scope"], "node");
    // A target without a node does not ask for one.
    let o = run(with_cargo(&mut w.xtask())
        .env(
            "PATH",
            format!(
                "{}:{}",
                w.bin().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .args(["doctor", "sub-repush-as-linux-alpha"]));
    assert!(!stdout(&o).contains("node: URL"), "{}", stdout(&o));
}

#[test]
fn push_runs_the_cheap_local_checks_first() {
    let w = World::new("doctor-local");
    w.image("alpha", "1.0");
    let key = w.certs().join("key.pem");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = run(w
        .xtask()
        .env("REMOTE_DOCKER_URL", "tcp://127.0.0.1:2376")
        .arg("push"));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("warning: {} is mode 0644", key.display())),
        "{err}"
    );

    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");
    let o = run(w
        .xtask()
        .env("REMOTE_DOCKER_URL", "tcp://127.0.0.1:2376")
        .arg("push"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));

    // No docker on PATH: exit 2 before any step.
    let o = run(w
        .xtask()
        .env("REMOTE_DOCKER_URL", "tcp://127.0.0.1:2376")
        .env("PATH", "/nonexistent")
        .arg("push"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no docker CLI"), "{}", stderr(&o));
    let _: Output = o;
}
