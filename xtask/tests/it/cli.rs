//! The command line as a user meets it, on the real binary with a fake docker: flags before or
//! after the command, a switch that never takes the command, `--version`, per-command help,
//! `verify IMG`, make targets with flags, warnings for variables that mean nothing, absolute
//! paths for docker, VERSION and folder conventions of upstream, shell completions, and an
//! expired client certificate made by `cargo xtask tls` refused before any docker call.
//! (Refusals are rows of bad_input.rs.)

use std::path::Path;
use std::process::Command;

use crate::support::*;

const NODE: (&str, &str) = ("REMOTE_DOCKER_URL", "tcp://winbuild:2376");

fn world(tag: &str) -> World {
    let w = World::new(tag);
    w.image("alpha", "1.0");
    w.image("beta", "2.0");
    w
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

#[test]
fn a_switch_before_the_command_never_takes_it() {
    let w = world("cli-switch");
    // Issue 11: this printed the help and exited 0 without building.
    let o = run(w
        .xtask()
        .args(["--skip-unchanged", "-n", "push"])
        .env(NODE.0, NODE.1));
    ok(&o);
    let out = stdout(&o);
    assert!(out.contains("--label 'xtask.inputs="), "{out}");
    assert!(
        out.contains(" push registry.k8s.io/e2e-test-images/alpha:1.0"),
        "{out}"
    );
    // The same flags after the command: the same plan.
    let after = run(w
        .xtask()
        .args(["push", "-n", "--skip-unchanged"])
        .env(NODE.0, NODE.1));
    assert_eq!(stdout(&after), out);
    // SKIP_UNCHANGED=1 means the same as the flag.
    let env = run(w
        .xtask()
        .args(["push", "-n"])
        .env(NODE.0, NODE.1)
        .env("SKIP_UNCHANGED", "1"));
    assert_eq!(stdout(&env), out);
    assert!(w.calls().is_empty(), "{:?}", w.calls());
}

#[test]
fn flags_go_before_or_after_any_command_and_make_targets() {
    let w = world("cli-order");
    let a = run(w
        .xtask()
        .args(["-n", "--json", "sub-build-alpha"])
        .env(NODE.0, NODE.1));
    ok(&a);
    let b = run(w
        .xtask()
        .args(["sub-build", "alpha", "--dry-run", "--json"])
        .env(NODE.0, NODE.1));
    ok(&b);
    assert_eq!(stdout(&a), stdout(&b));
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json");
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(1));
    let j = run(w
        .xtask()
        .args(["--registry", "127.0.0.1:5000/e2e", "plan", "build", "beta"]));
    ok(&j);
    assert!(
        stdout(&j).contains("127.0.0.1:5000/e2e/beta:2.0"),
        "{}",
        stdout(&j)
    );
    assert!(!stdout(&j).contains("alpha"), "{}", stdout(&j));
}

#[test]
fn the_run_itself_starts_with_the_switch_first() {
    let w = world("cli-run");
    let o = run(w
        .xtask()
        .args(["-j", "1", "build", "alpha"])
        .env(NODE.0, NODE.1));
    ok(&o);
    let builds: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.iter().any(|a| a == "build"))
        .collect();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert!(
        builds[0].iter().any(|a| a.ends_with("alpha:1.0")),
        "{builds:?}"
    );
}

#[test]
fn version_names_the_commit_of_a_checkout() {
    let w = world("cli-version");
    for flag in ["--version", "-V"] {
        let o = run(w.xtask().arg(flag));
        ok(&o);
        let out = stdout(&o);
        let want = format!("cargo xtask {}", env!("CARGO_PKG_VERSION"));
        assert!(out.starts_with(&want), "{out}");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let git = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(["rev-parse", "--short=12", "HEAD"])
            .output();
        if let Some(g) = git.ok().filter(|g| g.status.success()) {
            let commit = String::from_utf8_lossy(&g.stdout).trim().to_string();
            assert!(out.contains(&format!("(git {commit}")), "{out} vs {commit}");
        }
    }
}

