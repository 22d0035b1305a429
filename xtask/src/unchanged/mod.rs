//! Skip-unchanged (opt-in: --skip-unchanged / SKIP_UNCHANGED=1). An image's inputs — every
//! file of its folder (VERSION and Dockerfiles included), its build args, and the digest each
//! base image resolves to now — are hashed into one digest, stored as a label on the images the
//! run builds. Before a run, the labels already in the registry are read; a step whose output
//! carries the same digest is skipped. Upstream's always-rebuild stays the default: a rebuild
//! is how Windows base patches get in, and a moved base tag changes the digest here too.

mod inputs;
mod sha256;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::docker::{resolve, Registry, Unread};
use crate::images::Image;
use crate::plan::{self, Action, ListSpec, Plan, INPUTS_LABEL};
use inputs::{bases, folder_digest};
use sha256::Sha256;

/// (image, OS version): what one inputs digest is for.
type StepKey = (String, Option<String>);

/// What the registry says, resolved before a run.
#[derive(Debug, Default)]
pub struct Probe {
    /// Inputs digest per (image, os).
    keys: HashMap<StepKey, String>,
    /// Step ids whose output already carries its inputs digest.
    unchanged: Vec<usize>,
    /// List steps whose list is already exactly right (and whose tags this run leaves).
    lists_right: Vec<usize>,
}

/// Resolves inputs digests (base digests through docker) and reads the labels already pushed.
/// Read-only docker calls only, all of a kind at once: a re-run with nothing changed costs
/// about two registry round trips, not one per tag. Each query is given `timeout`
/// (REGISTRY_TIMEOUT); a registry that does not answer ends the run, named.
pub fn probe(registry: Registry, images: &[Image], plan: &Plan) -> anyhow::Result<Probe> {
    // 1. What each (image, os) is built from.
    let mut inputs: Vec<(StepKey, String, Vec<String>)> = Vec::new();
    for s in &plan.steps {
        let id = (s.image.clone(), s.os.clone());
        if inputs.iter().any(|(i, _, _)| *i == id) {
            continue;
        }
        let Some(img) = images.iter().find(|i| i.name == s.image) else {
            continue;
        };
        let mut h = Sha256::new();
        h.update(folder_digest(&img.dir)?.as_bytes());
        let build_args = plan::node_build_args(img, s.os.as_deref());
        for (k, v) in &build_args {
            h.update(format!("\n{k}={v}").as_bytes());
        }
        inputs.push((id, h.finish(), bases(img, &build_args)));
    }
    // 2. What to ask the registry: every base's digest, the label of every tag the plan
    //    writes, and whether each list is exactly the list over its tags now. None depends on
    //    another: all asked at once.
    let mut all_bases: Vec<String> = inputs.iter().flat_map(|(_, _, b)| b.clone()).collect();
    all_bases.sort();
    all_bases.dedup();
    let mut tags: Vec<String> = Vec::new();
    let mut lists: Vec<&ListSpec> = Vec::new();
    for s in &plan.steps {
        match &s.action {
            Action::List(spec) => lists.push(spec),
            _ => tags.push(s.tag.clone()),
        }
    }
    tags.sort();
    tags.dedup();
    let (digests, labels, lists_right) = std::thread::scope(|scope| {
        let digests = scope.spawn(|| {
            parallel(&all_bases, |base| {
                registry.digest(base).map_err(String::from)
            })
        });
        let lists_right = scope.spawn(|| parallel(&lists, |spec| list_is_right(registry, spec)));
        let labels = parallel(&tags, |tag| registry.label(tag, INPUTS_LABEL));
        (
            digests.join().unwrap_or_default(),
            labels,
            lists_right.join().unwrap_or_default(),
        )
    });
    // A registry that did not answer ends the run here: taking its silence for "changed"
    // would only meet it again at the first push.
    let errors = labels.iter().filter_map(|r| r.as_ref().err());
    if let Some(e) = errors
        .chain(lists_right.iter().filter_map(|r| r.as_ref().err()))
        .next()
    {
        anyhow::bail!("skip-unchanged probe: {e}");
    }
    // 3. The inputs digests.
    let mut probe = Probe::default();
    for (id, folder, bases) in inputs {
        let mut h = Sha256::new();
        h.update(folder.as_bytes());
        for base in bases {
            let digest = all_bases
                .iter()
                .position(|b| *b == base)
                .and_then(|i| digests.get(i))
                .ok_or_else(|| "not resolved".to_string())
                .and_then(|r| r.clone())
                .map_err(|e| anyhow::anyhow!("resolving base image {base} of {}: {e}", id.0))?;
            h.update(format!("\nFROM {base}@{digest}").as_bytes());
        }
        probe.keys.insert(id, h.finish());
    }
    let label_of = |tag: &str| -> Option<String> {
        let i = tags.iter().position(|t| t == tag)?;
        labels.get(i)?.as_ref().ok().cloned().flatten()
    };
    // A step is unchanged when the tag it writes carries the same digest.
    for s in &plan.steps {
        let key = probe.keys.get(&(s.image.clone(), s.os.clone()));
        if !matches!(s.action, Action::List(_)) && key.is_some() && label_of(&s.tag).as_ref() == key
        {
            probe.unchanged.push(s.id);
        }
    }
    // A list is left alone only when nothing it waits for runs (so its tags stay where they
    // are) and the registry's list references exactly the manifests they hold now, each with
    // the os.version it must carry. A list left behind by a failed or interrupted run, pushed
    // over by a compat run, or pointing at old images, is pushed again.
    for s in &plan.steps {
        let Action::List(spec) = &s.action else {
            continue;
        };
        let right = lists
            .iter()
            .position(|l| *l == spec)
            .and_then(|i| lists_right.get(i))
            .is_some_and(|r| matches!(r, Ok(true)));
        if right && s.after.iter().all(|a| probe.unchanged.contains(a)) {
            probe.lists_right.push(s.id);
        }
    }
    Ok(probe)
}

