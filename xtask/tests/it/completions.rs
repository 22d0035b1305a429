//! Shell completions installed as the docs say (docs/commands.md, `completions --help`), loaded
//! by the shells' own machinery: bash-completion finds a command's completion by the command's
//! name, `cargo`, so the bash script is installed as `completions/cargo` in the user's
//! bash-completion folder, completes `cargo xtask …` (commands, make's `sub-build-IMG` words,
//! image names, `--isolation` and `--os-versions` values) and hands every other `cargo …` to
//! cargo's own completion. zsh: the script is an autoloadable `_cargo-xtask`, which rustup's
//! `_cargo` calls for `cargo xtask`. Needs bash-completion and zsh (Debian; `.ci/run` installs
//! them): without them these tests fail, naming the package.

use std::path::Path;
use std::process::Command;

use crate::support::*;

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

fn script(w: &World, shell: &str) -> String {
    let o = run(w
        .xtask()
        .args(["completions", shell])
        .env("IMAGES_DIR", w.images()));
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

fn world() -> World {
    let w = World::new("completions");
    w.image("alpha", "1.0");
    // A cache-only image: no node build or push to offer.
    let core = w.images().join("core");
    write(&core.join("VERSION"), "1.0\n");
    write(&core.join("Dockerfile"), "ARG BASEIMAGE\nFROM --platform=windows/amd64 $BASEIMAGE AS c\nFROM scratch\nCOPY --from=c /x /x\n");
    write(
        &core.join("BASEIMAGE"),
        "linux/amd64/1809=mcr.microsoft.com/windows/servercore:ltsc2019\n",
    );
    w
}

#[test]
fn bash_completion_loads_the_script_installed_as_cargo_and_completes_xtask_and_cargo() {
    assert!(
        Path::new(BASH_COMPLETION).is_file(),
        "{BASH_COMPLETION} missing: apt-get install bash-completion (.ci/run installs it)"
    );
    let w = world();
    let data = w.root().join("share");
    let dir = data.join("bash-completion/completions");
    std::fs::create_dir_all(&dir).expect("mkdir");
    write(&dir.join("cargo"), &script(&w, "bash"));
    let probe = format!(
        r#". {BASH_COMPLETION}
__load_completion cargo || exit 3
complete -p cargo
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; COMPREPLY=()
      local f; f=$(complete -p cargo | sed -E 's/.* -F ([^ ]+) .*/\1/')
      "$f" cargo "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
      echo "${{COMPREPLY[*]}}"; }}
t cargo xtask doc
t cargo xtask sub-build-
t cargo xtask sub-repush-as-linux-
t cargo xtask push --isolation ''
t cargo xtask push --os-versions ltsc
t cargo xtask push a
t cargo bui
"#
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .env("XDG_DATA_HOME", &data)
        .env_remove("BASH_COMPLETION_USER_DIR")
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "complete -o bashdefault -o default -F _cargo_xtask_hook cargo",
        "{text}"
    );
    assert_eq!(lines[1], "doctor", "{text}");
    // make's words, for the images that have them: core is cache-only (no node build).
    assert_eq!(lines[2], "sub-build-alpha", "{text}");
    assert_eq!(
        lines[3], "sub-repush-as-linux-alpha sub-repush-as-linux-core",
        "{text}"
    );
    assert_eq!(lines[4], "auto process hyperv", "{text}");
    assert_eq!(lines[5], "ltsc2019 ltsc2022 ltsc2025", "{text}");
    assert!(lines[6].split(' ').any(|w| w == "alpha"), "{text}");
    // Anything else is cargo's: its own completion (from the toolchain) completes `build`.
    let sysroot_completion = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|o| Path::new(stdout(&o).trim()).join("etc/bash_completion.d/cargo"))
        .expect("rustc");
    if sysroot_completion.is_file() {
        assert_eq!(lines[7], "build", "{text}");
    } else {
        // A toolchain without cargo's completion file: file names, as bash does by default.
        assert_eq!(lines[7], "", "{text}");
    }
}

#[test]
fn zsh_autoloads_the_script_as_cargo_xtask() {
    let zsh = Command::new("zsh").arg("--version").output();
    assert!(
        zsh.is_ok_and(|o| o.status.success()),
        "zsh missing: apt-get install zsh (.ci/run installs it)"
    );
    let w = world();
    let fdir = w.root().join("zfunc");
    std::fs::create_dir_all(&fdir).expect("mkdir");
    let text = script(&w, "zsh");
    write(&fdir.join("_cargo-xtask"), &text);
    assert!(text.contains("sub-build-alpha"), "{text}");
    assert!(!text.contains("sub-build-core"), "{text}");
    assert!(
        text.contains("auto process hyperv") || text.contains("(auto process hyperv)"),
        "{text}"
    );
    // Syntax, then autoload as compinit would: the file defines the function it is named for.
    let out = Command::new("zsh")
        .args(["-n", &fdir.join("_cargo-xtask").display().to_string()])
        .output()
        .expect("zsh");
    assert!(out.status.success(), "zsh -n: {}", stderr(&out));
    let out = Command::new("zsh")
        .args([
            "-f",
            "-c",
            &format!(
                "fpath=({} $fpath); autoload -Uz compinit && compinit -u -d {}/zcompdump && autoload +X _cargo-xtask && whence -w _cargo-xtask",
                fdir.display(),
                w.root().display()
            ),
        ])
        .output()
        .expect("zsh");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "_cargo-xtask: function",
        "{}",
        stderr(&out)
    );
}
