//! Commands: one module per `cargo xtask` command, each a `run` that main calls. They wire
//! the layers below (config → images → plan → preflight → exec) and own only what is theirs
//! to print or check. Shared here: loading the config and plan for the commands that inspect
//! a target rather than run it.

mod against;
mod bases;
pub mod build;
pub mod doctor;
pub mod graph;
pub mod lint;
mod online;
pub mod pin_bases;
pub mod plan;
pub mod promotion;
pub mod report;
mod run_file;
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
    let plan = checked_plan(&cfg, &images, target)?;
    Ok((cfg, plan))
}

/// The plan for TARGET, after checking every tag it pushes against docker's limits: a tag
/// too long for docker is bad input before any step runs, not a failure after the builds.
/// Images built from other images of IMAGES_DIR wait for them (`plan::graph`): a cycle is
/// bad input, since no run could start it.
pub fn checked_plan(cfg: &Config, images: &[Image], target: &Target) -> anyhow::Result<Plan> {
    let mut plan = crate::plan::plan(cfg, images, target);
    for step in &plan.steps {
        if let Some(img) = images.iter().find(|i| i.name == step.image) {
            images::check_tag(img, &step.tag)?;
        }
    }
    let edges = graph::edges(images, &cfg.registry);
    if !edges.is_empty() {
        let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
        if let Err(cycle) = crate::plan::graph::order(&names, &edges) {
            return Err(crate::error::BadInput::new(
                "IMAGES_DIR",
                cfg.images_dir.display().to_string(),
                format!(
                    "these images are built from each other in a cycle: {}",
                    cycle.join(", ")
                ),
                "see `cargo xtask plan --graph`: each image's BASEIMAGE and FROM lines name its bases",
            ));
        }
        crate::plan::graph::order_plan(&mut plan, &edges);
    }
    Ok(plan)
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
