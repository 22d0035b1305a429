//! `cargo xtask verify [TARGET]`: checks that every tag TARGET would have pushed is in the
//! registry with the right platform — Windows tags windows/amd64, cache tags linux/amd64,
//! manifest lists exactly over the manifests their per-version tags hold now, each entry with
//! the os.version its image must carry, one per Windows build — asking through docker
//! (`buildx imagetools`, so docker's own credentials), and prints a table (`--json`: rows and
//! a summary). Exit 1 names every wrong tag, and every tag it could not ask about ("unknown",
//! with docker's whole reason — never "wrong", which means the registry holds something else).
//! What the registry says is shown escaped and bounded.

use serde_json::{json, Value};

mod against;

use super::Planning;
use crate::docker::oci::short_digest;
use crate::docker::{resolve, Client, Registry};
use crate::error::{print, StepFailed};
use crate::plan::{Action, Kind, ListSpec, Plan};
use crate::preflight;

/// One row of the table.
struct Row {
    tag: String,
    expected: String,
    /// What the registry holds, or why it could not be told (escaped, one line).
    found: String,
    ok: bool,
    /// The registry could not be asked (no answer, refused, unreadable): "unknown", never
    /// "wrong" — verify says wrong only when it read something else.
    unknown: bool,
    /// Release coverage (lists only): right, but some clusters would fail to run it.
    warnings: Vec<String>,
}

/// Why a tag could not be checked, or that it is missing: docker's complaint, whole (its first
/// line, escaped), and whether it is a reading (missing) rather than a failure to ask.
fn asked(e: &str) -> (String, bool) {
    let line = e.lines().find(|l| !l.trim().is_empty()).unwrap_or("error");
    let line = line.trim_start_matches("ERROR: ");
    let lower = line.to_lowercase();
    if ["not found", "manifest unknown", "name unknown"]
        .iter()
        .any(|m| lower.contains(m))
    {
        ("missing".into(), false)
    } else {
        (format!("unknown: {}", crate::error::shown_line(line)), true)
    }
}

/// What verify is handed: the target's planning groups, whether to answer in JSON, and the
/// registry of the promoted copies to compare with instead (`--against`).
#[derive(Debug, Clone)]
pub struct Input {
    pub planning: Planning,
    pub json: bool,
    pub against: Option<String>,
}

pub fn run(input: Input) -> anyhow::Result<()> {
    let (planning, as_json) = (input.planning, input.json);
    let against = input
        .against
        .as_deref()
        .map(against::check_other)
        .transpose()?;
    let (_, plan) = planning.plan(Planning::as_they_are())?;
    let docker = Client::find(planning.registry.timeout)?;
    preflight::buildx(&docker)?;
    if let Some(other) = against {
        return run_against(docker.registry(), &planning, as_json, &plan, &other);
    }
    let rows = check(docker.registry(), &plan);
    for w in rows.iter().flat_map(|r| &r.warnings) {
        crate::error::say(&format!("xtask: warning: {w}"));
    }
    if as_json {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json(&plan, &rows))?
        ))?;
    } else {
        print_table(&plan, &rows)?;
    }
    let (wrong, unknown) = not_ok(&rows);
    let mut why = Vec::new();
    if !wrong.is_empty() {
        why.push(format!(
            "{} of {} tags wrong: {}",
            wrong.len(),
            rows.len(),
            wrong.join(", ")
        ));
    }
    if !unknown.is_empty() {
        // Not "wrong": nothing was read. Still not a pass.
        why.push(format!(
            "{} of {} tags unknown (the registry could not be asked, see the table): {}",
            unknown.len(),
            rows.len(),
            unknown.join(", ")
        ));
    }
    if why.is_empty() {
        return Ok(());
    }
    Err(StepFailed(format!("verify {}: {}", plan.target.name(), why.join("; "))).into())
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

