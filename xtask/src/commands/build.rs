//! `cargo xtask build|push|push-as-linux|sub-*` (make's all-* and sub-* targets): config →
//! images → plan (pure) → preflight (cheap, read-only) → execute → the run report (REPORT).
//! With --dry-run the plan is printed instead (`commands::plan`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::{Config, Needs, Opts};
use crate::error::BadInput;
use crate::exec::{self, report};
use crate::images::{self, Image, Wants};
use crate::plan::{self, Plan, Target};
use crate::{preflight, unchanged};

/// Plans TARGET and runs it (or prints it, with --dry-run).
pub fn run(opts: Opts, target: Target) -> anyhow::Result<()> {
    let print_only = opts.dry_run;
    let cfg = Config::load(
        &opts,
        Needs {
            node: target.needs_node() && !print_only,
        },
    )?;
    let wants = Wants {
        windows: target.builds(),
        cache: target.caches(),
    };
    let images = images::select(&cfg, target.image(), wants)?;
    let mut plan = plan::plan(&cfg, &images, &target);
    if print_only {
        return super::plan::print(&cfg, &images, &plan);
    }
    let docker = preflight::local(&cfg, &plan)?;
    let started = SystemTime::now();
    let log_dir = exec::prepare_logs(cfg.log_dir.as_deref(), cfg.quiet, started)?;
    let mut states = Vec::new();
    let outcome = execute(&cfg, &images, &mut plan, &docker, &log_dir, &mut states);
    let finished = SystemTime::now();
    // Bad input (exit 2: the buildx check) means the run never got past validation.
    let validated = !matches!(&outcome, Err(e) if e.downcast_ref::<BadInput>().is_some());
    let Some(path) = cfg.report.as_deref().filter(|_| validated) else {
        return outcome;
    };
    let run = report::Run {
        plan: &plan,
        registry: &cfg.registry,
        os_versions: &cfg.os_versions,
        started,
        finished,
        states: &states,
        outcome: &outcome,
        log_dir: log_dir.as_deref(),
    };
    let digests = report::digests(&docker, &run);
    match report::write(path, &report::document(&run, &digests)) {
        Ok(()) => eprintln!("xtask: run report written to {}", path.display()),
        // The run's own failure matters more; a run that worked fails for want of its report.
        Err(e) if outcome.is_err() => eprintln!("xtask: {e:#}"),
        Err(e) => return Err(e),
    }
    outcome
}

/// The buildx check and the skip-unchanged probe (at once: both only read), then the plan.
fn execute(
    cfg: &Config,
    images: &[Image],
    plan: &mut Plan,
    docker: &Path,
    log_dir: &Option<std::path::PathBuf>,
    states: &mut Vec<exec::State>,
) -> anyhow::Result<()> {
    let target = plan.target.clone();
    let (buildx, probe) = std::thread::scope(|s| {
        let buildx = s.spawn(|| {
            if target.caches() {
                preflight::buildx(docker).map(|_| ())
            } else {
                Ok(())
            }
        });
        let probe = cfg
            .skip_unchanged
            .then(|| unchanged::probe(docker, images, plan));
        (buildx.join(), probe)
    });
    buildx.map_err(|_| anyhow::anyhow!("the buildx check panicked"))??;
    if let Some(probe) = probe {
        unchanged::apply(plan, &probe?);
    }
    let jobs = cfg.jobs.unwrap_or_else(|| exec::default_jobs(plan));
    exec::run(
        plan,
        &exec::Options {
            docker: docker.to_path_buf(),
            jobs,
            retries: cfg.retries,
            backoff: Duration::from_secs(1),
            quiet: cfg.quiet,
            log_dir: log_dir.clone(),
        },
        states,
    )
}
