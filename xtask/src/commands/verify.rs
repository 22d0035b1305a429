//! `cargo xtask verify [TARGET]`: checks that every tag TARGET would have pushed is in the
//! registry with the right platform — Windows tags windows/amd64, cache tags linux/amd64,
//! manifest lists exactly over the manifests their per-version tags hold now, each entry with
//! the os.version its image must carry, one per Windows build — asking through docker
//! (`buildx imagetools`, so docker's own credentials), and prints a table (`--json`: rows and
//! a summary). Exit 1 names every wrong tag.

use serde_json::{json, Value};

use super::{Inspect, Planning};
use crate::docker::oci::short_digest;
use crate::docker::{resolve, Client, Registry};
use crate::error::{print, StepFailed};
use crate::plan::{Action, Kind, ListSpec, Plan};
use crate::preflight;

/// One row of the table.
struct Row {
    tag: String,
    expected: String,
    found: String,
    ok: bool,
}

pub fn run(input: Inspect) -> anyhow::Result<()> {
    let (planning, as_json) = (input.planning, input.json);
    let (_, plan) = planning.plan(Planning::as_they_are())?;
    let docker = Client::find(planning.registry.timeout)?;
    preflight::buildx(&docker)?;
    let rows = check(docker.registry(), &plan);
    if as_json {
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

/// One row per tag the target pushes, in plan order. The tags are asked a few at once
/// (`docker::QUERIES_AT_ONCE`; registries rate-limit), each query within `timeout`
/// (REGISTRY_TIMEOUT): a registry that does not answer costs one timeout per round of queries,
/// not one per tag.
fn check(registry: Registry, plan: &Plan) -> Vec<Row> {
    let steps: Vec<&crate::plan::Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.kind(), Kind::Push | Kind::Cache | Kind::List))
        .collect();
    crate::docker::at_most(crate::docker::QUERIES_AT_ONCE, &steps, |step| {
        match (step.kind(), &step.action) {
            (Kind::Push, _) => check_image(registry, &step.tag, "windows/amd64"),
            (Kind::List, Action::List(spec)) => check_list(registry, spec),
            _ => check_image(registry, &step.tag, "linux/amd64"),
        }
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
        })).collect::<Vec<_>>(),
        "summary": {
            "tags": rows.len(),
            "ok": rows.len() - wrong.len(),
            "wrong": wrong,
        },
    })
}

fn check_image(registry: Registry, tag: &str, want: &str) -> Row {
    let found = match registry.config(tag) {
        Err(e) => Err(short(e.message())),
        Ok(v) => Ok(platforms(&v).join(", ")),
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
fn check_list(registry: Registry, spec: &ListSpec) -> Row {
    let oses: Vec<&str> = spec.entries.iter().map(|e| e.os.as_str()).collect();
    let expected = format!("list: {} tags' manifests, os.version each", oses.join(" "));
    let row = |found: String, ok: bool| Row {
        tag: spec.list.clone(),
        expected: expected.clone(),
        found,
        ok,
    };
    let ask = registry.asker();
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
    row(entries.join(", "), true)
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
