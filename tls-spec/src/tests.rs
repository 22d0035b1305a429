//! Unit tests: DNS limits, flag validation, the argv round trip to xtask-tls, the file-system
//! checks, how values are shown, and the outcome protocol.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;

use crate::*;

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tls-spec-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir");
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn args(out: &str) -> Args {
    Args {
        server_name: "winbuild.example.com".into(),
        ip: "10.0.0.5, fd00::5".into(),
        dns: Some("winbuild,winbuild.example.com,winbuild".into()),
        days: None,
        out: out.into(),
        ca: None,
        force: false,
        backdate: None,
    }
}

fn refused(a: &Args) -> Invalid {
    a.validate().expect_err("must be refused")
}

#[test]
fn dns_limits() {
    let l63 = "a".repeat(63);
    let l64 = "a".repeat(64);
    assert_eq!(dns_problem(&format!("{l63}.example.com")), None);
    let why = dns_problem(&format!("{l64}.example.com")).expect("64");
    assert!(why.contains("64 characters (at most 63)"), "{why}");
    // 4 labels of 63 + 3 dots = 255; cut to exactly 253 and 254.
    let long = [l63.as_str(); 4].join(".");
    assert_eq!(dns_problem(&long[..253]), None);
    let why = dns_problem(&long[..254]).expect("254");
    assert!(
        why.contains("254 characters (a DNS name has at most 253)"),
        "{why}"
    );
    for (bad, why) in [
        ("", "empty"),
        ("10.0.0.5", "IP address"),
        ("fd00::5", "IP address"),
        ("[::1]", "IP address"),
        ("10.0.0.256", "all digits"),
        ("win.", "empty label"),
        (".win", "empty label"),
        ("a..b", "empty label"),
        ("-win", "starts or ends with '-'"),
        ("win-.corp", "starts or ends with '-'"),
        ("win_build", "'_' is not allowed"),
        ("win build", "' ' is not allowed"),
        ("*.example.com", "'*' is not allowed"),
        ("win\u{1b}[31m", "'\\u{1b}' is not allowed"),
    ] {
        let got = dns_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(got.contains(why), "{bad:?}: {got}");
    }
    for good in [
        "win",
        "winbuild.example.com",
        "a-b.c-d",
        "123.example.com",
        "x1",
    ] {
        assert_eq!(dns_problem(good), None, "{good}");
    }
}

#[test]
fn validate_accepts_and_normalizes() {
    let s = args("certs").validate().expect("valid");
    assert_eq!(s.server_name, "winbuild.example.com");
    assert_eq!(s.ips.len(), 2);
    // Duplicates and the server name itself are dropped from --dns.
    assert_eq!(s.dns, ["winbuild"]);
    assert_eq!(s.days, DEFAULT_DAYS);
    assert_eq!(s.ca, None);
    let mut a = args("certs");
    a.ca = Some(String::new());
    a.days = Some(" 30 ".into());
    let s = a.validate().expect("valid");
    assert_eq!(s.ca, None, "an empty TLS_CA means none");
    assert_eq!(s.days, 30);
}

/// One change to good flags.
type Change = fn(&mut Args);

#[test]
fn validate_refuses_naming_the_flag() {
    let cases: Vec<(Change, &str, &str)> = vec![
        (|a| a.server_name = " ".into(), "--server-name", "empty"),
        (
            |a| a.server_name = format!("{}.corp", "x".repeat(64)),
            "--server-name",
            "at most 63",
        ),
        (
            |a| a.server_name = ["a"; 128].join("."),
            "--server-name",
            "at most 253",
        ),
        (
            |a| a.ip = "10.0.0.5,".into(),
            "--ip",
            "'' is not an IP address",
        ),
        (
            |a| a.dns = Some(format!("ok,{}", "y".repeat(64))),
            "--dns",
            "at most 63",
        ),
        (|a| a.days = Some("0".into()), "--days", "from 1 to 3650"),
        (|a| a.days = Some("3651".into()), "--days", "from 1 to 3650"),
        (|a| a.backdate = Some("x".into()), "--backdate", "number"),
        (|a| a.out = String::new(), "--out", "empty"),
    ];
    for (change, flag, problem) in cases {
        let mut a = args("certs");
        change(&mut a);
        let e = refused(&a);
        assert_eq!(e.flag, flag, "{e}");
        assert!(e.problem.contains(problem), "{e}");
        assert!(!e.hint.is_empty(), "{e}");
    }
}

#[test]
fn values_are_shown_escaped_and_bounded() {
    let mut a = args("certs");
    a.server_name = format!("evil\u{1b}]0;owned\u{7}{}", "x".repeat(300_000));
    let e = refused(&a);
    let text = e.to_string();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}"), "{text}");
    assert!(text.len() < 1_000, "{} bytes", text.len());
    assert!(text.contains("… (300014 bytes)"), "{text}");
    assert_eq!(shown("a\nb\u{202e}c"), "a\\nb\\u{202e}c");
    assert_eq!(escaped("x\ty", 1), "x… (3 bytes)");
    assert_eq!(escaped("x\ty", 5), "x\\ty");
    assert_eq!(shown("it's \"fine\""), "it's \"fine\"");
    assert_eq!(bounded(&"é".repeat(SHOWN_MAX)), "é".repeat(SHOWN_MAX));
    assert!(bounded(&"é".repeat(SHOWN_MAX + 1)).ends_with("é… (402 bytes)"));
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    Make {
        #[command(flatten)]
        args: Args,
        #[arg(long)]
        dry_run: bool,
    },
}

