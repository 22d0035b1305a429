//! The docker client, found once, as a value (cross's `Engine`, buildx's `dockerCli`): the CLI's
//! path and how long a registry may take to answer; and (`registry`) the one reader of what the
//! registry holds now — a tag's descriptor and digest, an image's config and label, a list's
//! entries — through docker's read-only `buildx imagetools inspect` (docker's own credentials
//! and TLS), each query within the registry deadline, a silent registry named the same way
//! everywhere (buildx's `imagetools.Resolver` is the model).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::oci::{self, Descriptor, ListItem};
use super::{inspect_config, inspect_descriptor, inspect_raw, query, registry_silent, Answer};

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

    /// The descriptor REFERENCE resolves to now (an index's or a manifest's), as docker prints it.
    pub fn manifest(&self, reference: &str) -> Result<Value, Unread> {
        self.json(&inspect_descriptor(reference))
    }

    /// The digest REFERENCE resolves to now: the one place "the digest of a tag now" is read.
    pub fn digest(&self, reference: &str) -> Result<String, Unread> {
        let v = self.manifest(reference)?;
        digest_of(&v).ok_or_else(|| Unread::Said("no sha256 digest in docker's answer".into()))
    }

    /// The Windows manifest TAG points at now (an index's windows/amd64 entry, or the manifest).
    pub fn windows_descriptor(&self, tag: &str) -> Result<Descriptor, String> {
        let v = self.manifest(tag).map_err(|e| format!("{tag}: {e}"))?;
        oci::image_descriptor(&v).map_err(|e| format!("{tag}: {e}"))
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

    /// The raw manifest or index at REFERENCE.
    pub fn raw(&self, reference: &str) -> Result<Value, Unread> {
        self.json(&inspect_raw(reference))
    }

    /// The image entries of the list at TAG (attestations skipped).
    pub fn list(&self, tag: &str) -> Result<Vec<ListItem>, String> {
        oci::list_items(&self.raw(tag)?)
    }

    /// This registry as the `Ask` the resolve functions take.
    pub fn asker(&self) -> impl Fn(&[String]) -> Result<String, String> + '_ {
        move |argv: &[String]| self.ask(argv).map_err(String::from)
    }
}

/// The `digest` of a descriptor docker printed, when it is a sha256 digest.
pub fn digest_of(v: &Value) -> Option<String> {
    v["digest"]
        .as_str()
        .filter(|d| d.starts_with("sha256:"))
        .map(String::from)
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

    #[test]
    fn reads_the_descriptor_digest() {
        let v: Value = serde_json::from_str(r#"{"digest":"sha256:ab","size":1}"#).unwrap();
        assert_eq!(digest_of(&v).as_deref(), Some("sha256:ab"));
        assert_eq!(digest_of(&Value::Null), None);
    }
}
