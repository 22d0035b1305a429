//! The list step (matrix mode): `R/I:V` over the per-version Windows images, each entry
//! carrying `os.version` so a Windows host pulls the build of its own release. Digests and
//! os.version values only exist once the images are pushed, so they are resolved here at run
//! time (`docker::resolve`, through docker's own auth and TLS). The list is pushed in one
//! `docker buildx imagetools create` whose sources are descriptors, straight to the registry:
//! no local manifest store that two runs could share, nothing to clean up before. Then the
//! registry is read back: the step succeeds only when the list there references exactly the
//! manifests the per-version tags hold now, with their os.version. An entry whose tag this run
//! pushed is the image this run pushed (by the digest docker reported, `exec::owned`), never
//! whatever the tag holds at that moment: a tag another run replaced meanwhile ends the step,
//! named, instead of going into this run's list.

use std::collections::BTreeMap;
use std::time::Duration;

use super::retry::registry_retry;
use super::runner::Runner;
use super::signals;
use crate::docker::oci::short_digest;
use crate::docker::resolve::{self, Resolved};
use crate::docker::said::Said;
use crate::plan::ListSpec;

/// How many times the list is pushed when another run moves the tags meanwhile: each round
/// reads the tags afresh, so a round only repeats while someone else is still pushing.
const ROUNDS: u32 = 3;

/// Resolves, pushes and checks one list; `pushed` is what this run pushed, tag → digest.
/// Ok: what docker said the list push sent.
pub fn publish(
    runner: &Runner,
    spec: &ListSpec,
    pushed: &BTreeMap<String, String>,
    retries: u32,
    backoff: Duration,
) -> Result<Said, String> {
    let ask = |argv: &[String]| query(runner, argv);
    let mut round = 1;
    loop {
        stop_if_signalled()?;
        let wanted = resolve_all(&ask, spec, pushed)?;
        let conflicts = spec.conflicts(&wanted);
        if !conflicts.is_empty() {
            return Err(format!(
                "not pushing {}: {}",
                spec.list,
                conflicts.join("; ")
            ));
        }
        for (e, w) in spec.entries.iter().zip(&wanted) {
            runner.say(format!(
                "xtask: {} → {} (os.version {})",
                e.tag,
                w.descriptor.short(),
                w.os_version
            ));
        }
        stop_if_signalled()?;
        let said = runner
            .with_retries(&spec.create(&wanted), retries, backoff, registry_retry)?
            .said;
        // Read back: the tags may have moved (another run pushing them), or another run's
        // list may have landed over ours.
        let mut moved = Vec::new();
        let mut replaced = Vec::new();
        for (e, w) in spec.entries.iter().zip(&wanted) {
            let now = resolve::descriptor(&ask, &e.tag)?;
            if now.digest != w.descriptor.digest {
                let m = format!("{} (now {})", e.tag, now.short());
                match pushed.contains_key(&e.tag) {
                    true => replaced.push(m),
                    false => moved.push(m),
                }
            }
        }
        if !replaced.is_empty() {
            // Pushing the list again cannot make those tags this run's images.
            return Err(format!(
                "another run replaced what this run pushed while its list {} was pushed: {}; this release is not this run's (see docs/concurrency.md)",
                spec.list,
                replaced.join(", ")
            ));
        }
        let problems = if moved.is_empty() {
            let found = resolve::list(&ask, &spec.list)
                .map_err(|e| format!("reading back {}: {e}", spec.list))?;
            spec.problems(&wanted, &found)
        } else {
            vec![format!(
                "moved while the list was pushed: {}",
                moved.join(", ")
            )]
        };
        if problems.is_empty() {
            let digests: Vec<String> = wanted
                .iter()
                .map(|w| short_digest(&w.descriptor.digest))
                .collect();
            runner.say(format!(
                "xtask: {} holds {} (checked)",
                spec.list,
                digests.join(", ")
            ));
            return Ok(said);
        }
        if round == ROUNDS {
            return Err(format!(
                "{} is still not the list over its tags after {ROUNDS} pushes (another run keeps pushing them?): {}",
                spec.list,
                problems.join("; ")
            ));
        }
        runner.say(format!(
            "xtask: {}: {}; pushing it again (another run is pushing these tags?)",
            spec.list,
            problems.join("; ")
        ));
        round += 1;
    }
}

/// What every entry must be: the image this run pushed to its tag (read by that digest), or,
/// for a tag this run did not push (skip-unchanged left it), what the tag holds. The first
/// failure names its tag.
fn resolve_all(
    ask: &dyn Fn(&[String]) -> Result<String, String>,
    spec: &ListSpec,
    pushed: &BTreeMap<String, String>,
) -> Result<Vec<Resolved>, String> {
    spec.entries
        .iter()
        .map(|e| {
            stop_if_signalled()?;
            let at = pushed.get(&e.tag).map(|d| format!("{}@{d}", spec.repo));
            resolve::image_at(ask, &e.tag, at.as_deref(), &spec.repo, e.base.as_deref())
                .map_err(|m| format!("not pushing {}: {m}", spec.list))
        })
        .collect()
}

/// After Ctrl-C/SIGTERM no new docker command starts: the list is not pushed half-resolved.
fn stop_if_signalled() -> Result<(), String> {
    match signals::caught() {
        Some(_) => Err("stopped by a signal before the list was pushed".into()),
        None => Ok(()),
    }
}

/// One read-only query through the step's runner (its output in the step's stream, stopped
/// with the run), within REGISTRY_TIMEOUT: a registry that does not answer is named.
fn query(runner: &Runner, argv: &[String]) -> Result<String, String> {
    runner
        .run(argv, true, Some(runner.registry_timeout))
        .map(|o| o.stdout)
        .map_err(|(msg, tail)| {
            let said = tail.join(" / ");
            if said.is_empty() || runner.gave_up.get() {
                msg
            } else {
                said
            }
        })
}
