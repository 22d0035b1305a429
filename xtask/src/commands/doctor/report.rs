//! Doctor's report: one check per line (✓ ok, ! warning, ✗ failure with a fix), printed as
//! each check finishes (text) or as one document at the end (JSON), and the summary line.

use serde_json::{json, Value};

use super::super::Planning;
use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub(super) fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }
    pub(super) fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warning",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub(super) struct Check {
    pub(super) status: Status,
    /// "local", "node" (compat mode) or "node 1809".
    pub(super) scope: String,
    pub(super) name: &'static str,
    pub(super) detail: String,
    /// How to fix it (failures and warnings).
    pub(super) hint: Option<String>,
}

/// The longest check name ("client cert"): labels line up when printed one by one.
const NAME_WIDTH: usize = 11;

#[derive(Default)]
pub(super) struct Report {
    pub(super) checks: Vec<Check>,
    /// Text mode: each check is printed as it is added, its label padded to this width.
    live: Option<usize>,
}

impl Report {
    /// A report that prints each check as it is added (the user sees progress while a slow
    /// check — a node behind a firewall, the first build of the cert tool — runs), labels
    /// padded for the widest scope.
    pub(super) fn live<'a>(scopes: impl Iterator<Item = &'a str>) -> Report {
        let w = scopes.map(|s| s.chars().count()).max().unwrap_or(0) + 2 + NAME_WIDTH;
        Report {
            checks: Vec::new(),
            live: Some(w),
        }
    }

    fn push(&mut self, mut c: Check) {
        // Details quote what nodes, registries and docker said: one line each, escaped and
        // bounded, whatever they said (issue 19 §5).
        c.detail = crate::error::shown_line(&c.detail);
        c.hint = c.hint.map(|h| crate::error::shown_line(&h));
        if let Some(w) = self.live {
            // A closed stdout ends the command at its footer (exit 141), not here.
            let _ = crate::error::print(&line(&c, w));
        }
        self.checks.push(c);
    }

    pub(super) fn add(&mut self, status: Status, scope: &str, name: &'static str, detail: String) {
        self.push(Check {
            status,
            scope: scope.to_string(),
            name,
            detail,
            hint: None,
        });
    }
    pub(super) fn hint(
        &mut self,
        status: Status,
        scope: &str,
        name: &'static str,
        detail: String,
        hint: String,
    ) {
        self.push(Check {
            status,
            scope: scope.to_string(),
            name,
            detail,
            hint: Some(hint),
        });
    }
    pub(super) fn count(&self, s: Status) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }
}

/// `doctor TARGET (mode)`: the first line of the text report.
pub(super) fn header(cfg: &Planning, plan: &Plan) -> String {
    let mode = if cfg.releases.is_matrix() {
        format!("matrix mode: {}", cfg.releases.names().join(" "))
    } else {
        "compat mode".to_string()
    };
    format!("doctor {} ({mode})\n", plan.target.name())
}

/// One check: `✓  scope: name  detail`, and a `fix:` line under a warning or failure.
pub(super) fn line(c: &Check, w: usize) -> String {
    let label = format!("{}: {}", c.scope, c.name);
    let mut out = format!("{}  {label:<w$}  {}\n", c.status.mark(), c.detail);
    if let (Some(h), true) = (&c.hint, c.status != Status::Ok) {
        out.push_str(&format!("   {:<w$}  fix: {h}\n", ""));
    }
    out
}

/// The last line of the text report: the counts.
pub(super) fn footer(report: &Report) -> String {
    match (report.count(Status::Fail), report.count(Status::Warn)) {
        (0, 0) => "all checks passed\n".to_string(),
        (0, w) => format!("all checks passed, {w} warning{}\n", plural(w)),
        (f, w) => format!("{f} failed, {w} warning{}\n", plural(w)),
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The report as JSON, for machines.
pub(super) fn json(cfg: &Planning, plan: &Plan, report: &Report) -> Value {
    let checks: Vec<Value> = report
        .checks
        .iter()
        .map(|c| {
            json!({
                "status": c.status.word(),
                "scope": c.scope,
                "check": c.name,
                "detail": c.detail,
                "hint": c.hint,
            })
        })
        .collect();
    let fails = report.count(Status::Fail);
    json!({
        "target": plan.target.name(),
        "mode": if cfg.releases.is_matrix() { "matrix" } else { "compat" },
        "ok": fails == 0,
        "failures": fails,
        "warnings": report.count(Status::Warn),
        "checks": checks,
    })
}

pub(super) fn tail_after<'a>(s: &'a str, marker: &str) -> &'a str {
    first_line(s.find(marker).map(|i| &s[i + marker.len()..]).unwrap_or(s))
}

pub(super) fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or_default()
}
