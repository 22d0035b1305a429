//! `cargo xtask verify [TARGET]`: checks that every tag TARGET would have pushed is in the
//! registry with the right platform — Windows tags windows/amd64, cache tags linux/amd64,
//! manifest lists exactly over the manifests their per-version tags hold now, each entry with
//! the os.version its image must carry, one per Windows build — asking through docker
//! (`buildx imagetools`, so docker's own credentials), and prints a table (`--json`: rows and
//! a summary). Exit 1 names every wrong tag. A list without an entry for a supported Windows
//! release is a warning naming the clusters that would fail (`config::releases::coverage`).
//! `--against OTHER` compares every tag with its promoted copy instead (`against.rs`).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::against;
use crate::config::{releases, Opts};
use crate::docker::oci::{short_digest, windows_build};
use crate::docker::{self, resolve};
use crate::error::{print, StepFailed};
use crate::plan::{Action, Kind, ListSpec, Plan, Target};
use crate::preflight;

/// One row of the table.
struct Row {
    tag: String,
    expected: String,
    found: String,
    ok: bool,
    /// Release coverage (lists only): right, but some clusters would fail to run it.
    warnings: Vec<String>,
}

pub fn run(opts: Opts, target: Option<&str>, against: Option<&str>) -> anyhow::Result<()> {
    let target = Target::named(target.unwrap_or("push-as-linux"))?;
    let against = against.map(super::against::check_other).transpose()?;
    let (cfg, plan) = super::plan_for(&opts, &target)?;
    let docker_cli = preflight::find_docker()?;
    preflight::buildx(&docker_cli)?;
    if let Some(other) = against {
        return run_against(&docker_cli, &cfg, &plan, &other);
    }
    let rows = check(&docker_cli, &plan, cfg.registry_timeout);
    for w in rows.iter().flat_map(|r| &r.warnings) {
        eprintln!("xtask: warning: {w}");
    }
    if cfg.json {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json(&plan, &rows))?
        ))?;
    } else {
        print_table(&plan, &rows)?;
    }
    let bad: Vec<&str> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.tag.as_str())
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(StepFailed(format!(
        "verify {}: {} of {} tags wrong: {}",
        plan.target.name(),
        bad.len(),
        rows.len(),
        bad.join(", ")
    ))
    .into())
}

/// One row per tag the target pushes, in plan order. Every tag is asked at once, each query
/// within `timeout` (REGISTRY_TIMEOUT): a registry that does not answer costs one timeout, not
/// one per tag.
fn check(docker: &Path, plan: &Plan, timeout: Duration) -> Vec<Row> {
    std::thread::scope(|scope| {
        let checks: Vec<_> =
            plan.steps
                .iter()
                .filter_map(|step| {
                    let check =
                        match (step.kind(), &step.action) {
                            (Kind::Push, _) => scope
                                .spawn(|| check_image(docker, &step.tag, "windows/amd64", timeout)),
                            (Kind::Cache, _) => scope
                                .spawn(|| check_image(docker, &step.tag, "linux/amd64", timeout)),
                            (Kind::List, Action::List(spec)) => {
                                scope.spawn(move || check_list(docker, spec, timeout))
                            }
                            _ => return None,
                        };
                    Some((step, check))
                })
                .collect();
        checks
            .into_iter()
            .map(|(step, check)| {
                check.join().unwrap_or_else(|_| Row {
                    tag: step.tag.clone(),
                    expected: String::new(),
                    found: "the check panicked".into(),
                    ok: false,
                    warnings: Vec::new(),
                })
            })
            .collect()
    })
}

fn print_table(plan: &Plan, rows: &[Row]) -> anyhow::Result<()> {
    if rows.is_empty() {
        return print(&format!(
            "verify {}: this target pushes nothing\n",
            plan.target.name()
        ));
    }
    let w = rows.iter().map(|r| r.tag.len()).max().unwrap_or(3).max(3);
    let we = rows
        .iter()
        .map(|r| r.expected.len())
        .max()
        .unwrap_or(8)
        .max(8);
    print(&format!("   {:<w$}  {:<we$}  FOUND\n", "TAG", "EXPECTED"))?;
    for r in rows {
        let mark = if r.ok { "✓" } else { "✗" };
        print(&format!(
            "{mark}  {:<w$}  {:<we$}  {}\n",
            r.tag, r.expected, r.found
        ))?;
    }
    if rows.iter().all(|r| r.ok) {
        print(&format!(
            "verify {}: all {} tags hold\n",
            plan.target.name(),
            rows.len()
        ))?;
    }
    Ok(())
}

/// `verify --json`: the rows and a summary, on stdout; the exit code as without --json.
fn json(plan: &Plan, rows: &[Row]) -> Value {
    let wrong: Vec<&str> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.tag.as_str())
        .collect();
    json!({
        "target": plan.target.name(),
        "mode": if plan.matrix { "matrix" } else { "compat" },
        "rows": rows.iter().map(|r| json!({
            "tag": r.tag,
            "expected": r.expected,
            "found": r.found,
            "ok": r.ok,
            "warnings": r.warnings,
        })).collect::<Vec<_>>(),
        "summary": {
            "tags": rows.len(),
            "ok": rows.len() - wrong.len(),
            "wrong": wrong,
        },
    })
}

