//! Config: the variables every command shares, from flags or the environment (flag > env >
//! default; make forwards its command-line variables as env), validated here and only here,
//! before anything runs. A value that is wrong becomes a `BadInput` (exit 2) naming it.

mod isolation;
pub mod names;
mod nodes;
mod opts;
mod parse;
mod pem;
mod releases;
mod unused;

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{shown, BadInput};
pub use isolation::{decide as decide_isolation, reason as isolation_reason};
pub use isolation::{route as builder_route, Builder, Isolation, IsolationChoice, Route};
pub use nodes::{check_certs, kind, read_small};
pub use opts::{
    DryRunArgs, ImagesArg, ImagesDirArg, JsonArg, NodeArgs, Opts, OsArgs, OutputArgs, RegistryArgs,
    RunArgs, SkipArg,
};
use parse::{parse_list, parse_number, parse_switch};
pub use pem::base64 as base64_decode;

pub const DEFAULT_REGISTRY: &str = "registry.k8s.io/e2e-test-images";

/// How long a node may take to answer `docker version` (NODE_TIMEOUT's default).
pub const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_secs(10);

/// Shown in plans when REMOTE_DOCKER_URL is unset: planning must work without a node.
pub const URL_PLACEHOLDER: &str = "<REMOTE_DOCKER_URL>";

/// The repository root: xtask lives in `<root>/xtask`.
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

/// One Windows node: where to reach it and with which client certs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The OS version it builds for (matrix mode), None in compat mode.
    pub os: Option<String>,
    pub url: String,
    pub cert_path: PathBuf,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub registry: String,
    pub images_dir: PathBuf,
    /// Images named in IMAGES, in the given order; empty means every image.
    pub selection: Vec<String>,
    /// Empty in compat mode (upstream's tags); the OS versions in matrix mode.
    pub os_versions: Vec<String>,
    /// One node in compat mode, one per OS version in matrix mode (same order).
    pub nodes: Vec<Node>,
    /// ISOLATION: auto (from each node's Windows build) or forced.
    pub isolation: IsolationChoice,
    /// JOBS: steps at once in all (None: the mode's default).
    pub jobs: Option<usize>,
    /// LOCAL_JOBS: cache builds at once on this machine (None: the default).
    pub local_jobs: Option<usize>,
    /// NODE_JOBS: builds at once on one Windows node (None: the default, 1).
    pub node_jobs: Option<usize>,
    /// NODE_TIMEOUT: how long a node may take to answer the probe before the run, and the
    /// check of a silent step.
    pub node_timeout: Duration,
    /// Extra attempts after a transient registry error.
    pub retries: u32,
    /// Skip steps whose output is already in the registry with the same inputs digest.
    pub skip_unchanged: bool,
    /// REGISTRY_TIMEOUT: how long any registry query may take.
    pub registry_timeout: Duration,
    /// STEP_IDLE_CHECK: silence after which a step's node and registry are checked.
    pub step_idle_check: Duration,
    /// STEP_IDLE_TIMEOUT: silence after which a step is stopped anyway.
    pub step_idle_timeout: Duration,
    pub json: bool,
    /// Variables that are set but mean nothing in this mode, one line each; `load` prints them.
    pub warnings: Vec<String>,
    /// REPORT: the run's JSON report is written here (absolute).
    pub report: Option<PathBuf>,
    /// LOG_DIR: each step's output goes to a file here (absolute; created at run start).
    pub log_dir: Option<PathBuf>,
    /// QUIET: the terminal shows step starts and ends, a failure's tail and the summary.
    pub quiet: bool,
}

/// The environment as config reads it: every variable that holds UTF-8 (cli/ refuses the
/// ones it reads that do not, naming them). Tests make one from pairs.
#[derive(Debug, Clone, Default)]
pub struct Env(pub Vec<(String, String)>);

impl Env {
    pub fn process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What the command about to run needs from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Talks to the Windows node(s): URL and cert files must be present and valid.
    /// When false (plan, dry-run), a missing URL is shown as a placeholder and the cert
    /// files are not opened — but a value that is set must still be well-formed.
    pub node: bool,
}

