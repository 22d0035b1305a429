//! The command line: clap's definition of `cargo xtask`, one variant per command, each taking
//! only the groups of variables that mean something to it (config/opts.rs), so
//! `cargo xtask help COMMAND` lists exactly what applies, with an example, and a flag given to
//! a command it means nothing to is refused (exit 2). `parse` also does what clap does not:
//! flags typed before the command are moved after it (`cargo xtask -n push` works), a flag's
//! value is never mistaken for the command, make's one-word targets (`sub-build-IMG`) become
//! commands, a mistyped command gets a did-you-mean, non-UTF-8 arguments and variables are
//! named, and clap's refusals become bad input like any other. Values are validated in config.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::tls;
use crate::config::{
    self, DryRunArgs, ImagesArg, ImagesDirArg, JsonArg, NodeArgs, Opts, OsArgs, OutputArgs,
    RegistryArgs, RunArgs, SkipArg,
};
use crate::error::{shown, BadInput};
use crate::plan::Target;

#[derive(Parser, Debug)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Build Windows helper images on a remote Windows node and re-push them as Linux cache images",
    disable_version_flag = true,
    after_help = "Each command takes its own options: `cargo xtask help COMMAND`. Every variable is a flag \
                  and an environment variable of the same name (flag > environment); make forwards its \
                  variables. Options may come before or after the command. See README.md."
)]
pub struct Cli {
    /// Print the version (and the git commit of this checkout).
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

const EX_BUILD: &str = "Examples:
  cargo xtask build                                    # every image, on REMOTE_DOCKER_URL's node
  cargo xtask build powershell-helper -n               # print the commands, run nothing
  cargo xtask build --os-versions \"1809 ltsc2022\" --node 1809=tcp://win2019:2376 --node ltsc2022=tcp://win2022:2376
  make all-build REGISTRY=registry.example.com/e2e REMOTE_DOCKER_URL=tcp://winbuild:2376";
const EX_PUSH: &str = "Examples:
  cargo xtask push --registry registry.example.com/e2e --remote-docker-url tcp://winbuild:2376
  cargo xtask push -n --json                           # the plan as JSON
  make all-push REGISTRY=… REMOTE_DOCKER_URL=…";
const EX_PUSH_AS_LINUX: &str = "Examples:
  cargo xtask push-as-linux                            # build, push, then the Linux cache images
  cargo xtask push-as-linux --skip-unchanged -j 3      # skip images whose inputs are unchanged
  make all-push-as-linux REGISTRY=… REMOTE_DOCKER_URL=…";
const EX_SUB_BUILD: &str = "Examples:
  cargo xtask sub-build powershell-helper              # or: cargo xtask sub-build-powershell-helper
  make sub-build-powershell-helper REMOTE_DOCKER_URL=…";
const EX_SUB_PUSH: &str = "Examples:
  cargo xtask sub-push powershell-helper               # or: cargo xtask sub-push-powershell-helper
  make sub-push-powershell-helper REMOTE_DOCKER_URL=…";
const EX_SUB_REPUSH: &str = "Examples:
  cargo xtask sub-repush-as-linux powershell-helper    # needs no node: buildx on this machine
  make sub-repush-as-linux-powershell-helper REGISTRY=…";
const EX_PLAN: &str = "Examples:
  cargo xtask plan all-push-as-linux                   # every command, paste-able into bash
  cargo xtask plan sub-push-powershell-helper --json
  make plan TARGET=all-push";
const EX_VERIFY: &str = "Examples:
  cargo xtask verify                                   # every tag push-as-linux pushes
  cargo xtask verify powershell-helper                 # one image (TARGET may be left out)
  cargo xtask verify push --json
  make verify TARGET=all-push";
const EX_DOCTOR: &str = "Examples:
  cargo xtask doctor --remote-docker-url tcp://winbuild:2376
  cargo xtask doctor sub-repush-as-linux-powershell-helper --json
  make doctor REMOTE_DOCKER_URL=…";
const EX_LINT: &str = "Examples:
  cargo xtask lint
  cargo xtask lint powershell-helper --json
  make lint";
const EX_TLS: &str = "Examples:
  cargo xtask tls --server-name winbuild --ip 10.1.2.3 --out ./certs
  cargo xtask tls --server-name winbuild2 --ip 10.1.2.4 --ca ./certs/ca --out ./certs-node2
  make tls TLS_SERVER_NAME=winbuild TLS_IP=10.1.2.3 TLS_OUT=./certs";
const EX_COMPLETIONS: &str = "Examples:
  cargo xtask completions bash > ~/.local/share/bash-completion/completions/cargo-xtask
  cargo xtask completions zsh > ~/.zfunc/_cargo-xtask";

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Build every image on the Windows node (make all-build).
    #[command(visible_alias = "all-build", after_help = EX_BUILD)]
    Build(Run),
    /// Build, then push every image from the node (make all-push).
    #[command(visible_alias = "all-push", after_help = EX_PUSH)]
    Push(Run),
    /// Build, push, then push the Linux cache images with buildx (make all-push-as-linux).
    #[command(visible_alias = "all-push-as-linux", after_help = EX_PUSH_AS_LINUX)]
    PushAsLinux(Run),
    /// Only build one image on the node (make sub-build-IMG).
    #[command(after_help = EX_SUB_BUILD)]
    SubBuild(Sub),
    /// Only push one image from the node (make sub-push-IMG).
    #[command(after_help = EX_SUB_PUSH)]
    SubPush(Sub),
    /// Only build and push one Linux cache image (make sub-repush-as-linux-IMG).
    #[command(after_help = EX_SUB_REPUSH)]
    SubRepushAsLinux(Sub),
    /// Print the commands TARGET would run (no docker call, no node needed); --json for machines.
    #[command(after_help = EX_PLAN)]
    Plan(PlanCmd),
    /// Check that every tag TARGET pushes is in the registry with the right platform.
    #[command(after_help = EX_VERIFY)]
    Verify(Inspect),
    /// Check everything TARGET needs (CLI, buildx, certs, nodes, registry) before a build.
    #[command(after_help = EX_DOCTOR)]
    Doctor(DoctorCmd),
    /// Make a CA, a server cert for a Windows node and a client cert (replaces dockertls-windows).
    #[command(after_help = EX_TLS)]
    Tls(TlsCmd),
    /// Check the image folders: Dockerfiles (no RUN/WORKDIR in Windows stages), VERSION, BASEIMAGE.
    #[command(after_help = EX_LINT)]
    Lint(LintCmd),
    /// Print a shell completion script for bash or zsh on stdout.
    #[command(after_help = EX_COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Shell {
    Bash,
    Zsh,
}

