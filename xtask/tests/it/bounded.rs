//! Bounded resources (issue 19 §6), against a fake docker on PATH: a failure message keeps
//! its shape — the step named first, the log's name and the exit line last — however much a
//! failing docker printed; a docker that prints one endless line costs bounded memory.

use crate::support::*;

#[test]
fn a_failure_message_keeps_the_logs_name_whatever_the_tail_holds() {
    let w = World::new("bounded");
    w.image("alpha", "1.0");
    let logs = w.root().join("logs");
    // Twelve lines of 3000 characters, then the failure (before: the message was cut at 2000
    // characters, inside the tail, and lost the log's name).
    let hook = w.root().join("hook.sh");
    write(
        &hook,
        r##"
if [[ " $* " == *" build "* ]]; then
  for i in $(seq 12); do printf 'line %s ' "$i"; head -c 3000 /dev/zero | tr '\0' 'x'; echo; done
  exit 1
fi
"##,
    );
    let o = run(w
        .xtask()
        .args(["build"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("LOG_DIR", &logs)
        .env("FAKE_DOCKER_HOOK", &hook));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let message: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("xtask: step 1/1 failed"))
        .collect();
    assert!(!message.is_empty(), "{err}");
    let text = message.join("\n");
    assert!(text.len() < 4000, "{} characters:\n{text}", text.len());
    assert!(
        text.contains("  full output: ") && text.contains(&logs.display().to_string()),
        "{text}"
    );
    assert!(
        text.contains("line 12 xxx"),
        "the newest line is kept:\n{text}"
    );
    assert_eq!(message.last(), Some(&"xtask: exit 1 (failed)"), "{text}");
}

/// The most intervals (start, end) that overlap at one moment.
fn most_at_once(times: &str) -> usize {
    let mut edges: Vec<(f64, i32)> = Vec::new();
    for l in times.lines() {
        let mut w = l
            .split_whitespace()
            .map(|x| x.parse::<f64>().unwrap_or(0.0));
        if let (Some(a), Some(b)) = (w.next(), w.next()) {
            edges.push((a, 1));
            edges.push((b, -1));
        }
    }
    // An end before a start at the same instant: touching is not overlapping.
    edges.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

/// Registry queries at once while xtask ARGS runs over 12 images, each query taking 0.3 s.
fn queries_at_once(args: &[&str]) -> usize {
    let w = World::new("bounded-queries");
    for i in 0..12 {
        w.image(&format!("img{i:02}"), "1.0");
    }
    // Each registry query takes 0.3 s and records when it ran (before: 24 at once).
    let hook = w.root().join("hook.sh");
    write(
        &hook,
        r##"
if [[ "$1 $2 $3" == "buildx imagetools inspect" ]]; then
  start=$(date +%s.%N); sleep 0.3
  printf '%s %s\n' "$start" "$(date +%s.%N)" >> "$FAKE_DOCKER_LOG.queries"
fi
"##,
    );
    let o = run(w
        .xtask()
        .args(args)
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("FAKE_DOCKER_HOOK", &hook));
    let times = std::fs::read_to_string(w.root().join("docker.log.queries")).unwrap_or_default();
    assert!(times.lines().count() >= 12, "{}{}", stdout(&o), stderr(&o));
    most_at_once(&times)
}

#[test]
fn verify_asks_the_registry_a_few_tags_at_a_time() {
    let most = queries_at_once(&["verify"]);
    assert!((2..=8).contains(&most), "{most} registry queries at once");
}

#[test]
fn the_skip_unchanged_probe_and_the_read_back_ask_a_few_tags_at_a_time() {
    // The probe asks about labels, bases and lists side by side (before: one docker per tag,
    // all at once); the read-back before exit 0 and the report go through the same slots.
    let most = queries_at_once(&["push", "--skip-unchanged"]);
    assert!((2..=8).contains(&most), "{most} registry queries at once");
}

#[test]
fn a_server_error_that_repeats_word_for_word_is_not_retried_again() {
    let w = World::new("bounded-500");
    w.image("alpha", "1.0");
    let o = run(w
        .xtask()
        .args(["sub-push-alpha"])
        .env("REGISTRY", "127.0.0.1:5000/e2e")
        .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
        .env("RETRIES", "3")
        .env("FAKE_DOCKER_FLAKY", " push ")
        .env("FAKE_DOCKER_FLAKY_TIMES", "9")
        .env(
            "FAKE_DOCKER_FLAKY_MSG",
            "received unexpected HTTP status: 500 Internal Server Error",
        ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // Tried twice (before: four times), each retry saying why, the end saying why not.
    let pushes = w
        .calls()
        .iter()
        .filter(|c| c.contains(&"push".to_string()))
        .count();
    assert_eq!(pushes, 2, "{err}");
    assert!(
        err.contains("the registry answered with a server error (5xx), often passing, retry 1/3"),
        "{err}"
    );
    assert!(
        err.contains("not retrying: the registry answered the same server error twice"),
        "{err}"
    );
}
