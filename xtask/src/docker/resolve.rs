//! What the registry holds now, read through docker's read-only `buildx imagetools inspect`
//! (docker's own credentials and TLS): the Windows manifest a per-version tag points at, the
//! os.version a list entry for it must carry, and the entries of a list tag. Shared by the
//! list step (`exec::manifest`), skip-unchanged's probe and `verify`, so all three agree on
//! what a right list is. The caller says how a query runs (`Ask`): the executor through its
//! step runner (output, pid for signals), the probes through `docker::query`.

use serde_json::Value;

use super::oci::{self, Descriptor, ListItem};
use super::{inspect_config, inspect_descriptor, inspect_raw};

/// Runs one read-only docker query: its stdout, or why it failed.
pub type Ask<'a> = &'a dyn Fn(&[String]) -> Result<String, String>;

/// A per-version image as its list entry must name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub descriptor: Descriptor,
    pub os_version: String,
}

fn json(ask: Ask, argv: &[String]) -> Result<Value, String> {
    let out = ask(argv)?;
    serde_json::from_str(out.trim()).map_err(|e| format!("docker's answer is not JSON: {e}"))
}

/// The Windows manifest TAG points at now (an index's windows/amd64 entry, or the manifest).
pub fn descriptor(ask: Ask, tag: &str) -> Result<Descriptor, String> {
    let answer = json(ask, &inspect_descriptor(tag)).map_err(|e| format!("{tag}: {e}"))?;
    oci::image_descriptor(&answer).map_err(|e| format!("{tag}: {e}"))
}

/// The os.version the list entry of an image must carry: its config's (a Windows daemon
/// writes it), else upstream's fallback — the os.version of BASE's windows/amd64 list entry
/// (BuildKit 0.13 leaves it out of the config). `repo` is the image's repository, for
/// reading the config by digest.
pub fn os_version(
    ask: Ask,
    tag: &str,
    repo: &str,
    d: &Descriptor,
    base: Option<&str>,
) -> Result<String, String> {
    let config = json(ask, &inspect_config(&format!("{repo}@{}", d.digest)))
        .map_err(|e| format!("reading the config of {tag}: {e}"))?;
    if let Some(v) = oci::config_os_version(&config) {
        return Ok(v);
    }
    let Some(base) = base else {
        return Err(format!(
            "{tag}: the image config has no os.version and there is no BASEIMAGE line to take it from"
        ));
    };
    let index =
        json(ask, &inspect_raw(base)).map_err(|e| format!("cannot read base image {base}: {e}"))?;
    oci::entry_os_version(&index).ok_or_else(|| {
        format!("{tag}: neither the image config nor the base {base} carries os.version")
    })
}

/// Both at once: what TAG's list entry must be.
pub fn image(ask: Ask, tag: &str, repo: &str, base: Option<&str>) -> Result<Resolved, String> {
    image_at(ask, tag, None, repo, base)
}

/// `image`, read at `at` (`REPO@DIGEST`: the image a run pushed to TAG) instead of at what
/// TAG holds now, when given.
pub fn image_at(
    ask: Ask,
    tag: &str,
    at: Option<&str>,
    repo: &str,
    base: Option<&str>,
) -> Result<Resolved, String> {
    let descriptor = match at {
        Some(at) => descriptor(ask, at).map_err(|e| format!("{tag} as this run pushed it: {e}"))?,
        None => descriptor(ask, tag)?,
    };
    let os_version = os_version(ask, tag, repo, &descriptor, base)?;
    Ok(Resolved {
        descriptor,
        os_version,
    })
}

/// The image entries of the list at TAG (attestations skipped).
pub fn list(ask: Ask, tag: &str) -> Result<Vec<ListItem>, String> {
    let raw = json(ask, &inspect_raw(tag))?;
    oci::list_items(&raw)
}
