//! Commands: one module per `cargo xtask` command, each a `run` that main calls. They wire
//! the layers below (config → images → plan → preflight → exec) and own only what is theirs
//! to print or check. Shared here: loading the config and plan for the commands that inspect
//! a target rather than run it.

pub mod build;
pub mod doctor;
pub mod lint;
pub mod plan;
pub mod tls;
pub mod verify;

use crate::config::{Config, Needs, Opts};
use crate::images::{self, Image, Wants};
use crate::plan::{Plan, Target};

/// Config and plan for TARGET, for the commands that inspect rather than run it (no node
/// needed; they report a missing one themselves).
pub fn plan_for(opts: &Opts, target: &Target) -> anyhow::Result<(Config, Plan)> {
    let cfg = Config::load(opts, Needs { node: false })?;
    let images = images_as_they_are(&cfg, target.image())?;
    let plan = crate::plan::plan(&cfg, &images, target);
    Ok((cfg, plan))
}

/// The selected images, without requiring their Dockerfiles: for commands that report a
/// missing file as a finding instead of refusing to start.
pub fn images_as_they_are(cfg: &Config, only: Option<&str>) -> anyhow::Result<Vec<Image>> {
    let wants = Wants {
        windows: false,
        cache: false,
    };
    images::select(cfg, only, wants)
}
