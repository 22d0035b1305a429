//! xtask-tls: the certificate half of `cargo xtask tls` and `cargo xtask doctor`, a crate of
//! its own so that its crypto (ring) and X.509 parsing are compiled only the first time
//! someone makes or checks certs, never on xtask's own cold build. xtask validates the user's
//! flags and runs this binary through cargo:
//!
//!   xtask-tls make --server-name NAME --ip A[,B…] [--dns X,…] [--days N] --out DIR [--ca DIR] [--force]
//!   xtask-tls inspect DIR [--json]
//!
//! `make` writes the layout of `cargo xtask tls` (make.rs, node.rs); `inspect` reports facts
//! about a cert folder (inspect.rs). Exit codes: 0 ok, 1 failed, 2 bad input.

mod inspect;
mod make;
mod node;

use std::net::IpAddr;
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
    Make {
        /// The node's host name: the server cert's CN and a DNS SAN.
        #[arg(long, value_name = "NAME")]
        server_name: String,
        /// The node's IP addresses (IP SANs), comma separated.
        #[arg(long, value_name = "A[,B…]", value_delimiter = ',', required = true)]
        ip: Vec<IpAddr>,
        /// More DNS names for the server cert, comma separated.
        #[arg(long, value_name = "X[,Y…]", value_delimiter = ',')]
        dns: Vec<String>,
        /// Validity of the server and client certs, in days.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=make::MAX_DAYS as i64))]
        days: u32,
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Issue with this existing CA (a folder with ca.pem and ca-key.pem) instead of a new one.
        #[arg(long, value_name = "DIR")]
        ca: Option<PathBuf>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
        /// Testing: start the validity of the server and client certs N days ago (with
        /// --days 1 --backdate 10 they expired 9 days ago).
        #[arg(long, hide = true, default_value_t = 0, value_name = "N")]
        backdate: u32,
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
    let result = match cli.cmd {
        Cmd::Make {
            server_name,
            ip,
            dns,
            days,
            out,
            ca,
            force,
            backdate,
        } => make::run(&make::Opts {
            server_name,
            ips: ip,
            dns,
            days,
            out,
            ca,
            force,
            backdate,
        }),
        Cmd::Inspect { dir, json } => inspect::run(&dir, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask-tls: {e:#}");
            if e.downcast_ref::<make::Refused>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
