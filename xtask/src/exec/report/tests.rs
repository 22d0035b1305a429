//! The report document from hand-made runs: results, exit codes, per-step states, the
//! digest-or-why fields, and the atomic write.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::config::Node;
use crate::error::StepFailed;
use crate::plan::{NodeRef, Step, Target};

fn node() -> Node {
    Node::for_test(None, "tcp://win:2376", "/certs")
}

fn step(id: usize, action: Action, tag: &str) -> Step {
    Step {
        id,
        what: format!("step {id} {tag}"),
        image: "alpha".into(),
        os: None,
        node: match action {
            Action::Cache { .. } => NodeRef::Local,
            _ => NodeRef::Remote(None),
        },
        tag: tag.into(),
        inputs: None,
        action,
        after: Vec::new(),
        skip: None,
    }
}

fn plan() -> Plan {
    Plan {
        target: Target::PushAsLinux,
        matrix: false,
        steps: vec![
            step(
                1,
                Action::Build {
                    node: node(),
                    dockerfile: PathBuf::from("/i/alpha/Dockerfile_windows"),
                    context: "/i/alpha/".into(),
                    build_args: Vec::new(),
                    isolation: crate::plan::BuildIsolation::NodeDefault,
                    builder: crate::plan::BuildVia::Unknown,
                },
                "r/alpha:1.0",
            ),
            step(2, Action::Push { node: node() }, "r/alpha:1.0"),
            step(
                3,
                Action::Cache {
                    context: "/i/alpha/".into(),
                    build_args: Vec::new(),
                },
                "r/alpha:1.0-linux-cache",
            ),
        ],
    }
}

fn doc(states: &[State], outcome: anyhow::Result<()>, digests: &[Digest]) -> Value {
    let plan = plan();
    let run = Run {
        plan: &plan,
        registry: "r",
        os_versions: &[],
        started: UNIX_EPOCH + Duration::from_secs(1_767_367_800),
        finished: UNIX_EPOCH + Duration::from_millis(1_767_367_812_345),
        states,
        starts: &[],
        outcome: &outcome,
        log_dir: None,
    };
    document(&run, digests)
}

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn a_run_that_worked() {
    let s = Duration::from_millis(1500);
    let v = doc(
        &[State::Ok(s), State::Ok(s), State::Ok(s)],
        Ok(()),
        &[
            Err("a node build pushes nothing".into()),
            Ok(D.into()),
            Ok(D.into()),
        ],
    );
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["target"], "all-push-as-linux");
    assert_eq!(v["mode"], "compat");
    assert_eq!(v["started"], "2026-01-02T15:30:00Z");
    assert_eq!(v["finished"], "2026-01-02T15:30:12Z");
    assert_eq!(v["seconds"], 12.345);
    assert_eq!(v["result"], "succeeded");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["error"], Value::Null);
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["kind"], "build");
    assert_eq!(steps[0]["pushes"], Value::Null);
    assert_eq!(steps[0]["node_url"], "tcp://win:2376");
    assert_eq!(steps[0]["digest"], Value::Null);
    assert_eq!(steps[0]["why_no_digest"], "a node build pushes nothing");
    assert_eq!(steps[1]["pushes"], "r/alpha:1.0");
    assert_eq!(steps[1]["digest"], D);
    assert_eq!(steps[1]["why_no_digest"], Value::Null);
    assert_eq!(steps[1]["seconds"], 1.5);
    assert_eq!(steps[2]["node"], "local");
    assert_eq!(steps[2]["node_url"], Value::Null);
    assert_eq!(steps[2]["state"], "ok");
}

#[test]
fn a_failed_run_says_which_step_and_why() {
    let s = Duration::from_secs(1);
    let v = doc(
        &[
            State::Ok(s),
            State::Failed(s, "docker exited with exit status: 1".into()),
            State::Pending,
        ],
        Err(StepFailed("step 2/3 failed".into()).into()),
        &[Err("x".into()), Err("y".into()), Err("z".into())],
    );
    assert_eq!(v["result"], "failed");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["error"], "step 2/3 failed");
    let states: Vec<&str> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["ok", "failed", "not-started"]);
    assert_eq!(v["steps"][1]["error"], "docker exited with exit status: 1");
    assert_eq!(v["steps"][2]["seconds"], Value::Null);
}

#[test]
fn an_interrupted_run_and_one_that_never_started_a_step() {
    let v = doc(
        &[
            State::Stopped(Duration::from_secs(2)),
            State::Pending,
            State::Pending,
        ],
        Err(Interrupted(2).into()),
        &[],
    );
    assert_eq!(v["result"], "interrupted");
    assert_eq!(v["exit_code"], 130);
    assert_eq!(v["steps"][0]["state"], "stopped");
    assert_eq!(v["steps"][2]["why_no_digest"], "not asked");
    // The executor never ran (a failed skip-unchanged probe): every step not started.
    let v = doc(&[], Err(anyhow::anyhow!("probe failed")), &[]);
    assert_eq!(v["exit_code"], 1);
    assert!(v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .all(|s| s["state"] == "not-started"));
}

#[test]
fn the_file_is_replaced_whole() {
    let tmp = crate::tempdir::TempDir::new("report");
    let dir = tmp.path().to_path_buf();
    let path = dir.join("run.json");
    fs::write(&path, "old").expect("old");
    write(&path, &json!({"a": 1})).expect("write");
    let back: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(back, json!({"a": 1}));
    let left: Vec<_> = fs::read_dir(&dir).expect("ls").flatten().collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    // A folder that is not there: an error naming the report, nothing written.
    let e = write(&dir.join("no/such/run.json"), &json!({})).expect_err("no folder");
    assert!(format!("{e:#}").contains("run report"), "{e:#}");
}
