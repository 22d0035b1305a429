//! Test support: throw-away folders with image fixtures and client certs, a fake `docker`
//! on PATH that records every call (and fails on demand), and a runner for the real xtask
//! binary with a clean environment, so no variable of the developer's leaks into a test.
#![allow(dead_code)]

pub mod stack;
mod tempdir;

pub use tempdir::TempDir;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// A workspace for one test: images/, certs/, bin/docker (fake), a docker call log.
pub struct World {
    pub dir: TempDir,
}

impl World {
    pub fn new(tag: &str) -> World {
        let w = World {
            dir: TempDir::new(tag),
        };
        fs::create_dir_all(w.images()).expect("images");
        w.certs_valid_until("20991231235959Z");
        w.fake_docker();
        w
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn images(&self) -> PathBuf {
        self.root().join("images")
    }
    pub fn certs(&self) -> PathBuf {
        self.root().join("certs")
    }
    pub fn bin(&self) -> PathBuf {
        self.root().join("bin")
    }
    pub fn log(&self) -> PathBuf {
        self.root().join("docker.log")
    }

    /// Client cert files with the shape xtask checks (PEM blocks of the right kind, a client
    /// certificate whose notAfter is `not_after`, GeneralizedTime), but no real key material:
    /// only the fake docker ever sees them.
    pub fn certs_valid_until(&self, not_after: &str) {
        let cert = pem("CERTIFICATE", &fake_cert_der(not_after));
        write(&self.certs().join("ca.pem"), &cert);
        write(&self.certs().join("cert.pem"), &cert);
        write(
            &self.certs().join("key.pem"),
            &pem("PRIVATE KEY", b"not a real key"),
        );
    }

    /// An image folder with VERSION, Dockerfile_windows and Dockerfile.
    pub fn image(&self, name: &str, version: &str) -> PathBuf {
        let d = self.images().join(name);
        write(&d.join("VERSION"), &format!("{version}\n"));
        write(&d.join("Dockerfile_windows"), "ARG BASEIMAGE=mcr.microsoft.com/windows/nanoserver:1809\nFROM $BASEIMAGE\nCOPY payload/ /payload/\n");
        write(&d.join("Dockerfile"), "ARG SOURCE\nFROM --platform=windows/amd64 $SOURCE AS src\nFROM scratch\nCOPY --from=src /payload /payload\n");
        d
    }

    /// bin/docker: appends its argv (unit-separated) as one line to docker.log. Answers
    /// `buildx imagetools inspect --format '{{json .Manifest}}' TAG` with a descriptor of what
    /// the fake registry holds there — the digest docker last said it pushed to TAG, else
    /// sha256(TAG) — or "not found" when TAG holds FAKE_REGISTRY_MISSING, or another digest
    /// when it holds FAKE_REGISTRY_MOVED (another run pushed over it). Pushes print their
    /// digest as docker does (`docker push`, buildx's registry output, imagetools create). Fails with
    /// exit 1 when FAKE_DOCKER_FAIL is a substring of " argv "; `buildx version` fails when
    /// FAKE_NO_BUILDX is set; sleeps FAKE_DOCKER_SLEEP seconds when " argv " holds one of the
    /// `|`-separated FAKE_DOCKER_SLEEP_ON (default " build "), silently after one line on stderr
    /// (as the sleep process itself, so a signal reaches it: a node or registry that accepts
    /// and never answers) — with FAKE_DOCKER_WEDGE_AFTER only once a call matching that grep
    /// pattern was logged (a node that answers the probe, then wedges during the build); prints
    /// FAKE_DOCKER_JSON on stdout for FAKE_DOCKER_JSON_ON; fails FAKE_DOCKER_FLAKY_TIMES times with
    /// a transient-looking FAKE_DOCKER_FLAKY_MSG on FAKE_DOCKER_FLAKY, then succeeds; with
    /// FAKE_DOCKER_RENDEZVOUS=N a build waits until N builds have started (proves parallelism).
    /// The node probe (`info --format …`; `version --format …` too) answers as a Windows node of build
    /// FAKE_NODE_BUILDS' entry for its URL ("URL=BUILD …") or FAKE_NODE_BUILD, else as a Linux
    /// stand-in. With FAKE_DOCKER_TIMED a node build sleeps FAKE_BUILD_SECS (0.4) and a node
    /// push FAKE_PUSH_SECS (0.3), each logging "kind URL start end" to docker.log.times.
    /// FAKE_DOCKER_HOOK names a bash file sourced first (after logging), for a test that
    /// needs answers (it `exit`s for the calls it handles).
    fn fake_docker(&self) {
        let script = r##"#!/bin/bash
# One write per call, so concurrent calls never interleave within a line.
line=$(printf '%s\x1f' "$@"); printf '%s\n' "$line" >> "$FAKE_DOCKER_LOG"
if [[ -n "${FAKE_DOCKER_HOOK:-}" ]]; then source "$FAKE_DOCKER_HOOK"; fi
if [[ "$1 $2" == "buildx version" && -n "${FAKE_NO_BUILDX:-}" ]]; then
  echo "docker: 'buildx' is not a docker command." >&2; exit 1
fi
# What the fake registry holds at a tag: the digest last pushed to it (docker.log.tags), else
# sha256(tag); "sha256(moved tag)" when the tag holds FAKE_REGISTRY_MOVED (another run).
holds() {
  if [[ -n "${FAKE_REGISTRY_MOVED:-}" && "$1" == *"$FAKE_REGISTRY_MOVED"* ]]; then
    sum=$(printf 'moved %s' "$1" | sha256sum); echo "sha256:${sum%% *}"; return
  fi
  got=$(grep -F -- "$1 " "$FAKE_DOCKER_LOG.tags" 2>/dev/null | grep -- "^$1 " | tail -n 1)
  if [[ -n $got ]]; then echo "${got##* }"; return; fi
  sum=$(printf '%s' "$1" | sha256sum); echo "sha256:${sum%% *}"
}
if [[ "$1 $2 $3 $4 $5" == "buildx imagetools inspect --format {{json .Manifest}}" ]]; then
  # The registry's answer for a tag: a descriptor of what it holds, or "not found" when the
  # tag holds FAKE_REGISTRY_MISSING.
  if [[ -n "${FAKE_REGISTRY_MISSING:-}" && "$6" == *"$FAKE_REGISTRY_MISSING"* ]]; then
    echo "ERROR: $6: not found" >&2; exit 1
  fi
  printf '{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":1}\n' "$(holds "$6")"
  exit 0
fi
if [[ -n "${FAKE_DOCKER_RENDEZVOUS:-}" && " $* " == *" build "* ]]; then
  # Wait (FAKE_DOCKER_RENDEZVOUS_WAIT hundredths, default 10 s) until N builds have started:
  # only concurrent builds get through.
  for _ in $(seq "${FAKE_DOCKER_RENDEZVOUS_WAIT:-1000}"); do
    (( $(grep -c $'\x1fbuild\x1f' "$FAKE_DOCKER_LOG") >= FAKE_DOCKER_RENDEZVOUS )) && break
    sleep 0.01
  done
  (( $(grep -c $'\x1fbuild\x1f' "$FAKE_DOCKER_LOG") >= FAKE_DOCKER_RENDEZVOUS )) || { echo "fake docker: builds did not run concurrently" >&2; exit 1; }
fi
if [[ -n "${FAKE_DOCKER_SLEEP:-}" ]] && { [[ -z "${FAKE_DOCKER_WEDGE_AFTER:-}" ]] || grep -q -- "$FAKE_DOCKER_WEDGE_AFTER" "$FAKE_DOCKER_LOG"; }; then
  IFS='|' read -ra on <<< "${FAKE_DOCKER_SLEEP_ON:- build }"
  for p in "${on[@]}"; do
    if [[ " $* " == *"$p"* ]]; then echo "fake docker: sleeping" >&2; exec sleep "$FAKE_DOCKER_SLEEP"; fi
  done
fi
if [[ -n "${FAKE_DOCKER_FLAKY:-}" && " $* " == *"$FAKE_DOCKER_FLAKY"* ]]; then
  n=$(cat "$FAKE_DOCKER_LOG.flaky" 2>/dev/null || echo 0)
  if (( n < ${FAKE_DOCKER_FLAKY_TIMES:-2} )); then
    echo $((n + 1)) > "$FAKE_DOCKER_LOG.flaky"
    echo "${FAKE_DOCKER_FLAKY_MSG:-dial tcp 127.0.0.1:5000: connect: connection refused}" >&2; exit 1
  fi
fi
if [[ -n "${FAKE_DOCKER_FAIL:-}" && " $* " == *"$FAKE_DOCKER_FAIL"* ]]; then
  echo "fake docker: failing on purpose" >&2; exit 1
fi
url=; prev=
for a in "$@"; do [[ $prev == -H ]] && url=$a; prev=$a; done
if [[ " $* " == *" version --format "* ]]; then
  build=${FAKE_NODE_BUILD:-}
  for e in ${FAKE_NODE_BUILDS:-}; do [[ ${e%=*} == "$url" ]] && build=${e##*=}; done
  if [[ -n $build ]]; then
    printf '{"Version":"fake","Os":"windows","Arch":"amd64","KernelVersion":"10.0 %s (%s.1.amd64fre.ge_release.240331-1435)"}\n' "$build" "$build"
  else
    printf '{"Version":"fake","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0-fake"}\n'
  fi
  exit 0
fi
if [[ " $* " == *" info --format "* ]]; then
  build=${FAKE_NODE_BUILD:-}
  for e in ${FAKE_NODE_BUILDS:-}; do [[ ${e%=*} == "$url" ]] && build=${e##*=}; done
  if [[ -n $build ]]; then
    # FAKE_NODE_STORE=containerd: an engine with the containerd image store (BuildKit);
    # FAKE_NODE_ISOLATION: the daemon's default isolation (process).
    if [[ ${FAKE_NODE_STORE:-} == containerd ]]; then
      store='"Driver":"windows","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]'
    else
      store='"Driver":"windowsfilter","DriverStatus":[]'
    fi
    printf '{"ServerVersion":"%s","OSType":"windows","Architecture":"x86_64","KernelVersion":"10.0 %s (%s.1.amd64fre.ge_release.240331-1435)","Isolation":"%s",%s}\n' "${FAKE_NODE_VERSION:-fake}" "$build" "$build" "${FAKE_NODE_ISOLATION:-process}" "$store"
  else
    printf '{"ServerVersion":"fake","OSType":"linux","Architecture":"x86_64","KernelVersion":"6.1.0-fake","Driver":"overlayfs","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]}\n'
  fi
  exit 0
fi
if [[ -n "${FAKE_DOCKER_TIMED:-}" && -n $url ]]; then
  kind=; secs=
  if [[ " $* " == *" build "* ]]; then kind=build; secs=${FAKE_BUILD_SECS:-0.4}
  elif [[ " $* " == *" push "* ]]; then kind=push; secs=${FAKE_PUSH_SECS:-0.3}; fi
  if [[ -n $kind ]]; then
    start=$(date +%s.%N); sleep "$secs"
    printf '%s %s %s %s\n' "$kind" "$url" "$start" "$(date +%s.%N)" >> "$FAKE_DOCKER_LOG.times"
  fi
fi
if [[ -n "${FAKE_DOCKER_JSON_ON:-}" && " $* " == *"$FAKE_DOCKER_JSON_ON"* ]]; then
  printf '%s\n' "$FAKE_DOCKER_JSON"; exit 0
fi
# What docker prints about what it pushed (exec::owned reads it): `docker push` its digest
# line, buildx's registry output its "pushing manifest for", imagetools create its "pushing
# … to"; the pushed digest is what the fake registry then holds (a copy: its source's).
tag=; prev=; for a in "$@"; do [[ $prev == -t ]] && tag=$a; prev=$a; done
sum=$(printf '%s' "${tag:-${@: -1}}" | sha256sum); sum="sha256:${sum%% *}"
if [[ " $* " == *" push "* && -z $tag ]]; then
  echo "${@: -1}" | sed 's/.*://' | tr -d '\n'; echo ": digest: $sum size: 1"
  printf '%s %s\n' "${@: -1}" "$sum" >> "$FAKE_DOCKER_LOG.tags"
elif [[ "$1" == buildx && " $* " == *" --output=type=registry "* && -n $tag ]]; then
  echo "#9 pushing manifest for $tag@$sum 0.0s done" >&2
  printf '%s %s\n' "$tag" "$sum" >> "$FAKE_DOCKER_LOG.tags"
elif [[ "$1 $2 $3" == "buildx imagetools create" && -n $tag ]]; then
  (( $# == 6 )) && [[ "$6" != "{"* ]] && sum=$(holds "$6")
  echo "#1 0.000 pushing $sum to $tag" >&2
  printf '%s %s\n' "$tag" "$sum" >> "$FAKE_DOCKER_LOG.tags"
fi
echo "fake docker: $1 $2 ok"
"##;
        let p = self.bin().join("docker");
        write(&p, script);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// The recorded docker calls, each an argv.
    pub fn calls(&self) -> Vec<Vec<String>> {
        argv_lines(&fs::read_to_string(self.log()).unwrap_or_default())
    }

    /// The recorded calls that change something (everything but read-only queries: the
    /// buildx check, the node probe and the registry's answers).
    pub fn mutating_calls(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| !(c.len() >= 2 && c[0] == "buildx" && c[1] == "version"))
            // The registry's answers (the read-back before exit 0, the report's digests).
            .filter(|c| !(c.len() >= 3 && c[..3] == ["buildx", "imagetools", "inspect"]))
            .filter(|c| {
                !c.windows(2)
                    .any(|w| (w[0] == "version" || w[0] == "info") && w[1] == "--format")
            })
            .collect()
    }

    /// The node probes recorded (`… -H URL version --format …`), each as its URL.
    pub fn probes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| {
                c.windows(2)
                    .any(|w| (w[0] == "version" || w[0] == "info") && w[1] == "--format")
            })
            .filter_map(|c| {
                let i = c.iter().position(|a| a == "-H")?;
                c.get(i + 1).cloned()
            })
            .collect()
    }

    /// The timed node steps (FAKE_DOCKER_TIMED): (kind, URL, start, end) in seconds.
    pub fn timed(&self) -> Vec<(String, String, f64, f64)> {
        let text = fs::read_to_string(self.root().join("docker.log.times")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let t = |s: &str| s.parse::<f64>().expect("a time");
                (w[0].to_string(), w[1].to_string(), t(w[2]), t(w[3]))
            })
            .collect()
    }

    /// The calls that do a step's work: not `buildx version`, a node's `version` or an
    /// `inspect` (the checks a run makes before a retry or while a step is silent).
    pub fn work_calls(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| {
                !c.iter()
                    .any(|a| a == "version" || a == "info" || a == "inspect")
            })
            .collect()
    }

    /// A command for the xtask binary with a clean environment: PATH = fake docker + system,
    /// HOME = this world, IMAGES_DIR and DOCKER_CERT_PATH pointing into it.
    pub fn xtask(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin().display()))
            .env("HOME", self.root())
            .env("FAKE_DOCKER_LOG", self.log())
            .env("IMAGES_DIR", self.images())
            .env("DOCKER_CERT_PATH", self.certs())
            .current_dir(self.root());
        c
    }
}

