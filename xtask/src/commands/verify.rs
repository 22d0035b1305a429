//! `cargo xtask verify [TARGET]`: checks that every tag TARGET would have pushed is in the
//! registry with the right platform — Windows tags windows/amd64, cache tags linux/amd64,
//! manifest lists one windows/amd64 entry per OS version, each with its os.version — asking
//! through docker (`buildx imagetools`, so docker's own credentials), and prints a table.

use std::path::Path;

use serde_json::Value;

use crate::config::{names, Opts};
use crate::docker::{self, oci};
use crate::error::StepFailed;
use crate::plan::{Action, Kind, Plan, Target};
use crate::preflight;

/// One row of the table.
struct Row {
    tag: String,
    expected: String,
    found: String,
    ok: bool,
}

pub fn run(opts: Opts, target: Option<&str>) -> anyhow::Result<()> {
    let target = Target::named(target.unwrap_or("push-as-linux"))?;
    let (_, plan) = super::plan_for(&opts, &target)?;
    let docker_cli = preflight::find_docker()?;
    preflight::buildx(&docker_cli)?;
    check(&docker_cli, &plan)
}

fn check(docker: &Path, plan: &Plan) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for step in &plan.steps {
        match (step.kind(), &step.action) {
            (Kind::Push, _) => rows.push(check_image(docker, &step.tag, "windows/amd64")),
            (Kind::Cache, _) => rows.push(check_image(docker, &step.tag, "linux/amd64")),
            (Kind::List, Action::List(spec)) => {
                let oses: Vec<&str> = spec.entries.iter().map(|e| e.os.as_str()).collect();
                rows.push(check_list(docker, &spec.list, &oses));
            }
            _ => {}
        }
    }
    if rows.is_empty() {
        println!("verify {}: this target pushes nothing", plan.target.name());
        return Ok(());
    }
    let w = rows.iter().map(|r| r.tag.len()).max().unwrap_or(3).max(3);
    let we = rows
        .iter()
        .map(|r| r.expected.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!("   {:<w$}  {:<we$}  FOUND", "TAG", "EXPECTED");
    for r in &rows {
        let mark = if r.ok { "✓" } else { "✗" };
        println!("{mark}  {:<w$}  {:<we$}  {}", r.tag, r.expected, r.found);
    }
    let bad: Vec<&str> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.tag.as_str())
        .collect();
    if bad.is_empty() {
        println!(
            "verify {}: all {} tags hold",
            plan.target.name(),
            rows.len()
        );
        Ok(())
    } else {
        Err(StepFailed(format!(
            "verify {}: {} of {} tags wrong: {}",
            plan.target.name(),
            bad.len(),
            rows.len(),
            bad.join(", ")
        ))
        .into())
    }
}

fn check_image(docker: &Path, tag: &str, want: &str) -> Row {
    let found = match docker::query(docker, &docker::inspect_config(tag), None).result() {
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

fn check_list(docker: &Path, list: &str, oses: &[&str]) -> Row {
    let expected = format!("list: windows/amd64 × {} with os.version", oses.join(" "));
    let raw = match docker::query(docker, &docker::inspect_raw(list), None).result() {
        Err(e) => {
            return Row {
                tag: list.into(),
                expected,
                found: short(&e),
                ok: false,
            };
        }
        Ok(t) => serde_json::from_str::<Value>(&t).unwrap_or(Value::Null),
    };
    let entries: Vec<&Value> = raw["manifests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["platform"]["os"] != "unknown")
                .collect()
        })
        .unwrap_or_default();
    let versions: Vec<String> = entries
        .iter()
        .filter(|m| oci::is_windows_amd64(m))
        .filter_map(|m| m["platform"]["os.version"].as_str().map(String::from))
        .collect();
    // Every requested release is there: one entry each, os.version of that release's build.
    let covered = oses.iter().all(|os| match names::windows_build(os) {
        Some(build) => versions
            .iter()
            .any(|v| v.split('.').nth(2) == Some(&build.to_string())),
        None => true,
    });
    let ok = entries.len() == oses.len() && versions.len() == oses.len() && covered;
    let found = if entries.is_empty() {
        "not a list".to_string()
    } else {
        entries
            .iter()
            .map(|m| {
                format!(
                    "{}/{} {}",
                    m["platform"]["os"].as_str().unwrap_or("?"),
                    m["platform"]["architecture"].as_str().unwrap_or("?"),
                    m["platform"]["os.version"]
                        .as_str()
                        .unwrap_or("(no os.version)")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Row {
        tag: list.into(),
        expected,
        found,
        ok,
    }
}

/// The first line of docker's complaint, enough for a table cell.
fn short(e: &str) -> String {
    let line = e.lines().find(|l| !l.trim().is_empty()).unwrap_or("error");
    let line = line.trim_start_matches("ERROR: ");
    if line.contains("not found") {
        "missing".into()
    } else {
        line.chars().take(80).collect()
    }
}
