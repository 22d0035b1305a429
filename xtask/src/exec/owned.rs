//! What this run owns, and the proof before exit 0 (issue 19 §1: two releases at once). Each
//! pushing step's docker output says which digest it sent (`docker::said`); the run keeps
//! those (`Mine`), builds its manifest lists from them (`exec::manifest`), and holds every
//! step to them (`judge`): a node push must send the image this run's build named, a cache
//! build must read the Windows image this run pushed, the plain cache tag must copy this run's
//! cache image. Another run of different content on the same tags (two branches, CI and a
//! person) shows up as a difference, never as a silently mixed release. Before exit 0 every
//! pushed tag is read back (`read_back`): a tag another run replaced since ends the run 1,
//! naming the tags and what they hold now.

use std::collections::BTreeMap;

use crate::docker::said::Said;
use crate::docker::{self, Registry, QUERIES_AT_ONCE};
use crate::exec::term::write_line;
use crate::plan::{Action, Kind, Step};

/// What this run pushed and built, by docker's own word, tag by tag.
#[derive(Debug, Clone, Default)]
pub struct Mine {
    /// Tag → the digest this run pushed to it.
    pub pushed: BTreeMap<String, String>,
    /// Tag → the image this run's node build named it to (BuildKit nodes only).
    pub built: BTreeMap<String, String>,
}

impl Mine {
    /// Keeps what a step that ended well said.
    pub fn record(&mut self, step: &Step, said: Said) {
        if let Some(d) = said.pushed {
            self.pushed.insert(step.tag.clone(), d);
        }
        if let Some(d) = said.built {
            self.built.insert(step.tag.clone(), d);
        }
    }
}

/// The image a cache build reads (its SOURCE build-arg), whose resolution it prints.
pub fn source_of(step: &Step) -> Option<String> {
    match &step.action {
        Action::Cache { build_args, .. } => build_args
            .iter()
            .find(|(k, _)| k == "SOURCE")
            .map(|(_, v)| v.clone()),
        _ => None,
    }
}

/// Holds what a step's docker said to what this run did before it: the step fails when it
/// published something that is not this run's.
pub fn judge(step: &Step, said: Said, mine: &Mine) -> Result<Said, String> {
    if step.kind() == Kind::Build {
        return Ok(said);
    }
    let tag = &step.tag;
    let Some(pushed) = said.pushed.as_deref() else {
        return Err(format!(
            "docker did not say which digest it pushed to {tag} (no digest in its output), so this run cannot tell whether the tag holds its own image"
        ));
    };
    let other = |what: &str, theirs: &str, ours: &str, replaced: &str| {
        format!(
            "{what} {theirs}, not {ours} which this run {replaced}: another run pushed or built the same tags meanwhile; this release is not this run's (see docs/concurrency.md)"
        )
    };
    match &step.action {
        Action::Push { .. } => {
            if let Some(built) = mine.built.get(tag).filter(|b| *b != pushed) {
                return Err(other(
                    &format!("the node pushed {tag} as"),
                    pushed,
                    built,
                    "built",
                ));
            }
        }
        Action::Cache { .. } => {
            let source = source_of(step).unwrap_or_default();
            if let (Some(read), Some(ours)) = (&said.source, mine.pushed.get(&source)) {
                if read != ours {
                    return Err(other(
                        &format!("the cache build read {source} as"),
                        read,
                        ours,
                        "pushed",
                    ));
                }
            }
        }
        Action::Copy { from } => {
            if let Some(ours) = mine.pushed.get(from).filter(|d| *d != pushed) {
                return Err(other(
                    &format!("{tag} was copied from {from} as"),
                    pushed,
                    ours,
                    "pushed",
                ));
            }
        }
        Action::Build { .. } | Action::List(_) => {}
    }
    Ok(said)
}

/// Reads back every tag this run pushed (at most `QUERIES_AT_ONCE` queries at once, each
/// within the registry deadline): Err names each tag that holds something else now, and each that could
/// not be read.
pub fn read_back(registry: Registry, mine: &Mine) -> Result<(), String> {
    if mine.pushed.is_empty() {
        return Ok(());
    }
    let tags: Vec<(&String, &String)> = mine.pushed.iter().collect();
    write_line(
        true,
        &format!(
            "xtask: reading back the {} tag{} this run pushed",
            tags.len(),
            if tags.len() == 1 { "" } else { "s" }
        ),
    );
    let now = docker::at_most(QUERIES_AT_ONCE, &tags, |(tag, _)| registry.digest(tag));
    let mut replaced = Vec::new();
    let mut unread = Vec::new();
    for ((tag, ours), now) in tags.iter().zip(now) {
        match now {
            Ok(d) if d == **ours => {}
            // Whole digests: what a release engineer compares and promotes.
            Ok(d) => replaced.push(format!("{tag} holds {d} now (this run pushed {ours})")),
            Err(e) => unread.push(format!("{tag}: {e}")),
        }
    }
    let mut why = Vec::new();
    if !replaced.is_empty() {
        why.push(format!(
            "another run replaced {} of the {} tags this run pushed: {}; the registry holds a release that is not (only) this run's (see docs/concurrency.md)",
            replaced.len(),
            tags.len(),
            replaced.join("; ")
        ));
    }
    if !unread.is_empty() {
        why.push(format!(
            "could not read back {} of the tags this run pushed, so it cannot say they hold its images: {}",
            unread.len(),
            unread.join("; ")
        ));
    }
    match why.is_empty() {
        true => {
            write_line(
                true,
                &format!(
                    "xtask: all {} pushed tags hold this run's images",
                    tags.len()
                ),
            );
            Ok(())
        }
        false => Err(why.join("; ")),
    }
}
