//! The nodes group: the Windows nodes a run talks to — URL and client cert folder per node
//! (one in compat mode, one per release in matrix mode), with the variable each came from
//! kept as data for messages — plus ISOLATION and NODE_TIMEOUT. Checked for form when
//! resolved; `Nodes::require` holds them to the full check (a URL, sound cert files) once the
//! plan shows a step needs a node. Reaching them is preflight's and doctor's business.

use std::path::PathBuf;
use std::time::Duration;

use super::parse::parse_number;
use super::{unused, Env, Releases, Warnings};
use crate::certs;
use crate::error::{shown, BadInput};
use crate::reference;
use crate::windows::Isolation;

/// How long a node may take to answer `docker version` (NODE_TIMEOUT's default).
pub const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_secs(10);

/// Shown in plans where a node's URL is not set: planning must work without a node.
pub const URL_PLACEHOLDER: &str = "<REMOTE_DOCKER_URL>";

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

/// One Windows node: where to reach it and with which client certs, and which variable said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The release it builds for (matrix mode), None in compat mode.
    pub os: Option<String>,
    /// That release's Windows build (known, or `NAME=BUILD`), None in compat mode.
    pub build: Option<u32>,
    /// `tcp://host:port`; None when no variable set one (planning needs no node).
    pub url: Option<String>,
    /// The variable that set the URL, or would: `REMOTE_DOCKER_URL`,
    /// `REMOTE_DOCKER_URL_<os>` or `--node <os>`.
    pub url_var: String,
    /// The client cert folder, absolute.
    pub cert_path: PathBuf,
    /// The variable it came from: DOCKER_CERT_PATH, DOCKER_CERT_BASE_PATH or HOME.
    pub cert_var: &'static str,
}

impl Node {
    /// The URL as a command line shows it: the placeholder when unset.
    pub fn address(&self) -> &str {
        self.url.as_deref().unwrap_or(URL_PLACEHOLDER)
    }

    /// The variable to name for a problem with the cert folder (HOME's default is
    /// DOCKER_CERT_PATH's).
    pub fn cert_variable(&self) -> &'static str {
        match self.cert_var {
            "HOME" => "DOCKER_CERT_PATH",
            v => v,
        }
    }
}

#[cfg(test)]
impl Node {
    /// A node as tests need one: its URL set by its release's variable, its certs in
    /// `certs` from DOCKER_CERT_PATH.
    pub fn for_test(os: Option<&str>, url: &str, certs: &str) -> Node {
        Node {
            os: os.map(String::from),
            build: os.and_then(crate::windows::build_of_release),
            url: Some(url.to_string()),
            url_var: os.map_or("REMOTE_DOCKER_URL".into(), |o| {
                format!("REMOTE_DOCKER_URL_{o}")
            }),
            cert_path: PathBuf::from(certs),
            cert_var: "DOCKER_CERT_PATH",
        }
    }
}

/// The nodes, validated for form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nodes {
    /// One in compat mode, one per release in matrix mode (same order).
    pub list: Vec<Node>,
    /// ISOLATION: auto (from each node's Windows build) or forced.
    pub isolation: IsolationChoice,
    /// NODE_TIMEOUT: how long a node may take to answer the probe before the run, and the
    /// check of a silent step.
    pub timeout: Duration,
}

impl Nodes {
    /// The nodes of a command that declares none (verify: it plans only to know the tags):
    /// one per release, no URL, no cert folder.
    pub fn unset(releases: &Releases) -> Nodes {
        let node = |r: Option<&crate::windows::Release>| Node {
            os: r.map(|r| r.name.clone()),
            build: r.map(|r| r.build),
            url: None,
            url_var: "REMOTE_DOCKER_URL".into(),
            cert_path: PathBuf::new(),
            cert_var: "DOCKER_CERT_PATH",
        };
        let list = if releases.is_matrix() {
            releases.0.iter().map(|r| node(Some(r))).collect()
        } else {
            vec![node(None)]
        };
        Nodes {
            list,
            isolation: IsolationChoice::Auto,
            timeout: DEFAULT_NODE_TIMEOUT,
        }
    }

