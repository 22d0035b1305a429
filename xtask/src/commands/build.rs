//! `cargo xtask build|push|push-as-linux|sub-*` (make's all-* and sub-* targets): config →
//! images → plan (pure) → preflight (cheap, read-only; every node probed, which decides each
//! build's isolation) → execute → the run report (REPORT). With --dry-run the plan is printed
//! instead, its isolation decided by the nodes that are set up.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Planning;
use crate::config::{check_certs, DryRunArgs, Env, IsolationChoice, Node, Output, RunSettings};
use crate::docker::Client;
use crate::error::BadInput;
use crate::exec::{self, report, term};
use crate::images::Image;
use crate::plan::{self, Plan};
use crate::windows::Isolation;
use crate::{preflight, unchanged};

/// What a run is handed: the plan's groups, how it runs, what it leaves behind.
#[derive(Debug, Clone)]
pub struct Input {
    pub planning: Planning,
    pub run: RunSettings,
    pub output: Output,
    pub dry: DryRunArgs,
}

/// Plans TARGET and runs it (or prints it, with --dry-run).
pub fn run(input: Input) -> anyhow::Result<()> {
    let Input {
        planning: p,
        output,
        dry,
        ..
    } = &input;
    let (images, mut plan) = p.plan(p.wants())?;
    say_what_has_no_step(&images, &plan);
    if dry.dry_run {
        decide_for_dry_run(p, &mut plan)?;
        return super::print_plan(&images, &plan, dry.json, true);
    }
    // lint's errors (a RUN in a Windows stage of the cache Dockerfile, a version ARG that is
    // not VERSION, …) refuse the run before the node builds and pushes anything.
    let (findings, refusal) = crate::lint::findings_for(&images);
    for line in findings {
        crate::error::say(&format!("xtask: {line}"));
    }
    if let Some(e) = refusal {
        return Err(e);
    }
    // Whether the run needs a node depends on the images' kinds (cache-only images need
    // none): planned first, the node settings are held to the full check if a step uses one.
    if plan.uses_nodes() {
        p.nodes.require()?;
    }
    let docker = preflight::local(&p.nodes, &plan, p.registry.timeout)?;
    preflight::docker_env(&docker, &Env::process(), &p.nodes, &plan, p.nodes.timeout)?;
    let started = SystemTime::now();
    // Every output path is checked before the first step: a run that published everything
    // must not fail for a report or log it cannot write.
    let logs = exec::log_folder(output.log_dir.as_deref(), output.quiet, started);
    // Every image folder of IMAGES_DIR, not only the selected ones: a log written into any of
    // them changes that image's build context for its next run.
    let all_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&p.selection.dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("VERSION").is_file())
        .collect();
    let image_dirs: Vec<&Path> = images
        .iter()
        .map(|i| i.dir.as_path())
        .chain(all_dirs.iter().map(|d| d.as_path()))
        .collect();
    exec::check_outputs(
        &plan,
        output.report.as_deref(),
        logs.as_ref().map(|(var, d)| (*var, d.as_path())),
        &image_dirs,
    )?;
    let log_dir = exec::prepare_logs(logs, &plan)?;
    let mut states = Vec::new();
    let mut starts = Vec::new();
    let outcome = execute(
        &input,
        &images,
        &mut plan,
        &docker,
        log_dir.as_deref(),
        (&mut states, &mut starts),
    );
    let finished = SystemTime::now();
    // Bad input (exit 2: the buildx check, a release its node cannot run) means the run never
    // got past validation.
    let validated = !matches!(&outcome, Err(e) if e.downcast_ref::<BadInput>().is_some());
    let Some(path) = output.report.as_deref().filter(|_| validated) else {
        return outcome;
    };
    let os_versions = p.releases.names();
    let run = report::Run {
        plan: &plan,
        registry: &p.registry.prefix,
        os_versions: &os_versions,
        started,
        finished,
        states: &states,
        starts: &starts,
        outcome: &outcome,
        log_dir: log_dir.as_deref(),
    };
    let digests = report::digests(docker.registry(), &run);
    // Written as the executor writes: a closed stderr (`2>&1 | head`) is no reason to panic.
    match report::write(path, &report::document(&run, &digests)) {
        Ok(()) => {
            term::write_line(
                true,
                &format!("xtask: run report written to {}", path.display()),
            );
        }
        // Said, never the run's result: a failed run keeps its own failure, and a run that
        // published everything is done (exit 0) — the path was proven writable before the
        // first step, so this is something that changed during the run.
        Err(e) if outcome.is_err() => {
            term::write_line(true, &format!("xtask: {e:#}"));
        }
        Err(e) => {
            term::write_line(
                true,
                &format!("xtask: warning: every step succeeded, but the run report was not written: {e:#}"),
            );
        }
    }
    outcome
}

