//! The real Docker stack for end-to-end tests (started by `ci/stack.sh up`, which writes
//! `$STACK_HOME/env`, default `target/stack/env`): a registry, three TLS "Windows nodes" (1809,
//! ltsc2022, ltsc2025; each behind a Windows-persona front, docs/personas.md) and a local
//! dockerd with buildx, all on loopback. Registry checks go through `ci/registry.py`, the
//! registry's HTTP API, never through the tool or docker.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

/// Who may use the stack now. Every stack test holds it while it runs: shared by the tests that
/// only use the stack, exclusive for those that stop a piece of it (faults_e2e.rs). When each
/// test file was its own binary, cargo ran the files one after another and a file-local mutex
/// was enough; in the one binary a stopped registry would fail a test of another module.
static USE: RwLock<()> = RwLock::new(());

/// The hold a `Stack` keeps on `USE` for as long as the test keeps the `Stack`.
enum Hold {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

pub struct Stack {
    pub env: HashMap<String, String>,
    pub root: PathBuf,
    /// The env file the stack was found by.
    pub file: PathBuf,
    _hold: Hold,
}

impl Stack {
    /// The running stack, or a panic that says how to start one. Every test that calls this is
    /// `#[ignore = "needs the loopback stack: make e2e"]`: `cargo test` lists it as ignored, and
    /// whoever runs it anyway (`make check`, `make e2e`, `--include-ignored`) asked for the
    /// stack, so a missing stack is a failure, never a silent pass.
    pub fn get() -> Stack {
        // A test that panicked while holding the lock poisons it; the stack itself is
        // restored by that test's own guards, so the next test may go on.
        Stack::found(Hold::Shared(USE.read().unwrap_or_else(|e| e.into_inner())))
    }

    /// The running stack, for this test alone: no other stack test runs until it is dropped.
    /// For the tests that stop and restart pieces of the stack.
    pub fn exclusive() -> Stack {
        Stack::found(Hold::Exclusive(
            USE.write().unwrap_or_else(|e| e.into_inner()),
        ))
    }

    fn found(hold: Hold) -> Stack {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("root")
            .to_path_buf();
        let file = env_file(&root);
        let reason = match std::fs::read_to_string(&file) {
            Err(_) => format!("no {} (the stack is not up)", file.display()),
            Ok(text) => {
                let env = parse_env(&text);
                let host = env.get("REGISTRY_HOST").cloned().unwrap_or_default();
                if std::net::TcpStream::connect(&host).is_ok() {
                    return Stack {
                        env,
                        root,
                        file,
                        _hold: hold,
                    };
                }
                format!(
                    "the registry at {host:?} named by {} does not answer",
                    file.display()
                )
            }
        };
        panic!(
            "this test needs the loopback stack: {reason}. `make e2e` starts one (at STACK_HOME, default target/stack), runs the stack tests and stops it; or `ci/stack.sh up` and `cargo test -- --ignored`"
        );
    }

    pub fn var(&self, k: &str) -> String {
        self.env
            .get(k)
            .cloned()
            .unwrap_or_else(|| panic!("stack env lacks {k}"))
    }