    /// The node that builds for `os` (None in compat mode).
    pub fn node(&self, os: Option<&str>) -> &Node {
        self.list
            .iter()
            .find(|n| n.os.as_deref() == os)
            .unwrap_or(&self.list[0])
    }

    /// Holds every node to the full check a run that talks to nodes needs: a URL set, and a
    /// cert folder with sound files.
    pub fn require(&self) -> anyhow::Result<()> {
        for node in &self.list {
            if node.url.is_none() {
                let (what, hint) = match &node.os {
                    Some(os) => (
                        format!("REMOTE_DOCKER_URL_{os}"),
                        format!("set REMOTE_DOCKER_URL_{os}=tcp://<node for {os}>:2376 (or --node {os}=URL), or REMOTE_DOCKER_URL for every version"),
                    ),
                    None => (
                        "REMOTE_DOCKER_URL".to_string(),
                        "set REMOTE_DOCKER_URL=tcp://<windows node>:2376 (see docs/node-setup.md); `cargo xtask plan TARGET` needs no node".to_string(),
                    ),
                };
                return Err(BadInput::new(
                    what,
                    "",
                    "not set: this target talks to the Windows node",
                    hint,
                ));
            }
            check_certs(node)?;
        }
        Ok(())
    }
}

/// The node's cert folder's cheap check (form only), as bad input naming the variable it came
/// from.
pub fn check_certs(node: &Node) -> anyhow::Result<()> {
    let dir = &node.cert_path;
    certs::check_form(dir, certs::unix_now())
        .map(|_| ())
        .map_err(|p| p.bad_input(node.cert_variable(), dir))
}

impl NodeArgs {
    /// Resolves each node's URL and cert folder. Compat mode: one node from REMOTE_DOCKER_URL
    /// and DOCKER_CERT_PATH. Matrix mode: per release, `--node OS=URL`, else
    /// REMOTE_DOCKER_URL_<os>, else REMOTE_DOCKER_URL; certs from
    /// DOCKER_CERT_BASE_PATH/.docker-<os> or DOCKER_CERT_PATH. Cert folders are made
    /// absolute: docker gets every path absolute.
    pub fn resolve(
        self,
        releases: &Releases,
        env: &Env,
        warnings: &mut Warnings,
    ) -> anyhow::Result<Nodes> {
        let isolation = parse_isolation(self.isolation.as_deref())?;
        let timeout = parse_number(
            "NODE_TIMEOUT",
            self.node_timeout.as_deref(),
            1..=600,
            "seconds a node may take to answer before the run, e.g. NODE_TIMEOUT=30",
        )?
        .map_or(DEFAULT_NODE_TIMEOUT, |s| Duration::from_secs(s as u64));
        let default_url = self.remote_docker_url.clone().filter(|u| !u.is_empty());
        let cert_path = match &self.docker_cert_path {
            Some(p) if p.is_empty() => return Err(BadInput::new(
                "DOCKER_CERT_PATH",
                "",
                "it is empty",
                "unset it to use $HOME/.docker, or name the folder with ca.pem, cert.pem, key.pem",
            )),
            Some(p) => Some((absolute("DOCKER_CERT_PATH", p)?, "DOCKER_CERT_PATH")),
            None => match env.get("HOME").filter(|h| !h.is_empty()) {
                Some(h) => Some((absolute("HOME", h)?.join(".docker"), "HOME")),
                None => None,
            },
        };
        let base = match self
            .docker_cert_base_path
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(absolute("DOCKER_CERT_BASE_PATH", p)?),
            None => None,
        };
        let names = releases.names();
        let flags = node_flags(&self.nodes, &names)?;

