//! Docker: the only place that knows docker's command-line flags. Every function returns an
//! argv (`docker …`) for the plan; nothing here runs anything except `find`,
//! `buildx_version`, `query` and `query_timeout`: read-only checks and queries.

use std::path::{Path, PathBuf};

use xshell::{cmd, Shell};

use crate::config::Node;
use crate::exit::BadInput;

/// `docker --tlsverify --tlscacert C/ca.pem --tlscert C/cert.pem --tlskey C/key.pem -H URL`:
/// mutual TLS, always, to a remote node.
pub fn remote(node: &Node) -> Vec<String> {
    let c = &node.cert_path;
    vec![
        "docker".into(),
        "--tlsverify".into(),
        "--tlscacert".into(),
        path(&c.join("ca.pem")),
        "--tlscert".into(),
        path(&c.join("cert.pem")),
        "--tlskey".into(),
        path(&c.join("key.pem")),
        "-H".into(),
        node.url.clone(),
    ]
}

/// Build arguments for a node build, in the order docker is given them.
pub struct NodeBuild<'a> {
    pub tag: &'a str,
    pub dockerfile: &'a Path,
    pub context: &'a str,
    pub build_args: &'a [(String, String)],
    pub hyperv: bool,
    /// `key=value` label (skip-unchanged's inputs digest).
    pub label: Option<String>,
}

/// `… build --no-cache --pull -t TAG -f DOCKERFILE CONTEXT`: upstream always rebuilds so a
/// build picks up the base image's latest Windows patches.
pub fn node_build(node: &Node, b: &NodeBuild) -> Vec<String> {
    let mut argv = remote(node);
    argv.extend(["build", "--no-cache", "--pull"].map(String::from));
    if b.hyperv {
        argv.push("--isolation=hyperv".into());
    }
    for (k, v) in b.build_args {
        argv.push("--build-arg".into());
        argv.push(format!("{k}={v}"));
    }
    if let Some(l) = &b.label {
        argv.push("--label".into());
        argv.push(l.clone());
    }
    argv.extend([
        "-t".into(),
        b.tag.into(),
        "-f".into(),
        path(b.dockerfile),
        b.context.into(),
    ]);
    argv
}

/// `… push TAG` from the node.
pub fn node_push(node: &Node, tag: &str) -> Vec<String> {
    let mut argv = remote(node);
    argv.extend(["push".into(), tag.into()]);
    argv
}

/// The Linux cache image, built by the local buildx straight into the registry.
pub fn cache_build(
    tag: &str,
    build_args: &[(String, String)],
    label: Option<String>,
    context: &str,
) -> Vec<String> {
    let mut argv: Vec<String> = [
        "docker",
        "buildx",
        "build",
        "--progress=plain",
        "--no-cache",
        "--pull",
        "--output=type=registry",
        "--platform",
        "linux/amd64",
    ]
    .map(String::from)
    .into();
    for (k, v) in build_args {
        argv.push("--build-arg".into());
        argv.push(format!("{k}={v}"));
    }
    if let Some(l) = label {
        argv.push("--label".into());
        argv.push(l);
    }
    argv.extend(["-t".into(), tag.into(), context.into()]);
    argv
}

/// `docker buildx imagetools inspect --raw REF`: the manifest or index as the registry holds
/// it, through docker's own credentials. Read-only.
pub fn inspect_raw(reference: &str) -> Vec<String> {
    [
        "docker",
        "buildx",
        "imagetools",
        "inspect",
        "--raw",
        reference,
    ]
    .map(String::from)
    .into()
}

/// `docker manifest create [--insecure] --amend LIST ENTRY…`: `docker manifest` (unlike
/// `buildx imagetools create`) copies os.version into the list.
pub fn manifest_create(list: &str, entries: &[String], insecure: bool) -> Vec<String> {
    let mut argv: Vec<String> = vec!["docker".into(), "manifest".into(), "create".into()];
    if insecure {
        argv.push("--insecure".into());
    }
    argv.push("--amend".into());
    argv.push(list.into());
    argv.extend(entries.iter().cloned());
    argv
}

/// `docker manifest annotate --os-version V LIST ENTRY` (needs docker ≥ 20.10).
pub fn manifest_annotate(list: &str, entry: &str, os_version: &str) -> Vec<String> {
    [
        "docker",
        "manifest",
        "annotate",
        "--os-version",
        os_version,
        list,
        entry,
    ]
    .map(String::from)
    .into()
}

/// `docker manifest push [--insecure] --purge LIST`; --purge drops the local copy so the next
/// run starts from the registry's state, not a stale local list.
pub fn manifest_push(list: &str, insecure: bool) -> Vec<String> {
    let mut argv: Vec<String> = vec!["docker".into(), "manifest".into(), "push".into()];
    if insecure {
        argv.push("--insecure".into());
    }
    argv.push("--purge".into());
    argv.push(list.into());
    argv
}

