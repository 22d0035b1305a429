//! Docker's command lines: every function returns an argv (`docker …`) built from data; the
//! plan holds them, the executor and the queries run them. Nothing here runs anything.

use std::path::Path;

use crate::config::Node;

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
        node.address().to_string(),
    ]
}

/// Build arguments for a node build, in the order docker is given them.
pub struct NodeBuild<'a> {
    pub tag: &'a str,
    pub dockerfile: &'a Path,
    pub context: &'a str,
    pub build_args: &'a [(String, String)],
    /// `--isolation=VALUE` (process, hyperv, or a plan's placeholder); None: no flag.
    pub isolation: Option<&'a str>,
    /// `key=value` label (skip-unchanged's inputs digest).
    pub label: Option<String>,
}

/// `… build --no-cache --pull -t TAG -f DOCKERFILE CONTEXT`: upstream always rebuilds so a
/// build picks up the base image's latest Windows patches.
pub fn node_build(node: &Node, b: &NodeBuild) -> Vec<String> {
    let mut argv = remote(node);
    argv.extend(["build", "--no-cache", "--pull"].map(String::from));
    if let Some(i) = b.isolation {
        argv.push(format!("--isolation={i}"));
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

/// `docker buildx imagetools create -t TAG FROM`: TAG becomes FROM as the registry holds it
/// (one source: its manifest or index is pushed again under TAG, unchanged).
pub fn imagetools_copy(tag: &str, from: &str) -> Vec<String> {
    ["docker", "buildx", "imagetools", "create", "-t", tag, from]
        .map(String::from)
        .into()
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

/// `docker buildx imagetools create -t LIST SOURCE…`: pushes the list straight to the
/// registry, each source a descriptor (`oci::Descriptor::windows_source`) so os.version is
/// kept. Unlike `docker manifest`, nothing is kept in a local store shared between runs.
pub fn imagetools_create(list: &str, sources: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = ["docker", "buildx", "imagetools", "create", "-t", list]
        .map(String::from)
        .into();
    argv.extend(sources.iter().cloned());
    argv
}

fn path(p: &Path) -> String {
    p.display().to_string()
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

/// `docker version --format '{{json .Server}}'` without -H: the daemon this machine's local
/// commands (cache builds, lists, registry queries) reach, as DOCKER_HOST, DOCKER_CONTEXT and
/// DOCKER_TLS_VERIFY make it. Read-only.
pub fn local_version() -> Vec<String> {
    ["docker", "version", "--format", "{{json .Server}}"]
        .map(String::from)
        .into()
}

/// `docker context inspect --format '{{.Name}}' -- NAME`: whether the context exists. Reads
/// only the client's files.
pub fn context_inspect(name: &str) -> Vec<String> {
    let mut argv: Vec<String> = [
        "docker",
        "context",
        "inspect",
        "--format",
        "{{.Name}}",
        "--",
    ]
    .map(String::from)
    .into();
    argv.push(name.to_string());
    argv
}

/// `docker buildx inspect [-- NAME]`: whether the builder exists — NAME, or the one a local
/// buildx command would use now — and, in its `Error:` line, whether buildx can reach its
/// daemon (no --bootstrap: a stopped builder is not started). Read-only.
pub fn buildx_inspect(name: Option<&str>) -> Vec<String> {
    let mut argv: Vec<String> = ["docker", "buildx", "inspect"].map(String::from).into();
    if let Some(n) = name {
        argv.push("--".into());
        argv.push(n.to_string());
    }
    argv
}

/// The variables of the user's docker environment that a node command (one with its own -H)
/// must not inherit: `docker build` is `docker buildx build` now, and BUILDX_BUILDER would send
/// the node's build to that builder instead of the node the plan names.
pub const NOT_FOR_NODES: &[&str] = &["BUILDX_BUILDER"];

/// `docker --tlsverify … -H URL info --format '{{json .}}'`: what the node's engine is, in
/// one answer (the CLI's `/_ping` and `/info`): OSType, KernelVersion (a Windows one carries
/// the OS build), ServerVersion, Isolation (the daemon's default), Driver and DriverStatus
/// (windowsfilter, or `io.containerd.snapshotter.v1` for the containerd image store).
/// Read-only.
pub fn node_info(node: &Node) -> Vec<String> {
    let mut argv = remote(node);
    argv.extend(["info", "--format", "{{json .}}"].map(String::from));
    argv
}

/// The environment entry that makes the docker CLI use the classic builder for one command
/// (docker/cli `BuildKitEnabled`: `DOCKER_BUILDKIT` wins over the daemon's `Builder-Version`).
pub const CLASSIC_BUILDER_ENV: (&str, &str) = ("DOCKER_BUILDKIT", "0");

/// `docker buildx version`: whether the buildx plugin is there. Read-only.
pub fn buildx_version() -> Vec<String> {
    ["docker", "buildx", "version"].map(String::from).into()
}
