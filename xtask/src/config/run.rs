//! The run group: how many steps run at once (JOBS, NODE_JOBS, LOCAL_JOBS), retries
//! (RETRIES), how long a step may be silent (STEP_IDLE_CHECK, STEP_IDLE_TIMEOUT), and
//! skip-unchanged (--skip-unchanged, SKIP_UNCHANGED=1), going on after a failure (-k,
//! KEEP_GOING=1, make -k).

use std::time::Duration;

use super::parse::{parse_number, parse_seconds, parse_switch};
use super::Env;

/// How a run runs.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Steps run at once in all [default: 1 in compat mode (upstream's order); in matrix mode
    /// no overall cap: NODE_JOBS and LOCAL_JOBS bound the steps].
    #[arg(short = 'j', long, env = "JOBS", value_name = "N")]
    pub jobs: Option<String>,
    /// Builds at once on one Windows node, whichever release they are for; its pushes run
    /// beside them, one at a time [default: 1].
    #[arg(long, env = "NODE_JOBS", value_name = "N")]
    pub node_jobs: Option<String>,
    /// Cache builds at once on this machine (manifest lists take no slot) [default: 2].
    #[arg(long, env = "LOCAL_JOBS", value_name = "N")]
    pub local_jobs: Option<String>,
    /// Extra attempts after a transient registry error on push/list/cache [default: 3].
    #[arg(long, env = "RETRIES", value_name = "N")]
    pub retries: Option<String>,
    /// Seconds a step may print nothing before its node and registry are checked, and again
    /// after each further such silence; one that does not answer ends the step [default: 60].
    #[arg(long, env = "STEP_IDLE_CHECK", value_name = "S")]
    pub step_idle_check: Option<String>,
    /// Seconds a step may print nothing at all, even though its node and registry answer
    /// [default: 1800].
    #[arg(long, env = "STEP_IDLE_TIMEOUT", value_name = "S")]
    pub step_idle_timeout: Option<String>,
    /// After a step fails, go on with the steps that do not depend on it; the run still ends 1,
    /// naming every failure [env: KEEP_GOING=1; also `make -k`].
    #[arg(short = 'k', long)]
    pub keep_going: bool,
}

/// `--skip-unchanged` (SKIP_UNCHANGED=1).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct SkipArg {
    /// Skip the steps whose inputs (folder, build args, base digests) are unchanged since the image in the registry was built (read from its label) [env: SKIP_UNCHANGED=1].
    #[arg(long)]
    pub skip_unchanged: bool,
}

impl SkipArg {
    /// A plain switch on the command line (it takes no value, so it cannot take the next
    /// word); the environment's SKIP_UNCHANGED=1 means the same.
    pub fn resolve(self, env: &Env) -> anyhow::Result<bool> {
        Ok(self.skip_unchanged
            || parse_switch(
                "SKIP_UNCHANGED",
                env.get("SKIP_UNCHANGED"),
                "SKIP_UNCHANGED=1 (or --skip-unchanged) skips images whose inputs are unchanged",
            )?)
    }
}

/// The run's limits, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSettings {
    /// JOBS: steps at once in all (None: the mode's default).
    pub jobs: Option<usize>,
    /// NODE_JOBS: builds at once on one Windows node (None: the default, 1).
    pub node_jobs: Option<usize>,
    /// LOCAL_JOBS: cache builds at once on this machine (None: the default).
    pub local_jobs: Option<usize>,
    /// Extra attempts after a transient registry error.
    pub retries: u32,
    /// STEP_IDLE_CHECK: silence after which a step's node and registry are checked.
    pub step_idle_check: Duration,
    /// STEP_IDLE_TIMEOUT: silence after which a step is stopped anyway.
    pub step_idle_timeout: Duration,
    /// KEEP_GOING (`-k`, `make -k`): after a failure, steps that do not depend on it go on.
    pub keep_going: bool,
}

impl RunArgs {
    pub fn resolve(self, env: &Env) -> anyhow::Result<RunSettings> {
        let jobs = parse_number("JOBS", self.jobs.as_deref(), 1..=64, "e.g. -j 2")?;
        let local_jobs = parse_number(
            "LOCAL_JOBS",
            self.local_jobs.as_deref(),
            1..=64,
            "cache builds at once on this machine, e.g. LOCAL_JOBS=2",
        )?;
        let node_jobs = parse_number(
            "NODE_JOBS",
            self.node_jobs.as_deref(),
            1..=16,
            "builds at once on one Windows node; the default, 1, keeps one build per node",
        )?;
        let retries = parse_number(
            "RETRIES",
            self.retries.as_deref(),
            0..=10,
            "RETRIES=0 turns retries off; the default is 3",
        )?
        .unwrap_or(3) as u32;
        let step_idle_check = parse_seconds(
            "STEP_IDLE_CHECK",
            self.step_idle_check.as_deref(),
            86400,
            60,
            "seconds of silence before a step's node and registry are checked; the default is 60",
        )?;
        let step_idle_timeout = parse_seconds(
            "STEP_IDLE_TIMEOUT",
            self.step_idle_timeout.as_deref(),
            86400,
            1800,
            "seconds of silence after which a step is stopped; the default is 1800",
        )?;
        // A plain switch on the command line; KEEP_GOING=1 and `make -k` (a `k` in the
        // MAKEFLAGS make hands its recipes) mean the same.
        let keep_going = self.keep_going
            || super::make::keeps_going(env.get("MAKEFLAGS"))
            || parse_switch(
                "KEEP_GOING",
                env.get("KEEP_GOING"),
                "KEEP_GOING=1 (or -k, or make -k) goes on with independent steps after a failure",
            )?;
        Ok(RunSettings {
            jobs,
            node_jobs,
            local_jobs,
            retries,
            step_idle_check,
            step_idle_timeout,
            keep_going,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    #[test]
    fn keep_going_from_the_flag_the_variable_or_make_k() {
        let off = RunArgs::default().resolve(&env(&[])).unwrap();
        assert!(!off.keep_going);
        let flag = RunArgs {
            keep_going: true,
            ..RunArgs::default()
        };
        assert!(flag.resolve(&env(&[])).unwrap().keep_going);
        let var = RunArgs::default().resolve(&env(&[("KEEP_GOING", "1")]));
        assert!(var.unwrap().keep_going);
        let make = RunArgs::default().resolve(&env(&[("MAKEFLAGS", "k -j2")]));
        assert!(make.unwrap().keep_going);
        let e = RunArgs::default()
            .resolve(&env(&[("KEEP_GOING", "yes")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("KEEP_GOING"), "{e}");
    }
}
