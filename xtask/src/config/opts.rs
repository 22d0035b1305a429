//! The variables as typed: `Opts`, one plain struct of raw values that `Config::load`
//! validates, and the clap groups that fill it. Each command takes only the groups that mean
//! something to it (cli/args.rs), so `help COMMAND` lists only what applies and a flag given to a
//! command it means nothing to is refused. Every variable's flag also reads the environment
//! variable of the same name (flag > env); make forwards its variables as environment.
//!
//! Switches are plain flags that take no value (`--skip-unchanged`, `--dry-run`, `--json`):
//! a flag with an optional value would take the next word, the command, as its value.

/// Every variable a command may be given, raw. A command's groups fill their fields; the
/// others stay unset.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub registry: Option<String>,
    pub registry_insecure: Option<String>,
    pub remote_docker_url: Option<String>,
    /// `--node OS=URL`, each as typed (REMOTE_DOCKER_URL_<os> as a flag).
    pub nodes: Vec<String>,
    pub docker_cert_path: Option<String>,
    pub docker_cert_base_path: Option<String>,
    pub isolation: Option<String>,
    pub images: Option<String>,
    pub images_dir: Option<String>,
    pub os_versions: Option<String>,
    pub retries: Option<String>,
    pub jobs: Option<String>,
    pub node_jobs: Option<String>,
    pub local_jobs: Option<String>,
    pub node_timeout: Option<String>,
    pub registry_timeout: Option<String>,
    pub step_idle_check: Option<String>,
    pub step_idle_timeout: Option<String>,
    /// `-k/--keep-going` was given (KEEP_GOING=1, or `k` in make's MAKEFLAGS, means the same;
    /// config reads them).
    pub keep_going: bool,
    /// `--skip-unchanged` was given (SKIP_UNCHANGED=1 in the environment means the same;
    /// config reads it).
    pub skip_unchanged: bool,
    pub report: Option<String>,
    pub log_dir: Option<String>,
    /// `--quiet` was given (QUIET=1 in the environment means the same; config reads it).
    pub quiet: bool,
    pub dry_run: bool,
    pub json: bool,
}

/// `--images-dir` (IMAGES_DIR).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Images")]
pub struct ImagesDirArg {
    /// Folder holding one folder per image [default: images/ of this repository].
    #[arg(long, env = "IMAGES_DIR", value_name = "DIR")]
    pub images_dir: Option<String>,
}

/// `--images` (IMAGES): a selection, for the commands that handle several images.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Images")]
pub struct ImagesArg {
    /// Images to handle, space separated; positional names do the same [default: every folder of IMAGES_DIR with a VERSION].
    #[arg(long, env = "IMAGES", value_name = "\"A B\"")]
    pub images: Option<String>,
}

/// Where images go.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Registry prefix images are pushed under [default: registry.k8s.io/e2e-test-images].
    #[arg(long, env = "REGISTRY", value_name = "R")]
    pub registry: Option<String>,
    /// Obsolete (lists no longer use `docker manifest`); still accepted as 0 or 1.
    #[arg(long, env = "REGISTRY_INSECURE", value_name = "0|1")]
    pub registry_insecure: Option<String>,
    /// Seconds the registry may take to answer a query [default: 30].
    #[arg(long, env = "REGISTRY_TIMEOUT", value_name = "S")]
    pub registry_timeout: Option<String>,
}

/// The Windows nodes and how to reach them.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Windows nodes")]
pub struct NodeArgs {
    /// The Windows node's Docker URL, tcp://host:port (mutual TLS).
    #[arg(long, env = "REMOTE_DOCKER_URL", value_name = "URL")]
    pub remote_docker_url: Option<String>,
    /// Matrix mode: the node for release OS (as REMOTE_DOCKER_URL_<OS>=URL); repeat for each.
    #[arg(long = "node", value_name = "OS=URL")]
    pub nodes: Vec<String>,
    /// Folder with the client's ca.pem, cert.pem, key.pem [default: $HOME/.docker].
    #[arg(long, env = "DOCKER_CERT_PATH", value_name = "DIR")]
    pub docker_cert_path: Option<String>,
    /// Matrix mode: each node's client certs are in DIR/.docker-<os>.
    #[arg(long, env = "DOCKER_CERT_BASE_PATH", value_name = "DIR")]
    pub docker_cert_base_path: Option<String>,
    /// Node builds' isolation: auto (matrix mode: from each node's Windows build and the
    /// release), process or hyperv (forced for every build) [default: auto].
    #[arg(long, env = "ISOLATION", value_name = "auto|process|hyperv")]
    pub isolation: Option<String>,
    /// Seconds a node may take to answer the probe made before the run, and the check of a
    /// silent step [default: 10].
    #[arg(long, env = "NODE_TIMEOUT", value_name = "S")]
    pub node_timeout: Option<String>,
}

/// The Windows releases (matrix mode).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Windows releases")]
pub struct OsArgs {
    /// Releases to build for, space separated: matrix mode. Known: 1809 (= ltsc2019), ltsc2022, ltsc2025, 2004, 20H2; another as NAME=BUILD, e.g. "ltsc2022 next=30000".
    #[arg(long, env = "OS_VERSIONS", value_name = "\"OS …\"")]
    pub os_versions: Option<String>,
}

