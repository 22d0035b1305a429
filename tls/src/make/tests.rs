//! Unit tests of the certs `make` writes, read back through `inspect` and x509-parser.

use super::*;
use crate::inspect;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "xtask-tls-{tag}-{}-{}",
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

fn opts(out: &Path) -> Args {
    Args {
        server_name: "winbuild.example.com".into(),
        ip: "192.0.2.10,::1".into(),
        dns: Some("winbuild".into()),
        days: None,
        out: out.to_string_lossy().into_owned(),
        ca: None,
        force: false,
        backdate: None,
    }
}

/// `make` for real: no failure injected.
fn mk(a: &Args) -> anyhow::Result<Vec<PathBuf>> {
    make(a, false, &mut |_| Ok(()))
}

/// The paths `make` writes for `a`, from the layout.
fn planned(a: &Args) -> Vec<PathBuf> {
    let s = a.validate().expect("valid");
    s.files().iter().map(|f| s.path(f)).collect()
}

fn refusal(e: &anyhow::Error) -> &Invalid {
    e.downcast_ref::<Invalid>()
        .unwrap_or_else(|| panic!("not a refusal: {e:#}"))
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("str").to_string())
        .collect()
}

use serde_json::Value;

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

const DAY: i64 = 86_400;

#[test]
fn layout_and_modes() {
    let t = Tmp::new("layout");
    let written = mk(&opts(&t.0)).expect("make");
    let want: Vec<PathBuf> = planned(&opts(&t.0));
    assert_eq!(written, want);
    for p in &want {
        assert!(p.is_file(), "{}", p.display());
        let private = p.to_string_lossy().ends_with("key.pem");
        assert_eq!(
            mode(p),
            if private { 0o600 } else { 0o644 },
            "{}",
            p.display()
        );
    }
    // Every folder holds a key: 0700. No staging folder left behind.
    for d in ["ca", "node", "client"] {
        assert_eq!(mode(&t.0.join(d)), 0o700, "{d}");
    }
    let names: Vec<String> = fs::read_dir(&t.0)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // The three copies of ca.pem are the CA.
    let ca = fs::read(t.0.join("ca/ca.pem")).expect("ca");
    assert_eq!(fs::read(t.0.join("node/ca.pem")).expect("node ca"), ca);
    assert_eq!(fs::read(t.0.join("client/ca.pem")).expect("client ca"), ca);
    // Keys are PKCS#8 PEM and never end up in a certificate file.
    let key = fs::read_to_string(t.0.join("client/key.pem")).expect("key");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
}

#[test]
fn ca_is_a_ca() {
    let t = Tmp::new("ca");
    mk(&opts(&t.0)).expect("make");
    let f = inspect::facts(&t.0.join("ca")).to_value();
    let ca = &f["certs"]["ca.pem"];
    assert_eq!(ca["is_ca"], true, "{f}");
    assert_eq!(ca["signed_by_ca"], true, "self-signed: {f}");
    assert!(ca["subject_cn"]
        .as_str()
        .expect("cn")
        .starts_with("xtask-tls CA "));
    let ku = strs(&ca["key_usage"]);
    assert!(ku.contains(&"keyCertSign".to_string()), "{ku:?}");
    assert_eq!(f["keys"]["ca-key.pem"]["matches_cert"], true, "{f}");
    assert_eq!(f["keys"]["ca-key.pem"]["mode"], "0600");
    // A new CA outlives the leaves: ten years.
    let na = ca["not_after"].as_i64().expect("not_after");
    assert!(na > now() + 3649 * DAY, "{f}");
}

#[test]
fn server_cert_names_usages_and_chain() {
    let t = Tmp::new("server");
    mk(&opts(&t.0)).expect("make");
    let f = inspect::facts(&t.0.join("node")).to_value();
    let s = &f["certs"]["server-cert.pem"];
    assert_eq!(s["subject_cn"], "winbuild.example.com", "{f}");
    assert_eq!(s["is_ca"], false);
    assert_eq!(
        strs(&s["sans"]),
        [
            "DNS:winbuild.example.com",
            "DNS:winbuild",
            "IP:192.0.2.10",
            "IP:::1"
        ]
    );
    assert_eq!(strs(&s["extended_key_usage"]), ["serverAuth"]);
    assert_eq!(
        strs(&s["key_usage"]),
        ["digitalSignature", "keyEncipherment"]
    );
    assert_eq!(s["signed_by_ca"], true, "{f}");
    assert_eq!(f["keys"]["server-key.pem"]["matches_cert"], true, "{f}");
    assert_eq!(f["keys"]["server-key.pem"]["private_to_owner"], true);
}

