//! A run report turned into the image promoter's input: the `images.yaml` entries of
//! kubernetes/k8s.io for what the run pushed — per image its name (the repository under
//! REGISTRY) and a `dmap` of digest → tags. The format is the one
//! `registry.k8s.io/images/k8s-staging-e2e-test-images/images.yaml` uses (kubernetes/k8s.io,
//! read at commit 005f141913354e48cc0b2b10432e449c8a83770f):
//!
//! ```yaml
//! - name: agnhost
//!   dmap:
//!     "sha256:16bbf38c…": ["2.43"]
//! ```
//!
//! one `- name:` per image, the digest quoted, the tags a flow list of quoted strings (a
//! digest with two tags, as `nginx`'s `["1.14-1", "1.14-1-copy"]`, lists both). Digests are
//! those the registry answered after the run (the report's `digest`), never computed here.
//! Pure: the caller reads the file and prints.

use std::collections::BTreeMap;

use serde_json::Value;

/// What `entries` found: the YAML, and the pushed tags it could not include (with why).
pub struct Promotion {
    pub yaml: String,
    pub left_out: Vec<String>,
}

/// The entries for every tag the run pushed whose digest the report holds. Err when the
/// document is no run report, or names a tag outside its registry.
pub fn entries(doc: &Value) -> Result<Promotion, String> {
    let steps = doc["steps"]
        .as_array()
        .ok_or("not a run report: it has no \"steps\" array")?;
    let registry = doc["registry"]
        .as_str()
        .ok_or("not a run report: it has no \"registry\"")?;
    // image name → digest → tags (sorted maps: the same run gives the same text).
    let mut images: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut left_out = Vec::new();
    for s in steps {
        let Some(pushed) = s["pushes"].as_str() else {
            continue;
        };
        let Some(digest) = s["digest"].as_str() else {
            left_out.push(format!(
                "{pushed}: {}",
                s["why_no_digest"]
                    .as_str()
                    .unwrap_or("no digest in the report")
            ));
            continue;
        };
        let (name, tag) = split(registry, pushed)?;
        let tags = images
            .entry(name.to_string())
            .or_default()
            .entry(digest.to_string())
            .or_default();
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
            tags.sort();
        }
    }
    let mut yaml = String::new();
    for (name, dmap) in &images {
        yaml.push_str(&format!("- name: {name}\n  dmap:\n"));
        for (digest, tags) in dmap {
            let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
            yaml.push_str(&format!("    \"{digest}\": [{}]\n", tags.join(", ")));
        }
    }
    Ok(Promotion { yaml, left_out })
}

/// `REGISTRY/name/part:tag` → (`name/part`, `tag`).
fn split<'a>(registry: &str, reference: &'a str) -> Result<(&'a str, &'a str), String> {
    let rest = reference
        .strip_prefix(registry)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| format!("{reference} is not under the run's registry {registry}"))?;
    rest.rsplit_once(':')
        .filter(|(name, tag)| !name.is_empty() && !tag.is_empty() && !tag.contains('/'))
        .ok_or_else(|| format!("{reference} has no tag"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn dmap_per_image_tags_of_one_digest_together() {
        let doc = json!({"registry": "127.0.0.1:5000/e2e", "steps": [
            {"pushes": null, "digest": null},
            {"pushes": "127.0.0.1:5000/e2e/powershell-helper:1.0-linux-amd64-1809", "digest": A},
            {"pushes": "127.0.0.1:5000/e2e/powershell-helper:1.0-linux-cache", "digest": A},
            {"pushes": "127.0.0.1:5000/e2e/powershell-helper:1.0", "digest": B},
            {"pushes": "127.0.0.1:5000/e2e/volume/nfs:1.2", "digest": B},
            {"pushes": "127.0.0.1:5000/e2e/x:1", "digest": null, "why_no_digest": "not pushed: the step failed"},
        ]});
        let p = entries(&doc).expect("entries");
        assert_eq!(
            p.yaml,
            format!(
                "- name: powershell-helper\n  dmap:\n    \"{A}\": [\"1.0-linux-amd64-1809\", \"1.0-linux-cache\"]\n    \"{B}\": [\"1.0\"]\n- name: volume/nfs\n  dmap:\n    \"{B}\": [\"1.2\"]\n"
            )
        );
        assert_eq!(
            p.left_out,
            ["127.0.0.1:5000/e2e/x:1: not pushed: the step failed"]
        );
    }

    #[test]
    fn refusals() {
        assert!(entries(&json!({})).is_err());
        let e = entries(&json!({"registry": "r", "steps": [{"pushes": "q/i:1", "digest": A}]}))
            .err()
            .expect("outside");
        assert!(e.contains("not under the run's registry r"), "{e}");
    }
}
