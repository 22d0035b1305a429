//! Config: the variables every command shares, from flags or the environment (flag > env >
//! default; make forwards its command-line variables as env), validated here and only here,
//! before anything runs. A value that is wrong becomes a `BadInput` (exit 2) naming it.

pub mod names;
mod nodes;
mod opts;
mod parse;

use std::path::PathBuf;

use crate::error::BadInput;
pub use nodes::check_certs;
pub use opts::Opts;
use parse::{parse_list, parse_number, parse_switch};

pub const DEFAULT_REGISTRY: &str = "registry.k8s.io/e2e-test-images";

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
    pub hyperv: bool,
    /// `docker manifest` calls need --insecure (plain-HTTP registry).
    pub insecure: bool,
    pub jobs: Option<usize>,
    /// Extra attempts after a transient registry error.
    pub retries: u32,
    /// Skip steps whose output is already in the registry with the same inputs digest.
    pub skip_unchanged: bool,
    pub json: bool,
    /// REPORT: the run's JSON report is written here (absolute).
    pub report: Option<PathBuf>,
    /// LOG_DIR: each step's output goes to a file here (absolute; created at run start).
    pub log_dir: Option<PathBuf>,
    /// QUIET: the terminal shows step starts and ends, a failure's tail and the summary.
    pub quiet: bool,
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
    pub fn load(opts: &Opts, needs: Needs) -> anyhow::Result<Config> {
        let env = |k: &str| std::env::var(k).ok();
        Self::load_with(opts, needs, &env)
    }

    /// `env` looks up variables that have no flag (REMOTE_DOCKER_URL_<os>, HOME), so tests
    /// can drive it without touching the process environment.
    pub fn load_with(
        opts: &Opts,
        needs: Needs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
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
            Some(d) => PathBuf::from(d),
            None => project_root().join("images"),
        };
        if !images_dir.is_dir() {
            return Err(BadInput::new(
                "IMAGES_DIR",
                images_dir.display().to_string(),
                "no such folder",
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
        let os_versions = parse_list(
            "OS_VERSIONS",
            opts.os_versions.as_deref(),
            names::is_os_version,
            "OS version (letters and digits only)",
            "1809 ltsc2022 ltsc2025",
        )?;

        let hyperv = match opts.isolation.as_deref() {
            None | Some("") | Some("process") => false,
            Some("hyperv") => true,
            Some(other) => {
                return Err(BadInput::new(
                    "ISOLATION",
                    other,
                    "unknown isolation",
                    "use ISOLATION=hyperv (or leave it unset for process isolation)",
                ))
            }
        };
        // Loopback registries speak plain HTTP in tests: insecure unless asked otherwise.
        let insecure = parse_switch(
            "REGISTRY_INSECURE",
            opts.registry_insecure.as_deref(),
            "set REGISTRY_INSECURE=1 for a plain-HTTP registry",
        )? || names::is_loopback_registry(&registry);
        let jobs = parse_number("JOBS", opts.jobs.as_deref(), 1..=64, "e.g. -j 2")?;
        let retries = parse_number(
            "RETRIES",
            opts.retries.as_deref(),
            0..=10,
            "RETRIES=0 turns retries off; the default is 3",
        )?
        .unwrap_or(3) as u32;
        let skip_unchanged = parse_switch(
            "SKIP_UNCHANGED",
            opts.skip_unchanged.as_deref(),
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
        let quiet = parse_switch(
            "QUIET",
            opts.quiet.as_deref(),
            "QUIET=1 (or --quiet) shows only step starts, ends and the summary",
        )?;

        let nodes = nodes::load_nodes(opts, &os_versions, needs, env)?;

        Ok(Config {
            registry,
            images_dir,
            selection,
            os_versions,
            nodes,
            hyperv,
            insecure,
            jobs,
            retries,
            skip_unchanged,
            json: opts.json,
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
