//! Unit tests of `credentials`: hosts and keys, base64, config.json, credential helpers
//! (silent, answering), and the check against one-shot HTTP servers on loopback.

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;

#[test]
fn hosts_and_keys() {
    assert_eq!(registry_host("127.0.0.1:5000/e2e"), "127.0.0.1:5000");
    assert_eq!(
        registry_host("gcr.io/k8s-staging-e2e-test-images"),
        "gcr.io"
    );
    assert_eq!(registry_host("myuser"), "docker.io");
    assert_eq!(registry_host("docker.io/myuser"), "docker.io");
    assert_eq!(registry_host("localhost/x"), "localhost");
    assert_eq!(key_host("https://index.docker.io/v1/"), "index.docker.io");
    assert_eq!(key_host("http://127.0.0.1:5000"), "127.0.0.1:5000");
    assert!(plain_http("127.0.0.1:5000") && plain_http("localhost:5000"));
    assert!(!plain_http("gcr.io") && !plain_http("10.0.0.1:5000"));
}

#[test]
fn repositories() {
    assert_eq!(
        repository("127.0.0.1:5000/e2e/alpha:1.0", "127.0.0.1:5000"),
        "e2e/alpha"
    );
    assert_eq!(
        repository("127.0.0.1:5000/e2e/alpha", "127.0.0.1:5000"),
        "e2e/alpha"
    );
    assert_eq!(
        repository("myuser/alpha:1.0-linux-cache", "docker.io"),
        "myuser/alpha"
    );
    assert_eq!(
        repository("docker.io/myuser/alpha:1", "docker.io"),
        "myuser/alpha"
    );
}

#[test]
fn base64_both_ways() {
    for s in ["", "a", "ab", "abc", "user:pass word", "ü:ß"] {
        let e = base64_encode(s.as_bytes());
        assert_eq!(base64_decode(&e).as_deref(), Some(s.as_bytes()), "{s}");
    }
    assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
}

#[test]
fn credentials_from_config_json() {
    let d = std::env::temp_dir().join(format!("xtask-creds-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let w = |s: &str| std::fs::write(d.join("config.json"), s).unwrap();
    let t = Duration::from_secs(5);
    assert_eq!(find("127.0.0.1:5000", &d.join("none"), t), Ok(None));
    w(r#"{"auths":{"http://127.0.0.1:5000":{"auth":"dXNlcjpwYXNz"}}}"#);
    let c = find("127.0.0.1:5000", &d, t).unwrap().unwrap();
    assert_eq!((c.user.as_str(), c.secret.as_str()), ("user", "pass"));
    assert_eq!(find("127.0.0.1:5001", &d, t), Ok(None));
    // A helper named but not installed is named.
    w(r#"{"credsStore":"xtask-test-missing"}"#);
    match find("127.0.0.1:5000", &d, t) {
        Err(Verdict::HelperFailed(h, _)) => {
            assert_eq!(h, "docker-credential-xtask-test-missing")
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A one-shot HTTP server: answers each connection from `answers` in turn, recording the
/// requests.
fn server(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = l.local_addr().unwrap().to_string();
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for a in answers {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = c.read(&mut buf).unwrap();
            seen.push(String::from_utf8_lossy(&buf[..n]).to_string());
            c.write_all(a.as_bytes()).unwrap();
        }
        seen
    });
    (host, h)
}

#[test]
fn basic_auth_registry_both_ways() {
    let dir = std::env::temp_dir().join(format!("xtask-creds-b-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = Duration::from_secs(5);
    let challenge = "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\n\r\n".to_string();
    // Logged out: Missing.
    let (host, h) = server(vec![challenge.clone()]);
    assert_eq!(
        check(&format!("{host}/e2e"), "e2e/a", &dir, t),
        Verdict::Missing
    );
    h.join().unwrap();
    // Logged in: the second request carries Basic auth; 200 accepts.
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string();
    let (h2, srv) = server(vec![challenge.clone(), ok]);
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths":{{"{h2}":{{"auth":"dXNlcjpwYXNz"}}}}}}"#),
    )
    .unwrap();
    assert!(matches!(
        check(&format!("{h2}/e2e"), "e2e/a", &dir, t),
        Verdict::Accepted(_)
    ));
    let seen = srv.join().unwrap();
    assert!(
        seen[1].contains("Authorization: Basic dXNlcjpwYXNz"),
        "{seen:?}"
    );
    // Refused: the registry answers 401 to the credentials too.
    let (h3, srv) = server(vec![challenge.clone(), challenge]);
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths":{{"{h3}":{{"auth":"dXNlcjpwYXNz"}}}}}}"#),
    )
    .unwrap();
    let v = check(&format!("{h3}/e2e"), "e2e/a", &dir, t);
    assert!(matches!(v, Verdict::Refused(..)) && v.refuses(), "{v:?}");
    srv.join().unwrap();
    // Nothing listens: not a credentials problem.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = l.local_addr().unwrap().to_string();
    drop(l);
    let v = check(&format!("{gone}/e2e"), "e2e/a", &dir, t);
    assert!(
        matches!(v, Verdict::Unreachable(_)) && !v.refuses(),
        "{v:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_token_without_push_is_refused() {
    let claims = r#"{"access":[{"type":"repository","name":"e2e/a","actions":["pull"]}]}"#;
    let tok = format!(
        "x.{}.y",
        base64_encode(claims.as_bytes()).trim_end_matches('=')
    );
    assert_eq!(
        token_grants_push(&format!(r#"{{"token":"{tok}"}}"#), "e2e/a"),
        Some(false)
    );
    let claims = r#"{"access":[{"type":"repository","name":"e2e/a","actions":["pull","push"]}]}"#;
    let tok = format!("x.{}.y", base64_encode(claims.as_bytes()));
    assert_eq!(
        token_grants_push(&format!(r#"{{"token":"{tok}"}}"#), "e2e/a"),
        Some(true)
    );
    assert_eq!(token_grants_push(r#"{"token":"opaque"}"#, "e2e/a"), None);
}

#[test]
fn a_silent_helper_is_named_within_the_deadline() {
    let dir = std::env::temp_dir().join(format!("xtask-creds-h-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A helper that never answers (a locked keyring prompting nobody).
    let helper = dir.join("docker-credential-stuck");
    std::fs::write(&helper, "#!/bin/sh\nexec sleep 30\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let r = from_helper(helper.to_str().unwrap(), "h", Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(5));
    match r {
        Err(v @ Verdict::HelperSilent(..)) => {
            assert!(v.refuses());
            assert!(v.detail("r").contains("docker-credential-stuck"), "{v:?}");
        }
        other => panic!("{other:?}"),
    }
    // One that answers: its JSON.
    let good = dir.join("docker-credential-good");
    std::fs::write(
        &good,
        "#!/bin/sh\nread h\necho \"{\\\"ServerURL\\\":\\\"$h\\\",\\\"Username\\\":\\\"u\\\",\\\"Secret\\\":\\\"s\\\"}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = from_helper(good.to_str().unwrap(), "h", Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!((c.user.as_str(), c.secret.as_str()), ("u", "s"));
    let _ = std::fs::remove_dir_all(&dir);
}
