//! Which failures are worth another try, and the waiting between tries: network trouble and
//! 5xx from a registry are; anything it refused on purpose is not; a node build only when it
//! lost a naming race with another run. A wait ends early on a signal.

use std::thread;
use std::time::{Duration, Instant};

use super::signals;

/// Sleeps, waking early (false) when a signal arrives.
pub fn sleep_unless_signalled(d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if signals::caught().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
    true
}

/// Why a failed push, list push or cache build is worth another try, if it is: the reason the
/// retry announces names what docker said.
pub fn registry_retry(tail: &[String]) -> Option<&'static str> {
    transient_reason(tail)
}

/// Why a failed node build is worth another try, if it is: only when another run built the
/// same tag on the same daemon at the same moment, and the containerd image store refused to
/// name the second image (`failed to solve: image "…": already exists`; seen on the stack, 1
/// of about 20 pairs of the same run at once). Built again, it names the image. Any other
/// build failure is the build's own: not retried, a build is long.
pub fn build_retry(tail: &[String]) -> Option<&'static str> {
    let text = tail.join("\n");
    (text.contains("failed to solve: image \"") && text.contains("\": already exists"))
        .then_some("another run named the same image at the same moment")
}

/// Why a failed cache build is worth another try, if it is: a transient registry error, or
/// the naming race of `build_retry` — the local daemon's containerd store names the cache
/// image before pushing it, and two runs building the same cache tag at once lose that race
/// the same way (`image "…-linux-cache": already exists`).
pub fn cache_retry(tail: &[String]) -> Option<&'static str> {
    build_retry(tail).or_else(|| registry_retry(tail))
}

/// Whether a failed registry operation is worth retrying: network trouble and 5xx are;
/// anything the registry refused on purpose (auth, invalid or unknown content) is not, nor is
/// a full or read-only disk on either side (waiting does not free space).
#[cfg(test)]
pub fn transient(tail: &[String]) -> bool {
    transient_reason(tail).is_some()
}

/// Network trouble, and a push that raced another run's (the words users and docs know).
const NETWORK: &str = "transient error";

/// A server error: retried once more only if it does not repeat word for word (`Runner`).
pub const SERVER_ERROR: &str = "the registry answered with a server error (5xx), often passing";

fn transient_reason(tail: &[String]) -> Option<&'static str> {
    let text = tail.join("\n").to_lowercase();
    const PERMANENT: [&str; 11] = [
        "denied",
        "unauthorized",
        "authentication required",
        "manifest invalid",
        "blob unknown",
        "name unknown",
        "manifest unknown",
        "no such host",
        "no space left on device",
        "disk quota exceeded",
        "read-only file system",
    ];
    const TRANSIENT: [(&str, &str); 14] = [
        ("connection refused", NETWORK),
        ("connection reset", NETWORK),
        ("broken pipe", NETWORK),
        ("i/o timeout", NETWORK),
        ("tls handshake timeout", NETWORK),
        ("timeout exceeded", NETWORK),
        ("deadline exceeded", NETWORK),
        ("unexpected eof", NETWORK),
        ("500 internal server error", SERVER_ERROR),
        ("502 bad gateway", SERVER_ERROR),
        ("503 service unavailable", SERVER_ERROR),
        ("504 gateway timeout", SERVER_ERROR),
        ("too many requests", "the registry is rate-limiting (429)"),
        ("server misbehaving", NETWORK),
    ];
    if PERMANENT.iter().any(|p| text.contains(p)) {
        return None;
    }
    // Two runs pushing one tag from one containerd-store daemon at once: the daemon shares
    // the uploads between the two pushes, or the tag moves under one of them, and the
    // registry refuses a manifest whose blobs or manifests are not there yet (400 on its PUT,
    // "failed commit on ref"). Pushing the tag again sends what it holds now (seen on the
    // stack in about 1 of 10 pairs of the same run at once).
    // Or the other run's build renamed the tag meanwhile and the daemon dropped the content
    // of the image this push started from ("missing content: content digest …: not found",
    // seen on the stack once in a CI run); pushed again, the tag sends the image it names now,
    // built from the same inputs.
    let raced = text.contains("references to blobs and/or manifests are missing")
        || (text.contains("failed commit on ref") && text.contains("400 bad request"))
        || (text.contains("missing content: content digest") && text.contains("not found"));
    if raced {
        return Some(NETWORK);
    }
    TRANSIENT
        .iter()
        .find(|(t, _)| text.contains(t))
        .map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::transient;

    fn t(s: &str) -> bool {
        transient(&[s.to_string()])
    }

    #[test]
    fn a_push_whose_image_another_run_replaced_is_retried() {
        assert!(t("missing content: content digest sha256:14b3: not found"));
        assert!(!t("content digest sha256:14b3: not found"));
    }

    #[test]
    fn a_full_disk_is_not_transient_and_a_retry_says_why() {
        // Issue 19 §6: before, "500 … no space left on device" was retried three times.
        assert!(!t("received unexpected HTTP status: 500 Internal Server Error: write /var/lib/registry/x: no space left on device"));
        assert!(!t(
            "failed to copy: write /var/lib/docker/tmp/x: no space left on device"
        ));
        assert_eq!(
            super::registry_retry(&["unexpected status: 503 Service Unavailable".into()]),
            Some(super::SERVER_ERROR)
        );
        assert_eq!(
            super::registry_retry(&["toomanyrequests: too many requests".into()]),
            Some("the registry is rate-limiting (429)")
        );
    }

    #[test]
    fn classifies_registry_errors() {
        assert!(t("dial tcp 127.0.0.1:5000: connect: connection refused"));
        assert!(t(
            "received unexpected HTTP status: 503 Service Unavailable"
        ));
        assert!(t("read: connection reset by peer"));
        assert!(!t("denied: requested access to the resource is denied"));
        assert!(!t("manifest invalid: manifest invalid"));
        assert!(!t("unauthorized: authentication required"));
        assert!(!t("failed to solve: process did not complete successfully"));
        let build = |s: &str| super::build_retry(&[s.to_string()]).is_some();
        assert!(build(
            "ERROR: failed to solve: image \"127.0.0.1:5000/r/beta:2.1-windows-amd64-ltsc2022\": already exists"
        ));
        assert!(!build(
            "ERROR: failed to solve: process did not complete successfully"
        ));
        assert!(!build(
            "dial tcp 127.0.0.1:2376: connect: connection refused"
        ));
        // The cache build loses the same naming race in the local store (issue 19 §1).
        let cache = |s: &str| super::cache_retry(&[s.to_string()]);
        assert_eq!(
            cache("ERROR: failed to solve: image \"127.0.0.1:5000/r/beta:2.1-linux-cache\": already exists"),
            Some("another run named the same image at the same moment")
        );
        assert_eq!(
            cache("read: connection reset by peer"),
            Some("transient error")
        );
        assert_eq!(
            cache("ERROR: failed to solve: process did not complete successfully"),
            None
        );
        assert!(t("failed commit on ref \"manifest-sha256:b6e9\": unexpected status from PUT request to http://127.0.0.1:5000/v2/r/manifests/t: 400 Bad Request"));
        assert!(!t("unexpected status from PUT request to http://127.0.0.1:5000/v2/r/manifests/t: 400 Bad Request"));
        assert!(t("manifest list/index references to blobs and/or manifests are missing in your target registry: failed commit on ref \"index-sha256:90a9\": unexpected status from PUT request to http://127.0.0.1:5000/v2/r/manifests/t: 400 Bad Request"));
    }
}
