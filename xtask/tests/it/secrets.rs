//! Secrets never reach the terminal: with PEM key material in the cert folder and registry
//! credentials in the docker config, no command's stdout or stderr holds any of it — on
//! success, on failure, on bad input.

use crate::support::*;

const MARK: &str = "c2VjcmV0LWtleS1tYXRlcmlhbA";

fn world() -> World {
    let w = World::new("secrets");
    w.image("alpha", "1.0");
    for (f, kind) in [
        ("ca.pem", "CERTIFICATE"),
        ("cert.pem", "CERTIFICATE"),
        ("key.pem", "PRIVATE KEY"),
    ] {
        write(
            &w.certs().join(f),
            &format!("-----BEGIN {kind}-----\n{MARK}\n-----END {kind}-----\n"),
        );
    }
    write(
        &w.root().join("dockercfg/config.json"),
        &format!("{{\"auths\":{{\"registry.example.com\":{{\"auth\":\"{MARK}\"}}}}}}"),
    );
    w
}

#[test]
fn no_command_prints_key_material_or_credentials() {
    let w = world();
    // (arguments, extra environment)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["plan", "all-push-as-linux"], vec![]),
        (vec!["plan", "all-push-as-linux", "--json"], vec![]),
        (vec!["push-as-linux", "--dry-run"], vec![]),
        (vec!["push-as-linux"], vec![]),
        (vec!["push-as-linux"], vec![("FAKE_DOCKER_FAIL", " push ")]),
        (
            vec!["sub-push-alpha"],
            vec![
                ("FAKE_DOCKER_FLAKY", " push "),
                ("RETRIES", "1"),
                ("FAKE_DOCKER_FLAKY_TIMES", "5"),
            ],
        ),
        (vec!["verify"], vec![]),
        (vec!["doctor"], vec![]),
        (vec!["doctor", "--json"], vec![]),
        (vec!["lint"], vec![]),
        (vec!["build"], vec![("REMOTE_DOCKER_URL", "")]),
        (vec!["build"], vec![("DOCKER_CERT_PATH", "/nonexistent")]),
        (vec!["--help"], vec![]),
    ];
    for (args, env) in cases {
        let mut c = w.xtask();
        c.args(&args)
            .env("REGISTRY", "registry.example.com/e2e")
            .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
            .env("DOCKER_CONFIG", w.root().join("dockercfg"));
        for (k, v) in &env {
            c.env(k, v);
        }
        let o = run(&mut c);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            !all.contains(MARK),
            "{args:?} {env:?} printed secret material:\n{all}"
        );
        assert!(
            !all.contains("-----BEGIN"),
            "{args:?} {env:?} printed a PEM block:\n{all}"
        );
    }
}
