//! `verify --against OTHER`: the promotion check. Every tag TARGET pushes to REGISTRY must be
//! in OTHER (say `registry.k8s.io/e2e-test-images`) under the same name, at the same digest,
//! and a list must still be a list whose entries carry their os.version — a promotion once
//! flattened a list to one manifest (kubernetes/k8s.io#9509), which a digest comparison alone
//! would call "different" without saying why. Each difference is named; any one fails the
//! check (exit 1). Asked through docker (`buildx imagetools inspect`), read-only, every tag
//! at once, each query within REGISTRY_TIMEOUT.

use serde_json::{json, Value};

use crate::docker::oci::{list_items, short_digest, ListItem};
use crate::docker::{self, Registry};
use crate::error::BadInput;

/// What one tag is in one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Missing,
    /// Could not tell (the registry did not answer, unreadable JSON): said, counted wrong.
    Unknown(String),
    Image {
        digest: String,
    },
    List {
        digest: String,
        entries: Vec<ListItem>,
    },
}

/// One tag compared.
pub struct Compared {
    pub here: String,
    pub there: String,
    pub differences: Vec<String>,
    pub found_here: Held,
}

/// OTHER checked as a registry prefix, as REGISTRY is (bad input otherwise).
pub fn check_other(other: &str) -> anyhow::Result<String> {
    let other = other.trim_end_matches('/');
    if let Some(problem) = crate::reference::registry_problem(other) {
        return Err(BadInput::new(
            "--against",
            other,
            format!("not a valid registry prefix: {problem}"),
            "the registry the images were promoted to, host[:port]/path, e.g. --against registry.k8s.io/e2e-test-images",
        ));
    }
    Ok(other.to_string())
}

/// `tag` of `registry` renamed into `other`.
pub fn renamed(tag: &str, registry: &str, other: &str) -> Option<String> {
    tag.strip_prefix(registry)
        .and_then(|rest| rest.strip_prefix('/'))
        .map(|rest| format!("{other}/{rest}"))
}

/// Compares every tag (in `registry`) with its name in `other`.
pub fn compare_all(
    reader: Registry,
    tags: &[(String, bool)],
    registry: &str,
    other: &str,
) -> Vec<Compared> {
    std::thread::scope(|scope| {
        let jobs: Vec<_> = tags
            .iter()
            .map(|(tag, is_list)| {
                let is_list = *is_list;
                let there = renamed(tag, registry, other).unwrap_or_else(|| tag.clone());
                let h = scope.spawn({
                    let tag = tag.clone();
                    move || held(reader, &tag)
                });
                let t = scope.spawn({
                    let there = there.clone();
                    move || held(reader, &there)
                });
                (tag.clone(), is_list, there, h, t)
            })
            .collect();
        jobs.into_iter()
            .map(|(here, is_list, there, h, t)| {
                let panicked = || Held::Unknown("the check panicked".into());
                let a = h.join().unwrap_or_else(|_| panicked());
                let b = t.join().unwrap_or_else(|_| panicked());
                Compared {
                    differences: differences(&a, &b, is_list),
                    here,
                    there,
                    found_here: a,
                }
            })
            .collect()
    })
}

/// What the registry holds at `reference`.
fn held(reader: Registry, reference: &str) -> Held {
    let ask = reader.asker();
    let answer = match ask(&docker::inspect_raw(reference)) {
        Ok(a) => a,
        Err(e) if e.contains("not found") => return Held::Missing,
        Err(e) => return Held::Unknown(docker::client::first_line(&e)),
    };
    let descriptor = match ask(&docker::inspect_descriptor(reference)) {
        Ok(a) => a,
        Err(e) if e.contains("not found") => return Held::Missing,
        Err(e) => return Held::Unknown(docker::client::first_line(&e)),
    };
    read(&answer, &descriptor)
}

/// The raw manifest and the descriptor docker printed → what is held (pure).
pub fn read(raw: &str, descriptor: &str) -> Held {
    let raw: Value = match serde_json::from_str(raw.trim()) {
        Ok(v) => v,
        Err(e) => return Held::Unknown(format!("docker's answer is not JSON: {e}")),
    };
    let digest = serde_json::from_str::<Value>(descriptor.trim())
        .ok()
        .and_then(|v| v["digest"].as_str().map(String::from));
    let Some(digest) = digest else {
        return Held::Unknown("docker's answer names no digest".into());
    };
    match list_items(&raw) {
        Ok(entries) => Held::List { digest, entries },
        Err(_) => Held::Image { digest },
    }
}

