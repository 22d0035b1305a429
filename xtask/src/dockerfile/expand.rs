//! Shell-like word expansion as BuildKit does it for FROM and ARG.

use std::collections::HashMap;

/// The platform variables BuildKit fills in itself. Their value depends on the build command
/// (our buildx builds say `--platform linux/amd64`), so reading the file cannot tell them.
const AUTOMATIC_ARGS: [&str; 8] = [
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

/// `windows`, `windows/amd64`, `Windows/AMD64/10.0.17763` …
pub fn is_windows_platform(platform: &str) -> bool {
    let p = platform.trim().to_ascii_lowercase();
    p == "windows" || p.starts_with("windows/")
}

/// What a variable holds while the file is read: a declared default, unknown (a build
/// argument or an automatic platform variable), or empty (never declared: BuildKit expands
/// it to nothing).
pub fn lookup(scope: &HashMap<String, Option<String>>, name: &str) -> Option<String> {
    match scope.get(name) {
        Some(value) => value.clone(),
        None if AUTOMATIC_ARGS.contains(&name) => None,
        None => Some(String::new()),
    }
}

/// Whether `word` uses the variable `name` (`$NAME`, `${NAME}`, `${NAME:-…}`, …).
pub fn uses_variable(word: &str, name: &str, escape: char) -> bool {
    expand(word, escape, &|_| None).1.iter().any(|n| n == name)
}

/// Shell-like word expansion as BuildKit does it for FROM and ARG: quotes removed, the escape
/// character makes the next one literal, `$V`, `${V}`, `${V:-word}`, `${V:+word}`,
/// `${V-word}`, `${V+word}`. Returns the result (None if some variable's value is unknown,
/// per `lookup` returning None) and every variable name the word mentions.
pub fn expand(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (Option<String>, Vec<String>) {
    let mut ex = Expander {
        chars: word.chars().collect(),
        escape,
        lookup,
        names: Vec::new(),
    };
    let (text, known, _) = ex.run(0, false);
    (known.then_some(text), ex.names)
}

struct Expander<'a> {
    chars: Vec<char>,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    names: Vec<String>,
}

impl Expander<'_> {
    /// Expands from `i` to the end, or (inside `${…}`) to the unquoted `}`, which is left for
    /// the caller. Returns (text, every variable known, index reached).
    fn run(&mut self, mut i: usize, in_braces: bool) -> (String, bool, usize) {
        let mut out = String::new();
        let mut known = true;
        let mut quote: Option<char> = None;
        while let Some(&c) = self.chars.get(i) {
            if quote == Some('\'') {
                if c == '\'' {
                    quote = None;
                } else {
                    out.push(c);
                }
                i += 1;
                continue;
            }
            if c == '}' && in_braces && quote.is_none() {
                break;
            }
            // Inside double quotes the escape character only escapes what is special there.
            if c == self.escape {
                let next = self.chars.get(i + 1).copied();
                let escapes =
                    quote.is_none() || matches!(next, Some('$' | '"')) || next == Some(self.escape);
                if let (Some(next), true) = (next, escapes) {
                    out.push(next);
                    i += 2;
                    continue;
                }
            }
            match c {
                '\'' if quote.is_none() => quote = Some('\''),
                '"' if quote.is_none() => quote = Some('"'),
                '"' => quote = None,
                '$' => {
                    let (text, ok, next) = self.variable(i + 1);
                    out.push_str(&text);
                    known &= ok;
                    i = next;
                    continue;
                }
                _ => out.push(c),
            }
            i += 1;
        }
        (out, known, i)
    }

    /// After a `$` at `i - 1`: the variable's value, whether it is known, and where to go on.
    fn variable(&mut self, i: usize) -> (String, bool, usize) {
        let name_at = |chars: &[char], from: usize| {
            let mut end = from;
            while chars
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                end += 1;
            }
            end
        };
        match self.chars.get(i) {
            Some('{') => {
                let end = name_at(&self.chars, i + 1);
                let name: String = self.chars[i + 1..end].iter().collect();
                self.names.push(name.clone());
                let value = (self.lookup)(&name);
                let mut j = end;
                let colon = self.chars.get(j) == Some(&':');
                if colon {
                    j += 1;
                }
                let op = self
                    .chars
                    .get(j)
                    .copied()
                    .filter(|c| matches!(c, '-' | '+' | '?'));
                let (word, word_known, close) = match op {
                    Some(_) => self.run(j + 1, true),
                    None => (String::new(), true, j),
                };
                let malformed = name.is_empty()
                    || self.chars.get(close) != Some(&'}')
                    || (colon && op.is_none());
                if malformed {
                    // BuildKit refuses the word; an unknown value keeps us from guessing.
                    let skip = self.chars[close..]
                        .iter()
                        .position(|c| *c == '}')
                        .map_or(self.chars.len(), |p| close + p + 1);
                    return (String::new(), false, skip);
                }
                let next = close + 1;
                // Without the colon an empty-but-set variable counts as set; we cannot tell
                // empty from unset for undeclared names, so both forms act like `:-`/`:+`.
                let (text, known) = match (op, value) {
                    (None, Some(v)) => (v, true),
                    (None, None) => (String::new(), false),
                    (Some('-'), Some(v)) if !v.is_empty() => (v, true),
                    (Some('-'), Some(_)) => (word, word_known),
                    (Some('+'), Some(v)) if !v.is_empty() => (word, word_known),
                    (Some('+'), Some(_)) => (String::new(), true),
                    (Some('?'), Some(v)) if !v.is_empty() => (v, true),
                    _ => (String::new(), false),
                };
                (text, known, next)
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let end = name_at(&self.chars, i);
                let name: String = self.chars[i..end].iter().collect();
                self.names.push(name.clone());
                match (self.lookup)(&name) {
                    Some(v) => (v, true, end),
                    None => (String::new(), false, end),
                }
            }
            _ => ("$".to_string(), true, i),
        }
    }
}