fn check_image(docker: &Path, tag: &str, want: &str, timeout: Duration) -> Row {
    let found = match docker::ask_registry(docker, &docker::inspect_config(tag), timeout) {
        Err(e) => Err(short(&e)),
        Ok(text) => serde_json::from_str::<Value>(&text)
            .map(|v| platforms(&v).join(", "))
            .map_err(|e| format!("unreadable answer: {e}")),
    };
    let (found, ok) = match found {
        Ok(f) => {
            let ok = f == want;
            (f, ok)
        }
        Err(e) => (e, false),
    };
    Row {
        tag: tag.into(),
        expected: want.into(),
        found,
        ok,
        warnings: Vec::new(),
    }
}

/// `os/arch` of one config, or of every entry of a platform-keyed map of configs.
fn platforms(v: &Value) -> Vec<String> {
    let one = |c: &Value| {
        format!(
            "{}/{}",
            c["os"].as_str().unwrap_or("?"),
            c["architecture"].as_str().unwrap_or("?")
        )
    };
    match v.get("os") {
        Some(_) => vec![one(v)],
        None => v
            .as_object()
            .map(|m| m.values().map(one).collect())
            .unwrap_or_default(),
    }
}

/// A list is right when it references exactly the manifests its per-version tags hold now,
/// each with the os.version that image must carry, one entry per Windows build — the same
/// judgement the list step and skip-unchanged make (`ListSpec::problems`).
fn check_list(docker: &Path, spec: &ListSpec, timeout: Duration) -> Row {
    let oses: Vec<&str> = spec.entries.iter().map(|e| e.os.as_str()).collect();
    let expected = format!("list: {} tags' manifests, os.version each", oses.join(" "));
    let row = |found: String, ok: bool| Row {
        tag: spec.list.clone(),
        expected: expected.clone(),
        found,
        ok,
        warnings: Vec::new(),
    };
    let ask = |argv: &[String]| docker::ask_registry(docker, argv, timeout);
    let found = match resolve::list(&ask, &spec.list) {
        Ok(f) => f,
        Err(e) => return row(short(&e), false),
    };
    let mut wanted = Vec::new();
    for e in &spec.entries {
        match resolve::image(&ask, &e.tag, &spec.repo, e.base.as_deref()) {
            Ok(w) => wanted.push(w),
            Err(m) => {
                return row(
                    format!("cannot tell what {} must hold: {}", e.tag, short(&m)),
                    false,
                )
            }
        }
    }
    let problems = spec.problems(&wanted, &found);
    if !problems.is_empty() {
        return row(problems.join("; "), false);
    }
    let entries: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f.platform,
                f.os_version.as_deref().unwrap_or("-"),
                short_digest(&f.digest)
            )
        })
        .collect();
    let builds: Vec<u32> = found
        .iter()
        .filter_map(|f| f.os_version.as_deref().and_then(windows_build))
        .collect();
    Row {
        warnings: releases::coverage(&spec.list, &builds),
        ..row(entries.join(", "), true)
    }
}

/// `--against OTHER`: every tag the target pushes, compared with its name in OTHER.
fn run_against(
    docker_cli: &Path,
    cfg: &crate::config::Config,
    plan: &Plan,
    other: &str,
) -> anyhow::Result<()> {
    let tags: Vec<(String, bool)> = plan
        .steps
        .iter()
        .filter(|s| s.kind() != Kind::Build)
        .map(|s| (s.tag.clone(), s.kind() == Kind::List))
        .collect();
    let compared = against::compare_all(
        docker_cli,
        &tags,
        &cfg.registry,
        other,
        cfg.registry_timeout,
    );
    if cfg.json {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({
                "target": plan.target.name(),
                "registry": cfg.registry,
                "against": other,
                "rows": compared.iter().map(against::json).collect::<Vec<_>>(),
            }))?
        ))?;
    } else {
        for c in &compared {
            let mark = if c.differences.is_empty() {
                "✓"
            } else {
                "✗"
            };
            print(&format!(
                "{mark}  {}  {}\n",
                c.here,
                against::describe(&c.found_here)
            ))?;
            for d in &c.differences {
                print(&format!("     {d}\n"))?;
            }
        }
    }
    let bad: Vec<&str> = compared
        .iter()
        .filter(|c| !c.differences.is_empty())
        .map(|c| c.here.as_str())
        .collect();
    if bad.is_empty() {
        if !cfg.json {
            print(&format!(
                "verify --against {other}: all {} tags the same\n",
                compared.len()
            ))?;
        }
        return Ok(());
    }
    Err(StepFailed(format!(
        "verify --against {other}: {} of {} tags differ: {}",
        bad.len(),
        compared.len(),
        bad.join(", ")
    ))
    .into())
}

/// The first line of docker's complaint, enough for a table cell.
fn short(e: &str) -> String {
    let line = e.lines().find(|l| !l.trim().is_empty()).unwrap_or("error");
    let line = line.trim_start_matches("ERROR: ");
    if line.contains("not found") {
        "missing".into()
    } else {
        line.chars().take(120).collect()
    }
}
