//! `cargo xtask pin-bases [--all] [-n]`: the monthly (Patch Tuesday) refresh of pinned base
//! images — every BASEIMAGE line pinned with a digest (`…:ltsc2022@sha256:…`; every line with
//! --all) moved to the digest its tag points at today, printing the old and new os.version.
//! The work is `freshness::bases::pin`.

use super::Planning;
use crate::config::{Registry, Selection};
use crate::docker::Client;
use crate::freshness::bases;
use crate::images;

/// What pin-bases is handed: the images, the registry, and how far to go.
#[derive(Debug, Clone)]
pub struct Input {
    pub selection: Selection,
    pub registry: Registry,
    /// Pin every line, not only those already pinned.
    pub all: bool,
    /// Show the changes, write nothing.
    pub dry_run: bool,
}

pub fn run(input: Input) -> anyhow::Result<()> {
    let cx = images::Context {
        registry: &input.registry.prefix,
        os_versions: &[],
    };
    let imgs = images::named_or_all(&input.selection, cx, None, Planning::as_they_are())?;
    let docker = Client::find(input.registry.timeout)?;
    crate::preflight::buildx(&docker)?;
    bases::pin(
        &docker,
        &input.registry.prefix,
        &imgs,
        input.all,
        input.dry_run,
    )
}
