//! Bad input, table-driven: every malformed variable, file and folder is refused before any
//! work starts — exit 2, a message naming the variable or file and the value, a hint, no
//! docker call that changes anything (a fake docker records every call), nothing written.

mod support;

use std::fs;

use support::*;

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Changes the world before the run.
    setup: fn(&World),
    /// Substrings the error must hold (variable/file and value).
    expect: &'static [&'static str],
}

fn nothing(_: &World) {}

const NODE: (&str, &str) = ("REMOTE_DOCKER_URL", "tcp://winbuild:2376");

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "registry empty",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "")],
            setup: nothing,
            expect: &["REGISTRY=\"\"", "empty"],
        },
        Case {
            name: "registry uppercase path",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "registry.k8s.io/E2E")],
            setup: nothing,
            expect: &["REGISTRY", "E2E"],
        },
        Case {
            name: "registry with space",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "my registry/x")],
            setup: nothing,
            expect: &["REGISTRY", "my registry"],
        },
        Case {
            name: "registry with command substitution",
            args: &["push"],
            env: &[NODE, ("REGISTRY", "$(touch PWNED)/x")],
            setup: nothing,
            expect: &["REGISTRY", "$(touch PWNED)"],
        },
        Case {
            name: "registry trailing slash",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "registry.example.com/")],
            setup: nothing,
            expect: &["REGISTRY", "ends with '/'"],
        },
        Case {
            name: "registry bad port",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "host.example:99999/x")],
            setup: nothing,
            expect: &["REGISTRY", "host.example:99999"],
        },
        Case {
            name: "registry dot-dot",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "../x")],
            setup: nothing,
            expect: &["REGISTRY", "../x"],
        },
        Case {
            name: "registry with quote",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "reg'x/e2e")],
            setup: nothing,
            expect: &["REGISTRY", "reg'x"],
        },
        Case {
            name: "node url missing",
            args: &["push"],
            env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "not set"],
        },
        Case {
            name: "node url not tcp",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "http://winbuild:2376")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "http://winbuild:2376", "tcp://"],
        },
        Case {
            name: "node url without port",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://winbuild")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "port is missing"],
        },
        Case {
            name: "node url port zero",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://winbuild:0")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "'0'"],
        },
        Case {
            name: "node url host with space",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://win build:2376")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "win build"],
        },
        Case {
            name: "node url in plan is still checked",
            args: &["plan", "build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://h:2376/path")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "2376/path"],
        },
        Case {
            name: "cert path missing folder",
            args: &["build"],
            env: &[NODE, ("DOCKER_CERT_PATH", "/nonexistent/certs")],
            setup: nothing,
            expect: &["DOCKER_CERT_PATH", "/nonexistent/certs", "no such folder"],
        },
        Case {
            name: "cert path lacks key",
            args: &["push"],
            env: &[NODE],
            setup: |w| fs::remove_file(w.certs().join("key.pem")).unwrap(),
            expect: &["DOCKER_CERT_PATH", "missing key.pem"],
        },
        Case {
            name: "cert path empty",
            args: &["build"],
            env: &[NODE, ("DOCKER_CERT_PATH", "")],
            setup: nothing,
            expect: &["DOCKER_CERT_PATH", "empty"],
        },
        Case {
            name: "images unknown",
            args: &["build"],
            env: &[NODE, ("IMAGES", "nosuch")],
            setup: nothing,
            expect: &["IMAGES", "nosuch", "known images: alpha, beta"],
        },
        Case {
            name: "images invalid name",
            args: &["build"],
            env: &[NODE, ("IMAGES", "Alpha")],
            setup: nothing,
            expect: &["IMAGES", "'Alpha'"],
        },
        Case {
            name: "images twice",
            args: &["build"],
            env: &[NODE, ("IMAGES", "alpha alpha")],
            setup: nothing,
            expect: &["IMAGES", "named twice"],
        },
        Case {
            name: "images dot-dot",
            args: &["build"],
            env: &[NODE, ("IMAGES", "../etc")],
            setup: nothing,
            expect: &["IMAGES", "'../etc'"],
        },
        Case {
            name: "positional unknown image",
            args: &["push-as-linux", "nosuch"],
            env: &[NODE],
            setup: nothing,
            expect: &["IMAGES", "nosuch"],
        },
        Case {
            name: "sub-target unknown image",
            args: &["sub-build-nosuch"],
            env: &[NODE],
            setup: nothing,
            expect: &["image", "nosuch"],
        },
        Case {
            name: "images dir missing",
            args: &["build"],
            env: &[NODE, ("IMAGES_DIR", "/nonexistent/images")],
            setup: nothing,
            expect: &["IMAGES_DIR", "/nonexistent/images"],
        },
        Case {
            name: "images dir empty value",
            args: &["build"],
            env: &[NODE, ("IMAGES_DIR", "")],
            setup: nothing,
            expect: &["IMAGES_DIR", "empty"],
        },
        Case {
            name: "images dir without images",
            args: &["build"],
            env: &[NODE],
            setup: |w| {
                fs::remove_dir_all(w.images()).unwrap();
                fs::create_dir(w.images()).unwrap();
            },
            expect: &["IMAGES_DIR", "no image folder"],
        },
        Case {
            name: "named folder without VERSION",
            args: &["build"],
            env: &[NODE, ("IMAGES", "alpha")],
            setup: |w| fs::remove_file(w.images().join("alpha/VERSION")).unwrap(),
            expect: &["alpha/VERSION", "cannot read"],
        },
        Case {
            name: "no Dockerfile_windows",
            args: &["build"],
            env: &[NODE],
            setup: |w| fs::remove_file(w.images().join("beta/Dockerfile_windows")).unwrap(),
            expect: &["beta/Dockerfile_windows", "missing"],
        },
        Case {
            name: "no Dockerfile for push-as-linux",
            args: &["push-as-linux"],
            env: &[NODE],
            setup: |w| fs::remove_file(w.images().join("beta/Dockerfile")).unwrap(),
            expect: &["beta/Dockerfile", "push-as-linux"],
        },
        Case {
            name: "VERSION empty",
            args: &["build"],
            env: &[NODE],
            setup: |w| write(&w.images().join("alpha/VERSION"), "\n"),
            expect: &["alpha/VERSION", "empty"],
        },
        Case {
            name: "VERSION two lines",
            args: &["build"],
            env: &[NODE],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1.0\n2.0\n"),
            expect: &["alpha/VERSION", "more than one line"],
        },
        Case {
            name: "VERSION with space",
            args: &["build"],
            env: &[NODE],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1.0 beta\n"),
            expect: &["alpha/VERSION", "1.0 beta", "not a valid tag"],
        },
        Case {
            name: "VERSION with quote and $()",
            args: &["build"],
            env: &[NODE],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1'$(id)\n"),
            expect: &["alpha/VERSION", "not a valid tag"],
        },
        Case {
            name: "VERSION too long",
            args: &["build"],
            env: &[NODE],
            setup: |w| {
                write(
                    &w.images().join("alpha/VERSION"),
                    &format!("{}\n", "7".repeat(129)),
                )
            },
            expect: &["alpha/VERSION", "not a valid tag"],
        },
        Case {
            name: "VERSION starts with dot",
            args: &["build"],
            env: &[NODE],
            setup: |w| write(&w.images().join("alpha/VERSION"), ".1\n"),
            expect: &["alpha/VERSION", "\".1\""],
        },
        Case {
            name: "folder name not a repository",
            args: &["build"],
            env: &[NODE],
            setup: |w| {
                w.image("Bad_Name", "1.0");
            },
            expect: &["Bad_Name", "not a valid repository name"],
        },
        Case {
            name: "docker missing",
            args: &["build"],
            env: &[NODE, ("PATH", "/usr/bin:/bin")],
            setup: nothing,
            expect: &["PATH", "no docker CLI"],
        },
        Case {
            name: "buildx missing",
            args: &["push-as-linux"],
            env: &[NODE, ("FAKE_NO_BUILDX", "1")],
            setup: nothing,
            expect: &["docker buildx", "missing"],
        },
        Case {
            name: "os versions twice",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 1809")],
            setup: nothing,
            expect: &["OS_VERSIONS", "named twice"],
        },
        Case {
            name: "os version malformed",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "ltsc-2022")],
            setup: nothing,
            expect: &["OS_VERSIONS", "'ltsc-2022'"],
        },
        Case {
            name: "os version without node",
            args: &["build"],
            env: &[
                ("OS_VERSIONS", "1809 ltsc2022"),
                ("REMOTE_DOCKER_URL_1809", "tcp://a:2376"),
            ],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL_ltsc2022", "not set"],
        },
        Case {
            name: "per-version url malformed",
            args: &["build"],
            env: &[
                NODE,
                ("OS_VERSIONS", "ltsc2022"),
                ("REMOTE_DOCKER_URL_ltsc2022", "tcp://;rm -rf:2376"),
            ],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL_ltsc2022", ";rm -rf"],
        },
        Case {
            name: "cert base path lacks version folder",
            args: &["build"],
            env: &[
                NODE,
                ("OS_VERSIONS", "1809"),
                ("DOCKER_CERT_BASE_PATH", "/nonexistent"),
            ],
            setup: nothing,
            expect: &["DOCKER_CERT_BASE_PATH", "/nonexistent/.docker-1809"],
        },
        Case {
            name: "baseimage line without =",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809 mcr/x\n",
                )
            },
            expect: &["alpha/BASEIMAGE:1", "no '='"],
        },
        Case {
            name: "baseimage wrong platform",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            setup: |w| write(&w.images().join("alpha/BASEIMAGE"), "linux/amd64/1809=x\n"),
            expect: &["alpha/BASEIMAGE:1", "windows/amd64/"],
        },
        Case {
            name: "baseimage lacks requested version",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 ltsc2022")],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809=x:1\n",
                )
            },
            expect: &["alpha/BASEIMAGE", "no line for OS version ltsc2022"],
        },
        Case {
            name: "isolation unknown",
            args: &["build"],
            env: &[NODE, ("ISOLATION", "vm")],
            setup: nothing,
            expect: &["ISOLATION", "\"vm\""],
        },
        Case {
            name: "registry insecure not 0/1",
            args: &["build"],
            env: &[NODE, ("REGISTRY_INSECURE", "yes")],
            setup: nothing,
            expect: &["REGISTRY_INSECURE", "\"yes\""],
        },
        Case {
            name: "retries not a number",
            args: &["push"],
            env: &[NODE, ("RETRIES", "many")],
            setup: nothing,
            expect: &["RETRIES", "\"many\""],
        },
        Case {
            name: "jobs zero",
            args: &["push"],
            env: &[NODE, ("JOBS", "0")],
            setup: nothing,
            expect: &["JOBS", "\"0\""],
        },
        Case {
            name: "tls --json",
            args: &[
                "tls",
                "--json",
                "--server-name",
                "win",
                "--ip",
                "10.0.0.5",
                "--out",
                "tls-out",
            ],
            env: &[],
            setup: nothing,
            expect: &["--json", "no machine-readable output"],
        },
        Case {
            name: "tls server name label over 63",
            args: &[
                "tls",
                "--server-name",
                "a234567890123456789012345678901234567890123456789012345678901234.corp",
                "--ip",
                "10.0.0.5",
                "--out",
                "tls-out",
            ],
            env: &[],
            setup: nothing,
            expect: &["--server-name=\"a2345", "64 characters (at most 63)"],
        },
        Case {
            name: "tls file where node/ goes",
            args: &[
                "tls",
                "--server-name",
                "win",
                "--ip",
                "10.0.0.5",
                "--out",
                "tls-out",
            ],
            env: &[],
            setup: |w| write(&w.root().join("tls-out/node"), "mine"),
            expect: &[
                "--out=\"tls-out\"",
                "node is a file where the folder node/ goes",
            ],
        },
        Case {
            name: "plan unknown target",
            args: &["plan", "deploy"],
            env: &[],
            setup: nothing,
            expect: &["TARGET", "deploy"],
        },
    ]
}

