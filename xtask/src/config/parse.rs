//! Parsers for the kinds of value the variables hold: 0/1 switches, ranged numbers,
//! space-separated lists. Each refusal is a `BadInput` naming the variable and the value.

use crate::error::BadInput;

/// A 0/1 variable; unset or empty is 0.
pub fn parse_switch(var: &str, v: Option<&str>, hint: &str) -> anyhow::Result<bool> {
    match v {
        None | Some("") | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(BadInput::new(var, other, "expected 0 or 1", hint)),
    }
}

/// A whole number within `range`; None when unset or empty.
pub fn parse_number(
    var: &str,
    v: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
    hint: &str,
) -> anyhow::Result<Option<usize>> {
    match v {
        None | Some("") => Ok(None),
        Some(n) => match n.parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(BadInput::new(
                var,
                n,
                format!(
                    "expected a number from {} to {}",
                    range.start(),
                    range.end()
                ),
                hint,
            )),
        },
    }
}

/// A space-separated list variable (IMAGES, OS_VERSIONS): every word valid, none twice.
pub fn parse_list(
    var: &str,
    v: Option<&str>,
    valid: fn(&str) -> bool,
    what: &str,
    example: &str,
) -> anyhow::Result<Vec<String>> {
    let value = v.unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for word in value.split_whitespace() {
        let problem = if !valid(word) {
            format!("'{word}' is not a valid {what}")
        } else if out.iter().any(|o| o == word) {
            format!("'{word}' is named twice")
        } else {
            out.push(word.to_string());
            continue;
        };
        return Err(BadInput::new(
            var,
            value,
            problem,
            format!("a space-separated list, each once, e.g. {var}=\"{example}\""),
        ));
    }
    Ok(out)
}

/// Seconds within 1..=max, `default` when unset or empty.
pub fn parse_seconds(
    var: &str,
    v: Option<&str>,
    max: usize,
    default: u64,
    hint: &str,
) -> anyhow::Result<std::time::Duration> {
    parse_number(var, v, 1..=max, hint)
        .map(|n| std::time::Duration::from_secs(n.map_or(default, |n| n as u64)))
}