/// Lets a command run cargo as the test's own cargo does (the toolchain, its home).
pub fn with_cargo(c: &mut Command) -> &mut Command {
    c.env("CARGO", env!("CARGO"));
    for k in [
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
    ] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    if std::env::var_os("CARGO_HOME").is_none() {
        if let Some(h) = std::env::var_os("HOME") {
            c.env("CARGO_HOME", Path::new(&h).join(".cargo"));
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    c.env("PATH", format!("{path}:/usr/bin:/bin"));
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run xtask")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What bash makes of each non-comment line: runs the lines with `docker` replaced by a
/// function that prints its argv, so quoting is checked by bash itself.
pub fn bash_argvs(script: &str) -> Vec<Vec<String>> {
    let prog = format!("docker() {{ printf '%s\\x1f' docker \"$@\"; printf '\\n'; }}\n{script}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(prog)
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash failed: {}", stderr(&out));
    argv_lines(&stdout(&out))
}

/// Lines of unit-separated (0x1f) words, one argv a line, as the fake docker and
/// `bash_argvs` write them.
fn argv_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            l.strip_suffix('\x1f')
                .unwrap_or(l)
                .split('\x1f')
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Every file under `dir` with its content, to prove a failed run wrote nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(meta) = fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                out.push((p.clone(), fs::read(&p).unwrap_or_default()));
            } else {
                // A FIFO or link: its presence, never its content (reading a FIFO blocks).
                out.push((p.clone(), Vec::new()));
            }
        }
    }
    out.sort();
    out
}

/// A DER element.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if body.len() < 0x80 {
        out.push(body.len() as u8);
    } else {
        out.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
    }
    out.extend(body);
    out
}

/// The outline of an X.509 certificate: version, serial, algorithm, issuer, validity (two
/// GeneralizedTimes), subject; no key, no signature that verifies.
pub fn fake_cert_der(not_after: &str) -> Vec<u8> {
    let seq = |parts: &[Vec<u8>]| der(0x30, &parts.concat());
    let time = |t: &str| der(0x18, t.as_bytes());
    let tbs = seq(&[
        der(0xa0, &der(0x02, &[2])),
        der(0x02, &[1]),
        seq(&[der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]),
        seq(&[]),
        seq(&[time("20200101000000Z"), time(not_after)]),
        seq(&[]),
    ]);
    seq(&[
        tbs,
        seq(&[der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]),
        der(0x03, &[0, 0]),
    ])
}

/// A PEM block around `der`, base64 in 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &b)| a | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