/// build, push, push-as-linux.
#[derive(clap::Args, Debug)]
pub struct Run {
    /// Images to handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub dry: DryRunArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

/// sub-build, sub-push, sub-repush-as-linux: one image, named.
#[derive(clap::Args, Debug)]
pub struct Sub {
    /// The image (a folder of IMAGES_DIR).
    #[arg(value_name = "IMG")]
    pub image: String,
    #[command(flatten)]
    pub dry: DryRunArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct PlanCmd {
    /// build | push | push-as-linux | all-* | sub-build-IMG | sub-push-IMG | sub-repush-as-linux-IMG
    pub target: String,
    /// Images to handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub skip: SkipArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

/// verify: needs no node.
#[derive(clap::Args, Debug)]
pub struct Inspect {
    /// The target whose tags to check [default: push-as-linux]; a first word that is not a
    /// target is an image.
    pub target: Option<String>,
    /// Images to check (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct DoctorCmd {
    /// The target to check for [default: push-as-linux]; a first word that is not a target
    /// is an image.
    pub target: Option<String>,
    /// Images the run would handle (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub nodes: NodeArgs,
    #[command(flatten)]
    pub os: OsArgs,
}

#[derive(clap::Args, Debug)]
pub struct TlsCmd {
    #[command(flatten)]
    pub args: tls::Args,
    /// List every file it would write, with its mode, and write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// tls reports as text: refused by tls itself, with a hint.
    #[arg(long, hide = true)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintCmd {
    /// Images to check (stand for IMAGES) [default: every image of IMAGES_DIR].
    #[arg(value_name = "IMG")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub select: ImagesArg,
    #[command(flatten)]
    pub dir: ImagesDirArg,
}

impl Run {
    pub fn opts(self) -> anyhow::Result<Opts> {
        json_needs_dry_run(&self.dry)?;
        Ok(Opts::default()
            .images(self.select, self.names)
            .dry_run(self.dry)
            .run(self.run)
            .skip(self.skip)
            .output(self.output)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os))
    }
}

impl Sub {
    /// The image and the variables.
    pub fn opts(self) -> anyhow::Result<(String, Opts)> {
        json_needs_dry_run(&self.dry)?;
        let opts = Opts::default()
            .dry_run(self.dry)
            .run(self.run)
            .skip(self.skip)
            .output(self.output)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        Ok((self.image, opts))
    }
}

impl PlanCmd {
    pub fn opts(self) -> (String, Opts) {
        let opts = Opts::default()
            .images(self.select, self.names)
            .json(self.json)
            .skip(self.skip)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        (self.target, opts)
    }
}

impl Inspect {
    /// The target (None: the command's default) and the variables.
    pub fn opts(self) -> (Option<String>, Opts) {
        let (target, images) = target_or_image(self.target, self.names);
        let opts = Opts::default()
            .images(self.select, images)
            .json(self.json)
            .images_dir(self.dir)
            .registry(self.registry)
            .os(self.os);
        (target, opts)
    }
}

impl DoctorCmd {
    pub fn opts(self) -> (Option<String>, Opts) {
        let (target, images) = target_or_image(self.target, self.names);
        let opts = Opts::default()
            .images(self.select, images)
            .json(self.json)
            .images_dir(self.dir)
            .registry(self.registry)
            .nodes(self.nodes)
            .os(self.os);
        (target, opts)
    }
}

impl LintCmd {
    pub fn opts(self) -> Opts {
        Opts::default()
            .images(self.select, self.names)
            .json(self.json)
            .images_dir(self.dir)
    }
}

/// `--json` of the running commands prints the plan, so it needs -n: a run's record is
/// another matter (its summary).
fn json_needs_dry_run(d: &DryRunArgs) -> anyhow::Result<()> {
    if d.json && !d.dry_run {
        return Err(BadInput::new(
            "option",
            "--json",
            "--json prints the plan as JSON, so it needs -n/--dry-run: without it the run would ignore it",
            "add -n to print the plan as JSON (or use `cargo xtask plan TARGET --json`)",
        ));
    }
    Ok(())
}

/// `verify IMG` and `doctor IMG`: a first word that is no target is the first image.
fn target_or_image(
    target: Option<String>,
    mut images: Vec<String>,
) -> (Option<String>, Vec<String>) {
    match target {
        Some(t) if Target::parse(&t).is_none() => {
            images.insert(0, t);
            (None, images)
        }
        t => (t, images),
    }
}

/// What `parse` asks main to do.
pub enum Parsed {
    /// Run this command.
    Run(Box<Cmd>),
    /// Help or version was printed: exit 0.
    Done,
}

/// Parses the process's arguments (see the module doc). Help and `--version` print and say
/// `Done`; every refusal is bad input (exit 2).
pub fn parse() -> anyhow::Result<Parsed> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, a)| utf8(a, || format!("argument {}", i + 1)))
        .collect::<anyhow::Result<_>>()?;
    parse_from(args, &config::Env::process(), &|k| std::env::var_os(k))
}