/// Images the target has no step for — cache-only images under a target that only builds or
/// pushes on the node — are said, so a run that does nothing says why instead of exiting 0
/// in silence.
fn say_what_has_no_step(images: &[Image], plan: &Plan) {
    let idle: Vec<&str> = images
        .iter()
        .filter(|i| i.is_cache_only() && !plan.steps.iter().any(|s| s.image == i.name))
        .map(|i| i.name.as_str())
        .collect();
    if idle.is_empty() {
        return;
    }
    let what = if plan.steps.is_empty() {
        "has nothing to run"
    } else {
        "runs nothing"
    };
    crate::error::say(&format!(
        "xtask: {} {what} for {}: {} cache-only (built by buildx alone, no node build or push); all-push-as-linux or sub-repush-as-linux-IMG builds {}",
        plan.target.name(),
        idle.join(", "),
        if idle.len() == 1 { "it is" } else { "they are" },
        if idle.len() == 1 { "it" } else { "them" },
    ));
}

/// The buildx check, the node probe and the skip-unchanged probe (at once: all only read),
/// then the plan.
fn execute(
    input: &Input,
    images: &[Image],
    plan: &mut Plan,
    docker: &Client,
    log_dir: Option<&Path>,
    (states, starts): (&mut Vec<exec::State>, &mut Vec<Option<SystemTime>>),
) -> anyhow::Result<()> {
    let (p, settings, quiet) = (&input.planning, &input.run, input.output.quiet);
    let target = plan.target.clone();
    let nodes = preflight::nodes_of(&p.nodes, plan);
    let mut probed = plan.clone();
    let (buildx, decided, probe, creds) = std::thread::scope(|s| {
        let buildx = s.spawn(|| {
            if target.caches() {
                preflight::buildx(docker).map(|_| ())
            } else {
                Ok(())
            }
        });
        let decided =
            s.spawn(|| preflight::probe_nodes(docker, p.nodes.timeout, &nodes, &mut probed));
        // Nodes push with this machine's credentials: refused before any build when the
        // registry wants credentials this machine does not hold.
        let creds = s.spawn(|| match pushed_tag(plan) {
            Some(tag) => {
                preflight::credentials::check_for_push(&p.registry.prefix, &tag, p.registry.timeout)
                    .map(|_| ())
            }
            None => Ok(()),
        });
        let probe = p
            .skip_unchanged
            .then(|| unchanged::probe(docker.registry(), images, plan));
        (buildx.join(), decided.join(), probe, creds.join())
    });
    buildx.map_err(|_| anyhow::anyhow!("the buildx check panicked"))??;
    creds.map_err(|_| anyhow::anyhow!("the credentials check panicked"))??;
    let decided = decided.map_err(|_| anyhow::anyhow!("the node probe panicked"))??;
    *plan = probed;
    show(p.releases.is_matrix(), &decided.0, &decided.1);
    if let Some(probe) = probe {
        unchanged::apply(plan, &probe?);
    }
    let limits = exec::Limits::new(plan, settings.jobs, settings.node_jobs, settings.local_jobs);
    exec::run(
        plan,
        &exec::Options {
            docker: docker.clone(),
            limits,
            retries: settings.retries,
            backoff: Duration::from_secs(1),
            quiet,
            log_dir: log_dir.map(Path::to_path_buf),
            timeouts: exec::watch::Timeouts {
                registry: p.registry.timeout,
                node: p.nodes.timeout,
                idle_check: settings.step_idle_check,
                idle: settings.step_idle_timeout,
            },
            keep_going: settings.keep_going,
        },
        states,
        starts,
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
fn decide_for_dry_run(p: &Planning, plan: &mut plan::Plan) -> anyhow::Result<()> {
    // Compat mode's argv does not depend on the node, unless ISOLATION=hyperv asks for a flag
    // that a BuildKit node would drop (then the build's environment does).
    let forced_hyperv = p.nodes.isolation == IsolationChoice::Force(Isolation::HyperV);
    if !(p.releases.is_matrix() || forced_hyperv) || !plan.target.builds() {
        return Ok(());
    }
    let (ready, unset): (Vec<&Node>, Vec<&Node>) = preflight::nodes_of(&p.nodes, plan)
        .into_iter()
        .partition(|n| n.url.is_some() && check_certs(n).is_ok());
    if preflight::undecided(plan) {
        for n in &unset {
            crate::error::say(&format!(
                "xtask: isolation for {}: decided from its node's Windows build at run time (the node is not set up here: no URL or cert files), shown as {}",
                n.os.as_deref().unwrap_or("the node"),
                plan::ISOLATION_PLACEHOLDER
            ));
        }
    }
    if ready.is_empty() {
        return Ok(());
    }
    let docker = Client::find(p.registry.timeout)?;
    let (decided, routed) = preflight::probe_nodes(&docker, p.nodes.timeout, &ready, plan)?;
    show(p.releases.is_matrix(), &decided, &routed);
    Ok(())
}

/// The isolation decisions, on stderr before the run: every one in matrix mode, only
/// warnings in compat mode (whose argv is upstream's whatever the node); then each Windows
/// node build's builder where it is not simply the node's default.
fn show(matrix: bool, decided: &[plan::Decided], routed: &[plan::Routed]) {
    for d in decided {
        if matrix {
            crate::error::say(&format!("xtask: isolation: {}", d.line()));
        }
        if let Some(w) = &d.warning {
            crate::error::say(&format!("xtask: warning: {w}"));
        }
    }
    for r in routed {
        if matrix || r.via == plan::BuildVia::Classic {
            crate::error::say(&format!("xtask: builder: {}", r.line()));
        }
    }
}