        let wanted: Vec<Option<&crate::windows::Release>> = if releases.is_matrix() {
            releases.0.iter().map(Some).collect()
        } else {
            vec![None]
        };
        let mut list = Vec::new();
        for release in wanted {
            let os = release.map(|r| &r.name);
            let (url_var, url) = match os {
                Some(os) => {
                    let var = format!("REMOTE_DOCKER_URL_{os}");
                    let flag = flags.iter().find(|(o, _)| o == os);
                    match (flag, env.get(&var).filter(|u| !u.is_empty())) {
                        (Some((_, u)), _) => (format!("--node {os}"), Some(u.clone())),
                        (None, Some(u)) => (var, Some(u.to_string())),
                        (None, None) => ("REMOTE_DOCKER_URL".to_string(), default_url.clone()),
                    }
                }
                None => ("REMOTE_DOCKER_URL".to_string(), default_url.clone()),
            };
            if let Some(u) = &url {
                check_url(&url_var, u)?;
            }
            let (cert_path, cert_var) = match (os, &base) {
                (Some(os), Some(b)) => (b.join(format!(".docker-{os}")), "DOCKER_CERT_BASE_PATH"),
                _ => cert_path.clone().ok_or_else(|| {
                    BadInput::new(
                        "DOCKER_CERT_PATH",
                        "",
                        "not set and HOME is not set either",
                        "set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem, key.pem",
                    )
                })?,
            };
            list.push(Node {
                os: os.cloned(),
                build: release.map(|r| r.build),
                url,
                url_var,
                cert_path,
                cert_var,
            });
        }
        warnings
            .0
            .extend(unused::unused_variables(&self, &names, env));
        Ok(Nodes {
            list,
            isolation,
            timeout,
        })
    }
}

/// What ISOLATION asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationChoice {
    /// From each node's Windows build and the release (the table above); the default.
    Auto,
    /// The same isolation for every build.
    Force(Isolation),
}

/// ISOLATION: unset, empty or `auto` is Auto; `process` and `hyperv` force one.
fn parse_isolation(value: Option<&str>) -> anyhow::Result<IsolationChoice> {
    match value {
        None | Some("") | Some("auto") => Ok(IsolationChoice::Auto),
        Some("process") => Ok(IsolationChoice::Force(Isolation::Process)),
        Some("hyperv") => Ok(IsolationChoice::Force(Isolation::HyperV)),
        Some(other) => Err(BadInput::new(
            "ISOLATION",
            other,
            "unknown isolation",
            "use ISOLATION=auto (the default: from each node's Windows build), process or hyperv",
        )),
    }
}

/// `--node OS=URL` flags: each `OS=URL`, OS one of OS_VERSIONS, each OS once.
fn node_flags(flags: &[String], os_versions: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in flags {
        let hint = "--node OS=URL names the node of one release of OS_VERSIONS, e.g. --node ltsc2022=tcp://win2022:2376";
        let Some((os, url)) = f.split_once('=') else {
            return Err(BadInput::new("--node", f, "no '=': expected OS=URL", hint));
        };
        if os_versions.is_empty() {
            return Err(BadInput::new(
                "--node",
                f,
                "OS_VERSIONS is not set: compat mode has one node, REMOTE_DOCKER_URL",
                "use --remote-docker-url URL, or set OS_VERSIONS for matrix mode",
            ));
        }
        if !os_versions.iter().any(|o| o == os) {
            return Err(BadInput::new(
                "--node",
                f,
                format!(
                    "'{}' is not one of OS_VERSIONS ({})",
                    shown(os),
                    os_versions.join(" ")
                ),
                hint,
            ));
        }
        if out.iter().any(|(o, _)| o == os) {
            return Err(BadInput::new(
                "--node",
                f,
                format!("a second --node for {os}"),
                hint,
            ));
        }
        out.push((os.to_string(), url.to_string()));
    }
    Ok(out)
}

/// A folder path made absolute against the current folder, so docker never reads a path
/// that starts with `-` as a flag.
pub fn absolute(var: &str, p: &str) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).map_err(|e| {
        BadInput::new(
            var,
            p,
            format!("cannot make it an absolute path: {e}"),
            "name the folder with an absolute path",
        )
    })
}

