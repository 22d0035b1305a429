//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds as warnings on stderr. No docker call, no node.

use crate::config::{Config, Needs, Opts};
use crate::images::{self, Image, Wants};
use crate::plan::{self, Plan, Target};

pub fn run(opts: Opts, target: &str) -> anyhow::Result<()> {
    let target = Target::named(target)?;
    let cfg = Config::load(&opts, Needs { node: false })?;
    let wants = Wants {
        windows: target.builds(),
        cache: target.caches(),
    };
    let images = images::select(&cfg, target.image(), wants)?;
    let plan = super::checked_plan(&cfg, &images, &target)?;
    print(&cfg, &images, &plan)
}

/// Prints a plan: stdout stays the pure plan, findings go to stderr.
pub fn print(cfg: &Config, images: &[Image], plan: &Plan) -> anyhow::Result<()> {
    for warning in super::lint::warnings_for(images) {
        crate::error::say(&format!("warning: {warning}"));
    }
    if cfg.json {
        let json = serde_json::to_string_pretty(&plan::render_json(plan))?;
        crate::error::print(&format!("{json}\n"))?;
    } else {
        crate::error::print(&plan::render_text(plan))?;
    }
    Ok(())
}
