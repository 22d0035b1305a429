//! `cargo xtask pin-bases [--all] [-n]`: the monthly (Patch Tuesday) refresh of pinned base
//! images — every BASEIMAGE line pinned with a digest (`…:ltsc2022@sha256:…`; every line with
//! --all) moved to the digest its tag points at today, printing the old and new os.version.
//! The work is `bases::pin`.

use crate::config::{Config, Needs, Opts};

pub fn run(opts: Opts, all: bool, dry_run: bool) -> anyhow::Result<()> {
    let cfg = Config::load(&opts, Needs { node: false })?;
    super::bases::pin(&cfg, all, dry_run)
}
