//! Running a target: config → images → plan (pure) → print it, or check the cheap things
//! and execute it. Also the config-and-plan that `verify` and `doctor` inspect.

use std::path::Path;
use std::time::Duration;

use crate::config::{Config, Needs, Opts};
use crate::images::{self, Image, Wants};
use crate::plan::{self, Plan, Target};
use crate::{docker, doctor, exec, lint, unchanged};

/// Plans TARGET and either prints the plan or runs it.
pub fn target(opts: &Opts, target: &Target, print_only: bool) -> anyhow::Result<()> {
    let cfg = Config::load(
        opts,
        Needs {
            node: target.needs_node() && !print_only,
        },
    )?;
    let wants = Wants {
        windows: target.builds(),
        cache: target.caches(),
    };
    let images = images::select(&cfg, target.image(), wants)?;
    let mut plan = plan::plan(&cfg, &images, target);
    if print_only {
        // What `lint` finds, as warnings on stderr: stdout stays the pure plan.
        for warning in lint::warnings_for(&images) {
            eprintln!("warning: {warning}");
        }
        if cfg.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan::render_json(&plan))?
            );
        } else {
            print!("{}", plan::render_text(&plan));
        }
        return Ok(());
    }
    // The cheap part of `doctor` (CLI, cert files, key readable): exit 2 before any step.
    let docker = doctor::local(&cfg, &plan)?;
    // The buildx check and the skip-unchanged probe only read: both are asked at once.
    let (buildx, probe) = std::thread::scope(|s| {
        let buildx = s.spawn(|| require_buildx(target, &docker));
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

/// Config and plan for TARGET, for the commands that inspect rather than run it (no node
/// needed; they report a missing one themselves).
pub fn plan_for(opts: &Opts, target: &Target) -> anyhow::Result<(Config, Plan)> {
    let cfg = Config::load(opts, Needs { node: false })?;
    let images = images_as_they_are(&cfg, target.image())?;
    let plan = plan::plan(&cfg, &images, target);
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

/// The read-only check before a run of a target that builds cache images: buildx is there.
fn require_buildx(target: &Target, docker: &Path) -> anyhow::Result<()> {
    if target.caches() {
        let sh = xshell::Shell::new()?;
        docker::buildx_version(&sh, docker)?;
    }
    Ok(())
}