#[test]
fn client_cert_usages_validity_and_chain() {
    let t = Tmp::new("client");
    mk(&opts(&t.0)).expect("make");
    let f = inspect::facts(&t.0.join("client")).to_value();
    let c = &f["certs"]["cert.pem"];
    assert_eq!(c["subject_cn"], "client", "{f}");
    assert_eq!(strs(&c["extended_key_usage"]), ["clientAuth"]);
    assert_eq!(strs(&c["sans"]), Vec::<String>::new());
    assert_eq!(c["signed_by_ca"], true, "{f}");
    assert_eq!(f["keys"]["key.pem"]["matches_cert"], true, "{f}");
    assert_eq!(f["keys"]["key.pem"]["mode"], "0600");
    // 365 days from now, started an hour ago for clock skew.
    let nb = c["not_before"].as_i64().expect("nb");
    let na = c["not_after"].as_i64().expect("na");
    let n = now();
    assert!(
        (n - 3700..=n - 3500).contains(&nb),
        "not_before {nb}, now {n}"
    );
    assert!((n + 365 * DAY - 100..=n + 365 * DAY + 100).contains(&na));
}

#[test]
fn signature_check_is_real() {
    let a = Tmp::new("sig-a");
    let b = Tmp::new("sig-b");
    mk(&opts(&a.0)).expect("make a");
    mk(&opts(&b.0)).expect("make b");
    // b's client cert next to a's ca.pem: same names, another key.
    let mixed = Tmp::new("sig-mixed");
    fs::copy(a.0.join("client/ca.pem"), mixed.0.join("ca.pem")).expect("cp");
    fs::copy(b.0.join("client/cert.pem"), mixed.0.join("cert.pem")).expect("cp");
    fs::copy(a.0.join("client/key.pem"), mixed.0.join("key.pem")).expect("cp");
    let f = inspect::facts(&mixed.0).to_value();
    assert_eq!(f["certs"]["cert.pem"]["signed_by_ca"], false, "{f}");
    assert_eq!(f["keys"]["key.pem"]["matches_cert"], false, "{f}");

    // A CA with the very same subject name but another key: the name matches, the
    // signature does not.
    let fake_ca = Tmp::new("sig-fake");
    let key = KeyPair::generate().expect("key");
    let pem = fs::read_to_string(a.0.join("ca/ca.pem")).expect("ca");
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("pem");
    let cn = p
        .parse_x509()
        .expect("x509")
        .subject()
        .iter_common_name()
        .next()
        .expect("cn")
        .as_str()
        .expect("str")
        .to_string();
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(&cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("self-signed");
    fs::write(fake_ca.0.join("ca.pem"), cert.pem()).expect("write");
    fs::copy(a.0.join("client/cert.pem"), fake_ca.0.join("cert.pem")).expect("cp");
    let f = inspect::facts(&fake_ca.0).to_value();
    assert_eq!(f["certs"]["cert.pem"]["issuer_cn"], cn.as_str(), "{f}");
    assert_eq!(f["certs"]["cert.pem"]["signed_by_ca"], false, "{f}");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let t = Tmp::new("overwrite");
    mk(&opts(&t.0)).expect("make");
    let before: Vec<Vec<u8>> = planned(&opts(&t.0))
        .iter()
        .map(|p| fs::read(p).expect("read"))
        .collect();
    let err = mk(&opts(&t.0)).expect_err("must refuse");
    refusal(&err);
    assert!(
        err.to_string().contains("ca/ca.pem exists"),
        "names the file: {err}"
    );
    let after: Vec<Vec<u8>> = planned(&opts(&t.0))
        .iter()
        .map(|p| fs::read(p).expect("read"))
        .collect();
    assert_eq!(before, after, "nothing changed");

    // One file of the set is enough to refuse, and it is the one named.
    let t2 = Tmp::new("overwrite-one");
    fs::create_dir_all(t2.0.join("client")).expect("mkdir");
    fs::write(t2.0.join("client/key.pem"), "mine").expect("write");
    let err = mk(&opts(&t2.0)).expect_err("must refuse");
    assert!(err.to_string().contains("client/key.pem exists"), "{err}");
    assert!(!t2.0.join("ca").exists(), "wrote nothing");
    assert!(!t2.0.join("node").exists(), "wrote nothing");
    assert_eq!(
        fs::read_to_string(t2.0.join("client/key.pem")).expect("read"),
        "mine"
    );

    // --force replaces every file, keys still 0600.
    let mut o = opts(&t.0);
    o.force = true;
    mk(&o).expect("make --force");
    let replaced: Vec<Vec<u8>> = planned(&o)
        .iter()
        .map(|p| fs::read(p).expect("read"))
        .collect();
    for (i, (b, a)) in before.iter().zip(&replaced).enumerate() {
        let name = planned(&o)[i].clone();
        if name.ends_with("daemon.json") || name.ends_with("install.ps1") {
            continue;
        }
        assert_ne!(b, a, "{} replaced", name.display());
    }
    assert_eq!(mode(&t.0.join("client/key.pem")), 0o600);
}

#[test]
fn force_tightens_a_loose_key() {
    let t = Tmp::new("loose");
    mk(&opts(&t.0)).expect("make");
    let key = t.0.join("client/key.pem");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut o = opts(&t.0);
    o.force = true;
    mk(&o).expect("make --force");
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn reuses_a_ca() {
    let first = Tmp::new("reuse-1");
    mk(&opts(&first.0)).expect("make");
    let second = Tmp::new("reuse-2");
    let mut o = opts(&second.0);
    o.server_name = "node2.example.com".into();
    o.ca = Some(first.0.join("ca").to_string_lossy().into_owned());
    let written = mk(&o).expect("make --ca");
    assert!(!second.0.join("ca").exists(), "the CA is not copied");
    assert_eq!(written.len(), 8, "{written:?}");
    assert_eq!(
        fs::read(second.0.join("node/ca.pem")).expect("read"),
        fs::read(first.0.join("ca/ca.pem")).expect("read")
    );
    // The new certs verify against the old CA (also from the old client folder's view).
    let f = inspect::facts(&second.0.join("client")).to_value();
    assert_eq!(f["certs"]["cert.pem"]["signed_by_ca"], true, "{f}");
    let f = inspect::facts(&second.0.join("node")).to_value();
    assert_eq!(f["certs"]["server-cert.pem"]["signed_by_ca"], true, "{f}");
    assert_eq!(
        f["certs"]["server-cert.pem"]["subject_cn"],
        "node2.example.com"
    );
    // Authority key identifier of the new leaf = subject key identifier of the CA, so
    // path building by key id (Go, Windows) finds it.
    let ski = key_id(&first.0.join("ca/ca.pem"), true);
    let aki = key_id(&second.0.join("client/cert.pem"), false);
    assert_eq!(ski, aki);

    // Reusing the CA into the CA's own OUT folder is allowed: the CA is left as it was.
    let ca_before = fs::read(first.0.join("ca/ca-key.pem")).expect("read");
    let mut o = opts(&first.0);
    o.ca = Some(first.0.join("ca").to_string_lossy().into_owned());
    o.force = true;
    mk(&o).expect("make --ca into the same OUT");
    assert_eq!(
        fs::read(first.0.join("ca/ca-key.pem")).expect("read"),
        ca_before
    );
}

fn key_id(path: &Path, subject: bool) -> Vec<u8> {
    use x509_parser::extensions::ParsedExtension;
    let pem = fs::read(path).expect("read");
    let (_, p) = x509_parser::pem::parse_x509_pem(&pem).expect("pem");
    let cert = p.parse_x509().expect("x509");
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) if subject => return k.0.to_vec(),
            ParsedExtension::AuthorityKeyIdentifier(a) if !subject => {
                return a.key_identifier.as_ref().expect("aki").0.to_vec()
            }
            _ => {}
        }
    }
    panic!("no key identifier in {}", path.display())
}

