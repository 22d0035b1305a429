//! The Makefile hands target names and variables to xtask as data, never as shell code: make
//! runs the repository's Makefile with CARGO= a fake `cargo` that records its argv and the
//! variables it was given. Hostile target names and values arrive as one word each, and the
//! command injected into them never runs. Also: every target is one `cargo xtask` call, and a
//! failure through make exits 2 with xtask's own code in make's last line. No docker, no stack.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// The variables the fake cargo records, besides its argv.
const RECORDED: [&str; 7] = [
    "MAKEFLAGS",
    "TARGET",
    "REGISTRY",
    "IMAGES",
    "TLS_SERVER_NAME",
    "TLS_OUT",
    "XTASK_MAKE_GOAL",
];

/// A folder holding the fake cargo and its log; make runs here, so an injected
/// `touch PWNED` would create `PWNED` in it.
struct Make {
    dir: TempDir,
}

/// One recorded call: the argv after `cargo`, and RECORDED as (name, value or None).
struct Call {
    argv: Vec<String>,
    env: Vec<(String, Option<String>)>,
}

impl Call {
    fn var(&self, k: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_deref())
    }
}

impl Make {
    fn new() -> Make {
        let dir = TempDir::new("make-safety");
        // Records are separated by 0x1e, words by 0x1f: a newline inside a word stays one word.
        let vars: Vec<String> = RECORDED
            .iter()
            .map(|k| format!("\"{k}=${{{k}-$u}}\""))
            .collect();
        let script = format!(
            "#!/bin/bash\n{{ printf '%s\\x1f' \"$@\"; printf '\\x1e'; }} >> \"$FAKE_CARGO_LOG\"\n\
             u=$'\\x1d'; {{ printf '%s\\x1f' {}; printf '\\x1e'; }} >> \"$FAKE_CARGO_LOG.env\"\n\
             exit \"${{FAKE_CARGO_EXIT:-0}}\"\n",
            vars.join(" ")
        );
        let cargo = dir.path().join("bin/cargo");
        write(&cargo, &script);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Make { dir }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("cargo.log")
    }

    fn makefile() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("root")
            .join("Makefile")
    }

    /// `make -f Makefile CARGO=<fake> ARGS…` in the folder, with a clean environment plus `env`.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new("make");
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FAKE_CARGO_LOG", self.log())
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .arg("--no-print-directory")
            .arg("-f")
            .arg(Self::makefile())
            .arg(format!(
                "CARGO={}",
                self.dir.path().join("bin/cargo").display()
            ))
            .args(args);
        c.output().expect("make")
    }

    fn calls(&self) -> Vec<Call> {
        let records = |path: PathBuf| -> Vec<Vec<String>> {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.split('\x1e')
                .filter(|r| !r.is_empty())
                .map(|r| {
                    r.strip_suffix('\x1f')
                        .unwrap_or(r)
                        .split('\x1f')
                        .map(String::from)
                        .collect()
                })
                .collect()
        };
        let argvs = records(self.log());
        let envs = records(self.log().with_extension("log.env"));
        assert_eq!(argvs.len(), envs.len(), "fake cargo log out of step");
        argvs
            .into_iter()
            .zip(envs)
            .map(|(argv, env)| Call {
                argv,
                env: env
                    .iter()
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').expect("K=V");
                        (k.to_string(), (v != "\x1d").then(|| v.to_string()))
                    })
                    .collect(),
            })
            .collect()
    }

    /// Whether an injected `touch PWNED` ran.
    fn pwned(&self) -> bool {
        self.dir.path().join("PWNED").exists()
    }

    /// Runs make and returns its only cargo call; make must succeed and nothing injected run.
    fn one_call(&self, args: &[&str], env: &[(&str, &str)]) -> Call {
        let _ = std::fs::remove_file(self.log());
        let _ = std::fs::remove_file(self.log().with_extension("log.env"));
        let o = self.run(args, env);
        assert!(o.status.success(), "make {args:?}: {}", stderr(&o));
        assert!(!self.pwned(), "make {args:?} ran the injected command");
        let mut calls = self.calls();
        assert_eq!(calls.len(), 1, "make {args:?}: one cargo call expected");
        calls.remove(0)
    }
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_target_is_one_cargo_xtask_call() {
    let m = Make::new();
    let table: [(&str, &[&str]); 11] = [
        ("all-build", &["xtask", "all-build"]),
        ("all-push", &["xtask", "all-push"]),
        ("all-push-as-linux", &["xtask", "all-push-as-linux"]),
        ("sub-build-alpha", &["xtask", "sub-build-alpha"]),
        ("sub-push-alpha", &["xtask", "sub-push-alpha"]),
        (
            "sub-repush-as-linux-alpha",
            &["xtask", "sub-repush-as-linux-alpha"],
        ),
        ("doctor", &["xtask", "doctor"]),
        ("verify", &["xtask", "verify"]),
        ("plan", &["xtask", "plan"]),
        ("lint", &["xtask", "lint"]),
        ("tls", &["xtask", "tls"]),
    ];
    for (target, want) in table {
        assert_eq!(
            m.one_call(&[target], &[]).argv,
            words(want),
            "make {target}"
        );
    }
    // TARGET picks the target of plan, doctor and verify; IMAGES passes through as a variable.
    for cmd in ["plan", "doctor", "verify"] {
        let c = m.one_call(&[cmd, "TARGET=sub-push-beta", "IMAGES=beta"], &[]);
        assert_eq!(
            c.argv,
            words(&["xtask", cmd, "--", "sub-push-beta"]),
            "make {cmd}"
        );
        assert_eq!(c.var("IMAGES"), Some("beta"));
    }
}

