//! Which images are built from which: edges from a base image of IMAGES_DIR to an image
//! whose BASEIMAGE line or Dockerfile `FROM` names it in this registry, the images in an order
//! that builds each base before its consumers, the graph as text, Mermaid or DOT, and the
//! plan's steps ordered by it (`order_plan`). Pure: the edges are read from the folders by
//! the caller (`depends`). Today upstream's helper images are independent; with no
//! edge the plan is left exactly as it was.

use std::collections::BTreeSet;

use super::Plan;

/// `consumer` is built from `base` (both images of IMAGES_DIR) through `reference`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub base: String,
    pub consumer: String,
    pub reference: String,
}

/// The images in build order: every base before its consumers, otherwise in the given
/// order. Err names the images of a cycle (a run could never start them).
pub fn order(images: &[String], edges: &[Edge]) -> Result<Vec<String>, Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    let mut left: Vec<&String> = images.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|i| {
            edges
                .iter()
                .filter(|e| &e.consumer == *i && e.base != **i)
                .all(|e| done.contains(&e.base) || !images.contains(&e.base))
        });
        match ready {
            Some(p) => done.push(left.remove(p).clone()),
            None => return Err(left.into_iter().cloned().collect()),
        }
    }
    // An image built from itself is a cycle of one.
    if let Some(e) = edges.iter().find(|e| e.base == e.consumer) {
        return Err(vec![e.base.clone()]);
    }
    Ok(done)
}

/// The graph as text: the build order, then each edge.
pub fn text(images: &[String], edges: &[Edge]) -> String {
    let mut out = String::new();
    match order(images, edges) {
        Ok(o) => out.push_str(&format!("build order: {}\n", o.join(" → "))),
        Err(c) => out.push_str(&format!(
            "a cycle: {} (no order builds them)\n",
            c.join(", ")
        )),
    }
    if edges.is_empty() {
        out.push_str("no image is built from another image of IMAGES_DIR: all are independent\n");
    }
    for e in edges {
        out.push_str(&format!("{} ← {} ({})\n", e.consumer, e.base, e.reference));
    }
    out
}

/// Mermaid (`flowchart LR`), for a Markdown page: base --> consumer.
pub fn mermaid(images: &[String], edges: &[Edge]) -> String {
    let id = |name: &str| name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    let mut out = String::from("flowchart LR\n");
    for i in images {
        out.push_str(&format!("  {}[\"{}\"]\n", id(i), i));
    }
    for e in unique(edges) {
        out.push_str(&format!("  {} --> {}\n", id(&e.0), id(&e.1)));
    }
    out
}

/// Graphviz DOT: base -> consumer.
pub fn dot(images: &[String], edges: &[Edge]) -> String {
    let mut out = String::from("digraph images {\n  rankdir=LR;\n");
    for i in images {
        out.push_str(&format!("  \"{i}\";\n"));
    }
    for e in unique(edges) {
        out.push_str(&format!("  \"{}\" -> \"{}\";\n", e.0, e.1));
    }
    out.push_str("}\n");
    out
}

fn unique(edges: &[Edge]) -> BTreeSet<(String, String)> {
    edges
        .iter()
        .map(|e| (e.base.clone(), e.consumer.clone()))
        .collect()
}

/// Makes every step of a consumer that waits for no other step of its own image wait for
/// all of its bases' steps in the plan, so a run builds (and pushes) a base before what is
/// built from it. No edge among the plan's images: the plan is unchanged.
pub fn order_plan(plan: &mut Plan, edges: &[Edge]) {
    let steps_of = |plan: &Plan, image: &str| -> Vec<usize> {
        plan.steps
            .iter()
            .filter(|s| s.image == image)
            .map(|s| s.id)
            .collect()
    };
    for e in edges.iter().filter(|e| e.base != e.consumer) {
        let base_steps = steps_of(plan, &e.base);
        if base_steps.is_empty() {
            continue;
        }
        let own = steps_of(plan, &e.consumer);
        for s in plan.steps.iter_mut().filter(|s| s.image == e.consumer) {
            if s.after.iter().any(|a| own.contains(a)) {
                continue;
            }
            for &b in &base_steps {
                if !s.after.contains(&b) {
                    s.after.push(b);
                }
            }
        }
    }
}

/// `REGISTRY/NAME:TAG` or `REGISTRY/NAME@…` → (NAME, TAG) when NAME is an image of
/// `images` (the tag None for a digest-only reference).
pub fn image_of<'a>(
    reference: &'a str,
    registry: &str,
    images: &[String],
) -> Option<(String, Option<&'a str>)> {
    let rest = reference.strip_prefix(registry)?.strip_prefix('/')?;
    let rest = rest.split('@').next().unwrap_or(rest);
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    images
        .iter()
        .any(|i| i == name)
        .then(|| (name.to_string(), tag))
}

/// The VERSION a tag of ours was pushed for: the tag before `-windows-amd64-…`,
/// `-linux-amd64-…` or `-linux-cache`, else the whole tag.
pub fn version_of_tag(tag: &str) -> &str {
    for marker in ["-windows-amd64-", "-linux-amd64-", "-linux-cache"] {
        if let Some(i) = tag.find(marker) {
            return &tag[..i];
        }
    }
    tag
}

/// Whether version `a` is older than `b`, comparing the numbers in them in order (`1.9` <
/// `1.10`); None when they cannot be compared so.
pub fn older(a: &str, b: &str) -> Option<bool> {
    let nums = |v: &str| -> Option<Vec<u64>> {
        v.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect()
    };
    let (x, y) = (nums(a)?, nums(b)?);
    if x.is_empty() || y.is_empty() {
        return None;
    }
    Some(x < y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(base: &str, consumer: &str) -> Edge {
        Edge {
            base: base.into(),
            consumer: consumer.into(),
            reference: format!("r/{base}:1.0-linux-cache"),
        }
    }

    fn names(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bases_first_cycles_named() {
        let imgs = names("busybox powershell-helper servercore");
        let edges = [
            e("powershell-helper", "busybox"),
            e("servercore", "busybox"),
        ];
        assert_eq!(
            order(&imgs, &edges),
            Ok(names("powershell-helper servercore busybox"))
        );
        assert_eq!(order(&imgs, &[]), Ok(imgs.clone()));
        assert_eq!(
            order(&names("a b"), &[e("a", "b"), e("b", "a")]),
            Err(names("a b"))
        );
        assert!(text(&imgs, &edges)
            .starts_with("build order: powershell-helper → servercore → busybox\n"));
        assert!(mermaid(&imgs, &edges).contains("  powershell_helper --> busybox\n"));
        assert!(dot(&imgs, &edges).contains("  \"servercore\" -> \"busybox\";\n"));
        assert!(text(&imgs, &[]).contains("all are independent"));
    }

    #[test]
    fn references_versions() {
        let imgs = names("powershell-helper");
        assert_eq!(
            image_of("r/e2e/powershell-helper:1.0-linux-cache", "r/e2e", &imgs),
            Some(("powershell-helper".into(), Some("1.0-linux-cache")))
        );
        assert_eq!(
            image_of("mcr.microsoft.com/windows/nanoserver:1809", "r/e2e", &imgs),
            None
        );
        assert_eq!(version_of_tag("1.0-linux-cache"), "1.0");
        assert_eq!(version_of_tag("7.6.9-windows-amd64-1809"), "7.6.9");
        assert_eq!(older("1.9", "1.10"), Some(true));
        assert_eq!(older("2.0", "1.10"), Some(false));
        assert_eq!(older("latest", "1.0"), None);
    }
}
