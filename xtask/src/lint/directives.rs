//! `# xtask: KEY=VALUE` comment lines in an image's Dockerfiles: what a maintainer tells lint
//! that the file alone cannot say. BuildKit reads them as comments (a parser directive's
//! name has no `:`), so the build is unchanged. Known:
//! - `version-arg=NAME`: the global `ARG NAME=<default>` must equal VERSION (powershell-helper's
//!   `PS_VERSION`), an error when they differ;
//! - `allow=symlink`: consumers of the cache image are told about the symlinks the file
//!   creates (buildx rewrites their targets, docker/buildx#373), so lint stops warning.
//!
//! Also here: recognising a RUN that creates a symlink (cmd `mklink`, PowerShell
//! `New-Item -ItemType SymbolicLink`, .NET `CreateSymbolicLink`).

/// The directives of one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `(line, NAME)` of `version-arg=NAME`.
    pub version_arg: Option<(usize, String)>,
    /// The line of `allow=symlink`.
    pub allow_symlink: Option<usize>,
    /// `(line, message)` for each `# xtask:` line that is not understood.
    pub unknown: Vec<(usize, String)>,
}

const KNOWN: &str = "known: `# xtask: version-arg=<ARG>`, `# xtask: allow=symlink`";

/// Every `# xtask:` comment line of `text` (1-based lines).
pub fn read(text: &str) -> Directives {
    let mut d = Directives::default();
    for (i, line) in text.lines().enumerate() {
        let at = i + 1;
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(body) = rest.trim_start().strip_prefix("xtask:") else {
            continue;
        };
        let body = body.trim();
        match body.split_once('=') {
            Some(("version-arg", name)) if is_arg_name(name) => {
                if d.version_arg.is_some() {
                    d.unknown.push((
                        at,
                        "a second `# xtask: version-arg=…`: only one counts".into(),
                    ));
                } else {
                    d.version_arg = Some((at, name.to_string()));
                }
            }
            Some(("allow", "symlink")) => d.allow_symlink = Some(at),
            _ => d.unknown.push((
                at,
                format!("unknown `# xtask:` directive {body:?} ({KNOWN})"),
            )),
        }
    }
    d
}

fn is_arg_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a RUN's text creates a symbolic link, if it does: cmd's `mklink` (not `/J` junctions
/// or `/H` hard links, which keep their targets), or `SymbolicLink` as PowerShell's
/// `New-Item -ItemType SymbolicLink` and .NET's `CreateSymbolicLink` spell it.
pub fn creates_symlink(run: &str) -> Option<&'static str> {
    let lower = run.to_ascii_lowercase();
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(i) = lower[from..].find("mklink") {
        let start = from + i;
        let end = start + "mklink".len();
        from = end;
        let before = lower[..start].chars().next_back();
        let after = lower[end..].chars().next();
        if before.is_some_and(word_char) || after.is_some_and(|c| word_char(c) && c != '.') {
            continue;
        }
        // The command's own words: up to the next command separator.
        let args = lower[end..]
            .split(['&', '|', ';', '\n', '`', '"', '\''])
            .next()
            .unwrap_or("");
        if !args.split_whitespace().any(|w| w == "/j" || w == "/h") {
            return Some("mklink");
        }
    }
    if lower.contains("symboliclink") {
        return Some("SymbolicLink");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_with_their_lines() {
        let d = read(
            "# escape=`\n# xtask: version-arg=PS_VERSION\nARG PS_VERSION=1\n  #xtask:allow=symlink\n# xtask: allow=everything\n# xtask: version-arg=$X\n# not xtask: x\n",
        );
        assert_eq!(d.version_arg, Some((2, "PS_VERSION".into())));
        assert_eq!(d.allow_symlink, Some(4));
        assert_eq!(d.unknown.len(), 2, "{:?}", d.unknown);
        assert_eq!(d.unknown[0].0, 5);
        assert!(d.unknown[0].1.contains("\"allow=everything\""));
        assert_eq!(d.unknown[1].0, 6);
    }

    #[test]
    fn symlinks_are_recognised_in_cmd_and_powershell() {
        for yes in [
            "cd C:\\PowerShell &\\\n    mklink powershell.exe pwsh.exe",
            "cmd /c mklink C:\\PowerShell\\powershell.exe pwsh.exe; if ($LASTEXITCODE) {}",
            "MKLINK /D C:\\data D:\\data",
            "mklink.exe a b",
            "New-Item -ItemType SymbolicLink -Path C:\\a -Target b",
            "ni -itemtype symboliclink a -value b",
            "New-Item -Type SymbolicLink a b",
            "[IO.File]::CreateSymbolicLink('a', 'b')",
        ] {
            assert!(creates_symlink(yes).is_some(), "{yes}");
        }
        for no in [
            "mklink /J C:\\junction C:\\target",
            "mklink /h hard.txt target.txt & mklink /J j t",
            "echo nomklink",
            "New-Item -ItemType Directory -Path C:\\a",
            "New-Item -ItemType HardLink a b",
            "setx /M PATH C:\\x",
        ] {
            assert_eq!(creates_symlink(no), None, "{no}");
        }
    }
}