#[test]
fn help_of_a_command_lists_only_what_applies_with_an_example() {
    let w = world("cli-help");
    let help = |args: &[&str]| {
        let o = run(w.xtask().args(args));
        ok(&o);
        stdout(&o)
    };
    let lint = help(&["help", "lint"]);
    assert!(
        lint.contains("Usage: cargo xtask lint [OPTIONS] [IMG]..."),
        "{lint}"
    );
    assert!(lint.contains("--json"), "{lint}");
    assert!(lint.contains("Examples:"), "{lint}");
    // --registry: `lint --bases` reads the pushed images (docs/release.md).
    assert!(
        lint.contains("--registry") && lint.contains("--bases"),
        "{lint}"
    );
    for not in [
        "--dry-run",
        "--remote-docker-url",
        "--jobs",
        "--os-versions",
    ] {
        assert!(!lint.contains(not), "lint's help shows {not}:\n{lint}");
    }
    let verify = help(&["verify", "--help"]);
    assert!(verify.contains("--registry"), "{verify}");
    assert!(!verify.contains("--remote-docker-url"), "{verify}");
    let build = help(&["help", "build"]);
    for want in [
        "--node <OS=URL>",
        "--skip-unchanged",
        "-n, --dry-run",
        "--os-versions",
        "Examples:",
    ] {
        assert!(build.contains(want), "build's help lacks {want}:\n{build}");
    }
    let top = help(&[]);
    assert!(top.contains("Usage: cargo xtask [COMMAND]"), "{top}");
}

#[test]
fn verify_takes_an_image_where_the_target_goes() {
    let w = world("cli-verify");
    let o = run(w.xtask().args(["verify", "alpha"]));
    // The fake docker answers no manifest: the check fails, naming alpha's tags only.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("alpha:1.0-linux-cache"), "{out}");
    assert!(!out.contains("beta"), "{out}");
    // A target first still works, with images after it.
    let o = run(w.xtask().args(["verify", "push", "beta"]));
    let out = stdout(&o);
    assert!(out.contains("beta:2.0"), "{out}");
    assert!(!out.contains("linux-cache"), "{out}");
}

#[test]
fn variables_that_mean_nothing_here_are_named() {
    let w = world("cli-unused");
    let o = run(w
        .xtask()
        .args(["plan", "build"])
        .env("OS_VERSIONS", "1809")
        .env("REMOTE_DOCKER_URL_1809", "tcp://a:2376")
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://b:2376")
        .env("REMOTE_DOCKER_URL", "tcp://c:2376"));
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("xtask: warning: set but not used: REMOTE_DOCKER_URL_ltsc2022 (not in OS_VERSIONS: 1809)\n"),
        "{err}"
    );
    assert!(
        err.contains("xtask: warning: set but not used: REMOTE_DOCKER_URL (every release of OS_VERSIONS has its own node)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    // Compat mode: every per-release URL and DOCKER_CERT_BASE_PATH, on one line.
    let o = run(w
        .xtask()
        .args(["plan", "build"])
        .env("REMOTE_DOCKER_URL_1809", "tcp://a:2376")
        .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://b:2376")
        .env("DOCKER_CERT_BASE_PATH", "/somewhere"));
    ok(&o);
    assert_eq!(
        stderr(&o),
        "xtask: warning: set but not used without OS_VERSIONS (compat mode: one node, REMOTE_DOCKER_URL, certs in DOCKER_CERT_PATH): REMOTE_DOCKER_URL_1809, REMOTE_DOCKER_URL_ltsc2022, DOCKER_CERT_BASE_PATH\n"
    );
    // REGISTRY_INSECURE did something once (docker manifest's --insecure); now it is said to
    // be ignored.
    let o = run(w
        .xtask()
        .args(["plan", "build"])
        .env("REGISTRY_INSECURE", "1"));
    ok(&o);
    assert_eq!(
        stderr(&o),
        "xtask: warning: REGISTRY_INSECURE is obsolete and ignored: lists are pushed by `docker buildx imagetools`, which needs no --insecure\n"
    );
}

#[test]
fn node_flags_name_the_node_of_each_release() {
    let w = world("cli-node");
    let o = run(w.xtask().args([
        "plan",
        "build",
        "--os-versions",
        "1809 next=30000",
        "--node",
        "1809=tcp://win2019:2376",
        "--node",
        "next=tcp://winnext:2376",
    ]));
    ok(&o);
    let out = stdout(&o);
    assert!(out.contains("-H tcp://win2019:2376 build"), "{out}");
    assert!(out.contains("-H tcp://winnext:2376 build"), "{out}");
    assert!(out.contains("alpha:1.0-windows-amd64-next"), "{out}");
    // The flag wins over the environment.
    let o = run(w
        .xtask()
        .args(["plan", "build", "--node", "1809=tcp://flag:2376"])
        .env("OS_VERSIONS", "1809")
        .env("REMOTE_DOCKER_URL_1809", "tcp://env:2376"));
    ok(&o);
    assert!(stdout(&o).contains("tcp://flag:2376"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("tcp://env:2376"), "{}", stdout(&o));
}

#[test]
fn docker_gets_absolute_paths_and_upstreams_conventions_hold() {
    let w = world("cli-paths");
    // A relative IMAGES_DIR that starts with '-': docker must not read it as a flag.
    let dash = w.root().join("-x");
    std::fs::rename(w.images(), &dash).expect("mv");
    // VERSION with trailing blank lines, as upstream's Makefile accepts; a dot folder skipped.
    write(&dash.join("alpha/VERSION"), "1.0\n\n\n");
    write(&dash.join(".cache/VERSION"), "not a tag at all\n");
    let o = run(w
        .xtask()
        .args(["plan", "build"])
        .env("IMAGES_DIR", "-x")
        .env("DOCKER_CERT_PATH", "certs"));
    ok(&o);
    let out = stdout(&o);
    let abs = dash.display().to_string();
    assert!(
        out.contains(&format!("-f {abs}/alpha/Dockerfile_windows {abs}/alpha/")),
        "{out}"
    );
    assert!(
        out.contains(&format!("--tlscacert {}/ca.pem", w.certs().display())),
        "{out}"
    );
    assert!(out.contains("alpha:1.0 "), "{out}");
    assert!(!out.contains(".cache"), "{out}");
}

#[test]
fn completions_for_bash_complete_cargo_xtask() {
    let w = world("cli-complete");
    let o = run(w.xtask().args(["completions", "bash"]));
    ok(&o);
    let script = w.root().join("complete.bash");
    write(&script, &stdout(&o));
    let probe = format!(
        r#"source '{}'
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=();
      _cargo_xtask_hook cargo "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}";
      echo "${{COMPREPLY[*]}}"; }}
t cargo xtask doc
t cargo xtask build --os
t cargo xtask lint --
"#,
        script.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(probe)
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines[0], "doctor");
    assert_eq!(lines[1], "--os-versions");
    // The flags, in any order (completion's own order is clap's, which values change).
    let mut flags: Vec<&str> = lines[2].split(' ').collect();
    flags.sort();
    assert_eq!(
        flags,
        [
            "--bases",
            "--help",
            "--images",
            "--images-dir",
            "--json",
            "--online",
            "--registry",
            "--registry-insecure",
            "--registry-timeout"
        ]
    );

    let o = run(w.xtask().args(["completions", "zsh"]));
    ok(&o);
    let z = stdout(&o);
    assert!(z.starts_with("#compdef cargo-xtask\n"), "{z}");
    assert!(z.contains("_cargo-xtask() {"), "{z}");
    assert!(z.contains("--skip-unchanged"), "{z}");
}

