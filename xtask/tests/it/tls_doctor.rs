//! `cargo xtask tls` and `cargo xtask doctor` without the Docker stack: every bad flag of
//! `tls` is exit 2 naming it, before anything is written (and before cargo is even asked);
//! a good run writes the layout through the xtask-tls crate, keys 0600, and refuses to
//! overwrite it; doctor reports a missing REMOTE_DOCKER_URL as a failed check (exit 1, not
//! 2); push runs doctor's cheap local checks first.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::{run, snapshot, stderr, stdout, with_cargo, TempDir, World};

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
    let label64 = format!("{}.example.com", "a".repeat(64));
    let name254 = [&"b".repeat(63)[..]; 4].join(".")[..254].to_string();
    let dns64 = format!("ok,{}", "c".repeat(64));
    let blocked = t.path().join("blocked");
    fs::create_dir_all(&blocked).expect("mkdir");
    fs::write(blocked.join("node"), "mine").expect("write");
    let blocked_s = blocked.display().to_string();
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
        // DNS limits: a label of 64 characters, a name of 254, in --server-name and --dns.
        (
            vec!["--server-name", &label64, "--ip", "10.0.0.5"],
            "--server-name=",
            "64 characters (at most 63)",
        ),
        (
            vec!["--server-name", &name254, "--ip", "10.0.0.5"],
            "--server-name=",
            "254 characters (a DNS name has at most 253)",
        ),
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--dns", &dns64],
            "--dns=",
            "64 characters (at most 63)",
        ),
        (
            vec!["--server-name", "win.", "--ip", "10.0.0.5"],
            "--server-name=\"win.\"",
            "empty label",
        ),
        // A file where node/ goes: refused before ca/ is written.
        (
            vec![
                "--server-name",
                "win",
                "--ip",
                "10.0.0.5",
                "--out",
                &blocked_s,
            ],
            "--out=",
            "node is a file where the folder node/ goes",
        ),
        // --json means nothing to tls: refused rather than ignored.
        (
            vec!["--server-name", "win", "--ip", "10.0.0.5", "--json"],
            "--json=\"tls\"",
            "no machine-readable output",
        ),
    ];
    for (args, what, problem) in &cases {
        let mut cmd = bare(t.path());
        cmd.arg("tls").args(args);
        if !args.contains(&"--out") {
            cmd.args(["--out", &out_s]);
        }
        let o = run(&mut cmd);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?} names {what}: {err}");
        assert!(err.contains(problem), "{args:?} says {problem}: {err}");
        assert!(err.contains("hint: "), "{args:?} gives a hint: {err}");
        assert!(!out.exists(), "{args:?} wrote something");
        assert_eq!(
            fs::read_dir(&blocked).expect("ls").count(),
            1,
            "{args:?} wrote into {}",
            blocked.display()
        );
    }

    // A hostile value is shown escaped (no raw control character) and cut short.
    // (100 kB: one argument may hold at most 128 kB.)
    let evil = format!("win\u{1b}]0;owned\u{7}{}", "x".repeat(100_000));
    let o = run(bare(t.path()).args([
        "tls",
        "--server-name",
        &evil,
        "--ip",
        "10.0.0.5",
        "--out",
        &out_s,
    ]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\u{1b}"), "{err}");
    assert!(err.len() < 2_000, "{} bytes of message", err.len());

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

/// Every path under `dir` (relative) with its mode and, for files, its content: a dry run
/// or a failed run must leave it exactly as it was, folders included.
fn tree(dir: &Path) -> Vec<(String, u32, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("readdir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(dir).expect("under").display().to_string();
            let meta = fs::symlink_metadata(&p).expect("stat");
            let m = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                stack.push(p.clone());
                out.push((rel, m, None));
            } else {
                out.push((rel, m, Some(fs::read(&p).expect("read"))));
            }
        }
    }
    out.sort();
    out
}