#[test]
fn refuses_a_ca_folder_without_its_key() {
    let first = Tmp::new("ca-nokey-1");
    mk(&opts(&first.0)).expect("make");
    fs::remove_file(first.0.join("ca/ca-key.pem")).expect("rm");
    let second = Tmp::new("ca-nokey-2");
    let mut o = opts(&second.0);
    o.ca = Some(first.0.join("ca").to_string_lossy().into_owned());
    let err = mk(&o).expect_err("refuse");
    refusal(&err);
    assert!(err.to_string().contains("no ca-key.pem"), "{err}");
    assert_eq!(fs::read_dir(&second.0).expect("ls").count(), 0);
}

#[test]
fn refuses_a_ca_key_of_another_ca() {
    let a = Tmp::new("ca-mix-a");
    let b = Tmp::new("ca-mix-b");
    mk(&opts(&a.0)).expect("make");
    mk(&opts(&b.0)).expect("make");
    fs::copy(b.0.join("ca/ca-key.pem"), a.0.join("ca/ca-key.pem")).expect("cp");
    let out = Tmp::new("ca-mix-out");
    let mut o = opts(&out.0);
    o.ca = Some(a.0.join("ca").to_string_lossy().into_owned());
    let err = mk(&o).expect_err("refuse");
    let r = refusal(&err);
    assert_eq!(r.flag, "--ca", "{r}");
    assert!(
        r.problem.contains("ca-key.pem is not the key of ca.pem"),
        "{r}"
    );
    assert_eq!(
        fs::read_dir(&out.0).expect("ls").count(),
        0,
        "wrote nothing"
    );
}

