//! The Windows nodes a run talks to: URL and client cert folder per node (one in compat
//! mode, one per OS version in matrix mode), checked for form here; reaching them is
//! preflight's and doctor's business.

use std::path::{Path, PathBuf};

use super::{names, Needs, Node, Opts, URL_PLACEHOLDER};
use crate::error::BadInput;

/// Resolves each node's URL and cert folder. Compat mode: one node from REMOTE_DOCKER_URL and
/// DOCKER_CERT_PATH. Matrix mode: per OS version, REMOTE_DOCKER_URL_<os> falling back to
/// REMOTE_DOCKER_URL, certs from DOCKER_CERT_BASE_PATH/.docker-<os> or DOCKER_CERT_PATH.
pub fn load_nodes(
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
