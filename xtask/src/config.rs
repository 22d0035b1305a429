//! Config: the variables every command shares, from flags or the environment (flag > env >
//! default; make forwards its command-line variables as env), validated here and only here,
//! before anything runs. A value that is wrong becomes a `BadInput` (exit 2) naming it.

use std::path::{Path, PathBuf};

use crate::exit::BadInput;
use crate::names;

pub const DEFAULT_REGISTRY: &str = "registry.k8s.io/e2e-test-images";

/// Shown in plans when REMOTE_DOCKER_URL is unset: planning must work without a node.
pub const URL_PLACEHOLDER: &str = "<REMOTE_DOCKER_URL>";

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
            None => crate::project_root().join("images"),
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

        let nodes = load_nodes(opts, &os_versions, needs, env)?;

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

/// A 0/1 variable; unset or empty is 0.
fn parse_switch(var: &str, v: Option<&str>, hint: &str) -> anyhow::Result<bool> {
    match v {
        None | Some("") | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(BadInput::new(var, other, "expected 0 or 1", hint)),
    }
}

/// A whole number within `range`; None when unset or empty.
fn parse_number(
    var: &str,
    v: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
    hint: &str,
) -> anyhow::Result<Option<usize>> {
    match v {
        None | Some("") => Ok(None),
        Some(n) => match n.parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(BadInput::new(
                var,
                n,
                format!(
                    "expected a number from {} to {}",
                    range.start(),
                    range.end()
                ),
                hint,
            )),
        },
    }
}

/// A space-separated list variable (IMAGES, OS_VERSIONS): every word valid, none twice.
fn parse_list(
    var: &str,
    v: Option<&str>,
    valid: fn(&str) -> bool,
    what: &str,
    example: &str,
) -> anyhow::Result<Vec<String>> {
    let value = v.unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for word in value.split_whitespace() {
        let problem = if !valid(word) {
            format!("'{word}' is not a valid {what}")
        } else if out.iter().any(|o| o == word) {
            format!("'{word}' is named twice")
        } else {
            out.push(word.to_string());
            continue;
        };
        return Err(BadInput::new(
            var,
            value,
            problem,
            format!("a space-separated list, each once, e.g. {var}=\"{example}\""),
        ));
    }
    Ok(out)
}

/// Resolves each node's URL and cert folder. Compat mode: one node from REMOTE_DOCKER_URL and
/// DOCKER_CERT_PATH. Matrix mode: per OS version, REMOTE_DOCKER_URL_<os> falling back to
/// REMOTE_DOCKER_URL, certs from DOCKER_CERT_BASE_PATH/.docker-<os> or DOCKER_CERT_PATH.
fn load_nodes(
    opts: &Opts,
    os_versions: &[String],
    needs: Needs,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<Node>> {
    let default_url = opts.remote_docker_url.clone().filter(|u| !u.is_empty());
    let cert_path =
        match &opts.docker_cert_path {
            Some(p) if p.is_empty() => return Err(BadInput::new(
                "DOCKER_CERT_PATH",
                "",
                "it is empty",
                "unset it to use $HOME/.docker, or name the folder with ca.pem, cert.pem, key.pem",
            )),
            Some(p) => Some(PathBuf::from(p)),
            None => env("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".docker")),
        };
    let base = opts
        .docker_cert_base_path
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);

    let wanted: Vec<Option<&String>> = if os_versions.is_empty() {
        vec![None]
    } else {
        os_versions.iter().map(Some).collect()
    };
    let mut nodes = Vec::new();
    for os in wanted {
        let (url_var, url) = match os {
            Some(os) => {
                let var = format!("REMOTE_DOCKER_URL_{os}");
                match env(&var).filter(|u| !u.is_empty()) {
                    Some(u) => (var, Some(u)),
                    None => ("REMOTE_DOCKER_URL".to_string(), default_url.clone()),
                }
            }
            None => ("REMOTE_DOCKER_URL".to_string(), default_url.clone()),
        };
        let url = match url {
            Some(u) => {
                check_url(&url_var, &u)?;
                u
            }
            None if needs.node => {
                let (what, hint) = match os {
                    Some(os) => (
                        format!("REMOTE_DOCKER_URL_{os}"),
                        format!("set REMOTE_DOCKER_URL_{os}=tcp://<node for {os}>:2376, or REMOTE_DOCKER_URL for every version"),
                    ),
                    None => (
                        "REMOTE_DOCKER_URL".to_string(),
                        "set REMOTE_DOCKER_URL=tcp://<windows node>:2376 (see README: Windows node set-up); `cargo xtask plan TARGET` needs no node".to_string(),
                    ),
                };
                return Err(BadInput::new(
                    what,
                    "",
                    "not set: this target talks to the Windows node",
                    hint,
                ));
            }
            None => URL_PLACEHOLDER.to_string(),
        };

        let (cert_var, certs) = match (os, &base) {
            (Some(os), Some(b)) => (
                "DOCKER_CERT_BASE_PATH",
                Some(b.join(format!(".docker-{os}"))),
            ),
            _ => ("DOCKER_CERT_PATH", cert_path.clone()),
        };
        let certs = match certs {
            Some(c) => c,
            None => {
                return Err(BadInput::new(
                    "DOCKER_CERT_PATH",
                    "",
                    "not set and HOME is not set either",
                    "set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem, key.pem",
                ))
            }
        };
        if needs.node {
            check_certs(cert_var, &certs)?;
        }
        nodes.push(Node {
            os: os.cloned(),
            url,
            cert_path: certs,
        });
    }
    Ok(nodes)
}

/// A node URL must be `tcp://host:port`: docker's -H accepts more, but anything else here is a
/// typo or an unencrypted socket.
fn check_url(var: &str, url: &str) -> anyhow::Result<()> {
    let hint = "use tcp://host:port, e.g. tcp://winbuild.example.com:2376";
    let Some(rest) = url.strip_prefix("tcp://") else {
        return Err(BadInput::new(var, url, "not a tcp:// URL", hint));
    };
    let (host, port) = names::split_host_port(rest);
    if !names::is_host(host) {
        return Err(BadInput::new(
            var,
            url,
            format!("'{host}' is not a host name or IP"),
            hint,
        ));
    }
    match port {
        Some(p) if names::is_port(p) => Ok(()),
        Some(p) => Err(BadInput::new(
            var,
            url,
            format!("'{p}' is not a port (1-65535)"),
            hint,
        )),
        None => Err(BadInput::new(var, url, "the port is missing", hint)),
    }
}

/// The client cert folder must hold the three files docker's --tls* flags name.
pub fn check_certs(var: &str, dir: &Path) -> anyhow::Result<()> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(BadInput::new(
            var,
            shown,
            "no such folder",
            "create the client certs with `cargo xtask tls` (or copy ca.pem, cert.pem, key.pem from the node) into it",
        ));
    }
    let missing: Vec<&str> = ["ca.pem", "cert.pem", "key.pem"]
        .into_iter()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(BadInput::new(
            var,
            shown,
            format!("missing {}", missing.join(", ")),
            "the folder must hold ca.pem, cert.pem and key.pem (the client side of `cargo xtask tls`: OUT/client)",
        ));
    }
    Ok(())
}
