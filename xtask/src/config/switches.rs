//! The switches that change what a command prints, not what it does: `-n/--dry-run` and
//! `--json`. Plain flags that take no value (a flag with an optional value would take the next
//! word, the command, as its value).

use crate::error::BadInput;

/// `-n/--dry-run` and `--json` (the plan as JSON, with -n only).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DryRunArgs {
    /// Print the commands instead of running them.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// With -n: print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

impl DryRunArgs {
    /// `--json` of the running commands prints the plan, so it needs -n: a run's record is
    /// another matter (its summary).
    pub fn resolve(self) -> anyhow::Result<DryRunArgs> {
        if self.json && !self.dry_run {
            return Err(BadInput::new(
                "option",
                "--json",
                "--json prints the plan as JSON, so it needs -n/--dry-run: without it the run would ignore it",
                "add -n to print the plan as JSON (or use `cargo xtask plan TARGET --json`)",
            ));
        }
        Ok(self)
    }
}

/// `--json` alone, for the commands that report.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct JsonArg {
    /// Machine-readable output (JSON on stdout).
    #[arg(long)]
    pub json: bool,
}
