//! `--version` (with the git commit of the checkout) and shell completions.

use clap::CommandFactory;

use super::{Cli, Shell};
use crate::config;

/// `cargo xtask 0.1.0 (git 1a2b3c4d5e6f)`: the commit of the checkout it was run from, read
/// by git at the moment it is asked (no build script: that would cost every cold build).
pub fn version() -> String {
    let base = format!("cargo xtask {}", env!("CARGO_PKG_VERSION"));
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(config::project_root())
        .args([
            "describe",
            "--always",
            "--dirty",
            "--abbrev=12",
            "--exclude=*",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() && !o.stdout.is_empty() => {
            format!("{base} (git {})", String::from_utf8_lossy(&o.stdout).trim())
        }
        _ => base,
    }
}

/// Writes the completion script for `shell` on stdout. zsh: for the command `cargo-xtask`,
/// since zsh's cargo completion hands `cargo xtask …` to a function `_cargo-xtask`. bash has no
/// such hook, so its script completes a command `xtask` (clap_complete's bash script breaks
/// on a name with '-') and adds `BASH_HOOK`, which hands it the words after `cargo xtask`.
pub fn completions(shell: Shell) -> anyhow::Result<()> {
    use std::io::Write;
    let (generator, name) = match shell {
        Shell::Bash => (clap_complete::Shell::Bash, "xtask"),
        Shell::Zsh => (clap_complete::Shell::Zsh, "cargo-xtask"),
    };
    // One word as the completed command's name (the usage text's "cargo xtask" has a space).
    let mut cmd = with_values(Cli::command().bin_name(name), &image_names());
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut cmd, name, &mut script);
    if let Shell::Bash = shell {
        script.extend_from_slice(BASH_HOOK.as_bytes());
    }
    let mut out = std::io::stdout().lock();
    crate::error::written(out.write_all(&script).and_then(|_| out.flush()))
}

/// The command line as completion sees it: the parser's, plus the values it checks itself
/// rather than through clap (so clap's refusals stay the tool's own messages): `--isolation`'s
/// three, the known releases for `--os-versions` and `--node`'s OS, the images for IMG, the
/// targets for TARGET, and make's one-word targets (`sub-build-IMG`, …) as commands. Only the
/// completion script is made from this; parsing never sees it.
fn with_values(mut cmd: clap::Command, images_kind: &[(String, bool)]) -> clap::Command {
    use clap::builder::PossibleValuesParser;
    let releases: Vec<String> = crate::windows::KNOWN_RELEASES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let mut targets: Vec<String> = ["all-build", "all-push", "all-push-as-linux"]
        .iter()
        .chain(&["build", "push", "push-as-linux"])
        .map(|t| t.to_string())
        .collect();
    for (img, node) in images_kind {
        for kind in ["sub-build", "sub-push", "sub-repush-as-linux"] {
            // A cache-only image has no node build or push (refused): not offered.
            if *node || kind == "sub-repush-as-linux" {
                targets.push(format!("{kind}-{img}"));
            }
        }
    }
    let images: Vec<String> = images_kind.iter().map(|(n, _)| n.clone()).collect();
    let images = &images[..];
    // clap (without its "string" feature) takes &'static str names: this process prints one
    // script and ends, so leaking these few strings costs nothing.
    let values = |id: &str| -> Option<Vec<&'static str>> {
        let leak = |v: Vec<String>| v.into_iter().map(String::leak).map(|s| &*s).collect();
        Some(leak(match id {
            "isolation" => ["auto", "process", "hyperv"].map(String::from).to_vec(),
            "os_versions" => releases.clone(),
            "nodes" => releases.iter().map(|r| format!("{r}=")).collect(),
            "names" | "images" | "image" => images.to_vec(),
            "target" => targets.clone(),
            _ => return None,
        }))
    };
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, |mut c| {
            let ids: Vec<String> = c.get_arguments().map(|a| a.get_id().to_string()).collect();
            for id in ids {
                if let Some(v) = values(&id) {
                    c = c.mut_arg(id, |a| a.value_parser(PossibleValuesParser::new(v)));
                }
            }
            c
        });
    }
    for (img, node) in images_kind {
        for (kind, what) in [
            ("sub-build", "only the node build of"),
            ("sub-push", "only the push of"),
            ("sub-repush-as-linux", "only the cache image(s) of"),
        ] {
            if !node && kind != "sub-repush-as-linux" {
                continue;
            }
            let name: &'static str = format!("{kind}-{img}").leak();
            cmd = cmd.subcommand(clap::Command::new(name).about(format!("{what} {img}")));
        }
    }
    cmd
}

/// The images a completion offers: the folders of IMAGES_DIR (default: this checkout's
/// images/) holding a VERSION, as when the script is made — make it again after adding one —
/// each with whether it is built on a node (has a Dockerfile_windows).
fn image_names() -> Vec<(String, bool)> {
    let dir = std::env::var_os("IMAGES_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| config::project_root().join("images"));
    let mut names: Vec<(String, bool)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("VERSION").is_file())
        .filter_map(|e| {
            let node = e.path().join("Dockerfile_windows").exists();
            Some((e.file_name().into_string().ok()?, node))
        })
        .filter(|(n, _)| !n.starts_with('.') && crate::reference::is_path_component(n))
        .collect();
    names.sort();
    names
}

/// `cargo xtask <TAB>` in bash. bash-completion loads a command's completion by the command's
/// name, so this script is installed as `…/bash-completion/completions/cargo` and stands in for
/// cargo's: after `cargo xtask` the words are completed as xtask's; any other `cargo …` goes to
/// cargo's own `_cargo`, which it loads from the toolchain (rustup ships it in the sysroot's
/// etc/bash_completion.d/cargo) when bash-completion has not loaded it already. Sourced from
/// ~/.bashrc instead, it works the same.
const BASH_HOOK: &str = r#"
if ! declare -F _cargo >/dev/null; then
    _cargo_xtask_own=$(rustc --print sysroot 2>/dev/null)/etc/bash_completion.d/cargo
    # shellcheck disable=SC1090
    [[ -r $_cargo_xtask_own ]] && . "$_cargo_xtask_own"
    unset _cargo_xtask_own
fi
_cargo_xtask_hook() {
    if [[ ${COMP_WORDS[1]} == xtask && $COMP_CWORD -ge 2 ]]; then
        local COMP_WORDS=(xtask "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$((COMP_CWORD - 1))
        _xtask xtask "$2" "$3"
        return
    fi
    if declare -F _cargo >/dev/null; then
        _cargo "$@"
    fi
}
complete -F _cargo_xtask_hook -o bashdefault -o default cargo
"#;