/// The tags read wrong and the tags that could not be asked about, in row order.
fn not_ok(rows: &[Row]) -> (Vec<&str>, Vec<&str>) {
    let tags = |unknown: bool| -> Vec<&str> {
        rows.iter()
            .filter(|r| !r.ok && r.unknown == unknown)
            .map(|r| r.tag.as_str())
            .collect()
    };
    (tags(false), tags(true))
}

/// `verify --json`: the rows and a summary, on stdout; the exit code as without --json.
fn json(plan: &Plan, rows: &[Row]) -> Value {
    let (wrong, unknown) = not_ok(rows);
    json!({
        "target": plan.target.name(),
        "mode": if plan.matrix { "matrix" } else { "compat" },
        "rows": rows.iter().map(|r| json!({
            "tag": r.tag,
            "expected": r.expected,
            "found": r.found,
            "ok": r.ok,
            "state": if r.ok { "ok" } else if r.unknown { "unknown" } else { "wrong" },
            "warnings": r.warnings,
        })).collect::<Vec<_>>(),
        "summary": {
            "tags": rows.len(),
            "ok": rows.iter().filter(|r| r.ok).count(),
            "wrong": wrong,
            "unknown": unknown,
        },
    })
}

fn check_image(registry: Registry, tag: &str, want: &str) -> Row {
    let found = match registry.config(tag) {
        Err(e) => Err(asked(e.message())),
        Ok(v) => Ok(platforms(&v).join(", ")),
    };
    let (found, ok, unknown) = match found {
        Ok(f) => {
            let ok = f == want;
            (f, ok, false)
        }
        Err((e, unknown)) => (e, false, unknown),
    };
    Row {
        tag: tag.into(),
        expected: want.into(),
        found,
        ok,
        unknown,
        warnings: Vec::new(),
    }
}

/// `os/arch` of one config, or of every entry of a platform-keyed map of configs.
fn platforms(v: &Value) -> Vec<String> {
    // The registry's words: escaped and bounded.
    let one = |c: &Value| {
        format!(
            "{}/{}",
            crate::error::shown(c["os"].as_str().unwrap_or("?")),
            crate::error::shown(c["architecture"].as_str().unwrap_or("?"))
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
    let row = |found: String, ok: bool, unknown: bool| Row {
        tag: spec.list.clone(),
        expected: expected.clone(),
        found: crate::error::shown_line(&found),
        ok,
        unknown,
        warnings: Vec::new(),
    };
    let ask = registry.asker();
    let found = match resolve::list(&ask, &spec.list) {
        Ok(f) => f,
        Err(e) => {
            let (why, unknown) = asked(&e);
            return row(why, false, unknown);
        }
    };
    let mut wanted = Vec::new();
    for e in &spec.entries {
        match resolve::image(&ask, &e.tag, &spec.repo, e.base.as_deref()) {
            Ok(w) => wanted.push(w),
            Err(m) => {
                let (why, _) = asked(&m);
                return row(
                    format!("cannot tell what {} must hold: {why}", e.tag),
                    false,
                    true,
                );
            }
        }
    }
    let problems = spec.problems(&wanted, &found);
    if !problems.is_empty() {
        return row(problems.join("; "), false, false);
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
        .filter_map(|f| {
            f.os_version
                .as_deref()
                .and_then(crate::windows::build_of_os_version)
        })
        .collect();
    Row {
        warnings: crate::windows::coverage::coverage(&spec.list, &builds),
        ..row(entries.join(", "), true, false)
    }
}

/// `--against OTHER`: every tag the target pushes, compared with its name in OTHER.
fn run_against(
    reader: Registry,
    planning: &Planning,
    as_json: bool,
    plan: &Plan,
    other: &str,
) -> anyhow::Result<()> {
    let registry = &planning.registry.prefix;
    let tags: Vec<(String, bool)> = plan
        .steps
        .iter()
        .filter(|s| s.kind() != Kind::Build)
        .map(|s| (s.tag.clone(), s.kind() == Kind::List))
        .collect();
    let compared = against::compare_all(reader, &tags, registry, other);
    if as_json {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({
                "target": plan.target.name(),
                "registry": registry,
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
        if !as_json {
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
