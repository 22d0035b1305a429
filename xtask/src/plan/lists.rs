//! Manifest lists of matrix mode, as the plan holds them: the list tag and its per-version
//! entries. Digests and os.version values are only known once the images are pushed, so the
//! executor resolves them (`exec::manifest`); the plan shows placeholders.

use crate::docker;

/// One Windows image that goes into a manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The per-version tag, e.g. `R/I:V-windows-amd64-1809`.
    pub tag: String,
    pub os: String,
    /// The base image (from BASEIMAGE): where os.version comes from when the pushed image's
    /// config lacks it.
    pub base: Option<String>,
}

/// A manifest list over per-version images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSpec {
    pub list: String,
    /// The list's repository (`R/I`), for `R/I@sha256:…` entry references.
    pub repo: String,
    pub entries: Vec<ListEntry>,
    pub insecure: bool,
}

impl ListSpec {
    /// The commands the executor runs, with `<digest of TAG>` and `<os.version of TAG>`
    /// standing for what it resolves first (`docker buildx imagetools inspect --raw`).
    pub fn commands(&self) -> Vec<Vec<String>> {
        let entry = |e: &ListEntry| format!("{}@<digest of {}>", self.repo, e.tag);
        let mut cmds: Vec<Vec<String>> = Vec::new();
        for e in &self.entries {
            cmds.push(docker::inspect_raw(&e.tag));
            cmds.push(docker::manifest_inspect_verbose(&entry(e), self.insecure));
            // Only when the config lacks os.version: upstream's fallback to the base image.
            if let Some(base) = &e.base {
                cmds.push(docker::inspect_raw(base));
            }
        }
        let refs: Vec<String> = self.entries.iter().map(entry).collect();
        cmds.push(docker::manifest_rm(&self.list));
        cmds.push(docker::manifest_create(&self.list, &refs, self.insecure));
        for e in &self.entries {
            cmds.push(docker::manifest_annotate(
                &self.list,
                &entry(e),
                &format!("<os.version of {}>", e.tag),
            ));
        }
        cmds.push(docker::manifest_push(&self.list, self.insecure));
        cmds
    }
}
