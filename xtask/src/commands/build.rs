//! `cargo xtask build|push|push-as-linux|sub-*` (make's all-* and sub-* targets): config →
//! images → plan (pure) → preflight (cheap, read-only) → execute. With --dry-run the plan is
//! printed instead (`commands::plan`).

use std::time::Duration;

use crate::config::{Config, Needs, Opts};
use crate::images::{self, Wants};
use crate::plan::Target;
use crate::{exec, preflight, unchanged};

/// Plans TARGET and runs it (or prints it, with --dry-run).
pub fn run(opts: Opts, target: Target) -> anyhow::Result<()> {
    let print_only = opts.dry_run;
    // Whether the run needs a node depends on the images' kinds (cache-only images need
    // none): plan first, then hold the node settings to the full check if a step uses one.
    let cfg = Config::load(&opts, Needs { node: false })?;
    let wants = Wants {
        windows: target.builds(),
        cache: target.caches(),
    };
    let images = images::select(&cfg, target.image(), wants)?;
    let mut plan = super::checked_plan(&cfg, &images, &target)?;
    if print_only {
        return super::plan::print(&cfg, &images, &plan);
    }
    if plan.uses_nodes() {
        Config::load(&opts, Needs { node: true })?;
    }
    let docker = preflight::local(&cfg, &plan)?;
    // The buildx check and the skip-unchanged probe only read: both are asked at once.
    let (buildx, probe) = std::thread::scope(|s| {
        let buildx = s.spawn(|| {
            if target.caches() {
                preflight::buildx(&docker).map(|_| ())
            } else {
                Ok(())
            }
        });
        let probe = cfg
            .skip_unchanged
            .then(|| unchanged::probe(&docker, &images, &plan));
        (buildx.join(), probe)
    });
    buildx.map_err(|_| anyhow::anyhow!("the buildx check panicked"))??;
    if let Some(probe) = probe {
        unchanged::apply(&mut plan, &probe?);
    }
    let jobs = cfg.jobs.unwrap_or_else(|| exec::default_jobs(&plan));
    exec::run(
        &plan,
        &exec::Options {
            docker,
            jobs,
            retries: cfg.retries,
            backoff: Duration::from_secs(1),
        },
    )
}