/// How a run runs.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Steps run at once in all [default: 1 in compat mode (upstream's order); in matrix mode
    /// no overall cap: NODE_JOBS and LOCAL_JOBS bound the steps].
    #[arg(short = 'j', long, env = "JOBS", value_name = "N")]
    pub jobs: Option<String>,
    /// Builds at once on one Windows node, whichever release they are for; its pushes run
    /// beside them, one at a time [default: 1].
    #[arg(long, env = "NODE_JOBS", value_name = "N")]
    pub node_jobs: Option<String>,
    /// Cache builds at once on this machine (manifest lists take no slot) [default: 2].
    #[arg(long, env = "LOCAL_JOBS", value_name = "N")]
    pub local_jobs: Option<String>,
    /// Extra attempts after a transient registry error on push/list/cache [default: 3].
    #[arg(long, env = "RETRIES", value_name = "N")]
    pub retries: Option<String>,
    /// Seconds a step may print nothing before its node and registry are checked, and again
    /// after each further such silence; one that does not answer ends the step [default: 60].
    #[arg(long, env = "STEP_IDLE_CHECK", value_name = "S")]
    pub step_idle_check: Option<String>,
    /// Seconds a step may print nothing at all, even though its node and registry answer
    /// [default: 1800].
    #[arg(long, env = "STEP_IDLE_TIMEOUT", value_name = "S")]
    pub step_idle_timeout: Option<String>,
    /// After a step fails, go on with the steps that do not depend on it; the run still ends 1,
    /// naming every failure [env: KEEP_GOING=1; also `make -k`].
    #[arg(short = 'k', long)]
    pub keep_going: bool,
}

/// `--skip-unchanged` (SKIP_UNCHANGED=1).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct SkipArg {
    /// Skip the steps whose inputs (folder, build args, base digests) are unchanged since the image in the registry was built (read from its label) [env: SKIP_UNCHANGED=1].
    #[arg(long)]
    pub skip_unchanged: bool,
}

/// What a run leaves behind and shows: its report, its step logs, quiet progress.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write a JSON report of the run to FILE at its end (succeeded, failed or interrupted).
    #[arg(long, env = "REPORT", value_name = "FILE")]
    pub report: Option<String>,
    /// Write each step's full output to its own file in DIR (created if missing).
    #[arg(long, env = "LOG_DIR", value_name = "DIR")]
    pub log_dir: Option<String>,
    /// Show only a line per step start and end, a failing step's last lines and the summary;
    /// full output goes to log files (LOG_DIR, else target/xtask-logs/…) [env: QUIET=1].
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `-n/--dry-run` and `--json` (the plan as JSON, with -n only).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DryRunArgs {
    /// Print the commands instead of running them.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// With -n: print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--json` alone, for the commands that report.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct JsonArg {
    /// Machine-readable output (JSON on stdout).
    #[arg(long)]
    pub json: bool,
}

impl Opts {
    pub fn images_dir(mut self, a: ImagesDirArg) -> Opts {
        self.images_dir = a.images_dir;
        self
    }

    /// `--images`, then positional names, which stand for IMAGES when given.
    pub fn images(mut self, a: ImagesArg, positional: Vec<String>) -> Opts {
        self.images = if positional.is_empty() {
            a.images
        } else {
            Some(positional.join(" "))
        };
        self
    }

    pub fn registry(mut self, a: RegistryArgs) -> Opts {
        self.registry = a.registry;
        self.registry_insecure = a.registry_insecure;
        self.registry_timeout = a.registry_timeout;
        self
    }

    pub fn nodes(mut self, a: NodeArgs) -> Opts {
        self.remote_docker_url = a.remote_docker_url;
        self.nodes = a.nodes;
        self.docker_cert_path = a.docker_cert_path;
        self.docker_cert_base_path = a.docker_cert_base_path;
        self.isolation = a.isolation;
        self.node_timeout = a.node_timeout;
        self
    }

    pub fn os(mut self, a: OsArgs) -> Opts {
        self.os_versions = a.os_versions;
        self
    }

    pub fn run(mut self, a: RunArgs) -> Opts {
        self.jobs = a.jobs;
        self.node_jobs = a.node_jobs;
        self.local_jobs = a.local_jobs;
        self.retries = a.retries;
        self.step_idle_check = a.step_idle_check;
        self.step_idle_timeout = a.step_idle_timeout;
        self.keep_going = a.keep_going;
        self
    }

    pub fn skip(mut self, a: SkipArg) -> Opts {
        self.skip_unchanged = a.skip_unchanged;
        self
    }

    pub fn output(mut self, a: OutputArgs) -> Opts {
        self.report = a.report;
        self.log_dir = a.log_dir;
        self.quiet = a.quiet;
        self
    }

    pub fn dry_run(mut self, a: DryRunArgs) -> Opts {
        self.dry_run = a.dry_run;
        self.json = a.json;
        self
    }

    pub fn json(mut self, a: JsonArg) -> Opts {
        self.json = a.json;
        self
    }
}
