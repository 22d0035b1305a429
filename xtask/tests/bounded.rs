//! Bounded resources (issue 19 §6), against a fake docker on PATH: a failure message keeps
//! its shape — the step named first, the log's name and the exit line last — however much a
//! failing docker printed; a docker that prints one endless line costs bounded memory.

mod support;

use support::*;

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
