//! Reads which images of IMAGES_DIR are built from which (`plan::graph` orders and draws
//! them): an edge wherever an image's BASEIMAGE line or a `FROM` of its Dockerfile_windows or
//! Dockerfile (expanded with the build args a run passes: REGISTRY, OS_VERSION, BASEIMAGE)
//! names another image in this registry. Used by `plan --graph`, by the running commands (a
//! base is built before its consumers) and by `lint` (a consumer of an older VERSION).

use std::path::Path;

use crate::dockerfile;
use crate::images::Image;
use crate::plan::graph::{image_of, older, version_of_tag, Edge};

/// Every edge among `images`, each once per (base, consumer, reference), sorted.
pub fn edges(images: &[Image], registry: &str) -> Vec<Edge> {
    let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
    let mut out: Vec<Edge> = Vec::new();
    for img in images {
        let mut refs: Vec<String> = img.bases.iter().map(|(_, b)| b.clone()).collect();
        let oses: Vec<Option<&str>> = if img.bases.is_empty() {
            vec![None]
        } else {
            img.bases.iter().map(|(os, _)| Some(os.as_str())).collect()
        };
        for file in [img.dockerfile_windows(), img.dir.join("Dockerfile")] {
            for os in &oses {
                let mut args = vec![("REGISTRY".to_string(), registry.to_string())];
                if let Some(os) = os {
                    args.push(("OS_VERSION".into(), os.to_string()));
                    if let Some(b) = img.base_for(os) {
                        args.push(("BASEIMAGE".into(), b.to_string()));
                    }
                }
                refs.extend(froms(&file, &args));
            }
        }
        for r in refs {
            if let Some((base, _)) = image_of(&r, registry, &names) {
                let e = Edge {
                    base,
                    consumer: img.name.clone(),
                    reference: r,
                };
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
    }
    out.sort();
    out
}

/// The external bases of a Dockerfile (none when it is missing or does not parse: lint
/// says so on its own).
fn froms(file: &Path, args: &[(String, String)]) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    dockerfile::parse(&text)
        .ok()
        .and_then(|df| df.external_bases(args).ok())
        .unwrap_or_default()
}

/// An image built from a base of ours at a VERSION older than the base's folder now says
/// (the missed bump of kubernetes/kubernetes#141016): one warning per such reference.
pub fn stale_references(images: &[Image], edges: &[Edge]) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for e in edges {
        let (Some(base), Some(consumer)) = (
            images.iter().find(|i| i.name == e.base),
            images.iter().find(|i| i.name == e.consumer),
        ) else {
            continue;
        };
        let Some(tag) = e.reference.split('@').next().and_then(|r| {
            let last = r.rsplit('/').next().unwrap_or(r);
            last.split_once(':').map(|(_, t)| t)
        }) else {
            continue;
        };
        let used = version_of_tag(tag);
        if older(used, &base.version) == Some(true) {
            out.push((
                consumer.dir.clone(),
                format!(
                    "{} is built from {} ({} {used}), older than {}/VERSION ({}): bump the reference, or the new {} never reaches it",
                    e.consumer, e.reference, e.base, e.base, base.version, e.base
                ),
            ));
        }
    }
    out
}