/// `parse` over given arguments (without the program name); `env_os` looks a variable up
/// raw, to name one that is not UTF-8.
pub fn parse_from(
    args: Vec<String>,
    env: &config::Env,
    env_os: &dyn Fn(&str) -> Option<OsString>,
) -> anyhow::Result<Parsed> {
    let command = Cli::command();
    if args.is_empty() {
        Cli::command().print_help()?;
        return Ok(Parsed::Done);
    }
    let (argv, typed) = normalize(&command, args)?;
    if let Some(name) = argv.get(1) {
        check_env_utf8(&command, name, env, env_os)?;
    }
    match Cli::try_parse_from(&argv) {
        Ok(Cli { version: true, .. }) => {
            println!("{}", version());
            Ok(Parsed::Done)
        }
        Ok(Cli { cmd: Some(cmd), .. }) => Ok(Parsed::Run(Box::new(cmd))),
        Ok(Cli { cmd: None, .. }) => {
            Cli::command().print_help()?;
            Ok(Parsed::Done)
        }
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.print()?;
            Ok(Parsed::Done)
        }
        Err(e) => Err(from_clap(&e, &typed)),
    }
}

fn utf8(a: OsString, what: impl Fn() -> String) -> anyhow::Result<String> {
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
struct Typed {
    /// `sub-build-alpha` as typed, or the command's name.
    word: String,
    /// The clap subcommand it became.
    name: String,
}

/// `cargo xtask [FLAGS…] COMMAND [ARGS…]` → `xtask COMMAND [FLAGS…] [ARGS…]`: flags typed before
/// the command go after it (each command defines its own), `sub-build-IMG` becomes
/// `sub-build IMG`. A value-taking flag takes its value, never more: a command word after
/// it that it took is said so, and an unknown command word gets a did-you-mean.
fn normalize(command: &clap::Command, args: Vec<String>) -> anyhow::Result<(Vec<String>, Typed)> {
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
fn check_env_utf8(
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
fn from_clap(e: &clap::Error, typed: &Typed) -> anyhow::Error {
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
    std::io::stdout().write_all(&script)?;
    Ok(())
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

#[cfg(test)]
mod tests {
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
        for not in [
            "dry-run",
            "registry",
            "remote-docker-url",
            "jobs",
            "skip-unchanged",
        ] {
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
}
