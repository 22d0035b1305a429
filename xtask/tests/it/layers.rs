//! The layering rules of ARCHITECTURE.md, enforced by reading every source file's paths
//! (`crate::…`, and `super::…` resolved against the file's own module path):
//! - each top-level module of xtask/src may use only modules of a lower layer (and itself),
//!   so no import cycle can form between them and no lower layer reaches up;
//! - commands are peers: a command never uses another (commands/mod.rs holds what they share);
//! - `plan/` is pure: it never reaches code that starts a process;
//! - within `exec/`, files use only files listed before them (mod.rs, the loop, uses all).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use the modules of the layers before its own.
const LAYERS: &[&[&str]] = &[
    &["error", "files", "tempdir"],
    &["reference", "windows", "certs"],
    &["config"],
    &["dockerfile", "docker", "images"],
    &["plan", "lint"],
    &["unchanged", "exec", "preflight", "depends", "freshness"],
    &["commands"],
    &["cli"],
    &["main"],
];

/// exec/'s files, lowest first.
const EXEC_ORDER: &[&str] = &[
    "state",
    "time",
    "signals",
    "term",
    "watch",
    "retry",
    "logs",
    "summary",
    "output",
    "runner",
    "manifest",
    "scheduler",
    "report",
    "owned",
    "outputs",
];

/// What starts a process: plan/ may reach none of it.
const SPAWNING: &[&str] = &[
    "docker::process",
    "docker::query",
    "docker::ask_registry",
    "certs::tool",
    "std::process",
    "xshell",
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

/// The module path of a file under src: `commands/doctor/mod.rs` → [commands, doctor],
/// `exec/state.rs` → [exec, state], `main.rs` → [] (the crate root).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The absolute paths (as `a::b::c`) a source text names through `crate::` or `super::`
/// (comments aside), `super::` resolved against `module`. Grouped imports are expanded one
/// level (`crate::{a, b::c}` → `a`, `b::c`).
fn uses(text: &str, module: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // An inline `mod tests {` (always at a file's end here): paths below it are relative to it.
    let mut module = module.to_vec();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        if let Some(name) = code
            .trim()
            .strip_prefix("mod ")
            .and_then(|r| r.strip_suffix(" {"))
        {
            module.push(name.trim().to_string());
            continue;
        }
        for start in ["crate::", "super::"] {
            let mut rest = code;
            while let Some(i) = rest.find(start) {
                let mut base: Vec<String> = if start == "crate::" {
                    Vec::new()
                } else {
                    let mut b = module.to_vec();
                    b.pop();
                    b
                };
                let mut tail = &rest[i + start.len()..];
                // `super::super::x` is one path: every `super::` of it read here.
                while let Some(t) = tail.strip_prefix("super::") {
                    base.pop();
                    tail = t;
                }
                rest = tail;
                let names: Vec<&str> = match tail.strip_prefix('{') {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .collect(),
                    None => vec![tail],
                };
                for n in names {
                    let path: String = n
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let path = path.trim_end_matches(':');
                    if path.is_empty() || path == "self" || path == "*" {
                        continue;
                    }
                    let mut full = base.clone();
                    full.extend(path.split("::").map(String::from));
                    out.insert(full.join("::"));
                }
            }
        }
    }
    out
}

/// Whether `src/<folder>/<name>` is a module of its own (a file or a folder).
fn is_submodule(src: &Path, folder: &str, name: &str) -> bool {
    src.join(folder).join(format!("{name}.rs")).is_file() || src.join(folder).join(name).is_dir()
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
        let module = module_of(rel);
        let top = module.first().cloned().unwrap_or_else(|| "main".into());
        let Some(mine) = rank(&top) else {
            broken.push(format!("{}: module {top} is in no layer", rel.display()));
            continue;
        };
        let text = fs::read_to_string(f).expect("read");
        for used in uses(&text, &module) {
            let parts: Vec<&str> = used.split("::").collect();
            let Some(first) = parts.first().copied() else {
                continue;
            };
            // Layers, between top-level modules.
            match rank(first) {
                _ if first == top => {}
                Some(r) if r < mine => {}
                Some(_) => broken.push(format!("{}: {top} uses {first}", rel.display())),
                None if module.len() <= 1 && top == "main" => {}
                None => broken.push(format!("{}: uses {used}, in no layer", rel.display())),
            }
            // Commands are peers.
            if top == "commands" && first == "commands" && parts.len() > 1 {
                let mine = module.get(1).map(String::as_str);
                let theirs = parts[1];
                if is_submodule(&src, "commands", theirs) && Some(theirs) != mine {
                    broken.push(format!(
                        "{}: command {} uses command {theirs}",
                        rel.display(),
                        mine.unwrap_or("mod")
                    ));
                }
            }
            // exec/'s order.
            if top == "exec" && first == "exec" && module.len() > 1 && parts.len() > 1 {
                let pos = |n: &str| EXEC_ORDER.iter().position(|o| *o == n);
                match (pos(&module[1]), pos(parts[1])) {
                    (Some(a), Some(b)) if b >= a && module[1] != parts[1] => broken.push(format!(
                        "{}: exec/{} uses exec/{}, listed after it",
                        rel.display(),
                        module[1],
                        parts[1]
                    )),
                    (None, _) => broken.push(format!(
                        "{}: exec/{} is not in EXEC_ORDER",
                        rel.display(),
                        module[1]
                    )),
                    _ => {}
                }
            }
        }
        // plan/ is pure.
        if top == "plan" {
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for s in SPAWNING {
                    if code.contains(s) {
                        broken.push(format!(
                            "{}:{}: plan/ reaches {s}, which starts processes",
                            rel.display(),
                            n + 1
                        ));
                    }
                }
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
fn the_scanner_sees_grouped_plain_and_super_paths() {
    let module: Vec<String> = ["commands", "doctor", "node"].map(String::from).into();
    let found = uses(
        "use crate::{docker, plan::Plan};\nlet x = crate::config::load(); // crate::exec\nuse super::report::Report;\nuse super::super::lint::x;\nmod tests {\n    use super::super::retry::y;\n",
        &module,
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            "commands::doctor::report::Report",
            "commands::doctor::retry::y",
            "commands::lint::x",
            "config::load",
            "docker",
            "plan::Plan"
        ]
    );
    assert_eq!(
        module_of(Path::new("commands/doctor/mod.rs")),
        ["commands", "doctor"]
    );
    assert_eq!(module_of(Path::new("main.rs")), Vec::<String>::new());
}

#[test]
fn a_command_using_another_is_caught() {
    let module: Vec<String> = ["commands", "build"].map(String::from).into();
    let found = uses("use super::plan::print;", &module);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["commands::plan::print"]
    );
}
