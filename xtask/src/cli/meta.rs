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
    let mut cmd = Cli::command().bin_name(name);
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut cmd, name, &mut script);
    if let Shell::Bash = shell {
        script.extend_from_slice(BASH_HOOK.as_bytes());
    }
    let mut out = std::io::stdout().lock();
    crate::error::written(out.write_all(&script).and_then(|_| out.flush()))
}

/// `cargo xtask <TAB>` in bash: cargo's completion knows no xtask, so completion of `cargo`
/// goes through this function: after `cargo xtask` the words are completed as xtask's,
/// anything else by cargo's own `_cargo` when it is loaded.
const BASH_HOOK: &str = r#"
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