/// Every way `there` differs from `here` (pure). For a manifest list the run made
/// (`is_list`), an entry without os.version is named on either side: a Windows node cannot
/// pick its release from such a list. (The per-version tags' attestation indexes carry none.)
pub fn differences(here: &Held, there: &Held, is_list: bool) -> Vec<String> {
    let mut out = Vec::new();
    match (here, there) {
        (Held::Unknown(e), _) => out.push(format!("cannot read it here: {e}")),
        (_, Held::Unknown(e)) => out.push(format!("cannot read it there: {e}")),
        (Held::Missing, Held::Missing) => out.push("missing in both".into()),
        (Held::Missing, _) => out.push("missing here (pushed by the run, gone since?)".into()),
        (_, Held::Missing) => out.push("missing there (not promoted)".into()),
        (Held::List { .. }, Held::Image { .. }) => out.push(
            "a list here, a single manifest there: the promotion flattened it (kubernetes/k8s.io#9509)"
                .into(),
        ),
        (Held::Image { .. }, Held::List { .. }) => {
            out.push("a single manifest here, a list there".into())
        }
        _ => {}
    }
    if let (Some(a), Some(b)) = (digest(here), digest(there)) {
        if a != b {
            out.push(format!(
                "digest {} here, {} there",
                short_digest(a),
                short_digest(b)
            ));
        }
    }
    if let (Held::List { entries: a, .. }, Held::List { entries: b, .. }) = (here, there) {
        for e in a {
            match b.iter().find(|f| f.digest == e.digest) {
                None => out.push(format!(
                    "entry {} {} {} missing there",
                    e.platform,
                    e.os_version.as_deref().unwrap_or("-"),
                    short_digest(&e.digest)
                )),
                Some(f) if f.os_version != e.os_version => out.push(format!(
                    "entry {} {}: os.version {} here, {} there",
                    e.platform,
                    short_digest(&e.digest),
                    e.os_version.as_deref().unwrap_or("none"),
                    f.os_version.as_deref().unwrap_or("none")
                )),
                Some(_) => {}
            }
        }
        for f in b {
            if !a.iter().any(|e| e.digest == f.digest) {
                out.push(format!(
                    "entry {} {} {} only there",
                    f.platform,
                    f.os_version.as_deref().unwrap_or("-"),
                    short_digest(&f.digest)
                ));
            }
        }
        // There, a missing os.version is named by the comparison above; here, it is the
        // run's own list that is wrong.
        for e in a.iter().filter(|_| is_list) {
            if e.platform.starts_with("windows/") && e.os_version.is_none() {
                out.push(format!(
                    "entry {} {} has no os.version here",
                    e.platform,
                    short_digest(&e.digest)
                ));
            }
        }
    }
    out.dedup();
    out
}

fn digest(h: &Held) -> Option<&str> {
    match h {
        Held::Image { digest } | Held::List { digest, .. } => Some(digest),
        _ => None,
    }
}

/// How a tag's content reads in the table: the digest and, for a list, its entries.
pub fn describe(h: &Held) -> String {
    match h {
        Held::Missing => "missing".into(),
        Held::Unknown(e) => e.clone(),
        Held::Image { digest } => short_digest(digest),
        Held::List { digest, entries } => format!(
            "list {} ({})",
            short_digest(digest),
            entries
                .iter()
                .map(|e| format!("{} {}", e.platform, e.os_version.as_deref().unwrap_or("-")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn json(c: &Compared) -> Value {
    json!({
        "tag": c.here,
        "against": c.there,
        "found": describe(&c.found_here),
        "digest": digest(&c.found_here),
        "ok": c.differences.is_empty(),
        "differences": c.differences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    fn item(d: &str, os: Option<&str>) -> ListItem {
        ListItem {
            digest: d.into(),
            platform: "windows/amd64".into(),
            os_version: os.map(String::from),
        }
    }

    fn list(d: &str, entries: Vec<ListItem>) -> Held {
        Held::List {
            digest: d.into(),
            entries,
        }
    }

    #[test]
    fn the_same_list_is_no_difference() {
        let l = list(A, vec![item(B, Some("10.0.17763.1"))]);
        assert!(differences(&l, &l.clone(), true).is_empty());
        // A per-version tag's attestation index carries no os.version: not a list we made.
        let index = list(A, vec![item(B, None)]);
        assert!(differences(&index, &index.clone(), false).is_empty());
        assert_eq!(differences(&index, &index.clone(), true).len(), 1);
    }

    #[test]
    fn each_difference_is_named() {
        let here = list(
            A,
            vec![item(B, Some("10.0.17763.1")), item(C, Some("10.0.20348.1"))],
        );
        let flat = Held::Image { digest: B.into() };
        let d = differences(&here, &flat, true);
        assert!(d[0].contains("flattened"), "{d:?}");
        assert!(
            d[1].starts_with("digest sha256:aaaaaaaaaaaa here, sha256:bbbbbbbbbbbb there"),
            "{d:?}"
        );

        let there = list(B, vec![item(B, None)]);
        let d = differences(&here, &there, true);
        assert!(d.iter().any(|x| x == "entry windows/amd64 sha256:bbbbbbbbbbbb: os.version 10.0.17763.1 here, none there"), "{d:?}");
        assert!(
            d.iter()
                .any(|x| x.contains("10.0.20348.1 sha256:cccccccccccc missing there")),
            "{d:?}"
        );
        assert!(
            !d.iter().any(|x| x.contains("has no os.version there")),
            "said once: {d:?}"
        );

        assert_eq!(
            differences(&here, &Held::Missing, true),
            ["missing there (not promoted)"]
        );
    }

    #[test]
    fn names_move_between_registries_and_others_are_checked() {
        assert_eq!(
            renamed(
                "127.0.0.1:5000/e2e/i:1.0",
                "127.0.0.1:5000/e2e",
                "registry.k8s.io/e2e-test-images"
            )
            .as_deref(),
            Some("registry.k8s.io/e2e-test-images/i:1.0")
        );
        assert!(check_other("registry.k8s.io/e2e-test-images/").is_ok());
        assert!(check_other("Not A Registry").is_err());
    }

    #[test]
    fn reading_docker_answers() {
        let raw = format!(
            r#"{{"manifests":[{{"digest":"{B}","platform":{{"os":"windows","architecture":"amd64","os.version":"10.0.17763.1"}}}}]}}"#
        );
        let desc = format!(r#"{{"digest":"{A}"}}"#);
        assert_eq!(
            read(&raw, &desc),
            list(A, vec![item(B, Some("10.0.17763.1"))])
        );
        assert_eq!(read("{}", &desc), Held::Image { digest: A.into() });
        assert!(matches!(read("x", &desc), Held::Unknown(_)));
    }
}
