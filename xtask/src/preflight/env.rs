//! The user's docker environment, checked before the first step: DOCKER_HOST, DOCKER_CONTEXT,
//! DOCKER_TLS_VERIFY and BUILDX_BUILDER change where docker commands go, and a wrong one used
//! to be found only at the first local step — after the node had built and pushed its image.
//! Node commands carry their own `-H`, which wins over DOCKER_HOST and DOCKER_CONTEXT, and
//! BUILDX_BUILDER is taken from them (`docker::NOT_FOR_NODES`); the local commands (cache builds,
//! lists, registry queries) go wherever the environment says. So:
//! - DOCKER_HOST naming one of the Windows nodes is refused (local work would go to the node);
//! - DOCKER_CONTEXT naming a context that does not exist is refused (DOCKER_HOST, when set,
//!   wins over it, as in docker);
//! - BUILDX_BUILDER naming a builder that does not exist is refused;
//! - when any of them is set and the run has cache builds, `docker buildx inspect` must show
//!   the current builder reaching its daemon (DOCKER_TLS_VERIFY with a plain socket: `docker
//!   version` still answers, but buildx speaks https to the socket and every cache build fails);
//! - when any of DOCKER_HOST, DOCKER_CONTEXT, DOCKER_TLS_VERIFY is set and the run has local
//!   steps, the local daemon is asked its version (within NODE_TIMEOUT): no answer, an error
//!   (a missing cert), or a Windows daemon is refused.
//!
//! Each refusal is bad input (exit 2) naming the variable, before any docker command that
//! changes anything. docs/environment.md is the user's side of this.

use std::time::Duration;

use serde_json::Value;

use crate::config::{Env, Nodes};
use crate::docker::{self, Answer, Client};
use crate::error::BadInput;
use crate::plan::{Kind, NodeRef, NodeSays, Plan};

/// Checks the docker environment `env` for a run of `plan` whose nodes are `nodes`.
pub fn check(
    docker: &Client,
    env: &Env,
    nodes: &Nodes,
    plan: &Plan,
    limit: Duration,
) -> anyhow::Result<()> {
    let set = |k: &str| env.get(k).filter(|v| !v.is_empty());
    // One variable: its value; several: each as NAME=VALUE.
    let describe = |vars: &[&str]| match vars {
        [one] => set(one).unwrap_or_default().to_string(),
        _ => vars
            .iter()
            .map(|k| format!("{k}={}", set(k).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let host = set("DOCKER_HOST");
    if let Some(h) = host {
        if let Some(n) = nodes.list.iter().find(|n| same_url(n.address(), h)) {
            return Err(BadInput::new(
                "DOCKER_HOST",
                h,
                format!(
                    "names the Windows node{}: the run's local commands (cache builds with buildx, lists, registry queries) would go to the node",
                    n.os.as_deref().map(|o| format!(" for {o}")).unwrap_or_default()
                ),
                "unset DOCKER_HOST (or point it at this machine's Linux daemon): xtask gives every node command its own -H from REMOTE_DOCKER_URL",
            ));
        }
    }
    let context = set("DOCKER_CONTEXT").filter(|_| host.is_none());
    if let Some(name) = context {
        if let Some(e) = failure(docker.query(&docker::context_inspect(name), Some(limit))) {
            return Err(BadInput::new(
                "DOCKER_CONTEXT",
                name,
                format!("no such docker context ({e})"),
                "unset DOCKER_CONTEXT, or name one `docker context ls` lists",
            ));
        }
    }
    if let Some(name) = set("BUILDX_BUILDER") {
        if let Some(e) = failure(docker.query(&docker::buildx_inspect(Some(name)), Some(limit))) {
            return Err(BadInput::new(
                "BUILDX_BUILDER",
                name,
                format!("no such buildx builder ({e})"),
                "unset BUILDX_BUILDER (the cache builds then use the current context's default builder), or name one `docker buildx ls` lists",
            ));
        }
    }
    let changed: Vec<&str> = ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"]
        .into_iter()
        .filter(|k| set(k).is_some())
        .collect();
    let local_steps = plan.steps.iter().any(|s| s.node == NodeRef::Local);
    if changed.is_empty() || !local_steps {
        return Ok(());
    }
    let cache_steps = plan.steps.iter().any(|s| s.kind() == Kind::Cache);
    if cache_steps && (!changed.is_empty() || set("BUILDX_BUILDER").is_some()) {
        // What the cache builds will use: buildx's current builder. buildx speaks to a plain
        // socket over https when DOCKER_TLS_VERIFY is set (seen on the stack: `docker version`
        // answers, `buildx build` fails); `buildx inspect` then exits 0 with an `Error:` line.
        let answer = docker.query(&docker::buildx_inspect(None), Some(limit));
        let why = match answer {
            Answer::Ok(out) => out
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("Error:"))
                .map(|e| e.trim().to_string()),
            other => failure(other),
        };
        if let Some(e) = why {
            let mut vars = changed.clone();
            if set("BUILDX_BUILDER").is_some() {
                vars.push("BUILDX_BUILDER");
            }
            return Err(BadInput::new(
                vars.join(", "),
                describe(&vars),
                format!("buildx cannot reach the daemon of the builder the cache builds would use: {e}"),
                "the cache builds run on this machine's Linux daemon: unset the variable, or point it at that daemon (docs/environment.md)",
            ));
        }
    }
    let var = changed.join(", ");
    let value = describe(&changed);
    let hint = "the cache builds run on this machine's Linux daemon: unset the variable, or point it at that daemon (docs/environment.md)";
    match docker.query(&docker::local_version(), Some(limit)) {
        Answer::Ok(out) => {
            let server: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
            if let NodeSays::Windows(_) | NodeSays::WindowsUnknownBuild(_) =
                super::node_says(&server)
            {
                return Err(BadInput::new(
                    var,
                    value,
                    "the local docker it points at is a Windows daemon: the cache builds (buildx, linux/amd64) would run there",
                    hint,
                ));
            }
            Ok(())
        }
        Answer::Failed(e) => Err(BadInput::new(
            var,
            value,
            format!("the local docker does not answer `docker version` with it: {e}"),
            hint,
        )),
        Answer::TimedOut => Err(BadInput::new(
            var,
            value,
            format!(
                "the local docker it points at did not answer `docker version` within {}",
                docker::seconds(limit)
            ),
            hint,
        )),
    }
}

/// Why a query failed, or None when it answered.
fn failure(a: Answer) -> Option<String> {
    match a {
        Answer::Ok(_) => None,
        Answer::Failed(e) => Some(e),
        Answer::TimedOut => Some("no answer in time".into()),
    }
}

/// Whether two docker host URLs name one endpoint: scheme and host compared without case,
/// a trailing slash ignored.
fn same_url(a: &str, b: &str) -> bool {
    let norm = |u: &str| u.trim().trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_as_endpoints() {
        assert!(same_url("tcp://Win:2376", "tcp://win:2376/"));
        assert!(!same_url("tcp://win:2376", "tcp://win:2377"));
    }
}