/// A node URL must be `tcp://host:port`: docker's -H accepts more, but anything else here is a
/// typo or an unencrypted socket. No user or password: the client certificate authenticates.
fn check_url(var: &str, url: &str) -> anyhow::Result<()> {
    let hint = "use tcp://host:port, e.g. tcp://winbuild.example.com:2376";
    let Some(rest) = url.strip_prefix("tcp://") else {
        return Err(BadInput::new(var, url, "not a tcp:// URL", hint));
    };
    if rest.contains('@') {
        return Err(BadInput::new(
            var,
            url,
            "it holds a user name or password: docker's -H takes none (the node checks the client certificate)",
            hint,
        ));
    }
    let (host, port) = reference::split_host_port(rest);
    if !reference::is_host(host) {
        return Err(BadInput::new(
            var,
            url,
            format!("'{}' is not a host name or IP address", shown(host)),
            hint,
        ));
    }
    match port {
        Some(p) if reference::is_port(p) => Ok(()),
        Some(p) => Err(BadInput::new(
            var,
            url,
            format!("'{}' is not a port (1-65535)", shown(p)),
            hint,
        )),
        None => Err(BadInput::new(var, url, "the port is missing", hint)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(parse_isolation(None).unwrap(), IsolationChoice::Auto);
        assert_eq!(parse_isolation(Some("")).unwrap(), IsolationChoice::Auto);
        assert_eq!(
            parse_isolation(Some("auto")).unwrap(),
            IsolationChoice::Auto
        );
        assert_eq!(
            parse_isolation(Some("hyperv")).unwrap(),
            IsolationChoice::Force(Isolation::HyperV)
        );
        assert_eq!(
            parse_isolation(Some("process")).unwrap(),
            IsolationChoice::Force(Isolation::Process)
        );
        let e = parse_isolation(Some("HyperV")).unwrap_err();
        assert!(e.to_string().contains("ISOLATION=\"HyperV\""), "{e}");
    }

    fn resolve(args: NodeArgs, releases: &str, env: &[(&str, &str)]) -> anyhow::Result<Nodes> {
        let releases = super::super::OsArgs {
            os_versions: Some(releases.to_string()),
        }
        .resolve()?;
        let env = Env(env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect());
        args.resolve(&releases, &env, &mut Warnings::default())
    }

    #[test]
    fn each_node_keeps_where_its_url_and_certs_came_from() {
        let args = NodeArgs {
            remote_docker_url: Some("tcp://all:2376".into()),
            nodes: vec!["ltsc2022=tcp://flag:2376".into()],
            docker_cert_base_path: Some("/certs".into()),
            ..NodeArgs::default()
        };
        let env = [
            ("REMOTE_DOCKER_URL_1809", "tcp://env:2376"),
            ("HOME", "/home/u"),
        ];
        let n = resolve(args, "1809 ltsc2022 next=30000", &env).unwrap();
        let got: Vec<(&str, Option<u32>, &str, &str, &str)> = n
            .list
            .iter()
            .map(|n| {
                (
                    n.address(),
                    n.build,
                    n.url_var.as_str(),
                    n.cert_var,
                    n.cert_path.to_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "tcp://env:2376",
                    Some(17763),
                    "REMOTE_DOCKER_URL_1809",
                    "DOCKER_CERT_BASE_PATH",
                    "/certs/.docker-1809"
                ),
                (
                    "tcp://flag:2376",
                    Some(20348),
                    "--node ltsc2022",
                    "DOCKER_CERT_BASE_PATH",
                    "/certs/.docker-ltsc2022"
                ),
                (
                    "tcp://all:2376",
                    Some(30000),
                    "REMOTE_DOCKER_URL",
                    "DOCKER_CERT_BASE_PATH",
                    "/certs/.docker-next"
                ),
            ]
        );
        // Compat mode, nothing set: no URL (not a placeholder string), certs from HOME.
        let n = resolve(NodeArgs::default(), "", &[("HOME", "/home/u")]).unwrap();
        assert_eq!(n.list[0].url, None);
        assert_eq!(n.list[0].address(), URL_PLACEHOLDER);
        assert_eq!(n.list[0].cert_var, "HOME");
        assert_eq!(n.list[0].cert_variable(), "DOCKER_CERT_PATH");
        let e = n.require().unwrap_err().to_string();
        assert!(e.contains("REMOTE_DOCKER_URL"), "{e}");
    }
}