/// Runs `f` on every item, a few at once (`docker::QUERIES_AT_ONCE`: they wait on the
/// registry, not the CPU, and registries rate-limit).
fn parallel<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> Result<T, String> + Sync,
) -> Vec<Result<T, String>> {
    crate::docker::at_most(crate::docker::QUERIES_AT_ONCE, items, f)
}

/// Puts the resolved digests into the steps' inputs labels and marks unchanged steps
/// skipped.
pub fn apply(plan: &mut Plan, probe: &Probe) {
    for s in &mut plan.steps {
        let key = probe.keys.get(&(s.image.clone(), s.os.clone())).cloned();
        if let Some(inputs) = &mut s.inputs {
            inputs.digest = key.clone();
        }
        if probe.lists_right.contains(&s.id) {
            s.skip = Some("unchanged (the list already holds the tags' current manifests)".into());
        } else if probe.unchanged.contains(&s.id) {
            let short = key.as_deref().unwrap_or("").trim_start_matches("sha256:");
            s.skip = Some(format!(
                "unchanged (inputs {})",
                &short[..short.len().min(12)]
            ));
        }
    }
}

/// Whether the registry's list is exactly the list over its tags as they are now: each entry
/// the manifest its tag holds, with the os.version that image must carry (the same reading
/// and the same judgement as the list step's own check). Err: the registry did not answer.
fn list_is_right(registry: Registry, spec: &ListSpec) -> Result<bool, String> {
    let silent = Mutex::new(None);
    let ask = |argv: &[String]| match registry.ask(argv) {
        Err(Unread::Silent(why)) => {
            if let Ok(mut s) = silent.lock() {
                s.get_or_insert_with(|| why.clone());
            }
            Err(why)
        }
        other => other.map_err(String::from),
    };
    let (wanted, found) = std::thread::scope(|scope| {
        let found = scope.spawn(|| resolve::list(&ask, &spec.list));
        let wanted = parallel(&spec.entries, |e| {
            resolve::image(&ask, &e.tag, &spec.repo, e.base.as_deref())
        });
        (wanted, found.join())
    });
    let (Ok(Ok(found)), Ok(wanted)) = (found, wanted.into_iter().collect::<Result<Vec<_>, _>>())
    else {
        return match silent.into_inner() {
            Ok(Some(why)) => Err(why),
            _ => Ok(false),
        };
    };
    Ok(spec.problems(&wanted, &found).is_empty())
}