/// The docker CLI, found on PATH. Missing is bad input (exit 2): nothing can run.
pub fn find() -> anyhow::Result<PathBuf> {
    which::which("docker").map_err(|_| {
        BadInput::new(
            "PATH",
            std::env::var("PATH").unwrap_or_default(),
            "no docker CLI found on it",
            "install the docker CLI (e.g. apt-get install docker-cli / docker.io) or put it on PATH",
        )
    })
}

/// `docker buildx version`, read-only; missing buildx is bad input for targets that need it.
pub fn buildx_version(sh: &Shell, docker: &Path) -> anyhow::Result<String> {
    let out = cmd!(sh, "{docker} buildx version")
        .quiet()
        .ignore_stderr()
        .read();
    match out {
        Ok(v) => Ok(v.trim().to_string()),
        Err(_) => Err(BadInput::new(
            "docker buildx",
            docker.display().to_string(),
            "`docker buildx version` failed: the buildx plugin is missing",
            "install docker-buildx (Debian: docker-buildx) or put docker-buildx in ~/.docker/cli-plugins/",
        )),
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `docker manifest inspect [--insecure] -v REF`: the descriptor, with the platform docker
/// read from the image config (os.version included when the config has it). Read-only.
pub fn manifest_inspect_verbose(reference: &str, insecure: bool) -> Vec<String> {
    let mut argv: Vec<String> = vec!["docker".into(), "manifest".into(), "inspect".into()];
    if insecure {
        argv.push("--insecure".into());
    }
    argv.extend(["-v".into(), reference.into()]);
    argv
}

/// `docker manifest rm LIST`: forgets a local list (never touches the registry).
pub fn manifest_rm(list: &str) -> Vec<String> {
    ["docker", "manifest", "rm", list].map(String::from).into()
}

/// `docker buildx imagetools inspect --format '{{json .Image}}' REF`: the image config(s),
/// one object for a single platform (attestations aside), a platform-keyed map otherwise.
pub fn inspect_config(reference: &str) -> Vec<String> {
    [
        "docker",
        "buildx",
        "imagetools",
        "inspect",
        "--format",
        "{{json .Image}}",
        reference,
    ]
    .map(String::from)
    .into()
}

/// Runs a read-only docker query quietly: Ok(stdout) or Err(stderr).
pub fn query(sh: &Shell, docker: &Path, argv: &[String]) -> Result<String, String> {
    let out = sh
        .cmd(docker)
        .args(&argv[1..])
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `docker buildx imagetools inspect --format '{{json .Manifest}}' REF`: the descriptor
/// (digest) REF resolves to now. Read-only.
pub fn inspect_descriptor(reference: &str) -> Vec<String> {
    [
        "docker",
        "buildx",
        "imagetools",
        "inspect",
        "--format",
        "{{json .Manifest}}",
        reference,
    ]
    .map(String::from)
    .into()
}

/// `docker --version`: the CLI's own version, without asking any daemon (`docker version`
/// would also dial DOCKER_HOST). Read-only.
pub fn cli_version() -> Vec<String> {
    ["docker", "--version"].map(String::from).into()
}

/// `docker --tlsverify … -H URL version --format '{{json .Server}}'`: the node's daemon
/// version, OS and kernel (a Windows kernel version carries the OS build). Read-only.
pub fn node_version(node: &Node) -> Vec<String> {
    let mut argv = remote(node);
    argv.extend(["version", "--format", "{{json .Server}}"].map(String::from));
    argv
}

/// What a read-only query with a deadline came to.
#[derive(Debug)]
pub enum Answer {
    /// Exit 0: its stdout.
    Ok(String),
    /// A non-zero exit: its stderr (or stdout when stderr is empty).
    Failed(String),
    /// Still running at the deadline: killed.
    TimedOut,
}

/// Runs a read-only docker query with a deadline (a node behind a silent firewall would make
/// docker wait for minutes); the child is killed when the time is up.
pub fn query_timeout(docker: &Path, argv: &[String], timeout: std::time::Duration) -> Answer {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let spawned = Command::new(docker)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Answer::Failed(format!("cannot run {}: {e}", docker.display())),
    };
    // Readers on their own threads so a chatty child never blocks on a full pipe.
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = child.stdout.take().map(|s| read(Box::new(s)));
    let err = child.stderr.take().map(|s| read(Box::new(s)));
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                // The readers are left to finish on their own: a plugin docker started
                // (buildx) may still hold the pipes open.
                return Answer::TimedOut;
            }
            Err(e) => return Answer::Failed(format!("waiting for docker: {e}")),
        }
    };
    let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        Answer::Ok(stdout)
    } else if stderr.trim().is_empty() {
        Answer::Failed(stdout.trim().to_string())
    } else {
        Answer::Failed(stderr.trim().to_string())
    }
}
