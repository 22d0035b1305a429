//! `cargo xtask plan TARGET` (and `--dry-run` of the running commands): the plan as bash
//! lines or JSON on stdout, what `lint` finds on stderr (with --dry-run an error refuses:
//! exit 2, after the plan). No docker call, no node.

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
    print(&cfg, &images, &plan, false)
}

/// Prints a plan: stdout stays the pure plan, lint's findings go to stderr, an error as an
/// error. The plan is printed even when lint finds one; then `refuse` (--dry-run, which
/// answers for the run it shows) makes the error the result, exit 2 as the run's; `plan`, a
/// view of the tree as it is, says the run would refuse and exits 0.
pub fn print(cfg: &Config, images: &[Image], plan: &Plan, refuse: bool) -> anyhow::Result<()> {
    let (findings, refusal) = super::lint::findings_for(images);
    for line in findings {
        eprintln!("{line}");
    }
    if cfg.json {
        let json = serde_json::to_string_pretty(&plan::render_json(plan))?;
        crate::error::print(&format!("{json}\n"))?;
    } else {
        crate::error::print(&plan::render_text(plan))?;
    }
    match refusal {
        Some(e) if refuse => Err(e),
        Some(_) => {
            eprintln!("note: a run of this plan is refused (exit 2) while lint finds an error");
            Ok(())
        }
        None => Ok(()),
    }
}
