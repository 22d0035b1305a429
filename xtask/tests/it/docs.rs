//! The user documentation holds together: README.md is the front page and docs/*.md the
//! reference, so every relative link (and `#anchor`) in them resolves, every docs page opens
//! with a table of contents that lists its sections, README's test command is the one `.ci/run`
//! runs, every variable the command line reads is documented in docs/variables.md, and the
//! private keys `cargo xtask tls` writes are kept out of git inside the checkout.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .to_path_buf()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// README.md, ARCHITECTURE.md and every docs/*.md.
fn pages() -> Vec<PathBuf> {
    let r = root();
    let mut v = vec![r.join("README.md"), r.join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(r.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 10, "docs/ has {} pages", docs.len());
    v.extend(docs);
    v
}

/// The lines outside ``` fences.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped (but `-` and `_`), spaces to
/// `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn headings(text: &str) -> Vec<(usize, String)> {
    prose(text)
        .into_iter()
        .filter_map(|l| {
            let level = l.chars().take_while(|&c| c == '#').count();
            (level > 0 && l[level..].starts_with(' '))
                .then(|| (level, l[level..].trim().to_string()))
        })
        .collect()
}

/// Every `](target)` of the prose.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in prose(text) {
        let mut rest = l;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(j) = rest.find(')') {
                out.push(rest[..j].to_string());
                rest = &rest[j..];
            }
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut bad = Vec::new();
    for page in pages() {
        let text = read(&page);
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("dir").join(file)
            };
            if !target.exists() {
                bad.push(format!("{}: {link}: no such file", page.display()));
                continue;
            }
            if !anchor.is_empty() {
                let slugs: HashSet<String> = headings(&read(&target))
                    .into_iter()
                    .map(|(_, h)| slug(&h))
                    .collect();
                if !slugs.contains(anchor) {
                    bad.push(format!("{}: {link}: no such heading", page.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
}

#[test]
fn every_docs_page_has_a_table_of_contents_of_its_sections() {
    let docs = root().join("docs");
    for page in pages()
        .into_iter()
        .filter(|p| p.parent() == Some(docs.as_path()))
    {
        let text = read(&page);
        let hs = headings(&text);
        assert_eq!(
            hs.first().map(|h| h.0),
            Some(1),
            "{}: no title",
            page.display()
        );
        let sections: Vec<String> = hs
            .iter()
            .filter(|(lvl, h)| *lvl == 2 && h != "Contents")
            .map(|(_, h)| format!("#{}", slug(h)))
            .collect();
        let start = text
            .find("\n## Contents\n")
            .unwrap_or_else(|| panic!("{}: no ## Contents", page.display()));
        let toc: Vec<String> = text[start + 13..]
            .lines()
            .skip_while(|l| l.is_empty())
            .take_while(|l| l.starts_with("- ["))
            .filter_map(|l| {
                l.rsplit_once("](")
                    .map(|(_, t)| t.trim_end_matches(')').to_string())
            })
            .collect();
        assert_eq!(
            toc,
            sections,
            "{}: the contents differ from the sections",
            page.display()
        );
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let readme = read(&root().join("README.md"));
    assert!(
        readme.contains("Run the tests") && readme.contains("```bash\nmake check\n```"),
        "README's test command is not `make check`"
    );
    let ci = read(&root().join(".ci/run"));
    let last = ci
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .expect("a command");
    assert_eq!(
        last, "make check",
        ".ci/run does not end with README's test command"
    );
}

#[test]
fn every_variable_the_command_line_reads_is_in_docs_variables() {
    let vars = read(&root().join("docs/variables.md"));
    let mut missing = Vec::new();
    // Every group of config/ (one file each) declares its variables as `env = "NAME"`.
    let mut groups: Vec<PathBuf> = std::fs::read_dir(root().join("xtask/src/config"))
        .expect("config/")
        .flatten()
        .map(|e| e.path())
        .collect();
    groups.sort();
    let mut seen = 0;
    for src in groups {
        for part in read(&src).split("env = \"").skip(1) {
            let name = &part[..part.find('"').expect("closing quote")];
            seen += 1;
            if !vars.contains(&format!("`{name}`")) {
                missing.push(name.to_string());
            }
        }
    }
    assert!(seen >= 15, "found only {seen} variables in config/");
    assert!(missing.is_empty(), "not in docs/variables.md: {missing:?}");
}

#[test]
fn a_key_made_by_tls_inside_the_checkout_is_ignored_by_git() {
    for path in [
        "certs/ca/ca-key.pem",
        "certs/node/server-key.pem",
        "certs/client/key.pem",
        "some/where/ca/ca-key.pem",
    ] {
        let o = Command::new("git")
            .arg("-C")
            .arg(root())
            .args(["check-ignore", "--no-index", "-q", path])
            .output()
            .expect("git");
        assert!(o.status.success(), "{path} is not ignored by .gitignore");
    }
}
