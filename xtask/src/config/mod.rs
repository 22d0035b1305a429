//! Config: the variables every command shares, from flags or the environment (flag > env >
//! default; make forwards its command-line variables as env), validated here and only here,
//! before anything runs. A value that is wrong becomes a `BadInput` (exit 2) naming it.

mod isolation;
pub mod names;
mod nodes;
mod opts;
mod parse;

use std::path::PathBuf;
use std::time::Duration;

use crate::error::BadInput;
pub use isolation::{decide as decide_isolation, reason as isolation_reason};
pub use isolation::{Isolation, IsolationChoice};
pub use nodes::check_certs;
pub use opts::Opts;
use parse::{parse_list, parse_number, parse_switch};

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
    /// `docker manifest` calls need --insecure (plain-HTTP registry).
    pub insecure: bool,
    /// JOBS: steps at once in all (None: the mode's default).
    pub jobs: Option<usize>,
    /// LOCAL_JOBS: cache builds at once on this machine (None: the default).
    pub local_jobs: Option<usize>,
    /// NODE_JOBS: builds at once on one Windows node (None: the default, 1).
    pub node_jobs: Option<usize>,
    /// NODE_TIMEOUT: how long a node may take to answer the probe before the run.
    pub node_timeout: Duration,
    /// Extra attempts after a transient registry error.
    pub retries: u32,
    /// Skip steps whose output is already in the registry with the same inputs digest.
    pub skip_unchanged: bool,
    pub json: bool,
}

/// What the command about to run needs from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Talks to the Windows node(s): URL and cert files must be present and valid.
    /// When false (plan, dry-run), a missing URL is shown as a placeholder and the cert
    /// files are not opened — but a value that is set must still be well-formed.
    pub node: bool,
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

        let isolation = isolation::parse(opts.isolation.as_deref())?;
        // Loopback registries speak plain HTTP in tests: insecure unless asked otherwise.
        let insecure = parse_switch(
            "REGISTRY_INSECURE",
            opts.registry_insecure.as_deref(),
            "set REGISTRY_INSECURE=1 for a plain-HTTP registry",
        )? || names::is_loopback_registry(&registry);
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
        let skip_unchanged = parse_switch(
            "SKIP_UNCHANGED",
            opts.skip_unchanged.as_deref(),
            "SKIP_UNCHANGED=1 (or --skip-unchanged) skips images whose inputs are unchanged",
        )?;

        let nodes = nodes::load_nodes(opts, &os_versions, needs, env)?;

        Ok(Config {
            registry,
            images_dir,
            selection,
            os_versions,
            nodes,
            isolation,
            insecure,
            jobs,
            local_jobs,
            node_jobs,
            node_timeout,
            retries,
            skip_unchanged,
            json: opts.json,
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
