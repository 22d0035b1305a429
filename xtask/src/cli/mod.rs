//! The command line: clap's definition of `cargo xtask`, one variant per command, each taking
//! only the groups of variables that mean something to it (config/, one file per group), so
//! `cargo xtask help COMMAND` lists exactly what applies, with an example, and a flag given to
//! a command it means nothing to is refused (exit 2). `parse` also does what clap does not:
//! flags typed before the command are moved after it (`cargo xtask -n push` works), a flag's
//! value is never mistaken for the command, make's one-word targets (`sub-build-IMG`) become
//! commands, a mistyped command gets a did-you-mean, non-UTF-8 arguments and variables are
//! named, and clap's refusals become bad input like any other. Values are validated in config.

mod args;
mod meta;
#[cfg(test)]
mod tests;
mod words;

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

use crate::config;
pub use args::*;
pub use meta::{completions, version};
use words::{check_env_utf8, from_clap, normalize, utf8};

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
  cargo xtask tls --server-name winbuild --ip 10.1.2.3 --out ~/xtask-certs
  cargo xtask tls --server-name winbuild2 --ip 10.1.2.4 --ca ~/xtask-certs/ca --out ~/xtask-certs-node2
  make tls TLS_SERVER_NAME=winbuild TLS_IP=10.1.2.3 TLS_OUT=$HOME/xtask-certs
Keep --out outside this checkout: ca/ holds the CA's private key.
On the node, as Administrator, in the copied node/ folder:
  powershell -ExecutionPolicy Bypass -File .\\install.ps1";
const EX_REPORT: &str = "Examples:
  cargo xtask report target/run.json                   # writes target/run.html: the run's timeline
  cargo xtask report run.json --out /tmp/timeline.html";
const EX_PROMOTION: &str = "Examples:
  cargo xtask promotion target/run.json >> ../k8s.io/registry.k8s.io/images/k8s-staging-e2e-test-images/images.yaml";
const EX_PIN: &str = "Examples:
  cargo xtask pin-bases -n                             # show today's digests for the pinned lines
  cargo xtask pin-bases --all                          # pin every BASEIMAGE line";
const EX_COMPLETIONS: &str = "Examples:
  cargo xtask completions bash > ~/.local/share/bash-completion/completions/cargo
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
    Verify(VerifyCmd),
    /// Check everything TARGET needs (CLI, buildx, certs, nodes, registry) before a build.
    #[command(after_help = EX_DOCTOR)]
    Doctor(DoctorCmd),
    /// Make a CA, a server cert for a Windows node and a client cert (replaces dockertls-windows).
    #[command(after_help = EX_TLS)]
    Tls(TlsCmd),
    /// Check the image folders: Dockerfiles (no RUN/WORKDIR in Windows stages), VERSION, BASEIMAGE.
    #[command(after_help = EX_LINT)]
    Lint(LintCmd),
    /// Draw a run report (REPORT=FILE of a run) as a timeline: HTML with an SVG, no JavaScript.
    #[command(after_help = EX_REPORT)]
    Report(ReportCmd),
    /// Print the images.yaml entries (kubernetes/k8s.io promotion) for what a run pushed.
    #[command(after_help = EX_PROMOTION)]
    Promotion(PromotionCmd),
    /// Move BASEIMAGE pins (…:tag@sha256:…) to today's digests, showing old and new os.version.
    #[command(after_help = EX_PIN)]
    PinBases(PinCmd),
    /// Print a shell completion script for bash or zsh on stdout.
    #[command(after_help = EX_COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
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
    // Help and completions into a closed pipe end as every command's output does (141).
    let written = crate::error::written;
    if args.is_empty() {
        written(Cli::command().print_help())?;
        return Ok(Parsed::Done);
    }
    let (argv, typed) = normalize(&command, args)?;
    if let Some(name) = argv.get(1) {
        check_env_utf8(&command, name, env, env_os)?;
    }
    match Cli::try_parse_from(&argv) {
        Ok(Cli { version: true, .. }) => {
            crate::error::print(&format!("{}\n", version()))?;
            Ok(Parsed::Done)
        }
        Ok(Cli { cmd: Some(cmd), .. }) => Ok(Parsed::Run(Box::new(cmd))),
        Ok(Cli { cmd: None, .. }) => {
            written(Cli::command().print_help())?;
            Ok(Parsed::Done)
        }
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            written(e.print())?;
            Ok(Parsed::Done)
        }
        Err(e) => Err(from_clap(&e, &typed)),
    }
}
