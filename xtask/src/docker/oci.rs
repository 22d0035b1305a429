//! Reading what docker and the registry answer about images (OCI / Docker manifest JSON):
//! which entry of an index is the Windows image (attestations skipped), which platforms a
//! config answer names. Pure functions over `serde_json::Value`.

use serde_json::Value;

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