#[test]
fn make_argv_round_trips() {
    let mut a = args("/tmp/some where/certs");
    a.ca = Some("-odd/ca".into());
    a.force = true;
    a.backdate = Some("3".into());
    let spec = a.validate().expect("valid");
    for dry in [false, true] {
        let mut argv = vec!["xtask-tls".to_string()];
        argv.extend(spec.make_argv(dry));
        let Sub::Make { args, dry_run } = Cli::try_parse_from(&argv).expect("parse").cmd;
        assert_eq!(dry_run, dry);
        assert_eq!(args.validate().expect("valid"), spec);
    }
    // No DNS names and no CA: still passed (empty), so no TLS_* variable can fill them in.
    let mut a = args("certs");
    a.dns = None;
    let argv = a.validate().expect("valid").make_argv(false);
    assert!(argv.contains(&"--dns=".to_string()), "{argv:?}");
    assert!(argv.contains(&"--ca=".to_string()), "{argv:?}");
}

#[test]
fn layout_modes_and_entries() {
    let t = Tmp::new("entries");
    let out = t.0.join("new");
    let spec = args(&out.to_string_lossy()).validate().expect("valid");
    let e = spec.entries();
    assert_eq!(e.len(), 1 + 3 + 10, "{e:?}");
    assert_eq!(
        (e[0].path.clone(), e[0].mode, e[0].is_dir),
        (out.clone(), 0o700, true)
    );
    for x in &e {
        let want = if x.is_dir {
            0o700
        } else if x.path.to_string_lossy().ends_with("key.pem") {
            0o600
        } else {
            0o644
        };
        assert_eq!(x.mode, want, "{}", x.path.display());
        assert!(!x.exists);
    }
    let mut a = args(&out.to_string_lossy());
    a.ca = Some(t.0.join("ca").to_string_lossy().into_owned());
    let spec = a.validate().expect("valid");
    assert_eq!(spec.folders(), [Folder::Node, Folder::Client]);
    assert_eq!(spec.files().len(), 8);
}

#[test]
fn check_fs_refuses_before_writing() {
    let t = Tmp::new("fs");
    let out = t.0.join("out");
    let spec = |force: bool| {
        let mut a = args(&out.to_string_lossy());
        a.force = force;
        a.validate().expect("valid")
    };
    spec(false).check_fs().expect("a new folder is fine");

    // A file where node/ goes: refused even with --force, naming it.
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("node"), "x").expect("write");
    for force in [false, true] {
        let e = spec(force).check_fs().expect_err("file as node/");
        assert_eq!(e.flag, "--out");
        assert!(
            e.problem
                .contains("node is a file where the folder node/ goes"),
            "{e}"
        );
    }
    fs::remove_file(out.join("node")).expect("rm");

    // A symbolic link as client/.
    std::os::unix::fs::symlink(&t.0, out.join("client")).expect("ln");
    let e = spec(true).check_fs().expect_err("link as client/");
    assert!(e.problem.contains("a symbolic link"), "{e}");
    fs::remove_file(out.join("client")).expect("rm");

    // An existing key: only with --force; a folder in its place: never.
    fs::create_dir_all(out.join("client")).expect("mkdir");
    fs::write(out.join("client/key.pem"), "mine").expect("write");
    let e = spec(false).check_fs().expect_err("existing");
    assert!(e.problem.contains("client/key.pem exists"), "{e}");
    spec(true).check_fs().expect("--force replaces it");
    fs::remove_file(out.join("client/key.pem")).expect("rm");
    fs::create_dir_all(out.join("client/key.pem")).expect("mkdir");
    let e = spec(true).check_fs().expect_err("folder as key.pem");
    assert!(e.problem.contains("is a folder where a file goes"), "{e}");

    // OUT under a file; OUT a file.
    let file = t.0.join("file");
    fs::write(&file, "x").expect("write");
    let mut a = args(&file.join("sub/out").to_string_lossy());
    let e = a
        .validate()
        .expect("valid")
        .check_fs()
        .expect_err("under a file");
    assert!(e.problem.contains("file is not a folder"), "{e}");
    a.out = file.to_string_lossy().into_owned();
    let e = a.validate().expect("valid").check_fs().expect_err("a file");
    assert!(e.problem.contains("exists and is not a folder"), "{e}");

    // --ca without its key.
    let ca = t.0.join("ca");
    fs::create_dir_all(&ca).expect("mkdir");
    fs::write(ca.join("ca.pem"), "x").expect("write");
    let mut a = args(&t.0.join("out2").to_string_lossy());
    a.ca = Some(ca.to_string_lossy().into_owned());
    let e = a.validate().expect("valid").check_fs().expect_err("no key");
    assert_eq!(e.flag, "--ca");
    assert!(e.problem.contains("no ca-key.pem"), "{e}");
}

#[test]
fn outcome_round_trips() {
    for o in [
        Outcome::Done,
        Outcome::Failed("disk full\nreally".into()),
        Outcome::Refused(Invalid::new("--ca", "/x", "not a CA", "hint")),
    ] {
        assert_eq!(Outcome::from_json(&o.to_json()), Some(o.clone()));
    }
    assert_eq!(Outcome::from_json("Compiling…"), None);
    assert_eq!(Outcome::from_json("{\"outcome\":\"maybe\"}"), None);
}
