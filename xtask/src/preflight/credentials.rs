//! Credentials where they live: a node's pulls and pushes carry *this* machine's registry
//! credentials (the docker CLI sends them with each request: `X-Registry-Auth` on a push,
//! `X-Registry-Config` or the BuildKit session on a build's pull — a node daemon holds none),
//! so before any node build a run checks that this machine holds credentials REGISTRY accepts,
//! when REGISTRY asks for them. Doctor shows the same check.
//!
//! The credentials are the ones docker would use (docker/cli `configfile`): `credHelpers` for
//! the registry's host, else `credsStore`, else the `auths` entry of `$DOCKER_CONFIG/config.json`
//! (`~/.docker/config.json`). A helper runs as `docker-credential-<name> get` with the host on
//! stdin, within REGISTRY_TIMEOUT: a locked keyring that never answers is named, not waited on.
//!
//! How the registry is asked: xtask has no HTTP or TLS crate (its dependencies are the card's
//! five), and no docker command asks for push rights without pushing (`buildx imagetools
//! inspect` asks for pull scope only; `docker login` writes config.json). So a plain-HTTP
//! registry — the loopback ones docker treats as insecure (127.0.0.0/8, localhost) — is asked
//! directly with a few lines of HTTP/1.0 over a `TcpStream`: `GET /v2/`; a 401 with `Basic` is
//! answered with the credentials (200: accepted), one with `Bearer` by a token request for
//! `repository:<repo>:push,pull` to its realm (a token whose `access` lacks push: refused). An
//! HTTPS registry is not spoken to: it needs credentials for any push, so missing ones are
//! refused and present ones are taken as they are (the first push proves them).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::get;
use crate::certs::pem::base64 as base64_decode;
use crate::docker::process;

/// Credentials docker would send to a registry, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub user: String,
    pub secret: String,
    /// "config.json auths", "credential helper docker-credential-pass", …
    pub source: String,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The registry asks for no credentials (`/v2/` answered 200 unauthenticated).
    Open,
    /// The registry accepted these credentials (with push scope where it says scopes).
    Accepted(String),
    /// Credentials found for an HTTPS registry: not verified (the first push does).
    Unverified(String),
    /// The registry asks for credentials and this machine holds none for it.
    Missing,
    /// The registry refused them: (source, what it said).
    Refused(String, String),
    /// The credential helper gave no answer within the deadline: (helper, seconds).
    HelperSilent(String, u64),
    /// The credential helper failed: (helper, what it said).
    HelperFailed(String, String),
    /// The registry could not be asked (down, not HTTP): not a credentials problem; the run
    /// goes on and its own registry checks speak.
    Unreachable(String),
}

impl Verdict {
    /// Whether the run must stop (and doctor shows ✗).
    pub fn refuses(&self) -> bool {
        matches!(
            self,
            Verdict::Missing
                | Verdict::Refused(..)
                | Verdict::HelperSilent(..)
                | Verdict::HelperFailed(..)
        )
    }

    /// What was found, in words (one line, no secret).
    pub fn detail(&self, registry: &str) -> String {
        match self {
            Verdict::Open => format!("{registry}: asks for no credentials"),
            Verdict::Accepted(src) => format!("{registry}: accepts this machine's credentials ({src})"),
            Verdict::Unverified(src) => format!(
                "{registry}: credentials found ({src}); not verified over HTTPS — the first push does"
            ),
            Verdict::Missing => format!(
                "{registry} asks for credentials and this machine holds none for it (nodes push with this machine's credentials, never their own)"
            ),
            Verdict::Refused(src, why) => {
                format!("{registry} refused this machine's credentials ({src}): {why}")
            }
            Verdict::HelperSilent(helper, secs) => format!(
                "credential helper {helper} gave no answer within {secs} s (REGISTRY_TIMEOUT): a locked keyring?"
            ),
            Verdict::HelperFailed(helper, why) => {
                format!("credential helper {helper} failed: {why}")
            }
            Verdict::Unreachable(why) => {
                format!("{registry}: credentials not checked: {why}")
            }
        }
    }

    /// The fix, for a verdict that refuses.
    pub fn hint(&self, host: &str) -> String {
        match self {
            Verdict::HelperSilent(helper, _) | Verdict::HelperFailed(helper, _) => format!(
                "unlock or fix {helper} on this machine (try `echo {host} | {helper} get`), or give REGISTRY_TIMEOUT longer; then `docker login {host}` on this machine"
            ),
            _ => format!(
                "run `docker login {host}` on this machine (the Linux one running xtask); the Windows node needs no login"
            ),
        }
    }
}

