//! The command line's own rules: word order, suggestions, refusals.

use super::args::target_or_image;
use super::words::{edit_distance, normalize};
use super::*;

fn norm(args: &[&str]) -> anyhow::Result<Vec<String>> {
    normalize(
        &Cli::command(),
        args.iter().map(|s| s.to_string()).collect(),
    )
    .map(|(a, _)| a)
}

#[test]
fn flags_before_the_command_go_after_it() {
    assert_eq!(
        norm(&["--skip-unchanged", "push"]).unwrap(),
        ["xtask", "push", "--skip-unchanged"]
    );
    assert_eq!(
        norm(&["-j", "2", "build", "a"]).unwrap(),
        ["xtask", "build", "-j", "2", "a"]
    );
    assert_eq!(
        norm(&["-nj2", "build"]).unwrap(),
        ["xtask", "build", "-nj2"]
    );
    assert_eq!(
        norm(&["--registry=r", "plan", "x"]).unwrap(),
        ["xtask", "plan", "--registry=r", "x"]
    );
    assert_eq!(
        norm(&["-n", "sub-build-alpha", "--json"]).unwrap(),
        ["xtask", "sub-build", "alpha", "-n", "--json"]
    );
    assert_eq!(
        norm(&["sub-repush-as-linux-a-b"]).unwrap(),
        ["xtask", "sub-repush-as-linux", "a-b"]
    );
    assert_eq!(norm(&["--help"]).unwrap(), ["xtask", "--help"]);
}

#[test]
fn a_flag_that_takes_the_command_is_said_so() {
    let e = norm(&["--registry", "push"]).unwrap_err().to_string();
    assert!(e.contains("--registry took `push` as its value"), "{e}");
    let e = norm(&["-j", "build"]).unwrap_err().to_string();
    assert!(e.contains("-j took `build`"), "{e}");
    let e = norm(&["--json"]).unwrap_err().to_string();
    assert!(e.contains("none given, only options: --json"), "{e}");
}

#[test]
fn mistyped_commands_get_a_suggestion() {
    let e = norm(&["doctr"]).unwrap_err().to_string();
    assert!(e.contains("did you mean `doctor`?"), "{e}");
    let e = norm(&["pussh-as-linux"]).unwrap_err().to_string();
    assert!(e.contains("did you mean `push-as-linux`?"), "{e}");
    let e = norm(&["deploy"]).unwrap_err().to_string();
    assert!(!e.contains("did you mean"), "{e}");
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "ab"), 2);
}

#[test]
fn every_command_shows_only_its_own_options() {
    let mut cmd = Cli::command();
    cmd.build();
    let longs = |name: &str| -> Vec<String> {
        cmd.find_subcommand(name)
            .expect(name)
            .get_arguments()
            .filter_map(|a| a.get_long().map(String::from))
            .collect()
    };
    let lint = longs("lint");
    assert!(lint.contains(&"json".to_string()));
    // lint takes --registry: `--bases` reads the pushed images, and a BASEIMAGE's REGISTRY
    // word names a base of ours.
    assert!(lint.contains(&"registry".to_string()));
    for not in ["dry-run", "remote-docker-url", "jobs", "skip-unchanged"] {
        assert!(!lint.contains(&not.to_string()), "lint has --{not}");
    }
    let verify = longs("verify");
    assert!(!verify.contains(&"remote-docker-url".to_string()));
    assert!(!verify.contains(&"dry-run".to_string()));
    let build = longs("build");
    for want in [
        "dry-run",
        "json",
        "node",
        "skip-unchanged",
        "jobs",
        "registry",
    ] {
        assert!(build.contains(&want.to_string()), "build lacks --{want}");
    }
    let help = cmd
        .find_subcommand_mut("lint")
        .expect("lint")
        .render_help()
        .to_string();
    assert!(help.contains("Usage: cargo xtask lint"), "{help}");
    assert!(help.contains("Examples:"), "{help}");
}

/// Issue 11: `--skip-unchanged push` took `push` as the flag's optional value. No option
/// of any command may have an optional value: each takes exactly its value, or none.
#[test]
fn no_option_has_an_optional_value() {
    let mut cmd = Cli::command();
    cmd.build();
    for sc in cmd.get_subcommands() {
        for a in sc.get_arguments().filter(|a| !a.is_positional()) {
            if let Some(n) = a.get_num_args() {
                assert!(
                    n.min_values() == n.max_values(),
                    "{} --{:?}: {n:?} values",
                    sc.get_name(),
                    a.get_long()
                );
            }
        }
    }
}

#[test]
fn verify_takes_an_image_for_its_target() {
    assert_eq!(
        target_or_image(Some("alpha".into()), vec!["beta".into()]),
        (None, vec!["alpha".to_string(), "beta".to_string()])
    );
    assert_eq!(
        target_or_image(Some("push".into()), vec![]),
        (Some("push".to_string()), vec![])
    );
}
