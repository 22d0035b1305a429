//! The layering rule of ARCHITECTURE.md, enforced: each top-level module of xtask/src may use
//! only modules of a lower layer (and itself), so no import cycle can form between them and
//! no lower layer reaches up. Reads the `crate::` paths of every source file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use the modules of the layers before its own.
const LAYERS: &[&[&str]] = &[
    // tempdir: the tests' folder helper (tests/it/support/tempdir.rs), cfg(test) only.
    &["error", "tempdir"],
    &["config"],
    &["dockerfile", "docker", "images"],
    &["plan"],
    &["unchanged", "exec", "preflight"],
    &["commands"],
    &["cli"],
    &["main"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a source text names through `crate::` (comments aside).
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            for n in names {
                let ident: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !ident.is_empty() && ident != "self" {
                    out.insert(ident);
                }
            }
        }
    }
    out
}

#[test]
fn modules_use_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut broken = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("name")
            .trim_end_matches(".rs")
            .to_string();
        let Some(mine) = rank(&top) else {
            broken.push(format!("{}: module {top} is in no layer", rel.display()));
            continue;
        };
        for used in uses(&fs::read_to_string(f).expect("read")) {
            match rank(&used) {
                _ if used == top => {}
                Some(r) if r < mine => {}
                Some(_) => broken.push(format!("{}: {top} uses {used}", rel.display())),
                None => broken.push(format!(
                    "{}: uses crate::{used}, in no layer",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        broken.is_empty(),
        "layering broken (see ARCHITECTURE.md):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_scanner_sees_grouped_and_plain_paths() {
    let found =
        uses("use crate::{docker, plan::Plan};\nlet x = crate::config::load(); // crate::exec\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["config", "docker", "plan"]
    );
}