#[test]
fn refuses_a_ca_folder_that_is_not_a_ca() {
    let a = Tmp::new("ca-leaf-a");
    mk(&opts(&a.0)).expect("make");
    let out = Tmp::new("ca-leaf-out");
    let try_ca = |setup: &dyn Fn(&Path), want: &str| {
        let dir = Tmp::new("ca-leaf-dir");
        setup(&dir.0);
        let mut o = opts(&out.0);
        o.ca = Some(dir.0.to_string_lossy().into_owned());
        let err = mk(&o).expect_err(want);
        let r = refusal(&err);
        assert_eq!(r.flag, "--ca", "{r}");
        assert!(r.problem.contains(want), "{want}: {r}");
        // Also as a dry run: the same refusal, before anything.
        assert_eq!(
            refusal(&make(&o, true, &mut |_| Ok(())).expect_err("dry")).problem,
            r.problem
        );
        assert_eq!(
            fs::read_dir(&out.0).expect("ls").count(),
            0,
            "wrote nothing"
        );
    };
    // The client's cert and key, as if they were a CA: they match, but it is no CA.
    try_ca(
        &|d| {
            fs::copy(a.0.join("client/cert.pem"), d.join("ca.pem")).expect("cp");
            fs::copy(a.0.join("client/key.pem"), d.join("ca-key.pem")).expect("cp");
        },
        "ca.pem is not a CA certificate",
    );
    try_ca(
        &|d| {
            fs::write(d.join("ca.pem"), "not a cert\n").expect("write");
            fs::copy(a.0.join("ca/ca-key.pem"), d.join("ca-key.pem")).expect("cp");
        },
        "ca.pem is not a PEM certificate",
    );
    try_ca(
        &|d| {
            fs::copy(a.0.join("ca/ca.pem"), d.join("ca.pem")).expect("cp");
            fs::copy(a.0.join("ca/ca.pem"), d.join("ca-key.pem")).expect("cp");
        },
        "ca-key.pem is not an unencrypted PKCS#8 private key",
    );
    // A CA that expired.
    try_ca(
        &|d| {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::default();
            params.distinguished_name = dn("old CA");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.not_before = OffsetDateTime::now_utc() - Duration::days(20);
            params.not_after = OffsetDateTime::now_utc() - Duration::days(10);
            let cert = params.self_signed(&key).expect("sign");
            fs::write(d.join("ca.pem"), cert.pem()).expect("write");
            fs::write(d.join("ca-key.pem"), key.serialize_pem()).expect("write");
        },
        "expired or not yet valid",
    );
}