#[test]
fn hostile_target_names_reach_xtask_as_one_word() {
    let m = Make::new();
    for name in [
        "sub-build-alpha;touch${IFS}PWNED",
        "sub-push-alpha`touch PWNED`",
        "sub-repush-as-linux-alpha|touch PWNED",
        "sub-build-a'b\"c&&touch PWNED",
        "sub-push-alpha\ntouch PWNED",
        "sub-build-$${IFS}$$'\\x3b'touch PWNED",
    ] {
        let c = m.one_call(&[name], &[]);
        assert_eq!(c.argv, words(&["xtask", name]), "make {name:?}");
    }
    // make reads `name(member)` as an archive member: the name is cut, but stays one word.
    for name in ["sub-build-$(touch PWNED)", "sub-push-$(shell touch PWNED)"] {
        let c = m.one_call(&[name], &[]);
        assert_eq!(c.argv.len(), 2, "make {name:?}: {:?}", c.argv);
    }
}

#[test]
fn hostile_values_reach_xtask_as_data() {
    let m = Make::new();
    let target = "sub-build-a;touch PWNED";
    let c = m.one_call(&["plan", &format!("TARGET={target}")], &[]);
    assert_eq!(c.argv, words(&["xtask", "plan", "--", target]));
    assert_eq!(c.var("TARGET"), Some(target));

    // A make function in a value given on make's command line, and one from the environment:
    // both arrive as the text typed.
    let evil = "$(shell touch PWNED)/x";
    let c = m.one_call(&["all-build", &format!("REGISTRY={evil}")], &[]);
    assert_eq!(c.var("REGISTRY"), Some(evil));
    let c = m.one_call(&["all-build"], &[("REGISTRY", evil)]);
    assert_eq!(c.var("REGISTRY"), Some(evil));
    let c = m.one_call(&["verify", &format!("TARGET={evil}")], &[]);
    assert_eq!(c.argv, words(&["xtask", "verify", "--", evil]));

    // tls reads its TLS_* variables from the environment; none reaches the recipe text.
    let out = "a b;touch PWNED";
    let c = m.one_call(
        &[
            "tls",
            &format!("TLS_OUT={out}"),
            "TLS_SERVER_NAME=`touch PWNED`",
        ],
        &[],
    );
    assert_eq!(c.argv, words(&["xtask", "tls"]));
    assert_eq!(c.var("TLS_OUT"), Some(out));
    assert_eq!(c.var("TLS_SERVER_NAME"), Some("`touch PWNED`"));
}

