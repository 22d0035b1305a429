//! What clap does not do with the words typed: flags before the command moved after it, a
//! flag's value never mistaken for the command, make's one-word targets, did-you-mean,
//! non-UTF-8 arguments and variables named, clap's refusals turned into bad input.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use super::Cli;
use crate::config;
use crate::error::{shown, BadInput};
use crate::plan::Target;

pub(super) fn utf8(a: OsString, what: impl Fn() -> String) -> anyhow::Result<String> {
    a.into_string().map_err(|raw| {
        BadInput::new(
            what(),
            raw.to_string_lossy(),
            "not valid UTF-8",
            "every argument and variable must be UTF-8 text",
        )
    })
}

/// The command word as typed and the clap subcommand it became, for messages.
pub(super) struct Typed {
    /// `sub-build-alpha` as typed, or the command's name.
    word: String,
    /// The clap subcommand it became.
    name: String,
}

/// `cargo xtask [FLAGS…] COMMAND [ARGS…]` → `xtask COMMAND [FLAGS…] [ARGS…]`: flags typed before
/// the command go after it (each command defines its own), `sub-build-IMG` becomes
/// `sub-build IMG`. A value-taking flag takes its value, never more: a command word after
/// it that it took is said so, and an unknown command word gets a did-you-mean.
pub(super) fn normalize(
    command: &clap::Command,
    args: Vec<String>,
) -> anyhow::Result<(Vec<String>, Typed)> {
    let (longs, shorts) = value_flags(command);
    let mut before: Vec<String> = Vec::new();
    // The last flag that took the next word as its value, and that word.
    let mut took: Option<(String, String)> = None;
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        if w == "--" || !w.starts_with('-') || w == "-" {
            break;
        }
        before.push(w.clone());
        let takes_next = if let Some(long) = w.strip_prefix("--") {
            !long.contains('=') && longs.iter().any(|l| l == long)
        } else {
            // A cluster of short flags: a value-taking one takes the rest, or the next word.
            let chars: Vec<char> = w.chars().skip(1).collect();
            chars
                .iter()
                .position(|c| shorts.contains(c))
                .is_some_and(|p| p == chars.len() - 1)
        };
        if takes_next && i + 1 < args.len() {
            took = Some((w.clone(), args[i + 1].clone()));
            before.push(args[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    let only_help = before
        .iter()
        .all(|w| matches!(w.as_str(), "-h" | "--help" | "-V" | "--version"));
    let Some(word) = args.get(i).filter(|w| *w != "--") else {
        if only_help {
            let mut argv = vec!["xtask".to_string()];
            argv.extend(args);
            let typed = Typed {
                word: String::new(),
                name: String::new(),
            };
            return Ok((argv, typed));
        }
        return Err(no_command(command, &args, took));
    };
    let mut argv = vec!["xtask".to_string()];
    let name = if is_command(command, word) {
        argv.push(word.clone());
        word.clone()
    } else if let Some(t) = Target::parse(word).filter(|t| t.image().is_some()) {
        let sub = word
            .strip_suffix(t.image().unwrap_or_default())
            .and_then(|p| p.strip_suffix('-'))
            .unwrap_or(word)
            .to_string();
        argv.push(sub.clone());
        argv.push(t.image().unwrap_or_default().to_string());
        sub
    } else {
        return Err(unknown_command(command, word));
    };
    if name == "help" {
        // `cargo xtask -j 2 help build` means nothing: let clap say so.
        argv.splice(1..1, before);
    } else {
        argv.extend(before);
    }
    argv.extend(args[i + 1..].iter().cloned());
    let typed = Typed {
        word: word.clone(),
        name,
    };
    Ok((argv, typed))
}

/// The long names and short letters of every flag of every command that takes a value.
fn value_flags(command: &clap::Command) -> (Vec<String>, Vec<char>) {
    let mut longs = Vec::new();
    let mut shorts = Vec::new();
    for sc in command.get_subcommands() {
        for a in sc.get_arguments() {
            if a.is_positional() || !a.get_action().takes_values() {
                continue;
            }
            if let Some(l) = a.get_long() {
                longs.push(l.to_string());
            }
            if let Some(s) = a.get_short() {
                shorts.push(s);
            }
        }
    }
    (longs, shorts)
}

fn is_command(command: &clap::Command, word: &str) -> bool {
    word == "help"
        || command
            .get_subcommands()
            .any(|sc| sc.get_name() == word || sc.get_all_aliases().any(|a| a == word))
}

/// Options but no command: say which flag took the command as its value, if one did.
fn no_command(
    command: &clap::Command,
    args: &[String],
    took: Option<(String, String)>,
) -> anyhow::Error {
    let all = args.join(" ");
    match took {
        Some((flag, value)) if is_command(command, &value) || Target::parse(&value).is_some() => {
            BadInput::new(
                "command",
                "",
                format!(
                    "none: {} took `{}` as its value, so no command is left",
                    shown(&flag),
                    shown(&value)
                ),
                format!(
                    "give {} its value ({}=VALUE), or put the command first: cargo xtask {} {} VALUE",
                    shown(&flag),
                    shown(&flag),
                    shown(&value),
                    shown(&flag)
                ),
            )
        }
        _ => BadInput::new(
            "command",
            "",
            format!("none given, only options: {}", shown(&all)),
            "cargo xtask COMMAND [OPTIONS]; `cargo xtask help` lists the commands",
        ),
    }
}

fn unknown_command(command: &clap::Command, word: &str) -> anyhow::Error {
    let mut names: Vec<&str> = Vec::new();
    for sc in command.get_subcommands() {
        names.push(sc.get_name());
        names.extend(sc.get_all_aliases());
    }
    let best = names
        .iter()
        .map(|n| (edit_distance(word, n), *n))
        .min()
        .filter(|(d, n)| *d <= 2 && *d < n.len() / 2);
    let hint = match best {
        Some((_, n)) => format!("did you mean `{n}`? `cargo xtask help` lists the commands"),
        None if word.starts_with("sub-") => {
            "make's one-word targets are sub-build-IMG, sub-push-IMG, sub-repush-as-linux-IMG; `cargo xtask help` lists the commands".into()
        }
        None => "`cargo xtask help` lists the commands".into(),
    };
    BadInput::new("command", word, "unknown command", hint)
}

/// Levenshtein distance: how many single-character edits turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The variables COMMAND reads that hold something other than UTF-8 text, named (clap
/// would only say "invalid UTF-8 was detected").
pub(super) fn check_env_utf8(
    command: &clap::Command,
    name: &str,
    env: &config::Env,
    env_os: &dyn Fn(&str) -> Option<OsString>,
) -> anyhow::Result<()> {
    let Some(sc) = command.find_subcommand(name) else {
        return Ok(());
    };
    let mut vars: Vec<String> = sc
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    let has = |long: &str| sc.get_arguments().any(|a| a.get_long() == Some(long));
    // Switches whose variable config reads itself (a switch flag has no clap env).
    if has("skip-unchanged") {
        vars.push("SKIP_UNCHANGED".into());
    }
    if has("quiet") {
        vars.push("QUIET".into());
    }
    if has("docker-cert-path") {
        vars.push("HOME".into());
    }
    for var in vars {
        if env.get(&var).is_none() {
            if let Some(raw) = env_os(&var) {
                utf8(raw, || var.clone())?;
            }
        }
    }
    if has("node") {
        for (k, v) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("REMOTE_DOCKER_URL_") {
                utf8(v, || k.clone())?;
            }
        }
    }
    Ok(())
}

/// clap's refusal as bad input: the stray word or unknown option named, with the command's help
/// as the hint.
pub(super) fn from_clap(e: &clap::Error, typed: &Typed) -> anyhow::Error {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    let help = if typed.name.is_empty() {
        "`cargo xtask help` lists the commands".to_string()
    } else {
        format!("`cargo xtask help {}` lists what it takes", typed.name)
    };
    let shown_cmd = if typed.word.is_empty() {
        "cargo xtask".to_string()
    } else {
        format!("cargo xtask {}", typed.word)
    };
    match (e.kind(), arg) {
        (ErrorKind::UnknownArgument, Some(a)) if !a.starts_with('-') => BadInput::new(
            "argument",
            &a,
            format!(
                "stray argument '{}': `{shown_cmd}` takes no more words",
                shown(&a)
            ),
            help,
        ),
        (ErrorKind::UnknownArgument, Some(a)) => {
            let flag = a.split('=').next().unwrap_or(&a).to_string();
            BadInput::new(
                "option",
                &flag,
                format!(
                    "`{shown_cmd}` has no option {}: it means nothing there",
                    shown(&flag)
                ),
                help,
            )
        }
        (ErrorKind::InvalidSubcommand, _) => match e.get(ContextKind::InvalidSubcommand) {
            Some(ContextValue::String(word)) => unknown_command(&Cli::command(), word),
            _ => BadInput::new("command", &typed.word, "unknown command", help),
        },
        (ErrorKind::MissingRequiredArgument, Some(a)) => BadInput::new(
            "argument",
            &a,
            format!("missing: `{shown_cmd}` needs {}", shown(&a)),
            help,
        ),
        (_, arg) => {
            // clap's own sentence, without its "error: " and usage lines.
            let text = e.render().to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            BadInput::new(
                "option",
                arg.unwrap_or_else(|| typed.word.clone()),
                first,
                help,
            )
        }
    }
}