#[test]
fn a_file_where_node_goes_leaves_no_half_written_ca() {
    let t = Tmp::new("node-file");
    fs::write(t.0.join("node"), "mine").expect("write");
    let mut o = opts(&t.0);
    for force in [false, true] {
        o.force = force;
        let err = mk(&o).expect_err("refuse");
        let r = refusal(&err);
        assert_eq!(r.flag, "--out", "{r}");
        assert!(
            r.problem
                .contains("node is a file where the folder node/ goes"),
            "{r}"
        );
        let left = tree(&t.0);
        assert_eq!(left.len(), 1, "only the user's file: {left:?}");
        assert_eq!(left[0].2.as_deref(), Some(&b"mine"[..]));
    }
}

#[test]
fn dry_run_checks_and_writes_nothing() {
    let t = Tmp::new("dry");
    // A new OUT (and parents): not created.
    let new = t.0.join("a/b/out");
    assert_eq!(
        make(&opts(&new), true, &mut |_| Ok(())).expect("dry"),
        Vec::<PathBuf>::new()
    );
    assert_eq!(tree(&t.0), vec![]);
    // An existing set with --force: left exactly as it was.
    mk(&opts(&t.0)).expect("make");
    let before = tree(&t.0);
    let mut o = opts(&t.0);
    o.force = true;
    make(&o, true, &mut |_| Ok(())).expect("dry --force");
    assert_eq!(tree(&t.0), before);
    // Without --force it is refused, as the real run would be.
    let err = make(&opts(&t.0), true, &mut |_| Ok(())).expect_err("exists");
    assert!(refusal(&err).problem.contains("exists"), "{err}");
}

/// Every path under `dir` (relative), with its mode and, for files, its content.
fn tree(dir: &Path) -> Vec<(String, u32, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("readdir") {
            let p = e.expect("entry").path();
            let rel = p
                .strip_prefix(dir)
                .expect("under")
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&p).expect("stat");
            let m = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                stack.push(p.clone());
                out.push((rel, m, None));
            } else {
                out.push((rel, m, Some(fs::read(&p).expect("read"))));
            }
        }
    }
    out.sort();
    out
}

/// How many changes a successful `make` of `a` makes (calls to the probe).
fn steps_of(a: &Args) -> usize {
    let mut n = 0;
    make(a, false, &mut |_| {
        n += 1;
        Ok(())
    })
    .expect("make");
    n
}

/// `make` with the probe failing at the `k`-th change.
fn fail_at(a: &Args, k: usize) -> anyhow::Error {
    let mut n = 0;
    make(a, false, &mut |p| {
        n += 1;
        if n == k {
            Err(std::io::Error::other(format!(
                "injected at {}",
                p.display()
            )))
        } else {
            Ok(())
        }
    })
    .expect_err("injected failure")
}

