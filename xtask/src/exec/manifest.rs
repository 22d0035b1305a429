//! Manifest lists (matrix mode): `R/I:V` over the per-version Windows images, each entry
//! carrying `os.version` so a Windows host pulls the build of its own release. Digests and
//! os.version values only exist once the images are pushed, so they are resolved here at run
//! time, by docker itself (its auth, its TLS), and the list is pushed only when every entry
//! resolved: a list is never published that points at a missing image or lacks os.version.

use std::time::Duration;

use serde_json::Value;

use super::runner::Runner;
use crate::docker;
use crate::docker::oci::windows_entry;
use crate::plan::{ListEntry, ListSpec};

/// Resolves, creates, annotates and pushes one list.
pub fn publish(
    runner: &Runner,
    spec: &ListSpec,
    retries: u32,
    backoff: Duration,
) -> Result<(), String> {
    let mut refs = Vec::new();
    let mut versions = Vec::new();
    for e in &spec.entries {
        let reference = entry_ref(runner, spec, e)?;
        let os_version = match config_os_version(runner, &reference, spec.insecure)? {
            Some(v) => v,
            None => base_os_version(runner, e)?,
        };
        runner.say(format!(
            "xtask: {} → {reference} (os.version {os_version})",
            e.tag
        ));
        refs.push(reference);
        versions.push(os_version);
    }
    // A stale local list from an earlier, failed run would be amended, not replaced: drop it.
    let _ = runner.run(&docker::manifest_rm(&spec.list), true);
    run(
        runner,
        &docker::manifest_create(&spec.list, &refs, spec.insecure),
    )?;
    for (r, v) in refs.iter().zip(&versions) {
        run(runner, &docker::manifest_annotate(&spec.list, r, v))?;
    }
    runner
        .with_retries(
            &docker::manifest_push(&spec.list, spec.insecure),
            retries,
            backoff,
        )
        .map(|_| ())
}

fn run(runner: &Runner, argv: &[String]) -> Result<Value, String> {
    let out = runner
        .run(argv, true)
        .map_err(|(msg, tail)| format!("{msg}: `{}`: {}", argv[1..].join(" "), tail.join(" / ")))?;
    Ok(serde_json::from_str(&out.stdout).unwrap_or(Value::Null))
}

/// The reference `docker manifest create` accepts for an entry: a node with the containerd
/// store pushes an index (image + attestation), which `manifest create` refuses, so an index
/// is resolved to its windows/amd64 manifest (`R/I@sha256:…`); a plain manifest (a real
/// Windows node's classic builder) is used by its tag.
fn entry_ref(runner: &Runner, spec: &ListSpec, e: &ListEntry) -> Result<String, String> {
    let raw = run(runner, &docker::inspect_raw(&e.tag))
        .map_err(|m| format!("{} is not in the registry: {m}", e.tag))?;
    match windows_entry(&raw) {
        Some(d) => match d["digest"].as_str() {
            Some(digest) => Ok(format!("{}@{digest}", spec.repo)),
            None => Err(format!("{}: windows/amd64 entry without digest", e.tag)),
        },
        None if raw.get("manifests").is_some() => Err(format!(
            "{} has no windows/amd64 image (was it built on a Windows node?)",
            e.tag
        )),
        None => Ok(e.tag.clone()),
    }
}

/// os.version from the image config, as `docker manifest inspect -v` reports it (docker
/// fills the descriptor's platform from the config). BuildKit 0.13 leaves it out.
fn config_os_version(
    runner: &Runner,
    reference: &str,
    insecure: bool,
) -> Result<Option<String>, String> {
    let v = run(
        runner,
        &docker::manifest_inspect_verbose(reference, insecure),
    )?;
    Ok(v["Descriptor"]["platform"]["os.version"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from))
}

/// Upstream's fallback: the os.version of the base image's windows/amd64 list entry.
fn base_os_version(runner: &Runner, e: &ListEntry) -> Result<String, String> {
    let Some(base) = &e.base else {
        return Err(format!(
            "{}: the image config has no os.version and the image has no BASEIMAGE line for {} to take it from; not pushing the list",
            e.tag, e.os
        ));
    };
    let raw = run(runner, &docker::inspect_raw(base))
        .map_err(|m| format!("cannot read base image {base}: {m}"))?;
    windows_entry(&raw)
        .and_then(|d| d["platform"]["os.version"].as_str())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .ok_or_else(|| {
            format!(
                "{}: neither the image config nor the base {base} carries os.version; not pushing the list",
                e.tag
            )
        })
}
