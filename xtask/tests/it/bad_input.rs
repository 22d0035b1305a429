//! Bad input, as a table: every malformed variable, argument, file and folder is refused
//! before any work starts — exit 2, a message naming the variable or file (`named`) and what is
//! wrong with its value (`says`), a hint (`hint`), bounded, last line `xtask: exit 2 (bad
//! input)`, no docker call that changes anything (a fake docker records every call), nothing
//! written. One row a case, data only; one runner checks every row and reports all that fail.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::support::*;

/// One case: what is run in a fresh world (images alpha 1.0 and beta 2.0, valid client certs,
/// a fake docker; `NODE` where a row names it), and what its message must say.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Variables holding bytes that are not UTF-8.
    raw_env: &'static [(&'static str, &'static [u8])],
    /// What the row changes in the world before the run.
    files: &'static [File],
    /// The variable, argument or file the message names (with its value, where the two are
    /// one fragment).
    named: &'static str,
    /// What else the message must hold: the value, the reason.
    says: &'static [&'static str],
    /// The opening of the hint: a `hint:` line must hold it.
    hint: &'static str,
    /// What the message must not hold (a password, a raw control character).
    absent: &'static [&'static str],
}

/// A row's defaults (`..ROW`): no variables but those given, the world as made.
const ROW: Case = Case {
    name: "",
    args: &[],
    env: &[],
    raw_env: &[],
    files: &[],
    named: "",
    says: &[],
    hint: "",
    absent: &[],
};