#[test]
fn a_failure_at_any_step_leaves_nothing_behind() {
    // A new OUT under missing parents.
    let probe_dir = Tmp::new("fail-count");
    let n = steps_of(&opts(&probe_dir.0.join("x/y/out")));
    assert!(n >= 15, "{n} steps");
    let t = Tmp::new("fail-new");
    for k in 1..=n {
        let err = fail_at(&opts(&t.0.join("x/y/out")), k);
        assert!(format!("{err:#}").contains("injected at"), "{err:#}");
        assert!(
            err.downcast_ref::<Invalid>().is_none(),
            "a failure, not bad input"
        );
        assert_eq!(tree(&t.0), vec![], "step {k} of {n} left something");
    }

    // An existing set replaced with --force, a folder with a loose mode and a file of the
    // user's beside the certs: all as before after a failure at any step.
    let t = Tmp::new("fail-force");
    mk(&opts(&t.0)).expect("make");
    fs::set_permissions(t.0.join("node"), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::write(t.0.join("client/notes.txt"), "mine").expect("write");
    let before = tree(&t.0);
    let mut o = opts(&t.0);
    o.force = true;
    let probe_dir = Tmp::new("fail-count2");
    mk(&opts(&probe_dir.0)).expect("make");
    let mut po = opts(&probe_dir.0);
    po.force = true;
    let n = steps_of(&po);
    assert!(n >= 25, "{n} steps");
    for k in 1..=n {
        fail_at(&o, k);
        assert_eq!(tree(&t.0), before, "step {k} of {n} changed something");
    }
    // And the same run without a failure replaces the certs, tightens node/ and keeps notes.
    mk(&o).expect("make --force");
    assert_eq!(mode(&t.0.join("node")), 0o700);
    assert_eq!(
        fs::read(t.0.join("client/notes.txt")).expect("read"),
        b"mine"
    );
}

#[test]
fn install_ps1_keeps_the_first_backup_of_daemon_json() {
    // No Windows here: the script is checked as text. The copy to the backup must sit in
    // the else branch of a Test-Path of the backup, and never be forced.
    let ps = node::install_ps1("winbuild");
    let lines: Vec<&str> = ps.lines().map(str::trim).collect();
    let copies: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Copy-Item") && l.contains("$backup"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(copies.len(), 1, "one copy to the backup: {ps}");
    let i = copies[0];
    assert!(
        !lines[i].contains("-Force"),
        "the backup is never overwritten: {}",
        lines[i]
    );
    assert_eq!(lines[i - 1], "} else {", "{ps}");
    let guard = lines[..i]
        .iter()
        .rev()
        .find(|l| l.starts_with("if ("))
        .expect("a guard");
    assert_eq!(*guard, "if (Test-Path -LiteralPath $backup) {", "{ps}");
    assert!(
        lines.contains(&"$backup = \"$config.before-xtask-tls\""),
        "{ps}"
    );
}

/// The script as lines, trimmed, and the index of the first line that starts with `start`.
fn ps_lines() -> Vec<String> {
    node::install_ps1("winbuild")
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

fn find(lines: &[String], start: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("install.ps1 has no line starting {start:?}"))
}

#[test]
fn install_ps1_compares_hosts_as_addresses() {
    let lines = ps_lines();
    let ps = lines.join("\n");
    // The merge goes through Merge-Hosts, which keys every entry by Get-HostKey.
    assert!(
        ps.contains("$value = Merge-Hosts $old.Value $p.Value"),
        "{ps}"
    );
    assert!(
        !ps.contains("Select-Object -Unique"),
        "text comparison left: {ps}"
    );
    let f = find(&lines, "function Get-HostKey");
    let body = &lines[f..find(&lines, "function Merge-Hosts")];
    let body = body.join("\n");
    // npipe:// and the default pipe's full name are one address; a bare host:port is tcp.
    for want in [
        "$k -eq 'npipe://'",
        "$k -eq 'npipe:////./pipe/docker_engine'",
        "return 'npipe:////./pipe/docker_engine'",
        "if ($k -notmatch '^[a-z]+://') { $k = \"tcp://$k\" }",
        "ToLowerInvariant().TrimEnd('/')",
    ] {
        assert!(body.contains(want), "Get-HostKey lacks {want}: {body}");
    }
    let m = find(&lines, "function Merge-Hosts");
    let merge = lines[m..m + 14].join("\n");
    assert!(
        merge.contains("$key = Get-HostKey ([string]$h)")
            && merge.contains("if (-not $seen.ContainsKey($key))"),
        "{merge}"
    );
}

#[test]
fn install_ps1_puts_back_what_it_found_when_the_restart_fails() {
    let lines = ps_lines();
    // The file as found is read before anything is written; with none, $previous stays null.
    let prev = find(&lines, "$previous = Get-Content -Raw -LiteralPath $config");
    let write = find(&lines, "Write-Config $merged");
    assert!(prev < write);
    let c = find(&lines, "} catch {");
    assert!(c > find(&lines, "try {") && lines[c - 1] == "Restart-Service -Name docker");
    let handler = lines[c..].join("\n");
    // with a file before: written back as found, and said; without: ours removed, and said —
    // no advice to restore a copy that does not exist.
    assert!(
        handler.contains(
            "if ($null -ne $previous) {\n[System.IO.File]::WriteAllText($config, $previous"
        ),
        "{handler}"
    );
    assert!(
        handler.contains("put back the daemon.json this run found, unchanged"),
        "{handler}"
    );
    assert!(handler.contains("} else {\nRemove-Item -LiteralPath $config\nWrite-Host \"removed the $config this run wrote (the node had none before)\""), "{handler}");
    assert!(
        !handler.contains("restore $config from its copy"),
        "{handler}"
    );
    assert!(handler.contains("Start-Service -Name docker"), "{handler}");
    assert!(handler.contains("throw $why"), "{handler}");
}

#[test]
fn install_ps1_needs_the_docker_service_and_can_uninstall() {
    let lines = ps_lines();
    // param() is the first statement (after #Requires and comments), as PowerShell requires.
    let first = lines
        .iter()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .expect("a statement");
    assert_eq!(first, "param([switch]$Uninstall)");
    // A missing service is said before anything is changed.
    let svc = find(
        &lines,
        "if (-not (Get-Service -Name docker -ErrorAction SilentlyContinue)) {",
    );
    assert!(lines[svc + 1].contains("there is no docker service on this node"));
    assert!(lines[svc + 1].contains("nothing was changed"));
    assert_eq!(lines[svc + 2], "exit 1");
    for change in [
        "New-Item",
        "Copy-Item",
        "Remove-Item",
        "Move-Item",
        "Restart-Service",
    ] {
        assert!(
            find(&lines, change) > svc,
            "{change} before the service check"
        );
    }
    // -Uninstall: the node's own config back (the current one kept), certs and rule removed.
    let u = find(&lines, "if ($Uninstall) {");
    let end = find(&lines, "exit 0");
    let undo = lines[u..end].join("\n");
    for want in [
        "Copy-Item -Force -LiteralPath $config -Destination $kept",
        "Move-Item -Force -LiteralPath $backup -Destination $config",
        "removed $config (the node had none before install.ps1)",
        "foreach ($f in $ourCerts) {",
        "Remove-NetFirewallRule -Name $rule",
        "Restart-Service -Name docker",
    ] {
        assert!(undo.contains(want), "-Uninstall lacks {want}: {undo}");
    }
    assert!(u < find(&lines, "New-Item -ItemType Directory -Force -Path $certs"));
}

#[test]
fn backdated_certs_are_expired() {
    let t = Tmp::new("expired");
    let mut o = opts(&t.0);
    o.days = Some("1".into());
    o.backdate = Some("10".into());
    mk(&o).expect("make");
    let f = inspect::facts(&t.0.join("client")).to_value();
    let na = f["certs"]["cert.pem"]["not_after"].as_i64().expect("na");
    assert!(na < now() - 8 * DAY, "{f}");
    // The CA itself is fresh: only the leaves are backdated.
    let f = inspect::facts(&t.0.join("ca")).to_value();
    assert!(f["certs"]["ca.pem"]["not_after"].as_i64().expect("na") > now());
}

#[test]
fn bad_days_are_refused() {
    let t = Tmp::new("days");
    for days in [0, tls_spec::MAX_DAYS + 1] {
        let mut o = opts(&t.0);
        o.days = Some(days.to_string());
        let err = mk(&o).expect_err("refuse");
        refusal(&err);
    }
    assert_eq!(fs::read_dir(&t.0).expect("ls").count(), 0);
}

#[test]
fn daemon_json_for_windows() {
    let v: Value = serde_json::from_str(&node::daemon_json()).expect("json");
    assert_eq!(
        v["hosts"],
        serde_json::json!(["tcp://0.0.0.0:2376", "npipe://"])
    );
    assert_eq!(v["tlsverify"], true);
    assert_eq!(v["tlscacert"], r"C:\ProgramData\docker\certs.d\ca.pem");
    assert_eq!(
        v["tlscert"],
        r"C:\ProgramData\docker\certs.d\server-cert.pem"
    );
    assert_eq!(v["tlskey"], r"C:\ProgramData\docker\certs.d\server-key.pem");
    let ps = node::install_ps1("winbuild");
    for want in [
        "Copy-Item",
        "Restart-Service -Name docker",
        "New-NetFirewallRule",
        "-LocalPort 2376",
        "ConvertFrom-Json",
        "UTF8Encoding $false",
        "tcp://winbuild:2376",
    ] {
        assert!(ps.contains(want), "install.ps1 lacks {want}");
    }
    assert!(
        !ps.contains("@SERVER_NAME@") && !ps.contains("@CERTS_DIR@"),
        "unreplaced placeholder"
    );
}