    /// A registry namespace of this test's own, seeded with the two stand-in Windows bases
    /// (`NS/windows-base:1809` and `:ltsc2022`, as the fixtures' BASEIMAGE files name them).
    pub fn namespace(&self, name: &str) -> String {
        let ns = format!(
            "{}/{name}-{}",
            self.var("REGISTRY_HOST"),
            std::process::id()
        );
        for os in ["1809", "ltsc2022"] {
            let repo = format!("{}/windows-base", ns.split_once('/').expect("ns").1);
            let o = self.py(&[
                "seed-base",
                &self.var("REGISTRY_HOST"),
                &repo,
                os,
                &self.var(&format!("NODE_OS_VERSION_{os}")),
            ]);
            assert!(
                o.status.success(),
                "seed-base: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        ns
    }

    /// A command with the stack's environment (its docker daemons, buildx, PATH) and
    /// DOCKER_DEFAULT_PLATFORM=windows/amd64 so the Linux "nodes" write Windows images.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear();
        let path = format!(
            "{}:{}",
            self.var("PATH"),
            std::env::var("PATH").unwrap_or_default()
        );
        for k in ["DOCKER_HOST", "DOCKER_CONFIG"] {
            c.env(k, self.var(k));
        }
        if let Some(h) = std::env::var_os("HOME") {
            c.env("HOME", h);
        }
        for k in ["CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
            if let Some(v) = std::env::var_os(k) {
                c.env(k, v);
            }
        }
        c.env("PATH", path)
            .env("DOCKER_DEFAULT_PLATFORM", "windows/amd64")
            .current_dir(&self.root);
        c
    }

    /// `make VAR=… TARGET` in the repository, the user's entry point, against node 1809.
    pub fn make(
        &self,
        registry: &str,
        images_dir: &Path,
        target: &str,
        extra: &[String],
    ) -> Output {
        let mut c = self.cmd("make");
        c.arg("--no-print-directory")
            .arg(format!("REGISTRY={registry}"))
            .arg(format!(
                "REMOTE_DOCKER_URL={}",
                self.var("REMOTE_DOCKER_URL_1809")
            ))
            .arg(format!("DOCKER_CERT_PATH={}", self.var("DOCKER_CERT_PATH")))
            .arg(format!("IMAGES_DIR={}", images_dir.display()))
            .args(extra)
            .arg(target);
        c.output().expect("make")
    }

    /// The xtask binary with the stack's environment.
    pub fn xtask(&self, registry: &str, images_dir: &Path) -> Command {
        let mut c = self.cmd(env!("CARGO_BIN_EXE_xtask"));
        c.env("REGISTRY", registry)
            .env("REMOTE_DOCKER_URL", self.var("REMOTE_DOCKER_URL_1809"))
            .env("DOCKER_CERT_PATH", self.var("DOCKER_CERT_PATH"))
            .env("IMAGES_DIR", images_dir);
        c
    }

    pub fn fixtures(&self) -> PathBuf {
        PathBuf::from(self.var("FIXTURES_DIR"))
    }

    fn py(&self, args: &[&str]) -> Output {
        Command::new("python3")
            .arg(self.root.join("ci/registry.py"))
            .args(args)
            .output()
            .expect("python3 ci/registry.py")
    }

    /// What the registry holds at REF (None: nothing), read through its HTTP API.
    pub fn inspect(&self, reference: &str) -> Option<Value> {
        let o = self.py(&["inspect", reference]);
        if !o.status.success() {
            return None;
        }
        Some(serde_json::from_slice(&o.stdout).expect("registry.py inspect json"))
    }

    /// The content of the file PATH (as the layer names it, e.g. `Files/x` in a Windows
    /// image) in the one image at REF, read through the registry's HTTP API; None if absent.
    pub fn cat(&self, reference: &str, path: &str) -> Option<Vec<u8>> {
        let o = self.py(&["cat", reference, path]);
        o.status.success().then_some(o.stdout)
    }

    pub fn delete(&self, reference: &str) {
        let o = self.py(&["delete", reference]);
        assert!(
            o.status.success(),
            "delete {reference}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// The digest REF points at, or that of its entry for PLATFORM (`windows/amd64`), as the
    /// registry reports it.
    pub fn digest(&self, reference: &str, platform: Option<&str>) -> String {
        let mut args = vec!["digest", reference];
        if let Some(p) = platform {
            args.extend(["--platform", p]);
        }
        let o = self.py(&args);
        assert!(
            o.status.success(),
            "digest {reference}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Pushes a hand-made list at REF (a tag): entries `DIGEST` or `DIGEST=OSVERSION`, each a
    /// windows/amd64 manifest of REF's repository (`ci/registry.py put-list`).
    pub fn put_list(&self, reference: &str, entries: &[String]) {
        let mut args = vec!["put-list", reference];
        args.extend(entries.iter().map(String::as_str));
        let o = self.py(&args);
        assert!(
            o.status.success(),
            "put-list {reference}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Runs a stack.sh subcommand (fault injection: stop-node OS, start-node OS, …) on this
    /// stack (its STACK_HOME, whichever way the env file was found).
    pub fn stack_sh(&self, args: &[&str]) {
        let o = Command::new(self.root.join("ci/stack.sh"))
            .args(args)
            .env("STACK_HOME", self.var("STACK_HOME"))
            .env("STACK_PREFIX", self.var("STACK_PREFIX"))
            .output()
            .expect("ci/stack.sh");
        assert!(
            o.status.success(),
            "stack.sh {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The images of REF that are real (attestations, `unknown/unknown`, skipped): each as
/// (os, architecture, platform os.version of its list entry, files).
pub fn images(v: &Value) -> Vec<(String, String, Option<String>, Vec<String>)> {
    let one = |img: &Value, entry_os_version: Option<String>| {
        (
            img["os"].as_str().unwrap_or_default().to_string(),
            img["architecture"].as_str().unwrap_or_default().to_string(),
            entry_os_version,
            img["files"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    match v["manifests"].as_array() {
        Some(entries) => entries
            .iter()
            .filter(|m| m["platform"]["os"] != "unknown" && !m["image"].is_null())
            .map(|m| {
                one(
                    &m["image"],
                    m["platform"]["os.version"].as_str().map(String::from),
                )
            })
            .collect(),
        None => vec![one(&v["image"], None)],
    }
}

/// Where the stack's env file is: XTASK_STACK_ENV, else $STACK_HOME/env (as `ci/stack.sh up`
/// writes it; a relative STACK_HOME is taken from the repository root, where make runs), else
/// <repo>/target/stack/env.
fn env_file(root: &Path) -> PathBuf {
    let set = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(f) = set("XTASK_STACK_ENV") {
        return f;
    }
    match set("STACK_HOME") {
        Some(home) => root.join(home).join("env"),
        None => root.join("target/stack/env"),
    }
}

fn parse_env(text: &str) -> HashMap<String, String> {
    // `export K=V`, or `K=V` for matrix mode's node variables (not exported, so that a shell
    // that sources the file gets no "set but not used" warning in compat mode).
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.strip_prefix("export ").unwrap_or(l))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            // Values are single-quoted, a ' inside written as '\''.
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.to_string(), v.replace(r"'\''", "'"))
        })
        .collect()
}