/// A change to the world, paths relative to its root (`images/…`, `certs/…`, `tls-out/…`).
enum File {
    Write(&'static str, &'static str),
    /// `unit` written `n` times, then `tail`: a long content in a short row.
    Repeat(&'static str, &'static str, usize, &'static str),
    Remove(&'static str),
    /// A FIFO in place of whatever was there (reading it would block).
    Fifo(&'static str),
    /// An empty folder in place of whatever was there.
    Folder(&'static str),
    /// One more image folder (`World::image`, version 1.0).
    Image(&'static str),
    Copy(&'static str, &'static str),
    /// A PEM block of the label around these bytes.
    Pem(&'static str, &'static str, &'static [u8]),
    /// The client certificates again, valid until this GeneralizedTime.
    CertsUntil(&'static str),
}

use File::*;

const NODE: (&str, &str) = ("REMOTE_DOCKER_URL", "tcp://winbuild:2376");

/// Every message is bounded: no value reaches the terminal whole when it is long.
const STDERR_MAX: usize = 2000;

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "registry empty", args: &["build"], env: &[NODE, ("REGISTRY", "")],
        named: "REGISTRY=\"\"", says: &["empty"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry uppercase path", args: &["build"], env: &[NODE, ("REGISTRY", "registry.k8s.io/E2E")],
        named: "REGISTRY", says: &["E2E"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry with space", args: &["build"], env: &[NODE, ("REGISTRY", "my registry/x")],
        named: "REGISTRY", says: &["my registry"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry with command substitution", args: &["push"], env: &[NODE, ("REGISTRY", "$(touch PWNED)/x")],
        named: "REGISTRY", says: &["$(touch PWNED)"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry trailing slash", args: &["build"], env: &[NODE, ("REGISTRY", "registry.example.com/")],
        named: "REGISTRY", says: &["ends with '/'"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry bad port", args: &["build"], env: &[NODE, ("REGISTRY", "host.example:99999/x")],
        named: "REGISTRY", says: &["host.example:99999"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry dot-dot", args: &["build"], env: &[NODE, ("REGISTRY", "../x")],
        named: "REGISTRY", says: &["../x"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "registry with quote", args: &["build"], env: &[NODE, ("REGISTRY", "reg'x/e2e")],
        named: "REGISTRY", says: &["reg'x"], hint: "use host[:port]/path with lowercase path", ..ROW },
    Case { name: "node url missing", args: &["push"],
        named: "REMOTE_DOCKER_URL", says: &["not set"], hint: "set REMOTE_DOCKER_URL=tcp://<windows", ..ROW },
    Case { name: "node url not tcp", args: &["build"], env: &[("REMOTE_DOCKER_URL", "http://winbuild:2376")],
        named: "REMOTE_DOCKER_URL", says: &["http://winbuild:2376", "tcp://"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "node url without port", args: &["build"], env: &[("REMOTE_DOCKER_URL", "tcp://winbuild")],
        named: "REMOTE_DOCKER_URL", says: &["port is missing"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "node url port zero", args: &["build"], env: &[("REMOTE_DOCKER_URL", "tcp://winbuild:0")],
        named: "REMOTE_DOCKER_URL", says: &["'0'"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "node url host with space", args: &["build"], env: &[("REMOTE_DOCKER_URL", "tcp://win build:2376")],
        named: "REMOTE_DOCKER_URL", says: &["win build"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "node url in plan is still checked", args: &["plan", "build"], env: &[("REMOTE_DOCKER_URL", "tcp://h:2376/path")],
        named: "REMOTE_DOCKER_URL", says: &["2376/path"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "cert path missing folder", args: &["build"], env: &[NODE, ("DOCKER_CERT_PATH", "/nonexistent/certs")],
        named: "DOCKER_CERT_PATH", says: &["/nonexistent/certs", "no such folder"], hint: "create the client certs with `cargo xtask", ..ROW },
    Case { name: "cert path lacks key", args: &["push"], env: &[NODE], files: &[Remove("certs/key.pem")],
        named: "DOCKER_CERT_PATH", says: &["missing key.pem"], hint: "the folder must hold ca.pem, cert.pem and", ..ROW },
    Case { name: "cert path empty", args: &["build"], env: &[NODE, ("DOCKER_CERT_PATH", "")],
        named: "DOCKER_CERT_PATH", says: &["empty"], hint: "unset it to use $HOME/.docker, or name the", ..ROW },
    Case { name: "images unknown", args: &["build"], env: &[NODE, ("IMAGES", "nosuch")],
        named: "IMAGES", says: &["nosuch", "known images: alpha, beta"], hint: "known images: alpha, beta", ..ROW },
    Case { name: "images invalid name", args: &["build"], env: &[NODE, ("IMAGES", "Alpha")],
        named: "IMAGES", says: &["'Alpha'"], hint: "a space-separated list, each once, e.g.", ..ROW },
    Case { name: "images twice", args: &["build"], env: &[NODE, ("IMAGES", "alpha alpha")],
        named: "IMAGES", says: &["named twice"], hint: "a space-separated list, each once, e.g.", ..ROW },
    Case { name: "images dot-dot", args: &["build"], env: &[NODE, ("IMAGES", "../etc")],
        named: "IMAGES", says: &["'../etc'"], hint: "a space-separated list, each once, e.g.", ..ROW },
    Case { name: "positional unknown image", args: &["push-as-linux", "nosuch"], env: &[NODE],
        named: "IMAGES", says: &["nosuch"], hint: "known images: alpha, beta", ..ROW },
    Case { name: "sub-target unknown image", args: &["sub-build-nosuch"], env: &[NODE],
        named: "image", says: &["nosuch"], hint: "known images: alpha, beta", ..ROW },
    Case { name: "images dir missing", args: &["build"], env: &[NODE, ("IMAGES_DIR", "/nonexistent/images")],
        named: "IMAGES_DIR", says: &["/nonexistent/images"], hint: "point IMAGES_DIR at the folder that holds", ..ROW },
    Case { name: "images dir empty value", args: &["build"], env: &[NODE, ("IMAGES_DIR", "")],
        named: "IMAGES_DIR", says: &["empty"], hint: "unset it to use images/ of this repository,", ..ROW },
    Case { name: "images dir without images", args: &["build"], env: &[NODE], files: &[Folder("images")],
        named: "IMAGES_DIR", says: &["no image folder"], hint: "point IMAGES_DIR at the folder that holds", ..ROW },
    Case { name: "named folder without VERSION", args: &["build"], env: &[NODE, ("IMAGES", "alpha")], files: &[Remove("images/alpha/VERSION")],
        named: "alpha/VERSION", says: &["cannot read"], hint: "each image folder needs a VERSION file", ..ROW },
    Case { name: "no Dockerfile_windows", args: &["build"], env: &[NODE], files: &[Remove("images/beta/Dockerfile_windows")],
        named: "beta/Dockerfile_windows", says: &["missing"], hint: "every image built on the Windows node needs", ..ROW },
    Case { name: "no Dockerfile for push-as-linux", args: &["push-as-linux"], env: &[NODE], files: &[Remove("images/beta/Dockerfile")],
        named: "beta/Dockerfile", says: &["push-as-linux"], hint: "add a Dockerfile with `ARG SOURCE`, `FROM", ..ROW },
    Case { name: "VERSION empty", args: &["build"], env: &[NODE], files: &[Write("images/alpha/VERSION", "\n")],
        named: "alpha/VERSION", says: &["empty"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "VERSION two lines", args: &["build"], env: &[NODE], files: &[Write("images/alpha/VERSION", "1.0\n2.0\n")],
        named: "alpha/VERSION", says: &["more than one line"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "VERSION with space", args: &["build"], env: &[NODE], files: &[Write("images/alpha/VERSION", "1.0 beta\n")],
        named: "alpha/VERSION", says: &["1.0 beta", "not a valid tag"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "VERSION with quote and $()", args: &["build"], env: &[NODE], files: &[Write("images/alpha/VERSION", "1'$(id)\n")],
        named: "alpha/VERSION", says: &["not a valid tag"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "VERSION too long", args: &["build"], env: &[NODE], files: &[Repeat("images/alpha/VERSION", "7", 129, "\n")],
        named: "alpha/VERSION", says: &["not a valid tag"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "VERSION starts with dot", args: &["build"], env: &[NODE], files: &[Write("images/alpha/VERSION", ".1\n")],
        named: "alpha/VERSION", says: &["\".1\""], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "folder name not a repository", args: &["build"], env: &[NODE], files: &[Image("Bad_Name")],
        named: "Bad_Name", says: &["not a valid repository name"], hint: "rename the folder: lowercase letters, digits", ..ROW },
    Case { name: "docker missing", args: &["build"], env: &[NODE, ("PATH", "/usr/bin:/bin")],
        named: "PATH", says: &["no docker CLI"], hint: "install the docker CLI (e.g. apt-get install", ..ROW },
    Case { name: "buildx missing", args: &["push-as-linux"], env: &[NODE, ("FAKE_NO_BUILDX", "1")],
        named: "docker buildx", says: &["missing"], hint: "install docker-buildx (Debian:", ..ROW },
    Case { name: "os versions twice", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809 1809")],
        named: "OS_VERSIONS", says: &["named twice"], hint: "a space-separated list, each once, e.g.", ..ROW },
    Case { name: "os version malformed", args: &["build"], env: &[NODE, ("OS_VERSIONS", "ltsc-2022")],
        named: "OS_VERSIONS", says: &["'ltsc-2022'"], hint: "a space-separated list, each once, e.g.", ..ROW },
    Case { name: "os version without node", args: &["build"], env: &[("OS_VERSIONS", "1809 ltsc2022"), ("REMOTE_DOCKER_URL_1809", "tcp://a:2376")],
        named: "REMOTE_DOCKER_URL_ltsc2022", says: &["not set"], hint: "set REMOTE_DOCKER_URL_ltsc2022=tcp://<node", ..ROW },
    Case { name: "per-version url malformed", args: &["build"], env: &[NODE, ("OS_VERSIONS", "ltsc2022"), ("REMOTE_DOCKER_URL_ltsc2022", "tcp://;rm -rf:2376")],
        named: "REMOTE_DOCKER_URL_ltsc2022", says: &[";rm -rf"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "cert base path lacks version folder", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809"), ("DOCKER_CERT_BASE_PATH", "/nonexistent")],
        named: "DOCKER_CERT_BASE_PATH", says: &["/nonexistent/.docker-1809"], hint: "create the client certs with `cargo xtask", ..ROW },
    Case { name: "baseimage line without =", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809")], files: &[Write("images/alpha/BASEIMAGE", "windows/amd64/1809 mcr/x\n")],
        named: "alpha/BASEIMAGE:1", says: &["no '='"], hint: "each line is windows/amd64/<os>=<image>", ..ROW },
    Case { name: "baseimage wrong platform", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809")], files: &[Write("images/alpha/BASEIMAGE", "linux/amd64/1809=x\n")],
        named: "alpha/BASEIMAGE:1", says: &["windows/amd64/"], hint: "an image built on the Windows node has lines", ..ROW },
    Case { name: "baseimage lacks requested version", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809 ltsc2022")], files: &[Write("images/alpha/BASEIMAGE", "windows/amd64/1809=x:1\n")],
        named: "alpha/BASEIMAGE", says: &["no line for OS version ltsc2022"], hint: "add a line windows/amd64/ltsc2022=<base", ..ROW },
    Case { name: "isolation unknown", args: &["build"], env: &[NODE, ("ISOLATION", "vm")],
        named: "ISOLATION", says: &["\"vm\""], hint: "use ISOLATION=auto (the default: from each", ..ROW },
    Case { name: "registry insecure not 0/1", args: &["build"], env: &[NODE, ("REGISTRY_INSECURE", "yes")],
        named: "REGISTRY_INSECURE", says: &["\"yes\""], hint: "REGISTRY_INSECURE is obsolete: unset it", ..ROW },
    Case { name: "retries not a number", args: &["push"], env: &[NODE, ("RETRIES", "many")],
        named: "RETRIES", says: &["\"many\""], hint: "RETRIES=0 turns retries off; the default is", ..ROW },
    Case { name: "jobs zero", args: &["push"], env: &[NODE, ("JOBS", "0")],
        named: "JOBS", says: &["\"0\""], hint: "e.g. -j 2", ..ROW },
    Case { name: "tls --json", args: &["tls", "--json", "--server-name", "win", "--ip", "10.0.0.5", "--out", "tls-out"],
        named: "--json", says: &["no machine-readable output"], hint: "drop --json; -n/--dry-run lists the files it", ..ROW },
    Case { name: "tls server name label over 63", args: &["tls", "--server-name", "a234567890123456789012345678901234567890123456789012345678901234.corp", "--ip", "10.0.0.5", "--out", "tls-out"],
        named: "--server-name=\"a2345", says: &["64 characters (at most 63)"], hint: "a DNS name such as winbuild.example.com", ..ROW },
    Case { name: "tls file where node/ goes", args: &["tls", "--server-name", "win", "--ip", "10.0.0.5", "--out", "tls-out"], files: &[Write("tls-out/node", "mine")],
        named: "--out=\"tls-out\"", says: &["node is a file where the folder node/ goes"], hint: "move it away, or choose another --out", ..ROW },
    Case { name: "plan unknown target", args: &["plan", "deploy"],
        named: "TARGET", says: &["deploy"], hint: "use build, push, push-as-linux (or", ..ROW },
    // ---- issue 11 §1: the command line
    Case { name: "a flag takes the command as its value", args: &["--registry", "push"], env: &[NODE],
        named: "command", says: &["--registry took `push` as its value"], hint: "give --registry its value", ..ROW },
    Case { name: "-j takes the command as its value", args: &["-j", "build"], env: &[NODE],
        named: "-j took `build`", says: &[], hint: "give -j its value (-j=VALUE), or put the", ..ROW },
    Case { name: "only options, no command", args: &["--skip-unchanged", "-n"], env: &[NODE],
        named: "command", says: &["none given"], hint: "cargo xtask COMMAND [OPTIONS]; `cargo xtask", ..ROW },
    Case { name: "--skip-unchanged takes no value", args: &["push", "--skip-unchanged=1"], env: &[NODE],
        named: "--skip-unchanged", says: &["unexpected value '1'"], hint: "`cargo xtask help push` lists what it takes", ..ROW },
    Case { name: "lint --dry-run means nothing", args: &["lint", "--dry-run"],
        named: "--dry-run", says: &["`cargo xtask lint` has no option --dry-run"], hint: "`cargo xtask help lint` lists what it takes", ..ROW },
    Case { name: "verify -n means nothing", args: &["-n", "verify"],
        named: "`cargo xtask verify` has no option -n", says: &[], hint: "`cargo xtask help verify` lists what it", ..ROW },
    Case { name: "build --json without -n", args: &["build", "--json"], env: &[NODE],
        named: "--json", says: &["needs -n/--dry-run"], hint: "add -n to print the plan as JSON (or use", ..ROW },
    Case { name: "stray argument after a make target", args: &["sub-build-alpha", "extra"], env: &[NODE],
        named: "stray argument 'extra'", says: &["sub-build-alpha"], hint: "`cargo xtask help sub-build` lists what it", absent: &["unknown command"], ..ROW },
    Case { name: "mistyped command", args: &["doctr"],
        named: "command=\"doctr\"", says: &["did you mean `doctor`?"], hint: "did you mean `doctor`? `cargo xtask help`", ..ROW },
    Case { name: "help for a mistyped command", args: &["help", "doctr"],
        named: "command=\"doctr\"", says: &["did you mean `doctor`?"], hint: "did you mean `doctor`? `cargo xtask help`", ..ROW },
    Case { name: "plan without a target", args: &["plan"],
        named: "<TARGET>", says: &["missing"], hint: "`cargo xtask help plan` lists what it takes", ..ROW },
    Case { name: "--node without OS_VERSIONS", args: &["build", "--node", "1809=tcp://a:2376"], env: &[NODE],
        named: "--node", says: &["OS_VERSIONS is not set"], hint: "use --remote-docker-url URL, or set", ..ROW },
    Case { name: "--node for a release not in OS_VERSIONS", args: &["build", "--node", "ltsc2025=tcp://a:2376"], env: &[NODE, ("OS_VERSIONS", "1809")],
        named: "--node", says: &["'ltsc2025' is not one of OS_VERSIONS (1809)"], hint: "--node OS=URL names the node of one release", ..ROW },
    Case { name: "--node without =", args: &["build", "--node", "tcp://a:2376"], env: &[NODE, ("OS_VERSIONS", "1809")],
        named: "--node", says: &["expected OS=URL"], hint: "--node OS=URL names the node of one release", ..ROW },
    Case { name: "--node URL malformed", args: &["build", "--node", "1809=tcp://a"], env: &[NODE, ("OS_VERSIONS", "1809")],
        named: "--node 1809", says: &["port is missing"], hint: "use tcp://host:port, e.g.", ..ROW },
    // ---- issue 11 §5: validation
    Case { name: "VERSION too long for the cache tag", args: &["push-as-linux"], env: &[NODE], files: &[Repeat("images/alpha/VERSION", "7", 120, "\n")],
        named: "alpha/VERSION", says: &["-linux-cache would be 132 characters long", "at most 116"], hint: "shorten VERSION to at most 116 characters:", ..ROW },
    Case { name: "VERSION too long for a matrix tag", args: &["build"], env: &[NODE, ("OS_VERSIONS", "ltsc2022")], files: &[Repeat("images/alpha/VERSION", "7", 110, "\n")],
        named: "alpha/VERSION", says: &["-windows-amd64-ltsc2022 would be 133 characters"], hint: "shorten VERSION to at most 105 characters:", ..ROW },
    Case { name: "repository name too long", args: &["plan", "build"], env: &[("REGISTRY", "registry.example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), ("IMAGES", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")], files: &[Image("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")],
        named: "REGISTRY", says: &["would be 260 characters long", "at most 255"], hint: "use a shorter registry prefix (or image", ..ROW },
    Case { name: "os version typo", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809 ltsc2202")],
        named: "OS_VERSIONS", says: &["'ltsc2202' is not a Windows release the tool knows", "ltsc2022 (20348)", "NAME=BUILD"], hint: "known: 1809 (17763), ltsc2019 (17763), 2004", ..ROW },
    Case { name: "two names for one Windows build", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809 ltsc2019")],
        named: "OS_VERSIONS", says: &["1809 and ltsc2019 are the same Windows build (17763)"], hint: "name each release once: drop ltsc2019 or", ..ROW },
    Case { name: "release name in the wrong case", args: &["plan", "build"], env: &[("OS_VERSIONS", "ltsc2022 LTSC2022")],
        named: "OS_VERSIONS", says: &["'LTSC2022'", "case-sensitive: ltsc2022"], hint: "known: 1809 (17763), ltsc2019 (17763), 2004", ..ROW },
    Case { name: "named release with a bad build", args: &["plan", "build"], env: &[("OS_VERSIONS", "next=30O00")],
        named: "OS_VERSIONS", says: &["not a Windows build number"], hint: "NAME=BUILD with the release's build number,", ..ROW },
    Case { name: "named release with a known build", args: &["plan", "build"], env: &[("OS_VERSIONS", "ltsc2022 mine=20348")],
        named: "OS_VERSIONS", says: &["ltsc2022 and mine are the same Windows build (20348)"], hint: "name each release once: drop mine or", ..ROW },
    Case { name: "baseimage value that reads as a flag", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809")], files: &[Write("images/alpha/BASEIMAGE", "windows/amd64/1809=--platform=linux/arm64\n")],
        named: "alpha/BASEIMAGE:1", says: &["not an image reference"], hint: "each line is windows/amd64/<os>=<image>", ..ROW },
    Case { name: "baseimage value with a bad digest", args: &["plan", "build"], env: &[("OS_VERSIONS", "1809")], files: &[Write("images/alpha/BASEIMAGE", "windows/amd64/1809=mcr.microsoft.com/windows/nanoserver@sha256:abc\n")],
        named: "alpha/BASEIMAGE:1", says: &["sha256:<64 hex digits>"], hint: "each line is windows/amd64/<os>=<image>", ..ROW },
    Case { name: "cert file empty", args: &["build"], env: &[NODE], files: &[Write("certs/cert.pem", "")],
        named: "DOCKER_CERT_PATH", says: &["cert.pem: it is empty"], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "ca.pem holds no certificate", args: &["push"], env: &[NODE], files: &[Write("certs/ca.pem", "not a real cert\n")],
        named: "ca.pem: holds no PEM block `-----BEGIN CERTIFICATE-----`", says: &[], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "key.pem holds a certificate, not a key", args: &["push"], env: &[NODE], files: &[Copy("certs/cert.pem", "certs/key.pem")],
        named: "key.pem: holds no PEM block `-----BEGIN PRIVATE KEY-----`", says: &[], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "cert.pem block is not a certificate", args: &["build"], env: &[NODE], files: &[Pem("certs/cert.pem", "CERTIFICATE", b"no DER in here")],
        named: "cert.pem: its CERTIFICATE block is not an X.509 certificate", says: &[], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "client certificate expired", args: &["push"], env: &[NODE], files: &[CertsUntil("20250102030405Z")],
        named: "DOCKER_CERT_PATH", says: &["cert.pem: the client certificate expired on 2025-01-02 03:04 UTC", "cargo xtask tls"], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "cert file is a FIFO", args: &["build"], env: &[NODE], files: &[Fifo("certs/ca.pem")],
        named: "ca.pem: not a regular file (a FIFO)", says: &[], hint: "make the client certs again with `cargo", ..ROW },
    Case { name: "node url host not an IP", args: &["build"], env: &[("REMOTE_DOCKER_URL", "tcp://999.1.1.1:2376")],
        named: "REMOTE_DOCKER_URL", says: &["'999.1.1.1' is not a host name or IP address"], hint: "use tcp://host:port, e.g.", ..ROW },
    Case { name: "node url with a password", args: &["build"], env: &[("REMOTE_DOCKER_URL", "tcp://bob:hunter2@winbuild:2376")],
        named: "REMOTE_DOCKER_URL", says: &["tcp://bob:***@winbuild:2376", "user name or password"], hint: "use tcp://host:port, e.g.", absent: &["hunter2"], ..ROW },
    Case { name: "VERSION is a FIFO", args: &["build"], env: &[NODE], files: &[Fifo("images/alpha/VERSION")],
        named: "alpha/VERSION", says: &["not a regular file (a FIFO)"], hint: "each image folder needs a VERSION file", ..ROW },
    Case { name: "Dockerfile_windows is a FIFO", args: &["build"], env: &[NODE], files: &[Fifo("images/beta/Dockerfile_windows")],
        named: "beta/Dockerfile_windows", says: &["not a regular file (a FIFO)"], hint: "every image built on the Windows node needs", ..ROW },
    Case { name: "BASEIMAGE is a folder", args: &["build"], env: &[NODE], files: &[Folder("images/alpha/BASEIMAGE")],
        named: "alpha/BASEIMAGE", says: &["not a regular file (a folder)"], hint: "BASEIMAGE is a text file of", ..ROW },
    Case { name: "SKIP_UNCHANGED not 0/1", args: &["push"], env: &[NODE, ("SKIP_UNCHANGED", "yes")],
        named: "SKIP_UNCHANGED", says: &["\"yes\""], hint: "SKIP_UNCHANGED=1 (or --skip-unchanged) skips", ..ROW },
    // ---- issue 11 §6: messages
    Case { name: "huge VERSION gives a bounded message", args: &["build"], env: &[NODE], files: &[Repeat("images/alpha/VERSION", "7 ", 150_000, "")],
        named: "alpha/VERSION", says: &["… (300000 bytes)"], hint: "VERSION holds one tag on one line:", ..ROW },
    Case { name: "control characters are escaped", args: &["build"], env: &[NODE, ("IMAGES", "\u{1b}[2Jgone")],
        named: "IMAGES", says: &["\\u{1b}[2Jgone"], hint: "a space-separated list, each once, e.g.", absent: &["\u{1b}"], ..ROW },
    Case { name: "variable holding invalid UTF-8", args: &["plan", "build"], raw_env: &[("REGISTRY", b"reg\xff/x")],
        named: "REGISTRY=", says: &["not valid UTF-8"], hint: "every argument and variable must be UTF-8", ..ROW },
    Case { name: "per-release URL holding invalid UTF-8", args: &["build"], env: &[NODE, ("OS_VERSIONS", "1809")], raw_env: &[("REMOTE_DOCKER_URL_1809", b"tcp://\xfe:1")],
        named: "REMOTE_DOCKER_URL_1809", says: &["not valid UTF-8"], hint: "every argument and variable must be UTF-8", ..ROW },
];

impl File {
    fn apply(&self, w: &World) {
        let at = |p: &str| w.root().join(p);
        match *self {
            Write(p, text) => write(&at(p), text),
            Repeat(p, unit, n, tail) => write(&at(p), &(unit.repeat(n) + tail)),
            Remove(p) => fs::remove_file(at(p)).expect("remove"),
            Fifo(p) => {
                let _ = fs::remove_file(at(p));
                mkfifo(&at(p));
            }
            Folder(p) => {
                let _ = fs::remove_dir_all(at(p));
                fs::create_dir_all(at(p)).expect("mkdir");
            }
            Image(name) => {
                w.image(name, "1.0");
            }
            Copy(from, to) => {
                fs::copy(at(from), at(to)).expect("copy");
            }
            Pem(p, label, der) => write(&at(p), &pem(label, der)),
            CertsUntil(not_after) => w.certs_valid_until(not_after),
        }
    }
}

fn mkfifo(p: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
}

/// Runs one row in a world of its own; what is wrong with the outcome, one entry a problem
/// (none: the row holds), with stderr for the report.
fn check(c: &Case) -> (Vec<String>, String) {
    let w = World::new("bad");
    w.image("alpha", "1.0");
    w.image("beta", "2.0");
    for f in c.files {
        f.apply(&w);
    }
    let watched = [w.images(), w.certs(), w.root().join("tls-out")];
    let before: Vec<_> = watched.iter().map(|d| snapshot(d)).collect();
    let mut cmd = w.xtask();
    cmd.args(c.args);
    for (k, v) in c.env {
        cmd.env(k, v);
    }
    for (k, v) in c.raw_env {
        cmd.env(k, OsStr::from_bytes(v));
    }
    let o = run(&mut cmd);
    let err = stderr(&o);
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit {:?}", o.status.code()));
    }
    for want in std::iter::once(&c.named).chain(c.says) {
        if !err.contains(want) {
            problems.push(format!("message lacks {want:?}"));
        }
    }
    for not in c.absent {
        if err.contains(not) {
            problems.push(format!("message holds {not:?}"));
        }
    }
    if !err
        .lines()
        .any(|l| l.trim_start().starts_with("hint:") && l.contains(c.hint))
    {
        problems.push(format!("no hint holding {:?}", c.hint));
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
    let after: Vec<_> = watched.iter().map(|d| snapshot(d)).collect();
    if after != before || w.root().join("PWNED").exists() {
        problems.push("files changed".into());
    }
    (problems, err)
}

#[test]
fn every_bad_input_exits_2_naming_it_before_any_docker_call() {
    assert!(CASES.len() >= 90, "{} rows", CASES.len());
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for c in CASES {
        if !names.insert(c.name) {
            failures.push(format!("{}: a second row of this name", c.name));
        }
        if c.named.is_empty() || c.hint.is_empty() {
            failures.push(format!("{}: the row names no variable or no hint", c.name));
            continue;
        }
        let (problems, err) = check(c);
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
        "{} of {} rows failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// The runner can fail: input that is fine, and a row expecting the wrong things, are each
/// reported, with every problem of the row, not just the first.
#[test]
fn the_runner_reports_every_problem_of_a_row() {
    let fine = Case {
        name: "a plan that is fine",
        args: &["plan", "build"],
        env: &[NODE],
        named: "REGISTRY",
        hint: "use host",
        ..ROW
    };
    let (problems, _) = check(&fine);
    assert!(problems.iter().any(|p| p == "exit Some(0)"), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.starts_with("no hint")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("last line")),
        "{problems:?}"
    );

    let wrong = Case {
        name: "registry empty, expecting other words",
        args: &["build"],
        env: &[NODE, ("REGISTRY", "")],
        named: "IMAGES",
        says: &["no such words"],
        hint: "a hint it does not give",
        absent: &["REGISTRY"],
        ..ROW
    };
    let (problems, _) = check(&wrong);
    assert_eq!(problems.len(), 4, "{problems:?}");
}