/// The host part of REGISTRY ("127.0.0.1:5000/e2e" → "127.0.0.1:5000"), and docker's name
/// for Docker Hub when REGISTRY has no host ("docker.io/x" or "x").
pub fn registry_host(registry: &str) -> String {
    let first = registry.split('/').next().unwrap_or(registry);
    let is_host = registry.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    if !is_host || first == "docker.io" || first == "index.docker.io" {
        "docker.io".into()
    } else {
        first.to_string()
    }
}

/// The key docker stores a host's credentials under (Docker Hub's is its v1 URL).
fn config_key(host: &str) -> String {
    if host == "docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        host.to_string()
    }
}

/// docker's config folder: $DOCKER_CONFIG, else ~/.docker.
pub fn config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

/// `auths` keys as docker normalises them: no scheme, no path ("https://h:5000/v1/" → "h:5000").
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The credentials docker would use for `host`, from `dir/config.json`: Ok(None) when it holds
/// none; Err for a helper that is silent or fails.
pub fn find(host: &str, dir: &Path, deadline: Duration) -> Result<Option<Creds>, Verdict> {
    let text = match std::fs::read_to_string(dir.join("config.json")) {
        Ok(t) => t,
        Err(_) => return Ok(None),
    };
    let cfg: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let key = config_key(host);
    let helper = cfg["credHelpers"]
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| key_host(k) == key_host(&key))
                .and_then(|(_, v)| v.as_str())
        })
        .or(cfg["credsStore"].as_str())
        .filter(|h| !h.is_empty());
    if let Some(h) = helper {
        return from_helper(&format!("docker-credential-{h}"), &key, deadline);
    }
    let entry = cfg["auths"].as_object().and_then(|m| {
        m.iter()
            .find(|(k, _)| key_host(k) == key_host(&key))
            .map(|(_, v)| v)
    });
    let Some(entry) = entry else {
        return Ok(None);
    };
    let source = format!("{} auths", dir.join("config.json").display());
    if let Some(token) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
        return Ok(Some(Creds {
            user: "<token>".into(),
            secret: token.to_string(),
            source,
        }));
    }
    let decoded = entry["auth"]
        .as_str()
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok());
    Ok(decoded.and_then(|d| {
        let (user, secret) = d.split_once(':')?;
        (!user.is_empty()).then(|| Creds {
            user: user.to_string(),
            secret: secret.to_string(),
            source,
        })
    }))
}

/// `docker-credential-<name> get`, the server on stdin, within `deadline`.
fn from_helper(helper: &str, server: &str, deadline: Duration) -> Result<Option<Creds>, Verdict> {
    let Ok(program) = which::which(helper) else {
        return Err(Verdict::HelperFailed(
            helper.to_string(),
            "not found on PATH (config.json names it)".into(),
        ));
    };
    let argv = vec![helper.to_string(), "get".to_string()];
    let f = process::run(process::Spec {
        program: &program,
        argv: &argv,
        env: &[],
        stdin: Some(server.as_bytes()),
        deadline: Some(deadline),
        sink: None,
        keep_stdout: true,
        stop: None,
        watch: None,
        helper_limit: None,
    });
    match f.exit {
        process::Exit::Success => {}
        process::Exit::TimedOut => {
            return Err(Verdict::HelperSilent(
                helper.to_string(),
                deadline.as_secs().max(1),
            ))
        }
        _ => {
            let said = format!("{}{}", f.stdout, f.stderr);
            // docker/docker-credential-helpers: "credentials not found in native keychain".
            if said.to_ascii_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            let line = said.lines().next().unwrap_or("").trim().to_string();
            return Err(Verdict::HelperFailed(helper.to_string(), line));
        }
    }
    let v: Value = serde_json::from_str(f.stdout.trim()).unwrap_or(Value::Null);
    let user = v["Username"].as_str().unwrap_or_default();
    let secret = v["Secret"].as_str().unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Creds {
        user: user.to_string(),
        secret: secret.to_string(),
        source: format!("credential helper {helper}"),
    }))
}

/// The repository a tag names, without its registry host or tag ("h:5000/e2e/a:1.0" →
/// "e2e/a"): the scope a push asks for.
pub fn repository(tag: &str, host: &str) -> String {
    let rest = tag
        .strip_prefix(host)
        .and_then(|r| r.strip_prefix('/'))
        .or_else(|| tag.strip_prefix("docker.io/"))
        .unwrap_or(tag);
    let rest = rest.split('@').next().unwrap_or(rest);
    match rest.rsplit_once(':') {
        Some((repo, t)) if !t.contains('/') => repo.to_string(),
        _ => rest.to_string(),
    }
}