#[test]
fn a_target_starting_with_a_dash_is_a_target_never_a_flag() {
    // Before: `make plan TARGET=--help` ran `xtask plan --help`: help, exit 0, nothing checked.
    let m = Make::new();
    for cmd in ["plan", "doctor", "verify"] {
        for t in ["--help", "-V", "--version", "-"] {
            let c = m.one_call(&[cmd, &format!("TARGET={t}")], &[]);
            assert_eq!(
                c.argv,
                words(&["xtask", cmd, "--", t]),
                "make {cmd} TARGET={t}"
            );
        }
    }
}

#[test]
fn make_code_in_makeflags_from_the_environment_does_not_run() {
    // make takes `NAME=VALUE` words of MAKEFLAGS as command-line variables. Before: the one
    // named like the Makefile's loop variable (`v`) escaped the freeze and ran, from
    // MAKEFLAGS as from the command line; SHELL from MAKEFLAGS ran another program instead
    // of the recipe's shell.
    let m = Make::new();
    for flags in [
        "REGISTRY=$$(shell\\ touch\\ PWNED)",
        "k REGISTRY=$$(shell\\ touch\\ PWNED) TARGET=$$(shell\\ touch\\ PWNED)",
        "v=$$(shell\\ touch\\ PWNED)",
        "SHELL=/bin/echo",
        ".SHELLFLAGS=-x",
    ] {
        for target in ["all-build", "plan", "sub-build-alpha"] {
            let c = m.one_call(&[target], &[("MAKEFLAGS", flags)]);
            assert_eq!(c.argv[0], "xtask", "MAKEFLAGS={flags}: {:?}", c.argv);
        }
    }
    // On make's command line the same.
    let c = m.one_call(&["all-build", "v=$(shell touch PWNED)"], &[]);
    assert_eq!(c.argv, words(&["xtask", "all-build"]));
    // The loop's own name is refused, not left unfrozen.
    let o = m.run(&["all-build", "xtask-freeze-var=$(shell touch PWNED)"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!m.pwned());
}

#[test]
fn make_k_reaches_xtask_in_makeflags() {
    // xtask reads KEEP_GOING from the single-letter word of MAKEFLAGS (config/make.rs).
    let m = Make::new();
    let c = m.one_call(&["-k", "all-push-as-linux"], &[]);
    let flags = c.var("MAKEFLAGS").unwrap_or_default().to_string();
    assert!(
        flags
            .split_whitespace()
            .next()
            .is_some_and(|w| w.contains('k')),
        "{flags:?}"
    );
    // Without -k the first word is a long flag (--no-print-directory here), whatever letters
    // the rest holds (the fake cargo's path has a k).
    let c = m.one_call(&["all-push-as-linux"], &[]);
    let flags = c.var("MAKEFLAGS").unwrap_or_default().to_string();
    assert!(
        flags
            .split_whitespace()
            .next()
            .is_some_and(|w| w.starts_with("--")),
        "{flags:?}"
    );
}

#[test]
fn tls_args_is_refused_before_anything_runs() {
    let m = Make::new();
    for (args, env) in [
        (vec!["tls", "TLS_ARGS=--force; touch PWNED"], vec![]),
        (vec!["tls"], vec![("TLS_ARGS", "--force; touch PWNED")]),
    ] {
        let o = m.run(&args, &env);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("TLS_ARGS"), "{}", stderr(&o));
        assert!(stderr(&o).contains("TLS_OUT"), "a hint: {}", stderr(&o));
        assert!(m.calls().is_empty(), "cargo ran");
        assert!(!m.pwned());
    }
}

#[test]
fn a_failure_through_make_exits_2_naming_xtasks_code() {
    let m = Make::new();
    for code in ["1", "2", "130"] {
        let o = m.run(&["all-build"], &[("FAKE_CARGO_EXIT", code)]);
        assert_eq!(o.status.code(), Some(2), "make's own code");
        let last = stderr(&o).lines().last().unwrap_or_default().to_string();
        assert!(
            last.contains("all-build") && last.ends_with(&format!("Error {code}")),
            "{last}"
        );
    }
}
