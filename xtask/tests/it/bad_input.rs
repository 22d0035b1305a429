//! Bad input, table-driven: every malformed variable, file and folder is refused before any
//! work starts — exit 2, a message naming the variable or file and the value, a hint, no
//! docker call that changes anything (a fake docker records every call), nothing written.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::support::*;

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Variables holding bytes that are not UTF-8.
    raw_env: &'static [(&'static str, &'static [u8])],
    /// Changes the world before the run.
    setup: fn(&World),
    /// Substrings the error must hold (variable/file and value).
    expect: &'static [&'static str],
    /// Substrings it must not hold (a password, a raw control character).
    absent: &'static [&'static str],
}

/// Every message is bounded: no value reaches the terminal whole when it is long.
const STDERR_MAX: usize = 2000;

fn nothing(_: &World) {}

fn mkfifo(p: &Path) {
    let _ = fs::remove_file(p);
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
}

const NODE: (&str, &str) = ("REMOTE_DOCKER_URL", "tcp://winbuild:2376");

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "registry empty",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY=\"\"", "empty"],
            absent: &[],
        },
        Case {
            name: "registry uppercase path",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "registry.k8s.io/E2E")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "E2E"],
            absent: &[],
        },
        Case {
            name: "registry with space",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "my registry/x")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "my registry"],
            absent: &[],
        },
        Case {
            name: "registry with command substitution",
            args: &["push"],
            env: &[NODE, ("REGISTRY", "$(touch PWNED)/x")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "$(touch PWNED)"],
            absent: &[],
        },
        Case {
            name: "registry trailing slash",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "registry.example.com/")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "ends with '/'"],
            absent: &[],
        },
        Case {
            name: "registry bad port",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "host.example:99999/x")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "host.example:99999"],
            absent: &[],
        },
        Case {
            name: "registry dot-dot",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "../x")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "../x"],
            absent: &[],
        },
        Case {
            name: "registry with quote",
            args: &["build"],
            env: &[NODE, ("REGISTRY", "reg'x/e2e")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY", "reg'x"],
            absent: &[],
        },
        Case {
            name: "node url missing",
            args: &["push"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "not set"],
            absent: &[],
        },
        Case {
            name: "node url not tcp",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "http://winbuild:2376")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "http://winbuild:2376", "tcp://"],
            absent: &[],
        },
        Case {
            name: "node url without port",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://winbuild")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "port is missing"],
            absent: &[],
        },
        Case {
            name: "node url port zero",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://winbuild:0")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "'0'"],
            absent: &[],
        },
        Case {
            name: "node url host with space",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://win build:2376")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "win build"],
            absent: &[],
        },
        Case {
            name: "node url in plan is still checked",
            args: &["plan", "build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://h:2376/path")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "2376/path"],
            absent: &[],
        },
        Case {
            name: "cert path missing folder",
            args: &["build"],
            env: &[NODE, ("DOCKER_CERT_PATH", "/nonexistent/certs")],
            raw_env: &[],
            setup: nothing,
            expect: &["DOCKER_CERT_PATH", "/nonexistent/certs", "no such folder"],
            absent: &[],
        },
        Case {
            name: "cert path lacks key",
            args: &["push"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| fs::remove_file(w.certs().join("key.pem")).unwrap(),
            expect: &["DOCKER_CERT_PATH", "missing key.pem"],
            absent: &[],
        },
        Case {
            name: "cert path empty",
            args: &["build"],
            env: &[NODE, ("DOCKER_CERT_PATH", "")],
            raw_env: &[],
            setup: nothing,
            expect: &["DOCKER_CERT_PATH", "empty"],
            absent: &[],
        },
        Case {
            name: "images unknown",
            args: &["build"],
            env: &[NODE, ("IMAGES", "nosuch")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "nosuch", "known images: alpha, beta"],
            absent: &[],
        },
        Case {
            name: "images invalid name",
            args: &["build"],
            env: &[NODE, ("IMAGES", "Alpha")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "'Alpha'"],
            absent: &[],
        },
        Case {
            name: "images twice",
            args: &["build"],
            env: &[NODE, ("IMAGES", "alpha alpha")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "named twice"],
            absent: &[],
        },
        Case {
            name: "images dot-dot",
            args: &["build"],
            env: &[NODE, ("IMAGES", "../etc")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "'../etc'"],
            absent: &[],
        },
        Case {
            name: "positional unknown image",
            args: &["push-as-linux", "nosuch"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "nosuch"],
            absent: &[],
        },
        Case {
            name: "sub-target unknown image",
            args: &["sub-build-nosuch"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["image", "nosuch"],
            absent: &[],
        },
        Case {
            name: "images dir missing",
            args: &["build"],
            env: &[NODE, ("IMAGES_DIR", "/nonexistent/images")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES_DIR", "/nonexistent/images"],
            absent: &[],
        },
        Case {
            name: "images dir empty value",
            args: &["build"],
            env: &[NODE, ("IMAGES_DIR", "")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES_DIR", "empty"],
            absent: &[],
        },
        Case {
            name: "images dir without images",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                fs::remove_dir_all(w.images()).unwrap();
                fs::create_dir(w.images()).unwrap();
            },
            expect: &["IMAGES_DIR", "no image folder"],
            absent: &[],
        },
        Case {
            name: "named folder without VERSION",
            args: &["build"],
            env: &[NODE, ("IMAGES", "alpha")],
            raw_env: &[],
            setup: |w| fs::remove_file(w.images().join("alpha/VERSION")).unwrap(),
            expect: &["alpha/VERSION", "cannot read"],
            absent: &[],
        },
        Case {
            name: "no Dockerfile_windows",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| fs::remove_file(w.images().join("beta/Dockerfile_windows")).unwrap(),
            expect: &["beta/Dockerfile_windows", "missing"],
            absent: &[],
        },
        Case {
            name: "no Dockerfile for push-as-linux",
            args: &["push-as-linux"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| fs::remove_file(w.images().join("beta/Dockerfile")).unwrap(),
            expect: &["beta/Dockerfile", "push-as-linux"],
            absent: &[],
        },
        Case {
            name: "VERSION empty",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), "\n"),
            expect: &["alpha/VERSION", "empty"],
            absent: &[],
        },
        Case {
            name: "VERSION two lines",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1.0\n2.0\n"),
            expect: &["alpha/VERSION", "more than one line"],
            absent: &[],
        },
        Case {
            name: "VERSION with space",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1.0 beta\n"),
            expect: &["alpha/VERSION", "1.0 beta", "not a valid tag"],
            absent: &[],
        },
        Case {
            name: "VERSION with quote and $()",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), "1'$(id)\n"),
            expect: &["alpha/VERSION", "not a valid tag"],
            absent: &[],
        },
        Case {
            name: "VERSION too long",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/VERSION"),
                    &format!("{}\n", "7".repeat(129)),
                )
            },
            expect: &["alpha/VERSION", "not a valid tag"],
            absent: &[],
        },
        Case {
            name: "VERSION starts with dot",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), ".1\n"),
            expect: &["alpha/VERSION", "\".1\""],
            absent: &[],
        },
        Case {
            name: "folder name not a repository",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                w.image("Bad_Name", "1.0");
            },
            expect: &["Bad_Name", "not a valid repository name"],
            absent: &[],
        },
        Case {
            name: "docker missing",
            args: &["build"],
            env: &[NODE, ("PATH", "/usr/bin:/bin")],
            raw_env: &[],
            setup: nothing,
            expect: &["PATH", "no docker CLI"],
            absent: &[],
        },
        Case {
            name: "buildx missing",
            args: &["push-as-linux"],
            env: &[NODE, ("FAKE_NO_BUILDX", "1")],
            raw_env: &[],
            setup: nothing,
            expect: &["docker buildx", "missing"],
            absent: &[],
        },
        Case {
            name: "os versions twice",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 1809")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "named twice"],
            absent: &[],
        },
        Case {
            name: "os version malformed",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "ltsc-2022")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "'ltsc-2022'"],
            absent: &[],
        },
        Case {
            name: "os version without node",
            args: &["build"],
            env: &[
                ("OS_VERSIONS", "1809 ltsc2022"),
                ("REMOTE_DOCKER_URL_1809", "tcp://a:2376"),
            ],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL_ltsc2022", "not set"],
            absent: &[],
        },
        Case {
            name: "per-version url malformed",
            args: &["build"],
            env: &[
                NODE,
                ("OS_VERSIONS", "ltsc2022"),
                ("REMOTE_DOCKER_URL_ltsc2022", "tcp://;rm -rf:2376"),
            ],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL_ltsc2022", ";rm -rf"],
            absent: &[],
        },
        Case {
            name: "cert base path lacks version folder",
            args: &["build"],
            env: &[
                NODE,
                ("OS_VERSIONS", "1809"),
                ("DOCKER_CERT_BASE_PATH", "/nonexistent"),
            ],
            raw_env: &[],
            setup: nothing,
            expect: &["DOCKER_CERT_BASE_PATH", "/nonexistent/.docker-1809"],
            absent: &[],
        },
        Case {
            name: "baseimage line without =",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809 mcr/x\n",
                )
            },
            expect: &["alpha/BASEIMAGE:1", "no '='"],
            absent: &[],
        },
        Case {
            name: "baseimage wrong platform",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/BASEIMAGE"), "linux/amd64/1809=x\n"),
            expect: &["alpha/BASEIMAGE:1", "windows/amd64/"],
            absent: &[],
        },
        Case {
            name: "baseimage lacks requested version",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 ltsc2022")],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809=x:1\n",
                )
            },
            expect: &["alpha/BASEIMAGE", "no line for OS version ltsc2022"],
            absent: &[],
        },
        Case {
            name: "isolation unknown",
            args: &["build"],
            env: &[NODE, ("ISOLATION", "vm")],
            raw_env: &[],
            setup: nothing,
            expect: &["ISOLATION", "\"vm\""],
            absent: &[],
        },
        Case {
            name: "registry insecure not 0/1",
            args: &["build"],
            env: &[NODE, ("REGISTRY_INSECURE", "yes")],
            raw_env: &[],
            setup: nothing,
            expect: &["REGISTRY_INSECURE", "\"yes\""],
            absent: &[],
        },
        Case {
            name: "retries not a number",
            args: &["push"],
            env: &[NODE, ("RETRIES", "many")],
            raw_env: &[],
            setup: nothing,
            expect: &["RETRIES", "\"many\""],
            absent: &[],
        },
        Case {
            name: "jobs zero",
            args: &["push"],
            env: &[NODE, ("JOBS", "0")],
            raw_env: &[],
            setup: nothing,
            expect: &["JOBS", "\"0\""],
            absent: &[],
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
            raw_env: &[],
            setup: nothing,
            expect: &["--json", "no machine-readable output"],
            absent: &[],
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
            raw_env: &[],
            setup: nothing,
            expect: &["--server-name=\"a2345", "64 characters (at most 63)"],
            absent: &[],
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
            raw_env: &[],
            setup: |w| write(&w.root().join("tls-out/node"), "mine"),
            expect: &[
                "--out=\"tls-out\"",
                "node is a file where the folder node/ goes",
            ],
            absent: &[],
        },
        Case {
            name: "plan unknown target",
            args: &["plan", "deploy"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["TARGET", "deploy"],
            absent: &[],
        },
        // ---- issue 11 §1: the command line
        Case {
            name: "a flag takes the command as its value",
            args: &["--registry", "push"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["command", "--registry took `push` as its value"],
            absent: &[],
        },
        Case {
            name: "-j takes the command as its value",
            args: &["-j", "build"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["-j took `build`"],
            absent: &[],
        },
        Case {
            name: "only options, no command",
            args: &["--skip-unchanged", "-n"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["command", "none given"],
            absent: &[],
        },
        Case {
            name: "--skip-unchanged takes no value",
            args: &["push", "--skip-unchanged=1"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["--skip-unchanged", "unexpected value '1'"],
            absent: &[],
        },
        Case {
            name: "lint --dry-run means nothing",
            args: &["lint", "--dry-run"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["--dry-run", "`cargo xtask lint` has no option --dry-run"],
            absent: &[],
        },
        Case {
            name: "verify -n means nothing",
            args: &["-n", "verify"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["`cargo xtask verify` has no option -n"],
            absent: &[],
        },
        Case {
            name: "build --json without -n",
            args: &["build", "--json"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["--json", "needs -n/--dry-run"],
            absent: &[],
        },
        Case {
            name: "stray argument after a make target",
            args: &["sub-build-alpha", "extra"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["stray argument 'extra'", "sub-build-alpha"],
            absent: &["unknown command"],
        },
        Case {
            name: "mistyped command",
            args: &["doctr"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["command=\"doctr\"", "did you mean `doctor`?"],
            absent: &[],
        },
        Case {
            name: "help for a mistyped command",
            args: &["help", "doctr"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["command=\"doctr\"", "did you mean `doctor`?"],
            absent: &[],
        },
        Case {
            name: "plan without a target",
            args: &["plan"],
            env: &[],
            raw_env: &[],
            setup: nothing,
            expect: &["<TARGET>", "missing"],
            absent: &[],
        },
        Case {
            name: "--node without OS_VERSIONS",
            args: &["build", "--node", "1809=tcp://a:2376"],
            env: &[NODE],
            raw_env: &[],
            setup: nothing,
            expect: &["--node", "OS_VERSIONS is not set"],
            absent: &[],
        },
        Case {
            name: "--node for a release not in OS_VERSIONS",
            args: &["build", "--node", "ltsc2025=tcp://a:2376"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: nothing,
            expect: &["--node", "'ltsc2025' is not one of OS_VERSIONS (1809)"],
            absent: &[],
        },
        Case {
            name: "--node without =",
            args: &["build", "--node", "tcp://a:2376"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: nothing,
            expect: &["--node", "expected OS=URL"],
            absent: &[],
        },
        Case {
            name: "--node URL malformed",
            args: &["build", "--node", "1809=tcp://a"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: nothing,
            expect: &["--node 1809", "port is missing"],
            absent: &[],
        },
        // ---- issue 11 §5: validation
        Case {
            name: "VERSION too long for the cache tag",
            args: &["push-as-linux"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/VERSION"),
                    &format!("{}\n", "7".repeat(120)),
                )
            },
            expect: &[
                "alpha/VERSION",
                "-linux-cache would be 132 characters long",
                "at most 116",
            ],
            absent: &[],
        },
        Case {
            name: "VERSION too long for a matrix tag",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "ltsc2022")],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/VERSION"),
                    &format!("{}\n", "7".repeat(110)),
                )
            },
            expect: &["alpha/VERSION", "-windows-amd64-ltsc2022 would be 133 characters"],
            absent: &[],
        },
        Case {
            name: "repository name too long",
            args: &["plan", "build"],
            env: &[
                ("REGISTRY", "registry.example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("IMAGES", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            ],
            raw_env: &[],
            setup: |w| {
                w.image(
                    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                    "1.0",
                );
            },
            expect: &["REGISTRY", "would be 260 characters long", "at most 255"],
            absent: &[],
        },
        Case {
            name: "os version typo",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 ltsc2202")],
            raw_env: &[],
            setup: nothing,
            expect: &[
                "OS_VERSIONS",
                "'ltsc2202' is not a Windows release the tool knows",
                "ltsc2022 (20348)",
                "NAME=BUILD",
            ],
            absent: &[],
        },
        Case {
            name: "two names for one Windows build",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809 ltsc2019")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "1809 and ltsc2019 are the same Windows build (17763)"],
            absent: &[],
        },
        Case {
            name: "release name in the wrong case",
            args: &["plan", "build"],
            env: &[("OS_VERSIONS", "ltsc2022 LTSC2022")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "'LTSC2022'", "case-sensitive: ltsc2022"],
            absent: &[],
        },
        Case {
            name: "named release with a bad build",
            args: &["plan", "build"],
            env: &[("OS_VERSIONS", "next=30O00")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "not a Windows build number"],
            absent: &[],
        },
        Case {
            name: "named release with a known build",
            args: &["plan", "build"],
            env: &[("OS_VERSIONS", "ltsc2022 mine=20348")],
            raw_env: &[],
            setup: nothing,
            expect: &["OS_VERSIONS", "ltsc2022 and mine are the same Windows build (20348)"],
            absent: &[],
        },
        Case {
            name: "baseimage value that reads as a flag",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809=--platform=linux/arm64\n",
                )
            },
            expect: &["alpha/BASEIMAGE:1", "not an image reference"],
            absent: &[],
        },
        Case {
            name: "baseimage value with a bad digest",
            args: &["plan", "build"],
            env: &[("OS_VERSIONS", "1809")],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.images().join("alpha/BASEIMAGE"),
                    "windows/amd64/1809=mcr.microsoft.com/windows/nanoserver@sha256:abc\n",
                )
            },
            expect: &["alpha/BASEIMAGE:1", "sha256:<64 hex digits>"],
            absent: &[],
        },
        Case {
            name: "cert file empty",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.certs().join("cert.pem"), ""),
            expect: &["DOCKER_CERT_PATH", "cert.pem: it is empty"],
            absent: &[],
        },
        Case {
            name: "ca.pem holds no certificate",
            args: &["push"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.certs().join("ca.pem"), "not a real cert\n"),
            expect: &["ca.pem: holds no PEM block `-----BEGIN CERTIFICATE-----`"],
            absent: &[],
        },
        Case {
            name: "key.pem holds a certificate, not a key",
            args: &["push"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                let cert = std::fs::read_to_string(w.certs().join("cert.pem")).unwrap();
                write(&w.certs().join("key.pem"), &cert);
            },
            expect: &["key.pem: holds no PEM block `-----BEGIN PRIVATE KEY-----`"],
            absent: &[],
        },
        Case {
            name: "cert.pem block is not a certificate",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                write(
                    &w.certs().join("cert.pem"),
                    &pem("CERTIFICATE", b"no DER in here"),
                )
            },
            expect: &["cert.pem: its CERTIFICATE block is not an X.509 certificate"],
            absent: &[],
        },
        Case {
            name: "client certificate expired",
            args: &["push"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| w.certs_valid_until("20250102030405Z"),
            expect: &[
                "DOCKER_CERT_PATH",
                "cert.pem: the client certificate expired on 2025-01-02 03:04 UTC",
                "cargo xtask tls",
            ],
            absent: &[],
        },
        Case {
            name: "cert file is a FIFO",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| mkfifo(&w.certs().join("ca.pem")),
            expect: &["ca.pem: not a regular file (a FIFO)"],
            absent: &[],
        },
        Case {
            name: "node url host not an IP",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://999.1.1.1:2376")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "'999.1.1.1' is not a host name or IP address"],
            absent: &[],
        },
        Case {
            name: "node url with a password",
            args: &["build"],
            env: &[("REMOTE_DOCKER_URL", "tcp://bob:hunter2@winbuild:2376")],
            raw_env: &[],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL", "tcp://bob:***@winbuild:2376", "user name or password"],
            absent: &["hunter2"],
        },
        Case {
            name: "VERSION is a FIFO",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                fs::remove_file(w.images().join("alpha/VERSION")).unwrap();
                mkfifo(&w.images().join("alpha/VERSION"));
            },
            expect: &["alpha/VERSION", "not a regular file (a FIFO)"],
            absent: &[],
        },
        Case {
            name: "Dockerfile_windows is a FIFO",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| {
                fs::remove_file(w.images().join("beta/Dockerfile_windows")).unwrap();
                mkfifo(&w.images().join("beta/Dockerfile_windows"));
            },
            expect: &["beta/Dockerfile_windows", "not a regular file (a FIFO)"],
            absent: &[],
        },
        Case {
            name: "BASEIMAGE is a folder",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| fs::create_dir(w.images().join("alpha/BASEIMAGE")).unwrap(),
            expect: &["alpha/BASEIMAGE", "not a regular file (a folder)"],
            absent: &[],
        },
        Case {
            name: "SKIP_UNCHANGED not 0/1",
            args: &["push"],
            env: &[NODE, ("SKIP_UNCHANGED", "yes")],
            raw_env: &[],
            setup: nothing,
            expect: &["SKIP_UNCHANGED", "\"yes\""],
            absent: &[],
        },
        // ---- issue 11 §6: messages
        Case {
            name: "huge VERSION gives a bounded message",
            args: &["build"],
            env: &[NODE],
            raw_env: &[],
            setup: |w| write(&w.images().join("alpha/VERSION"), &"7 ".repeat(150_000)),
            expect: &["alpha/VERSION", "… (300000 bytes)"],
            absent: &[],
        },
        Case {
            name: "control characters are escaped",
            args: &["build"],
            env: &[NODE, ("IMAGES", "\u{1b}[2Jgone")],
            raw_env: &[],
            setup: nothing,
            expect: &["IMAGES", "\\u{1b}[2Jgone"],
            absent: &["\u{1b}"],
        },
        Case {
            name: "variable holding invalid UTF-8",
            args: &["plan", "build"],
            env: &[],
            raw_env: &[("REGISTRY", b"reg\xff/x")],
            setup: nothing,
            expect: &["REGISTRY=", "not valid UTF-8"],
            absent: &[],
        },
        Case {
            name: "per-release URL holding invalid UTF-8",
            args: &["build"],
            env: &[NODE, ("OS_VERSIONS", "1809")],
            raw_env: &[("REMOTE_DOCKER_URL_1809", b"tcp://\xfe:1")],
            setup: nothing,
            expect: &["REMOTE_DOCKER_URL_1809", "not valid UTF-8"],
            absent: &[],
        },
    ]
}

#[test]
fn every_bad_input_exits_2_naming_it_before_any_docker_call() {
    let cases = cases();
    assert!(cases.len() >= 90, "{} rows", cases.len());
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
        for (k, v) in c.raw_env {
            cmd.env(k, std::ffi::OsStr::from_bytes(v));
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
        for not in c.absent {
            if err.contains(not) {
                problems.push(format!("message holds {not:?}"));
            }
        }
        if !err.contains("hint:") {
            problems.push("no hint".into());
        }
        if err.len() > STDERR_MAX {
            problems.push(format!("message of {} bytes", err.len()));
        }
        // make replaces xtask's code with its own 2: the last line says xtask's.
        if err.lines().last() != Some("xtask: exit 2 (bad input)") {
            problems.push("last line is not `xtask: exit 2 (bad input)`".into());
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
