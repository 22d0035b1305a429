//! The plan as text and as JSON. Text: per step a `#` header (position, label, node,
//! dependencies) and its commands, one per line, quoted so that pasting a line into bash runs
//! exactly that argv.

use serde_json::{json, Value};

use super::Plan;

pub fn render_text(plan: &Plan) -> String {
    let n = plan.steps.len();
    let mut out = String::new();
    for s in &plan.steps {
        out.push_str(&format!(
            "# [{}/{n}] {} ({}, {})",
            s.id,
            s.what,
            s.image,
            s.node.label()
        ));
        if !s.after.is_empty() {
            let ids: Vec<String> = s.after.iter().map(|a| a.to_string()).collect();
            out.push_str(&format!(" after {}", ids.join(",")));
        }
        if let Some(why) = &s.skip {
            out.push_str(&format!(" — skipped: {why}"));
        }
        out.push('\n');
        // A step's environment (a build routed to the classic builder) prefixes its line as
        // bash takes it: `DOCKER_BUILDKIT=0 docker …`.
        let env: String = s
            .env()
            .iter()
            .map(|(k, v)| format!("{k}={} ", shell_word(v)))
            .collect();
        for argv in s.commands() {
            out.push_str(&env);
            out.push_str(&shell_line(&argv));
            out.push('\n');
        }
    }
    out
}

/// The plan as JSON, for machines.
pub fn render_json(plan: &Plan) -> Value {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "kind": s.kind().word(),
                "what": s.what,
                "image": s.image,
                "os_version": s.os,
                "node": s.node.label(),
                "argv": s.commands().into_iter().next().unwrap_or_default(),
                "commands": s.commands(),
                "env": s.env().into_iter().map(|(k, v)| (k, Value::String(v))).collect::<serde_json::Map<String, Value>>(),
                "depends_on": s.after,
                "skip": s.skip,
            })
        })
        .collect();
    json!({
        "target": plan.target.name(),
        "mode": if plan.matrix { "matrix" } else { "compat" },
        "steps": steps,
    })
}

/// One argv as a bash line: words made only of safe characters stay bare, everything else is
/// single-quoted (a `'` inside becomes `'\''`), so bash gives back exactly these strings.
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_-+=:,./@%".contains(&c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Prints a plan on stdout, as bash lines or (`json`) one JSON document.
pub fn print(plan: &Plan, json: bool) -> anyhow::Result<()> {
    if json {
        let json = serde_json::to_string_pretty(&render_json(plan))?;
        crate::error::print(&format!("{json}\n"))
    } else {
        crate::error::print(&render_text(plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let argv: Vec<String> = ["docker", "a b", "it's", "$(id)", "", "x=y", "--tlskey"]
            .map(String::from)
            .into();
        assert_eq!(
            shell_line(&argv),
            r#"docker 'a b' 'it'\''s' '$(id)' '' x=y --tlskey"#
        );
    }
}
