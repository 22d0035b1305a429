//! The docker client, found once, as a value (cross's `Engine`, buildx's `dockerCli`): the CLI's
//! path and how long a registry may take to answer; and (`registry`) the one reader of what the
//! registry holds now — a tag's descriptor and digest, an image's config and label, a list's
//! entries — through docker's read-only `buildx imagetools inspect` (docker's own credentials
//! and TLS), each query within the registry deadline, a silent registry named the same way
//! everywhere (buildx's `imagetools.Resolver` is the model).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::oci;
use super::{inspect_config, inspect_descriptor, query, registry_silent, Answer};
use crate::error::BadInput;

/// The docker CLI to run, and the registry deadline (REGISTRY_TIMEOUT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub path: PathBuf,
    pub registry_timeout: Duration,
}

/// Why a registry query gave no answer to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// The registry did not answer within the deadline: the message names it and the limit.
    Silent(String),
    /// docker answered with an error (no such tag, refused credentials, …): its words.
    Said(String),
}

impl Unread {
    pub fn message(&self) -> &str {
        match self {
            Unread::Silent(m) | Unread::Said(m) => m,
        }
    }
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl From<Unread> for String {
    fn from(u: Unread) -> String {
        u.message().to_string()
    }
}

impl Client {
    /// The docker CLI on PATH. Missing is bad input (exit 2): nothing can run.
    pub fn find(registry_timeout: Duration) -> anyhow::Result<Client> {
        let path = which::which("docker").map_err(|_| {
            BadInput::new(
                "PATH",
                std::env::var("PATH").unwrap_or_default(),
                "no docker CLI found on it",
                "install the docker CLI (e.g. apt-get install docker-cli / docker.io) or put it on PATH",
            )
        })?;
        Ok(Client::new(&path, registry_timeout))
    }

    pub fn new(path: &Path, registry_timeout: Duration) -> Client {
        Client {
            path: path.to_path_buf(),
            registry_timeout,
        }
    }

    /// A read-only query, killed at `deadline` when one is given.
    pub fn query(&self, argv: &[String], deadline: Option<Duration>) -> Answer {
        query(&self.path, argv, deadline)
    }

    /// The registry, read through this client.
    pub fn registry(&self) -> Registry<'_> {
        Registry { client: self }
    }
}

/// What the registry holds now. Every query's last word is the reference it asks about, so a
/// silent registry is named from it.
#[derive(Debug, Clone, Copy)]
pub struct Registry<'a> {
    client: &'a Client,
}

impl Registry<'_> {
    /// One query's stdout within the registry deadline.
    pub fn ask(&self, argv: &[String]) -> Result<String, Unread> {
        let limit = self.client.registry_timeout;
        match self.client.query(argv, Some(limit)) {
            Answer::Ok(out) => Ok(out),
            Answer::Failed(e) => Err(Unread::Said(e)),
            Answer::TimedOut => {
                let reference = argv.last().map(String::as_str).unwrap_or_default();
                Err(Unread::Silent(registry_silent(reference, limit)))
            }
        }
    }

    fn json(&self, argv: &[String]) -> Result<Value, Unread> {
        let out = self.ask(argv)?;
        serde_json::from_str(out.trim())
            .map_err(|e| Unread::Said(format!("docker's answer is not JSON: {e}")))
    }

    /// The digest REFERENCE resolves to now (what a consumer pulling it gets): the one place
    /// "the digest of a tag now" is read.
    pub fn digest(&self, reference: &str) -> Result<String, Unread> {
        let out = self.ask(&inspect_descriptor(reference))?;
        oci::descriptor_digest(&out)
            .ok_or_else(|| Unread::Said(format!("unexpected answer {:?}", out.trim())))
    }

    /// The image config of REFERENCE (a platform-keyed map of configs for an index).
    pub fn config(&self, reference: &str) -> Result<Value, Unread> {
        self.json(&inspect_config(reference))
    }

    /// The value of label KEY on the image at TAG: None when the tag or the label is missing
    /// (docker said so); Err only when the registry did not answer.
    pub fn label(&self, tag: &str, key: &str) -> Result<Option<String>, String> {
        match self.config(tag) {
            Ok(v) => Ok(v["config"]["Labels"][key].as_str().map(String::from)),
            Err(Unread::Said(_)) => Ok(None),
            Err(Unread::Silent(m)) => Err(m),
        }
    }

    /// This registry as the `Ask` the resolve functions take.
    pub fn asker(&self) -> impl Fn(&[String]) -> Result<String, String> + '_ {
        move |argv: &[String]| self.ask(argv).map_err(String::from)
    }
}

/// Docker's complaint in one line: its first non-empty line, without buildx's `ERROR: `,
/// cut at 160 characters (callers escape it where they show it).
pub fn first_line(e: &str) -> String {
    e.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("error")
        .trim_start_matches("ERROR: ")
        .chars()
        .take(160)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_registry_is_named_and_a_refusal_is_said() {
        // `tail -f` as the CLI: every query outlives a 100 ms deadline.
        let tail = which::which("tail").expect("tail on PATH");
        let c = Client::new(&tail, Duration::from_millis(100));
        let r = c.registry();
        let argv = ["tail", "-f", "/dev/null", "127.0.0.1:5000/e2e/a:1"].map(String::from);
        match r.ask(&argv) {
            Err(Unread::Silent(m)) => assert!(m.contains("registry 127.0.0.1:5000"), "{m}"),
            other => panic!("{other:?}"),
        }
        let f = which::which("false").expect("false on PATH");
        let c = Client::new(&f, Duration::from_secs(5));
        assert!(matches!(c.registry().digest("x"), Err(Unread::Said(_))));
        assert_eq!(c.registry().label("x", "k"), Ok(None));
    }
}
