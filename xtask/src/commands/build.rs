//! `cargo xtask build|push|push-as-linux|sub-*` (make's all-* and sub-* targets): config →
//! images → plan (pure) → preflight (cheap, read-only; every node probed, which decides each
//! build's isolation) → execute → the run report (REPORT). With --dry-run the plan is printed
//! instead (`commands::plan`), its isolation decided by the nodes that are set up.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::{
    check_certs, Config, Env, IsolationChoice, Needs, Node, Opts, URL_PLACEHOLDER,
};
use crate::error::BadInput;
use crate::exec::{self, report, term};
use crate::images::{self, Image, Wants};
use crate::plan::{self, Plan, Target};
use crate::{preflight, unchanged};

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
        decide_for_dry_run(&cfg, &mut plan)?;
        return super::plan::print(&cfg, &images, &plan);
    }
    if plan.uses_nodes() {
        // Its warnings were printed by the first load: load_with prints none.
        Config::load_with(&opts, Needs { node: true }, &Env::process())?;
    }
    let docker = preflight::local(&cfg, &plan)?;
    let started = SystemTime::now();
    let log_dir = exec::prepare_logs(cfg.log_dir.as_deref(), cfg.quiet, started)?;
    let mut states = Vec::new();
    let outcome = execute(
        &cfg,
        &images,
        &mut plan,
        &docker,
        log_dir.as_deref(),
        &mut states,
    );
    let finished = SystemTime::now();
    // Bad input (exit 2: the buildx check, a release its node cannot run) means the run never
    // got past validation.
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
    let digests = report::digests(&docker, &run, cfg.registry_timeout);
    // Written as the executor writes: a closed stderr (`2>&1 | head`) is no reason to panic.
    match report::write(path, &report::document(&run, &digests)) {
        Ok(()) => {
            term::write_line(
                true,
                &format!("xtask: run report written to {}", path.display()),
            );
        }
        // The run's own failure matters more; a run that worked fails for want of its report.
        Err(e) if outcome.is_err() => {
            term::write_line(true, &format!("xtask: {e:#}"));
        }
        Err(e) => return Err(e),
    }
    outcome
}

/// The buildx check, the node probe and the skip-unchanged probe (at once: all only read),
/// then the plan.
fn execute(
    cfg: &Config,
    images: &[Image],
    plan: &mut Plan,
    docker: &Path,
    log_dir: Option<&Path>,
    states: &mut Vec<exec::State>,
) -> anyhow::Result<()> {
    let target = plan.target.clone();
    let nodes = preflight::nodes_of(cfg, plan);
    let mut probed = plan.clone();
    let (buildx, decided, probe, creds) = std::thread::scope(|s| {
        let buildx = s.spawn(|| {
            if target.caches() {
                preflight::buildx(docker).map(|_| ())
            } else {
                Ok(())
            }
        });
        let decided = s.spawn(|| preflight::probe_nodes(docker, cfg, &nodes, &mut probed));
        // Nodes push with this machine's credentials: refused before any build when the
        // registry wants credentials this machine does not hold.
        let creds = s.spawn(|| match pushed_tag(plan) {
            Some(tag) => {
                preflight::credentials::check_for_push(&cfg.registry, &tag, cfg.registry_timeout)
                    .map(|_| ())
            }
            None => Ok(()),
        });
        let probe = cfg
            .skip_unchanged
            .then(|| unchanged::probe(docker, images, plan, cfg.registry_timeout));
        (buildx.join(), decided.join(), probe, creds.join())
    });
    buildx.map_err(|_| anyhow::anyhow!("the buildx check panicked"))??;
    creds.map_err(|_| anyhow::anyhow!("the credentials check panicked"))??;
    let decided = decided.map_err(|_| anyhow::anyhow!("the node probe panicked"))??;
    *plan = probed;
    show(cfg, &decided.0, &decided.1);
    if let Some(probe) = probe {
        unchanged::apply(plan, &probe?);
    }
    let limits = exec::Limits::new(plan, cfg.jobs, cfg.node_jobs, cfg.local_jobs);
    exec::run(
        plan,
        &exec::Options {
            docker: docker.to_path_buf(),
            limits,
            retries: cfg.retries,
            backoff: Duration::from_secs(1),
            quiet: cfg.quiet,
            log_dir: log_dir.map(Path::to_path_buf),
            timeouts: exec::watch::Timeouts {
                registry: cfg.registry_timeout,
                node: cfg.node_timeout,
                idle_check: cfg.step_idle_check,
                idle: cfg.step_idle_timeout,
            },
        },
        states,
    )
}

/// The first tag a plan writes to the registry (None: it pushes nothing).
pub(crate) fn pushed_tag(plan: &Plan) -> Option<String> {
    plan.steps
        .iter()
        .find(|s| s.kind() != plan::Kind::Build)
        .map(|s| s.tag.clone())
}

/// --dry-run shows the isolation a run would use: in matrix mode the nodes whose URL and cert
/// files are set are asked (read-only, within NODE_TIMEOUT), as a run asks them; a node that
/// is not set up keeps the plan's placeholder. Compat mode's argv does not depend on the node.
fn decide_for_dry_run(cfg: &Config, plan: &mut plan::Plan) -> anyhow::Result<()> {
    // Compat mode's argv does not depend on the node, unless ISOLATION=hyperv asks for a flag
    // that a BuildKit node would drop (then the build's environment does).
    let forced_hyperv = cfg.isolation == IsolationChoice::Force(crate::config::Isolation::HyperV);
    if !(cfg.is_matrix() || forced_hyperv) || !plan.target.builds() {
        return Ok(());
    }
    let (ready, unset): (Vec<&Node>, Vec<&Node>) = preflight::nodes_of(cfg, plan)
        .into_iter()
        .partition(|n| n.url != URL_PLACEHOLDER && check_certs("", &n.cert_path).is_ok());
    if preflight::undecided(plan) {
        for n in &unset {
            eprintln!(
                "xtask: isolation for {}: decided from its node's Windows build at run time (the node is not set up here: no URL or cert files), shown as {}",
                n.os.as_deref().unwrap_or("the node"),
                plan::ISOLATION_PLACEHOLDER
            );
        }
    }
    if ready.is_empty() {
        return Ok(());
    }
    let docker = preflight::find_docker()?;
    let (decided, routed) = preflight::probe_nodes(&docker, cfg, &ready, plan)?;
    show(cfg, &decided, &routed);
    Ok(())
}

/// The isolation decisions, on stderr before the run: every one in matrix mode, only
/// warnings in compat mode (whose argv is upstream's whatever the node); then each Windows
/// node build's builder where it is not simply the node's default.
fn show(cfg: &Config, decided: &[plan::Decided], routed: &[plan::Routed]) {
    for d in decided {
        if cfg.is_matrix() {
            eprintln!("xtask: isolation: {}", d.line());
        }
        if let Some(w) = &d.warning {
            eprintln!("xtask: warning: {w}");
        }
    }
    for r in routed {
        if cfg.is_matrix() || r.via == plan::BuildVia::Classic {
            eprintln!("xtask: builder: {}", r.line());
        }
    }
}
