//! Reading what docker and the registry answer about images (OCI / Docker manifest JSON):
//! which entry of an index is the Windows image (attestations skipped), the descriptor a tag's
//! Windows manifest has, the os.version of a config, the entries of a manifest list, and the
//! descriptor JSON `imagetools create` takes. Pure functions over `serde_json::Value`.

use serde_json::{json, Value};

/// A manifest as an index entry names it. Always copied from what the registry reported
/// (an index entry, or `imagetools inspect`'s own descriptor of a manifest), never computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    fn read(v: &Value) -> Option<Descriptor> {
        Some(Descriptor {
            media_type: v["mediaType"].as_str()?.to_string(),
            digest: v["digest"]
                .as_str()
                .filter(|d| d.starts_with("sha256:"))?
                .to_string(),
            size: v["size"].as_u64()?,
        })
    }

    /// This manifest as a windows/amd64 list entry carrying `os_version`: the source JSON
    /// `docker buildx imagetools create` takes. Given a full platform like this, imagetools
    /// keeps os.version verbatim (given a plain reference, it drops it).
    pub fn windows_source(&self, os_version: &str) -> String {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
            "platform": {
                "os": "windows",
                "architecture": "amd64",
                "os.version": os_version,
            },
        })
        .to_string()
    }

    /// `sha256:0123456789ab`: enough to tell digests apart in a message.
    pub fn short(&self) -> String {
        short_digest(&self.digest)
    }
}

/// `sha256:` and the first 12 hex digits.
/// The `digest` of a descriptor docker printed (`imagetools inspect --format '{{json
/// .Manifest}}'`), when it is a sha256 digest.
pub fn descriptor_digest(answer: &str) -> Option<String> {
    let v: Value = serde_json::from_str(answer.trim()).ok()?;
    let d = v["digest"].as_str()?;
    let hex = d.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| d.to_string())
}

pub fn short_digest(digest: &str) -> String {
    digest.chars().take(7 + 12).collect()
}

/// The windows/amd64 descriptor of an index, skipping attestations (`unknown/unknown`).
pub fn windows_entry(index: &Value) -> Option<&Value> {
    index["manifests"]
        .as_array()?
        .iter()
        .find(|m| is_windows_amd64(m))
}

pub fn is_windows_amd64(descriptor: &Value) -> bool {
    descriptor["platform"]["os"] == "windows" && descriptor["platform"]["architecture"] == "amd64"
}

/// An attestation entry (provenance, SBOM): `unknown/unknown`, not an image.
fn is_attestation(descriptor: &Value) -> bool {
    descriptor["platform"]["os"] == "unknown"
        || descriptor["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
}

/// The Windows image manifest a tag holds, from `imagetools inspect --format '{{json
/// .Manifest}}'`: an index (a BuildKit node with the containerd store pushes the image plus
/// an attestation) gives its windows/amd64 entry; a plain manifest (a classic Windows
/// daemon) is described by imagetools itself (its digest and size as the registry sent them).
pub fn image_descriptor(answer: &Value) -> Result<Descriptor, String> {
    if answer.get("manifests").is_some() {
        let entry = windows_entry(answer)
            .ok_or("an index with no windows/amd64 image (was it built on a Windows node?)")?;
        return Descriptor::read(entry)
            .ok_or_else(|| "its windows/amd64 entry lacks mediaType, digest or size".into());
    }
    Descriptor::read(answer).ok_or_else(|| {
        "docker's answer names no mediaType, sha256 digest and size for it".to_string()
    })
}

/// os.version of a config (`imagetools inspect --format '{{json .Image}}' R/I@DIGEST`), when
/// it carries one (BuildKit 0.13 leaves it out; a Windows daemon writes it).
pub fn config_os_version(config: &Value) -> Option<String> {
    config["os.version"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The os.version of an index's windows/amd64 entry (a base image such as nanoserver).
pub fn entry_os_version(index: &Value) -> Option<String> {
    windows_entry(index)
        .and_then(|d| d["platform"]["os.version"].as_str())
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// One image entry of a manifest list as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub digest: String,
    /// `os/architecture`.
    pub platform: String,
    pub os_version: Option<String>,
}

/// The image entries of a manifest list (`imagetools inspect --raw`), attestations skipped;
/// Err when the answer is not an index.
pub fn list_items(raw: &Value) -> Result<Vec<ListItem>, String> {
    let entries = raw["manifests"]
        .as_array()
        .ok_or("not a manifest list (a single image is at the tag)")?;
    Ok(entries
        .iter()
        .filter(|m| !is_attestation(m))
        .map(|m| ListItem {
            digest: m["digest"].as_str().unwrap_or("?").to_string(),
            platform: format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap_or("?"),
                m["platform"]["architecture"].as_str().unwrap_or("?")
            ),
            os_version: m["platform"]["os.version"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn index() -> Value {
        json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": D2, "size": 900,
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D1,
                 "size": 1234, "platform": {"os": "windows", "architecture": "amd64",
                 "os.version": "10.0.17763.6532"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D2,
                 "size": 566, "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
            ]
        })
    }

    #[test]
    fn an_index_gives_its_windows_entry_and_a_manifest_itself() {
        let d = image_descriptor(&index()).expect("index");
        assert_eq!((d.digest.as_str(), d.size), (D1, 1234));
        let plain = json!({"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "digest": D2, "size": 428, "layers": []});
        let d = image_descriptor(&plain).expect("manifest");
        assert_eq!(
            (d.media_type.as_str(), d.digest.as_str(), d.size),
            (
                "application/vnd.docker.distribution.manifest.v2+json",
                D2,
                428
            )
        );
        let linux = json!({"manifests": [{"mediaType": "m", "digest": D1, "size": 1,
                            "platform": {"os": "linux", "architecture": "amd64"}}]});
        assert!(image_descriptor(&linux)
            .unwrap_err()
            .contains("no windows/amd64"));
        assert!(
            image_descriptor(&json!({"digest": "md5:x", "size": 1, "mediaType": "m"})).is_err()
        );
    }

    #[test]
    fn a_source_keeps_the_platform_and_os_version() {
        let d = image_descriptor(&index()).expect("index");
        let v: Value = serde_json::from_str(&d.windows_source("10.0.17763.6532")).expect("json");
        assert_eq!(v["digest"], D1);
        assert_eq!(v["size"], 1234);
        assert_eq!(v["platform"]["os.version"], "10.0.17763.6532");
        assert_eq!(v["platform"]["os"], "windows");
    }

    #[test]
    fn list_items_skip_attestations_and_refuse_a_single_image() {
        let items = list_items(&index()).expect("list");
        assert_eq!(
            items,
            vec![ListItem {
                digest: D1.into(),
                platform: "windows/amd64".into(),
                os_version: Some("10.0.17763.6532".into())
            }]
        );
        assert!(list_items(&json!({"layers": []})).is_err());
        assert_eq!(
            entry_os_version(&index()).as_deref(),
            Some("10.0.17763.6532")
        );
        assert_eq!(config_os_version(&json!({"os.version": ""})), None);
    }
}