#[test]
fn every_bad_input_exits_2_naming_it_before_any_docker_call() {
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for c in &cases {
        let w = World::new("bad");
        w.image("alpha", "1.0");
        w.image("beta", "2.0");
        (c.setup)(&w);
        let before = snapshot(&w.images());
        let certs_before = snapshot(&w.certs());
        let tls_before = snapshot(&w.root().join("tls-out"));
        let mut cmd = w.xtask();
        cmd.args(c.args);
        for (k, v) in c.env {
            cmd.env(k, v);
        }
        let o = run(&mut cmd);
        let err = stderr(&o);
        let mut problems = Vec::new();
        if o.status.code() != Some(2) {
            problems.push(format!("exit {:?}", o.status.code()));
        }
        for want in c.expect {
            if !err.contains(want) {
                problems.push(format!("message lacks {want:?}"));
            }
        }
        if !err.contains("hint:") {
            problems.push("no hint".into());
        }
        if !w.mutating_calls().is_empty() {
            problems.push(format!("docker called: {:?}", w.mutating_calls()));
        }
        if snapshot(&w.images()) != before
            || snapshot(&w.certs()) != certs_before
            || snapshot(&w.root().join("tls-out")) != tls_before
            || w.root().join("PWNED").exists()
        {
            problems.push("files changed".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n    stderr: {}",
                c.name,
                problems.join("; "),
                err.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
