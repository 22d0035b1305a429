//! The shared variables as clap sees them: every one a flag and an environment variable of
//! the same name (flag > env). Raw strings here; `Config::load` validates them.

/// The shared variables. Every flag also reads the environment variable of the same name.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Opts {
    /// Registry prefix images are pushed under.
    #[arg(
        long,
        env = "REGISTRY",
        global = true,
        value_name = "R",
        help_heading = "Variables"
    )]
    pub registry: Option<String>,
    /// Windows node's Docker URL, tcp://host:port (mutual TLS).
    #[arg(
        long,
        env = "REMOTE_DOCKER_URL",
        global = true,
        value_name = "URL",
        help_heading = "Variables"
    )]
    pub remote_docker_url: Option<String>,
    /// Folder with ca.pem, cert.pem, key.pem for the node [default: $HOME/.docker].
    #[arg(
        long,
        env = "DOCKER_CERT_PATH",
        global = true,
        value_name = "DIR",
        help_heading = "Variables"
    )]
    pub docker_cert_path: Option<String>,
    /// Images to handle, space separated [default: every folder of IMAGES_DIR with a VERSION].
    #[arg(
        long,
        env = "IMAGES",
        global = true,
        value_name = "\"A B\"",
        help_heading = "Variables"
    )]
    pub images: Option<String>,
    /// Folder holding one folder per image [default: images/ of this repository].
    #[arg(
        long,
        env = "IMAGES_DIR",
        global = true,
        value_name = "DIR",
        help_heading = "Variables"
    )]
    pub images_dir: Option<String>,
    /// Windows releases to build for, space separated (e.g. "1809 ltsc2022"): matrix mode.
    #[arg(
        long,
        env = "OS_VERSIONS",
        global = true,
        value_name = "\"OS …\"",
        help_heading = "Variables"
    )]
    pub os_versions: Option<String>,
    /// Matrix mode: client certs are read from DIR/.docker-<os> instead of DOCKER_CERT_PATH.
    #[arg(
        long,
        env = "DOCKER_CERT_BASE_PATH",
        global = true,
        value_name = "DIR",
        help_heading = "Variables"
    )]
    pub docker_cert_base_path: Option<String>,
    /// Matrix mode: "hyperv" adds --isolation=hyperv to node builds.
    #[arg(
        long,
        env = "ISOLATION",
        global = true,
        value_name = "hyperv",
        help_heading = "Variables"
    )]
    pub isolation: Option<String>,
    /// 1: the registry speaks plain HTTP (adds --insecure to docker manifest calls).
    #[arg(
        long,
        env = "REGISTRY_INSECURE",
        global = true,
        value_name = "0|1",
        help_heading = "Variables"
    )]
    pub registry_insecure: Option<String>,
    /// Extra attempts after a transient registry error on push/list/cache [default: 3].
    #[arg(
        long,
        env = "RETRIES",
        global = true,
        value_name = "N",
        help_heading = "Variables"
    )]
    pub retries: Option<String>,
    /// 1: skip the steps whose inputs (folder, build args, base digests) are unchanged since
    /// the image in the registry was built (read from its label).
    #[arg(long, env = "SKIP_UNCHANGED", global = true, value_name = "0|1", num_args = 0..=1, default_missing_value = "1", help_heading = "Variables")]
    pub skip_unchanged: Option<String>,
    /// Write a JSON report of the run to FILE at its end (succeeded, failed or interrupted).
    #[arg(
        long,
        env = "REPORT",
        global = true,
        value_name = "FILE",
        help_heading = "Variables"
    )]
    pub report: Option<String>,
    /// Write each step's full output to its own file in DIR (created if missing).
    #[arg(
        long,
        env = "LOG_DIR",
        global = true,
        value_name = "DIR",
        help_heading = "Variables"
    )]
    pub log_dir: Option<String>,
    /// 1: show only a line per step start and end, a failing step's last lines and the
    /// summary; full output goes to log files (LOG_DIR, else target/xtask-logs/…).
    #[arg(short = 'q', long, env = "QUIET", global = true, value_name = "0|1", num_args = 0..=1, require_equals = true, default_missing_value = "1", help_heading = "Variables")]
    pub quiet: Option<String>,
    /// Print the commands instead of running them.
    #[arg(short = 'n', long, global = true)]
    pub dry_run: bool,
    /// Steps run at once, across nodes [default: 1 in compat mode; in matrix mode one per node, plus 2 local].
    #[arg(short = 'j', long, env = "JOBS", global = true, value_name = "N")]
    pub jobs: Option<String>,
    /// Machine-readable output (plan, dry-run).
    #[arg(long, global = true)]
    pub json: bool,
}
