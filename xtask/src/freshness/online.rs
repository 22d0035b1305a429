//! `lint --online`: the pinned PowerShell download exists. For every image whose
//! Dockerfile_windows downloads PowerShell from its GitHub release, the release asset
//! `PowerShell-<VERSION>-win-x64.zip` and the release's `hashes.sha256` must exist, and the
//! hashes file must name the asset (`<hex> *<file>` lines; since 7.5.2 it may be UTF-16LE with
//! a BOM) — so a typo in VERSION fails in seconds, not after a node build. The releases URL is
//! POWERSHELL_RELEASES_URL (default GitHub's), so a mirror, or a local server in tests, can
//! stand in. Fetched with `curl` (no shell), each request within REGISTRY_TIMEOUT.

use std::process::Command;
use std::time::Duration;

use crate::images::Image;

pub const DEFAULT_RELEASES: &str = "https://github.com/PowerShell/PowerShell/releases/download";

/// Whether an image downloads PowerShell from its release (its Dockerfile_windows says so).
pub fn downloads_powershell(img: &Image) -> bool {
    std::fs::read_to_string(img.dockerfile_windows())
        .map(|t| t.contains("PowerShell/PowerShell/releases/download") || t.contains("PowerShell-"))
        .unwrap_or(false)
}

/// One finding per problem (empty: both exist and agree). `base` is the releases URL.
pub fn check(base: &str, version: &str, timeout: Duration) -> Vec<String> {
    let base = base.trim_end_matches('/');
    let zip = format!("PowerShell-{version}-win-x64.zip");
    let zip_url = format!("{base}/v{version}/{zip}");
    let hashes_url = format!("{base}/v{version}/hashes.sha256");
    let mut out = Vec::new();
    // One byte of the asset is enough to know it is there (a HEAD may be refused by the CDN).
    if let Err(e) = fetch(&zip_url, true, timeout) {
        out.push(format!("the PowerShell {version} asset {zip_url}: {e} (is VERSION a published PowerShell release?)"));
    }
    match fetch(&hashes_url, false, timeout) {
        Err(e) => out.push(format!("{hashes_url}: {e}")),
        Ok(bytes) => {
            let text = decode(&bytes);
            let named = text.lines().any(|l| {
                let mut w = l.split_whitespace();
                let (Some(hex), Some(file)) = (w.next(), w.next()) else {
                    return false;
                };
                hex.len() == 64
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    && file.trim_start_matches('*') == zip
            });
            if !named {
                out.push(format!("{hashes_url} has no `<sha256> *{zip}` line"));
            }
        }
    }
    out
}

/// The body of URL (or its first byte), or why not.
fn fetch(url: &str, first_byte: bool, timeout: Duration) -> Result<Vec<u8>, String> {
    let mut c = Command::new("curl");
    c.args(["-fsSL", "--proto", "=https,http", "--max-time"])
        .arg(timeout.as_secs().max(1).to_string());
    if first_byte {
        c.args(["-r", "0-0"]);
    }
    c.arg("--").arg(url);
    let o = c
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if !o.status.success() {
        let why = String::from_utf8_lossy(&o.stderr);
        return Err(why.lines().next().unwrap_or("failed").trim().to_string());
    }
    Ok(o.stdout)
}

/// UTF-8, or UTF-16LE with its BOM (hashes.sha256 since 7.5.2).
fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn hashes_in_utf16_with_a_bom() {
        let text = "ab *PowerShell-7.6.9-win-x64.zip\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        assert_eq!(decode(&bytes), text);
        assert_eq!(decode(text.as_bytes()), text);
    }
}