/// The run's check, before any node build of a plan that pushes: Err is bad input (exit 2)
/// naming the registry and `docker login` on this machine; Ok: what was found (an unreachable
/// registry is left to the run's own registry checks).
pub fn check_for_push(
    registry: &str,
    pushed_tag: &str,
    deadline: Duration,
) -> anyhow::Result<Verdict> {
    let host = registry_host(registry);
    let v = check(
        registry,
        &repository(pushed_tag, &host),
        &config_dir(),
        deadline,
    );
    if v.refuses() {
        return Err(crate::error::BadInput::new(
            "REGISTRY",
            registry,
            v.detail(registry),
            v.hint(&host),
        ));
    }
    Ok(v)
}

/// Whether docker speaks plain HTTP to `host` by itself: loopback registries are insecure
/// registries by default (127.0.0.0/8; `localhost` resolves there).
pub fn plain_http(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

/// The check: does `registry` want credentials to push to `repo` (e.g. "e2e/alpha"), and
/// does this machine hold ones it accepts? Credentials come from docker's config in `dir`.
pub fn check(registry: &str, repo: &str, dir: &Path, deadline: Duration) -> Verdict {
    let host = registry_host(registry);
    let creds = find(&host, dir, deadline);
    if !plain_http(&host) {
        return match creds {
            Ok(Some(c)) => Verdict::Unverified(c.source),
            Ok(None) => Verdict::Missing,
            Err(v) => v,
        };
    }
    let started = Instant::now();
    let left = || deadline.saturating_sub(started.elapsed());
    let open = match get(&host, "/v2/", None, left()) {
        Ok(r) => r,
        Err(e) => return Verdict::Unreachable(e),
    };
    match open.status {
        200 => return Verdict::Open,
        401 => {}
        s => return Verdict::Unreachable(format!("GET /v2/ answered HTTP {s}")),
    }
    let creds = match creds {
        Ok(Some(c)) => c,
        Ok(None) => return Verdict::Missing,
        Err(v) => return v,
    };
    let challenge = open.header("www-authenticate").unwrap_or_default();
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{}:{}", creds.user, creds.secret).as_bytes())
    );
    if challenge.to_ascii_lowercase().starts_with("bearer") {
        let params = challenge_params(&challenge);
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone());
        let Some(realm) = realm else {
            return Verdict::Unverified(creds.source);
        };
        let Some(rest) = realm.strip_prefix("http://") else {
            // An HTTPS token service: not spoken to (see the module's doc).
            return Verdict::Unverified(creds.source);
        };
        let (auth_host, path) = match rest.split_once('/') {
            Some((h, p)) => (h.to_string(), format!("/{p}")),
            None => (rest.to_string(), "/".to_string()),
        };
        let service = params
            .iter()
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let sep = if path.contains('?') { '&' } else { '?' };
        let query = format!(
            "{path}{sep}service={}&scope=repository:{}:push,pull",
            url_escape(&service),
            url_escape(repo)
        );
        return match get(&auth_host, &query, Some(&basic), left()) {
            Ok(r) if r.status == 200 => match token_grants_push(&r.body, repo) {
                Some(false) => {
                    Verdict::Refused(creds.source, format!("its token for {repo} grants no push"))
                }
                _ => Verdict::Accepted(creds.source),
            },
            Ok(r) => Verdict::Refused(
                creds.source,
                format!("token request answered HTTP {}", r.status),
            ),
            Err(e) => Verdict::Unreachable(e),
        };
    }
    match get(&host, "/v2/", Some(&basic), left()) {
        Ok(r) if r.status == 200 => Verdict::Accepted(creds.source),
        Ok(r) => Verdict::Refused(creds.source, format!("GET /v2/ answered HTTP {}", r.status)),
        Err(e) => Verdict::Unreachable(e),
    }
}

/// Whether a registry token (a JWT) grants push on `repo`: None when it says nothing readable
/// about access (then the registry's 200 is taken as the answer).
fn token_grants_push(body: &str, repo: &str) -> Option<bool> {
    let v: Value = serde_json::from_str(body).ok()?;
    let token = v["token"].as_str().or(v["access_token"].as_str())?;
    let payload = token.split('.').nth(1)?;
    // base64url without padding → standard base64.
    let mut std64: String = payload
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while std64.len() % 4 != 0 {
        std64.push('=');
    }
    let claims: Value = serde_json::from_slice(&base64_decode(&std64)?).ok()?;
    let access = claims["access"].as_array()?;
    Some(access.iter().any(|a| {
        a["name"] == repo
            && a["actions"]
                .as_array()
                .is_some_and(|acts| acts.iter().any(|x| x == "push" || x == "*"))
    }))
}

/// `Bearer realm="…",service="…"` → [(realm, …), (service, …)].
fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge.split_once(' ').map_or("", |(_, r)| r);
    let mut out = Vec::new();
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            out.push((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            ));
        }
    }
    out
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~:/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Standard base64 with padding (for a Basic authorization header).
pub fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
