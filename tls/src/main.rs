//! xtask-tls: the certificate half of `cargo xtask tls` and `cargo xtask doctor`, a crate of
//! its own so that its crypto (ring) and X.509 parsing are compiled only the first time
//! someone makes or checks certs, never on xtask's own cold build. xtask validates the user's
//! flags (with tls-spec, which defines them for both crates) and runs this binary through
//! cargo:
//!
//!   xtask-tls make --server-name=NAME --ip=A[,B…] --dns=X,… --days=N --out=DIR --ca=DIR … [--force] [--dry-run]
//!   xtask-tls inspect DIR [--json]
//!
//! `make` checks everything, then writes the layout of `cargo xtask tls` (make.rs, node.rs,
//! place.rs) or, with --dry-run, writes nothing; it prints its outcome as one JSON object
//! (tls-spec's `Outcome`) for xtask. `inspect` reports facts about a cert folder
//! (inspect.rs). Exit codes: 0 ok, 1 failed, 2 bad input.

mod inspect;
mod make;
mod node;
mod place;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "xtask-tls",
    about = "TLS material for a Windows Docker node (run it through `cargo xtask tls`)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write DIR/ca, DIR/node and DIR/client: a CA, a server cert for the node, a client cert.
    /// Prints the outcome as JSON (for `cargo xtask tls`, which shows it).
    Make {
        #[command(flatten)]
        args: tls_spec::Args,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Facts about a cert folder: per certificate its subject, SANs, key usages, validity and
    /// whether ca.pem signed it; per private key its file mode and whether it fits its cert.
    Inspect {
        dir: PathBuf,
        /// JSON for machines (what `cargo xtask doctor` reads).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Make { args, dry_run } => {
            let outcome = make::run(&args, dry_run);
            println!("{}", outcome.to_json());
            ExitCode::from(outcome.exit_code())
        }
        Cmd::Inspect { dir, json } => match inspect::run(&dir, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask-tls: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}
