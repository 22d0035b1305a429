//! README's quick start on the real stack, as a newcomer types it: a shell that sources the
//! stack's env file and nothing else. Its first commands print no warning (the env file leaves
//! matrix mode's node variables unexported, so compat mode does not call them "set but not
//! used"), and the matrix line the env file itself suggests turns matrix mode on, also without a
//! warning. The main job itself from the env file alone is `e2e.rs`'s
//! `readme_main_job_runs_from_the_stack_env_file_alone`. Ignored without the stack (`make e2e`).

use std::process::{Command, Output};

use crate::support::stack::Stack;

/// `bash -c '. ENV && SCRIPT'` with only PATH, HOME and the toolchain's variables; `$XTASK` is
/// the xtask binary under test (what `cargo xtask` runs, without a cargo build in the test).
fn in_env_shell(s: &Stack, script: &str) -> Output {
    let mut c = Command::new("bash");
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XTASK", env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&s.root)
        .arg("-c")
        .arg(format!(r#". "$1" && {script}"#))
        .arg("bash")
        .arg(&s.file);
    for k in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    c.output().expect("bash")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs the loopback stack: make e2e"]
fn the_env_file_makes_no_command_warn_in_compat_or_in_the_matrix_mode_it_suggests() {
    let s = Stack::get();
    // Compat mode: the first commands of the quick start (a look at the plan, a dry run that
    // asks the node).
    for cmd in [
        r#""$XTASK" plan all-push-as-linux"#,
        r#""$XTASK" -n push-as-linux"#,
    ] {
        let o = in_env_shell(&s, cmd);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{cmd}:\n{out}\n{err}");
        assert!(!err.contains("xtask: warning"), "{cmd} warned:\n{err}");
    }

    // The env file's own matrix line (its last comment), run as written.
    let env = std::fs::read_to_string(&s.file).expect("env file");
    let line = env
        .lines()
        .find_map(|l| l.strip_prefix("# matrix mode on this stack (every stand-in node): "))
        .expect("the env file says how to turn matrix mode on");
    let o = in_env_shell(&s, &format!(r#"{line} && "$XTASK" -n push-as-linux"#));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{line}:\n{out}\n{err}");
    assert!(
        !err.contains("xtask: warning"),
        "matrix mode warned:\n{err}"
    );
    for os in ["1809", "ltsc2022", "ltsc2025"] {
        assert!(
            out.contains(&format!("-windows-amd64-{os}")),
            "no {os} build in the matrix plan:\n{out}"
        );
    }
    assert!(
        out.contains(&s.var("REMOTE_DOCKER_URL_ltsc2022")),
        "the ltsc2022 build is not on its own node:\n{out}"
    );
}