#[test]
fn an_expired_certificate_made_by_cargo_xtask_tls_is_refused_before_docker() {
    let w = world("cli-expired");
    let out = w.root().join("tls");
    let out_s = out.display().to_string();
    let make = |dir: &str, extra: &[&str]| {
        let mut c = w.xtask();
        with_cargo(&mut c)
            .args([
                "tls",
                "--server-name",
                "winbuild",
                "--ip",
                "10.0.0.5",
                "--out",
            ])
            .arg(format!("{out_s}/{dir}"))
            .args(extra);
        ok(&run(&mut c));
    };
    // Valid for one day, three days ago; and a fresh set.
    make("old", &["--days", "1", "--backdate", "3"]);
    make("new", &[]);
    let o = run(w
        .xtask()
        .arg("build")
        .env(NODE.0, NODE.1)
        .env("DOCKER_CERT_PATH", out.join("old/client")));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cert.pem: the client certificate expired on "),
        "{err}"
    );
    assert!(w.mutating_calls().is_empty(), "{:?}", w.mutating_calls());
    // The fresh one passes the same check: the build runs (on the fake docker).
    let o = run(w
        .xtask()
        .arg("build")
        .env(NODE.0, NODE.1)
        .env("DOCKER_CERT_PATH", out.join("new/client")));
    ok(&o);
    assert!(!w.mutating_calls().is_empty());
}

/// `cargo xtask plan … | head -1`: the reader goes away after one line; the command ends as
/// SIGPIPE would (exit 141), without a panic or backtrace.
#[test]
fn a_closed_stdout_ends_a_report_without_a_panic() {
    let w = world("closedout");
    for args in [
        &["plan", "all-push-as-linux"][..],
        &["lint"][..],
        &["--version"][..],
    ] {
        // A pipe whose read end is closed before xtask starts: its every write fails with
        // EPIPE, as after `| head -1` has read its line.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = w
            .xtask()
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(141), "{args:?}: {err}");
    }
}