/// `tls --server-name winbuild --ip 10.0.0.5 --out OUT` plus `extra`, through cargo.
fn tls(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let out_s = out.display().to_string();
    run(with_cargo(&mut bare(dir))
        .args([
            "tls",
            "--server-name",
            "winbuild",
            "--ip",
            "10.0.0.5",
            "--out",
            &out_s,
        ])
        .args(extra))
}

#[test]
fn tls_dry_run_lists_every_path_with_its_mode_and_writes_nothing() {
    let t = TempDir::new("tls-dry");
    let out = t.path().join("certs");
    let before = tree(t.path());
    for flag in ["-n", "--dry-run"] {
        let o = tls(t.path(), &out, &[flag]);
        let text = stdout(&o);
        assert!(o.status.success(), "{text}\n{}", stderr(&o));
        assert!(text.contains("dry run, nothing written"), "{text}");
        assert!(
            text.contains(&format!("create {}/ (mode 0700)", out.display())),
            "{text}"
        );
        for (f, m) in [
            ("ca/", "0700"),
            ("ca/ca.pem", "0644"),
            ("ca/ca-key.pem", "0600"),
            ("node/", "0700"),
            ("node/server-key.pem", "0600"),
            ("node/install.ps1", "0644"),
            ("client/", "0700"),
            ("client/key.pem", "0600"),
        ] {
            let line = format!("{}/{f} (mode {m})", out.display());
            assert!(text.contains(&line), "lacks {line}: {text}");
        }
        assert_eq!(tree(t.path()), before, "{flag} wrote something");
    }

    // Over an existing set, with --force and --ca: checked (the CA for real), nothing changed.
    let o = tls(t.path(), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = tree(t.path());
    let ca = out.join("ca").display().to_string();
    let o = tls(t.path(), &out, &["-n", "--force", "--ca", &ca]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}\n{}", stderr(&o));
    assert!(
        text.contains(&format!(
            "replace {}/client/key.pem (mode 0600)",
            out.display()
        )),
        "{text}"
    );
    assert!(
        !text.contains("ca/ca-key.pem"),
        "the CA is reused, not written: {text}"
    );
    assert!(
        text.contains("checked: a valid CA whose key fits"),
        "{text}"
    );
    assert_eq!(tree(t.path()), before);
    // Without --force the dry run refuses what the real run would.
    let o = tls(t.path(), &out, &["-n"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("exists: not overwriting it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(t.path()), before);
}

#[test]
fn tls_refuses_a_ca_folder_that_does_not_hold_a_ca_naming_ca() {
    let t = TempDir::new("tls-ca");
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    for d in [&a, &b] {
        let o = tls(t.path(), d, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // a's CA cert with b's CA key; a's client cert and key as if they were a CA.
    let mixed = t.path().join("mixed");
    let leaf = t.path().join("leaf");
    for d in [&mixed, &leaf] {
        fs::create_dir_all(d).expect("mkdir");
    }
    fs::copy(a.join("ca/ca.pem"), mixed.join("ca.pem")).expect("cp");
    fs::copy(b.join("ca/ca-key.pem"), mixed.join("ca-key.pem")).expect("cp");
    fs::copy(a.join("client/cert.pem"), leaf.join("ca.pem")).expect("cp");
    fs::copy(a.join("client/key.pem"), leaf.join("ca-key.pem")).expect("cp");
    let out = t.path().join("out");
    for (ca, problem) in [
        (&mixed, "ca-key.pem is not the key of ca.pem"),
        (&leaf, "ca.pem is not a CA certificate"),
    ] {
        let before = tree(t.path());
        let ca_s = ca.display().to_string();
        for dry in [false, true] {
            let mut extra = vec!["--ca", ca_s.as_str()];
            if dry {
                extra.push("-n");
            }
            let o = tls(t.path(), &out, &extra);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(err.contains(&format!("--ca={ca_s:?}")), "{err}");
            assert!(err.contains(problem), "{err}");
            assert!(err.contains("hint: "), "{err}");
            assert_eq!(tree(t.path()), before, "wrote something");
        }
    }
}

#[test]
fn tls_modes_do_not_depend_on_the_umask() {
    let t = TempDir::new("tls-umask");
    let out = t.path().join("certs");
    let out_s = out.display().to_string();
    let umask0 = |extra: &[&str]| {
        let mut c = bare(t.path());
        with_cargo(&mut c)
            .args([
                "tls",
                "--server-name",
                "winbuild",
                "--ip",
                "10.0.0.5",
                "--out",
                &out_s,
            ])
            .args(extra);
        run(&mut under_sh("umask 000", &c))
    };
    let o = umask0(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let check = |what: &str| {
        assert_eq!(mode(&out), 0o700, "{what}: OUT");
        for d in ["ca", "node", "client"] {
            assert_eq!(mode(&out.join(d)), 0o700, "{what}: {d}/");
        }
        for (f, m) in [
            ("ca/ca.pem", 0o644),
            ("ca/ca-key.pem", 0o600),
            ("node/server-key.pem", 0o600),
            ("node/daemon.json", 0o644),
            ("client/key.pem", 0o600),
            ("client/cert.pem", 0o644),
        ] {
            assert_eq!(mode(&out.join(f)), m, "{what}: {f}");
        }
    };
    check("new");
    // Existing folders left world-writable are tightened by --force.
    for d in ["", "ca", "node", "client"] {
        fs::set_permissions(out.join(d), fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    let o = umask0(&["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    fs::set_permissions(&out, fs::Permissions::from_mode(0o700)).expect("chmod");
    check("--force");
}

/// `cmd` run by `sh -c 'PREFIX && exec "$0" "$@"'` with `cmd`'s environment (which starts
/// empty): the program and its arguments stay arguments of sh, never code.
fn under_sh(prefix: &str, cmd: &Command) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(format!("{prefix} && exec \"$0\" \"$@\""))
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    c
}

#[test]
fn tls_failure_while_writing_leaves_nothing_behind() {
    let t = TempDir::new("tls-fail");
    let out = t.path().join("certs");
    // Built first, so that cargo itself has nothing to write under the file-size limit.
    let warm = t.path().join("warm");
    assert!(tls(t.path(), &warm, &[]).status.success());
    fs::remove_dir_all(&warm).expect("rm");

    // A real write error: files may not grow (EFBIG, with SIGXFSZ ignored), so the first
    // certificate written fails after the staging folders exist.
    let out_s = out.display().to_string();
    let no_writes = |extra: &[&str]| {
        let mut c = bare(t.path());
        with_cargo(&mut c)
            .args([
                "tls",
                "--server-name",
                "winbuild",
                "--ip",
                "10.0.0.5",
                "--out",
                &out_s,
            ])
            .args(extra);
        run(&mut under_sh("trap '' XFSZ && ulimit -f 0", &c))
    };
    let before = tree(t.path());
    let o = no_writes(&[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("xtask-tls make failed, nothing written: writing "),
        "{err}"
    );
    assert_eq!(tree(t.path()), before, "a new OUT left behind");

    // Over an existing set with --force: the old set stays as it was.
    assert!(tls(t.path(), &out, &[]).status.success());
    let before = tree(t.path());
    let o = no_writes(&["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(tree(t.path()), before, "the old set changed");
}

#[test]
fn doctor_reports_a_missing_url_as_a_failed_check() {
    let w = World::new("doctor-nourl");
    w.image("alpha", "1.0");
    // Files that are no certificates at all (World's have the outline xtask's cheap check reads).
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        crate::support::write(&w.certs().join(f), "not a real cert\n");
    }
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
    // (A loopback REGISTRY: the default one is HTTPS, whose push needs a `docker login` here.)
    let o = run(w
        .xtask()
        .env("REMOTE_DOCKER_URL", "tcp://127.0.0.1:2376")
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .arg("push"));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("warning: {} is mode 0644", key.display())),
        "{err}"
    );

    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");
    // (A loopback REGISTRY: the default one is HTTPS, whose push needs a `docker login` here.)
    let o = run(w
        .xtask()
        .env("REMOTE_DOCKER_URL", "tcp://127.0.0.1:2376")
        .env("REGISTRY", "127.0.0.1:5000/e2e")
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
