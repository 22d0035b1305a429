//! The Windows nodes a run talks to: URL and client cert folder per node (one in compat
//! mode, one per OS version in matrix mode), checked for form here; reaching them is
//! preflight's and doctor's business.

use std::fs;
use std::path::{Path, PathBuf};

use super::{names, pem, Env, Needs, Node, Opts, URL_PLACEHOLDER};
use crate::error::{shown, BadInput};

/// Resolves each node's URL and cert folder. Compat mode: one node from REMOTE_DOCKER_URL and
/// DOCKER_CERT_PATH. Matrix mode: per OS version, `--node OS=URL`, else REMOTE_DOCKER_URL_<os>,
/// else REMOTE_DOCKER_URL; certs from DOCKER_CERT_BASE_PATH/.docker-<os> or DOCKER_CERT_PATH.
/// Cert folders are made absolute: docker gets every path absolute.
pub fn load_nodes(
    opts: &Opts,
    os_versions: &[String],
    needs: Needs,
    env: &Env,
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
            Some(p) => Some(absolute("DOCKER_CERT_PATH", p)?),
            None => match env.get("HOME").filter(|h| !h.is_empty()) {
                Some(h) => Some(absolute("HOME", h)?.join(".docker")),
                None => None,
            },
        };
    let base = match opts
        .docker_cert_base_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(absolute("DOCKER_CERT_BASE_PATH", p)?),
        None => None,
    };
    let flags = node_flags(&opts.nodes, os_versions)?;

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
                let flag = flags.iter().find(|(o, _)| o == os);
                match (flag, env.get(&var).filter(|u| !u.is_empty())) {
                    (Some((_, u)), _) => (format!("--node {os}"), Some(u.clone())),
                    (None, Some(u)) => (var, Some(u.to_string())),
                    (None, None) => ("REMOTE_DOCKER_URL".to_string(), default_url.clone()),
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
    let (host, port) = names::split_host_port(rest);
    if !names::is_host(host) {
        return Err(BadInput::new(
            var,
            url,
            format!("'{}' is not a host name or IP address", shown(host)),
            hint,
        ));
    }
    match port {
        Some(p) if names::is_port(p) => Ok(()),
        Some(p) => Err(BadInput::new(
            var,
            url,
            format!("'{}' is not a port (1-65535)", shown(p)),
            hint,
        )),
        None => Err(BadInput::new(var, url, "the port is missing", hint)),
    }
}

/// What each file of a client cert folder must hold: the PEM block labels accepted.
const CERT_FILES: &[(&str, &[&str], &str)] = &[
    (
        "ca.pem",
        &["CERTIFICATE"],
        "the CA certificate that signed the node's",
    ),
    ("cert.pem", &["CERTIFICATE"], "the client certificate"),
    (
        "key.pem",
        &["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"],
        "the client's private key",
    ),
];

/// Largest cert file read: PEM files are a few kB; anything larger is not one.
const CERT_FILE_MAX: u64 = 1 << 20;

/// The client cert folder must hold the three files docker's --tls* flags name, each a
/// regular file with a PEM block of its kind, and the client certificate must not have
/// expired. Nothing is printed from them (a key never reaches a message).
pub fn check_certs(var: &str, dir: &Path) -> anyhow::Result<()> {
    let shown_dir = dir.display().to_string();
    if !dir.is_dir() {
        return Err(BadInput::new(
            var,
            shown_dir,
            "no such folder",
            "create the client certs with `cargo xtask tls` (or copy ca.pem, cert.pem, key.pem from the node) into it",
        ));
    }
    let missing: Vec<&str> = CERT_FILES
        .iter()
        .map(|(f, _, _)| *f)
        .filter(|f| fs::metadata(dir.join(f)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(BadInput::new(
            var,
            shown_dir,
            format!("missing {}", missing.join(", ")),
            "the folder must hold ca.pem, cert.pem and key.pem (the client side of `cargo xtask tls`: OUT/client)",
        ));
    }
    let remake = "make the client certs again with `cargo xtask tls --ca CA_FOLDER --out DIR` and use DIR/client";
    for &(file, labels, what) in CERT_FILES {
        let path = dir.join(file);
        let bad =
            |problem: String| BadInput::new(var, &shown_dir, format!("{file}: {problem}"), remake);
        let text = read_small(&path, CERT_FILE_MAX).map_err(bad)?;
        let blocks = pem::blocks(&text);
        let Some(block) = blocks.iter().find(|b| labels.contains(&b.label.as_str())) else {
            let problem = if text.trim().is_empty() {
                "it is empty".to_string()
            } else {
                format!(
                    "holds no PEM block `-----BEGIN {}-----` ({what})",
                    labels[0]
                )
            };
            return Err(bad(problem));
        };
        if file != "cert.pem" {
            continue;
        }
        let Some(not_after) = pem::not_after(&block.der) else {
            return Err(bad(
                "its CERTIFICATE block is not an X.509 certificate".to_string()
            ));
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        if not_after < now {
            return Err(bad(format!(
                "the client certificate expired on {}",
                pem::date(not_after)
            )));
        }
    }
    Ok(())
}

/// Reads a small regular file as text. A FIFO, device or folder is refused before it is
/// opened (reading a FIFO would wait forever), so is a file larger than `max` bytes.
pub fn read_small(path: &Path, max: u64) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(format!("not a regular file ({})", kind(&meta)));
    }
    if meta.len() > max {
        return Err(format!(
            "it is {} bytes, larger than any such file ({max} at most)",
            meta.len()
        ));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// What kind of file a non-regular file is, for messages.
pub fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}