/// A path the run writes (REPORT, LOG_DIR): None when unset, absolute (from the current
/// folder) when set, refused when set but empty.
fn output_path(var: &str, v: Option<&str>, hint: &str) -> anyhow::Result<Option<PathBuf>> {
    match v {
        None => Ok(None),
        Some("") => Err(BadInput::new(var, "", "it is empty", hint)),
        Some(p) => {
            let p = PathBuf::from(p);
            let cwd = std::env::current_dir().unwrap_or_default();
            Ok(Some(if p.is_absolute() { p } else { cwd.join(p) }))
        }
    }
}

impl Config {
    /// Loads the config from `opts` and the process environment; prints its warnings.
    pub fn load(opts: &Opts, needs: Needs) -> anyhow::Result<Config> {
        let cfg = Self::load_with(opts, needs, &Env::process())?;
        for w in &cfg.warnings {
            eprintln!("xtask: warning: {w}");
        }
        Ok(cfg)
    }

    /// `env` holds the variables that have no clap flag (REMOTE_DOCKER_URL_<os>,
    /// SKIP_UNCHANGED, HOME), so tests can drive it without touching the process environment.
    pub fn load_with(opts: &Opts, needs: Needs, env: &Env) -> anyhow::Result<Config> {
        let registry = opts
            .registry
            .clone()
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
        if let Some(problem) = names::registry_problem(&registry) {
            return Err(BadInput::new(
                "REGISTRY",
                &registry,
                format!("not a valid registry prefix: {problem}"),
                "use host[:port]/path with lowercase path components, e.g. REGISTRY=registry.example.com/e2e-test-images",
            ));
        }

        let images_dir = match &opts.images_dir {
            Some(d) if d.is_empty() => {
                return Err(BadInput::new(
                    "IMAGES_DIR",
                    "",
                    "it is empty",
                    "unset it to use images/ of this repository, or name a folder",
                ))
            }
            // Absolute, so docker never reads a folder named `-x` as a flag.
            Some(d) => nodes::absolute("IMAGES_DIR", d)?,
            None => project_root().join("images"),
        };
        if !images_dir.is_dir() {
            return Err(BadInput::new(
                "IMAGES_DIR",
                opts.images_dir.clone().unwrap_or_default(),
                format!(
                    "no such folder: {}",
                    shown(&images_dir.display().to_string())
                ),
                "point IMAGES_DIR at the folder that holds one folder per image",
            ));
        }

        let selection = parse_list(
            "IMAGES",
            opts.images.as_deref(),
            names::is_path_component,
            "image name (a folder of IMAGES_DIR)",
            "powershell-helper",
        )?;
        let releases = parse_list(
            "OS_VERSIONS",
            opts.os_versions.as_deref(),
            |w| match w.split_once('=') {
                Some((name, build)) => {
                    names::is_os_version(name) && !build.is_empty() && !build.contains('=')
                }
                None => names::is_os_version(w),
            },
            "release (letters and digits, or NAME=BUILD)",
            "1809 ltsc2022 ltsc2025",
        )?;
        // Known names, or NAME=BUILD for a release the tool does not know; the build is used
        // to refuse two names for one build (doctor and verify compare known builds only).
        let (os_versions, _builds) = releases::resolve(opts.os_versions.as_deref(), &releases)?;

        let isolation = isolation::parse(opts.isolation.as_deref())?;
        // Obsolete: lists are pushed by `buildx imagetools`, which takes no --insecure (buildx
        // reaches a loopback registry over HTTP by itself). Still checked, so an old env file
        // with a wrong value is not silently taken, and said to be ignored when set.
        parse_switch(
            "REGISTRY_INSECURE",
            opts.registry_insecure.as_deref(),
            "REGISTRY_INSECURE is obsolete: unset it",
        )?;
        let jobs = parse_number("JOBS", opts.jobs.as_deref(), 1..=64, "e.g. -j 2")?;
        let local_jobs = parse_number(
            "LOCAL_JOBS",
            opts.local_jobs.as_deref(),
            1..=64,
            "cache builds at once on this machine, e.g. LOCAL_JOBS=2",
        )?;
        let node_jobs = parse_number(
            "NODE_JOBS",
            opts.node_jobs.as_deref(),
            1..=16,
            "builds at once on one Windows node; the default, 1, keeps one build per node",
        )?;
        let node_timeout = parse_number(
            "NODE_TIMEOUT",
            opts.node_timeout.as_deref(),
            1..=600,
            "seconds a node may take to answer before the run, e.g. NODE_TIMEOUT=30",
        )?
        .map_or(DEFAULT_NODE_TIMEOUT, |s| Duration::from_secs(s as u64));
        let retries = parse_number(
            "RETRIES",
            opts.retries.as_deref(),
            0..=10,
            "RETRIES=0 turns retries off; the default is 3",
        )?
        .unwrap_or(3) as u32;
        // A plain switch on the command line (it takes no value, so it cannot take the next
        // word); the environment's SKIP_UNCHANGED=1 means the same.
        let skip_unchanged = opts.skip_unchanged
            || parse_switch(
                "SKIP_UNCHANGED",
                env.get("SKIP_UNCHANGED"),
                "SKIP_UNCHANGED=1 (or --skip-unchanged) skips images whose inputs are unchanged",
            )?;

        let report = output_path(
            "REPORT",
            opts.report.as_deref(),
            "a file whose folder exists, e.g. REPORT=target/run.json",
        )?;
        if let Some(r) = report.as_ref().filter(|r| r.is_dir()) {
            return Err(BadInput::new(
                "REPORT",
                r.display().to_string(),
                "is a folder",
                "name the JSON file to write, e.g. REPORT=target/run.json",
            ));
        }
        if let Some(folder) = report
            .as_ref()
            .and_then(|r| r.parent())
            .filter(|p| !p.is_dir())
        {
            return Err(BadInput::new(
                "REPORT",
                opts.report.clone().unwrap_or_default(),
                format!("its folder {} does not exist", folder.display()),
                "create the folder first, or name a file in an existing one",
            ));
        }
        let log_dir = output_path(
            "LOG_DIR",
            opts.log_dir.as_deref(),
            "a folder (created if missing), e.g. LOG_DIR=target/logs",
        )?;
        if let Some(d) = log_dir.as_ref().filter(|d| d.exists() && !d.is_dir()) {
            return Err(BadInput::new(
                "LOG_DIR",
                d.display().to_string(),
                "exists and is not a folder",
                "name a new or existing folder",
            ));
        }
        // A plain switch on the command line, as --skip-unchanged; QUIET=1 means the same.
        let quiet = opts.quiet
            || parse_switch(
                "QUIET",
                env.get("QUIET"),
                "QUIET=1 (or --quiet) shows only step starts, ends and the summary",
            )?;

        let seconds = |var: &str, v: Option<&str>, max: usize, default: u64, hint: &str| {
            parse_number(var, v, 1..=max, hint)
                .map(|n| Duration::from_secs(n.map_or(default, |n| n as u64)))
        };
        let registry_timeout = seconds(
            "REGISTRY_TIMEOUT",
            opts.registry_timeout.as_deref(),
            3600,
            30,
            "seconds a registry may take to answer a query; the default is 30",
        )?;
        let step_idle_check = seconds(
            "STEP_IDLE_CHECK",
            opts.step_idle_check.as_deref(),
            86400,
            60,
            "seconds of silence before a step's node and registry are checked; the default is 60",
        )?;
        let step_idle_timeout = seconds(
            "STEP_IDLE_TIMEOUT",
            opts.step_idle_timeout.as_deref(),
            86400,
            1800,
            "seconds of silence after which a step is stopped; the default is 1800",
        )?;

        let nodes = nodes::load_nodes(opts, &os_versions, needs, env)?;
        let mut warnings = unused::unused_variables(opts, &os_versions, env);
        if opts
            .registry_insecure
            .as_deref()
            .is_some_and(|v| !v.is_empty())
        {
            warnings.push(
                "REGISTRY_INSECURE is obsolete and ignored: lists are pushed by `docker buildx imagetools`, which needs no --insecure"
                    .to_string(),
            );
        }

        Ok(Config {
            registry,
            images_dir,
            selection,
            os_versions,
            nodes,
            isolation,
            jobs,
            local_jobs,
            node_jobs,
            node_timeout,
            retries,
            skip_unchanged,
            registry_timeout,
            step_idle_check,
            step_idle_timeout,
            json: opts.json,
            warnings,
            report,
            log_dir,
            quiet,
        })
    }

    /// The node that builds for `os` (None in compat mode).
    pub fn node(&self, os: Option<&str>) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.os.as_deref() == os)
            .unwrap_or(&self.nodes[0])
    }

    pub fn is_matrix(&self) -> bool {
        !self.os_versions.is_empty()
    }
}
