//! Dockerfile parsing, the way BuildKit's frontend reads a file: parser directives (`# syntax=`,
//! `# escape=`) only at the very top, comments, line continuations with the escape character
//! (`\` or `` ` ``), heredocs skipped, keywords case-insensitive; each instruction keeps its
//! flags (`--platform=…`) and the 1-based line it starts on. On top of that: the build stages
//! (`FROM [--platform=P] image [AS name]`), which of them are Windows stages, and `$VAR` /
//! `${VAR}` expansion with the global `ARG` defaults. No I/O: `lint` reads the files.

use std::collections::HashMap;
use std::fmt;

/// The instructions BuildKit knows; anything else fails the build ("unknown instruction").
const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

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

/// A parser directive from the top of the file, e.g. `# escape=``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lowercase: `syntax`, `escape` or `check`.
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// A `--name[=value]` word before an instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    /// None for a bare `--name` (a boolean flag such as `COPY --link`).
    pub value: Option<String>,
    /// The value came as a separate word (`FROM --platform windows/amd64 …`). BuildKit rejects
    /// that form, but we still read it so the rest of the line is understood as meant.
    pub separate: bool,
}

/// One instruction, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Uppercase, whatever case the file used.
    pub keyword: String,
    pub flags: Vec<Flag>,
    /// Everything after the flags, trimmed.
    pub args: String,
    /// The 1-based line the instruction starts on.
    pub line: usize,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }
}

/// Something BuildKit accepts but warns about, or that is likely a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub line: usize,
    pub message: String,
}

/// A file BuildKit would refuse, with the line it would blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// `\` unless `# escape=`` said otherwise.
    pub escape: char,
    pub directives: Vec<Directive>,
    pub instructions: Vec<Instruction>,
    pub notices: Vec<Notice>,
}

/// Why a stage is a Windows stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Windows {
    /// Its `--platform` (shown as written, then as expanded) names windows.
    Platform { written: String, expanded: String },
    /// It is built `FROM` an earlier Windows stage, whose platform it inherits.
    Base { stage: String },
}

/// A build stage: a FROM and the instructions up to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based, as `COPY --from=<n>` counts.
    pub index: usize,
    /// The FROM: its index into `Dockerfile::instructions`, and its line.
    pub from: usize,
    pub line: usize,
    /// The `AS` name, lowercased as BuildKit does.
    pub name: Option<String>,
    /// The image word as written, e.g. `$SOURCE`.
    pub base: String,
    pub windows: Option<Windows>,
    /// Indexes into `Dockerfile::instructions`, the FROM excluded.
    pub body: Vec<usize>,
}

impl Stage {
    /// `"src"` or `#1`, for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n:?}"),
            None => format!("#{}", self.index),
        }
    }
}

/// Parses a whole Dockerfile. Fails where BuildKit's parser would; an unknown instruction
/// counts as a failure, since the build fails on it.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    let mut directives: Vec<Directive> = Vec::new();
    let mut looking_for_directives = true;
    let mut instructions = Vec::new();
    let mut notices = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let first = lines[i].trim_start();
        i += 1;
        // Directives count only before any instruction, comment or blank line.
        if looking_for_directives {
            match directive(first) {
                Some((name, value)) => {
                    if directives.iter().any(|d| d.name == name) {
                        return Err(ParseError {
                            line: start,
                            message: format!("only one {name} parser directive can be used"),
                        });
                    }
                    if name == "escape" {
                        escape = match value.as_str() {
                            "\\" => '\\',
                            "`" => '`',
                            _ => {
                                return Err(ParseError {
                                    line: start,
                                    message: format!(
                                        "invalid escape token '{value}' does not match ` or \\"
                                    ),
                                })
                            }
                        };
                    }
                    directives.push(Directive {
                        name,
                        value,
                        line: start,
                    });
                    continue;
                }
                None => looking_for_directives = false,
            }
        }
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let (head, mut continued) = strip_continuation(first, escape);
        let mut logical = head.to_string();
        let mut empty_continuation = false;
        while continued {
            let Some(next) = lines.get(i) else {
                // BuildKit takes what it has; say so, since it usually means a lost line.
                notices.push(Notice {
                    line: start,
                    message: format!(
                        "the instruction ends with a line continuation ({escape}) at the end of the file"
                    ),
                });
                break;
            };
            i += 1;
            let trimmed = next.trim_start();
            // Comments inside a continuation are dropped; the instruction goes on.
            if trimmed.starts_with('#') {
                continue;
            }
            if trimmed.is_empty() {
                empty_continuation = true;
                continue;
            }
            // As BuildKit: continuation lines keep their leading whitespace, joined as is.
            let (piece, more) = strip_continuation(next, escape);
            logical.push_str(piece);
            continued = more;
        }
        if empty_continuation {
            notices.push(Notice {
                line: start,
                message: "empty continuation line (BuildKit warns: these will become errors)"
                    .to_string(),
            });
        }
        let ins = split_instruction(&logical, start)?;
        // Heredoc bodies are not instructions: skip to each terminator in turn.
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") && !ins.args.starts_with('[') {
            for (name, chomp) in heredocs(&ins.args) {
                loop {
                    let Some(body) = lines.get(i) else {
                        return Err(ParseError {
                            line: start,
                            message: format!("unterminated heredoc <<{name}"),
                        });
                    };
                    i += 1;
                    let body = if chomp {
                        body.trim_start_matches('\t')
                    } else {
                        body
                    };
                    if body == name {
                        break;
                    }
                }
            }
        }
        instructions.push(ins);
    }
    if instructions.is_empty() {
        return Err(ParseError {
            line: lines.len().max(1),
            message: "file with no instructions".to_string(),
        });
    }
    Ok(Dockerfile {
        escape,
        directives,
        instructions,
        notices,
    })
}

/// `# name = value` with a known name (BuildKit: other names end the directive block, and
/// so does anything that is not of this shape).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (name, rest) = rest.split_at(name_len);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest.trim_start().strip_prefix('=')?.trim();
    let name = name.to_ascii_lowercase();
    if value.is_empty() || !matches!(name.as_str(), "syntax" | "escape" | "check") {
        return None;
    }
    Some((name, value.to_string()))
}

/// Strips a trailing escape character (and the spaces/tabs after it) that continues the line.
/// An escaped escape character (`\\` at the end) is a literal one, not a continuation.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    let Some(body) = trimmed.strip_suffix(escape) else {
        return (line, false);
    };
    if body.ends_with(escape) {
        return (line, false);
    }
    (body, true)
}

/// `KEYWORD [--flag[=value]]… args` → an Instruction.
fn split_instruction(logical: &str, line: usize) -> Result<Instruction, ParseError> {
    let text = logical.trim();
    let (word, rest) = text
        .split_once(|c: char| c.is_whitespace())
        .unwrap_or((text, ""));
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(ParseError {
            line,
            message: format!("unknown instruction: {word}"),
        });
    }
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    while rest.starts_with("--") {
        let (word, after) = next_word(rest);
        rest = after.trim_start();
        let word: String = word.chars().filter(|c| *c != '"' && *c != '\'').collect();
        let word = &word[2..];
        let flag = match word.split_once('=') {
            Some((name, value)) => Flag {
                name: name.to_string(),
                value: Some(value.to_string()),
                separate: false,
            },
            // `FROM --platform windows/amd64 image`: the only flag of FROM takes a value,
            // so the next word is meant as that value.
            None if keyword == "FROM"
                && word == "platform"
                && !rest.is_empty()
                && !rest.starts_with("--") =>
            {
                let (value, after) = next_word(rest);
                rest = after.trim_start();
                Flag {
                    name: word.to_string(),
                    value: Some(value.to_string()),
                    separate: true,
                }
            }
            None => Flag {
                name: word.to_string(),
                value: None,
                separate: false,
            },
        };
        flags.push(flag);
    }
    Ok(Instruction {
        keyword,
        flags,
        args: rest.trim().to_string(),
        line,
    })
}

/// The first whitespace-separated word (quotes keep spaces inside it) and the rest.
fn next_word(text: &str) -> (&str, &str) {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => return (&text[..i], &text[i..]),
            None => {}
        }
    }
    (text, "")
}

/// Whitespace-separated words, quotes kept, a quoted part staying in one word.
pub fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (word, after) = next_word(rest);
        out.push(word);
        rest = after.trim_start();
    }
    out
}

/// The heredocs an instruction opens (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`), in order, as
/// (terminator, leading tabs stripped).
fn heredocs(args: &str) -> Vec<(String, bool)> {
    words(args)
        .into_iter()
        .filter_map(|w| {
            let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
            let w = w.strip_prefix("<<")?;
            let (chomp, w) = match w.strip_prefix('-') {
                Some(w) => (true, w),
                None => (false, w),
            };
            let name: String = w.chars().filter(|c| *c != '"' && *c != '\'').collect();
            (!name.is_empty() && !name.contains('<')).then_some((name, chomp))
        })
        .collect()
}

impl Dockerfile {
    /// The `ARG`s before the first `FROM`: the only ones a FROM line can use.
    pub fn global_args(&self) -> impl Iterator<Item = &Instruction> {
        self.instructions
            .iter()
            .take_while(|i| i.keyword != "FROM")
            .filter(|i| i.keyword == "ARG")
    }

    /// Whether a global `ARG NAME` (with or without a default) is declared.
    pub fn declares_global_arg(&self, name: &str) -> bool {
        self.global_args()
            .flat_map(|i| words(&i.args))
            .any(|w| w.split('=').next() == Some(name))
    }

    /// The global ARGs as the file leaves them: `Some(default)` (expanded with the ARGs
    /// before it), `None` when only a build argument can give the value.
    fn scope(&self) -> HashMap<String, Option<String>> {
        let mut scope: HashMap<String, Option<String>> = HashMap::new();
        for ins in self.global_args() {
            for word in words(&ins.args) {
                match word.split_once('=') {
                    Some((name, value)) => {
                        let value = expand(value, self.escape, &|v| lookup(&scope, v)).0;
                        scope.insert(name.to_string(), value);
                    }
                    None => {
                        scope.entry(word.to_string()).or_insert(None);
                    }
                }
            }
        }
        scope
    }

    /// The build stages, with their Windows-ness worked out. Fails where BuildKit would:
    /// no FROM, an instruction other than ARG before the first FROM, a FROM without image,
    /// or a stage name used twice.
    pub fn stages(&self) -> Result<Vec<Stage>, ParseError> {
        let scope = self.scope();
        let mut stages: Vec<Stage> = Vec::new();
        for (n, ins) in self.instructions.iter().enumerate() {
            if ins.keyword != "FROM" {
                match stages.last_mut() {
                    Some(stage) => stage.body.push(n),
                    None if ins.keyword == "ARG" => {}
                    None => {
                        return Err(ParseError {
                            line: ins.line,
                            message: format!("{} before the first FROM", ins.keyword),
                        })
                    }
                }
                continue;
            }
            let parts: Vec<&str> = ins.args.split_whitespace().collect();
            let (base, name) = match parts.as_slice() {
                [base] => (*base, None),
                [base, kw, name] if kw.eq_ignore_ascii_case("as") => {
                    (*base, Some(name.to_ascii_lowercase()))
                }
                [] => {
                    return Err(ParseError {
                        line: ins.line,
                        message: "FROM without an image".to_string(),
                    })
                }
                _ => {
                    return Err(ParseError {
                        line: ins.line,
                        message: format!("FROM takes `image [AS name]`, got `{}`", ins.args),
                    })
                }
            };
            if let Some(name) = &name {
                if stages.iter().any(|s| s.name.as_ref() == Some(name)) {
                    return Err(ParseError {
                        line: ins.line,
                        message: format!("duplicate stage name {name:?}"),
                    });
                }
            }
            let expand_here = |w: &str| expand(w, self.escape, &|v| lookup(&scope, v)).0;
            // A FROM naming an earlier stage takes that stage's platform (BuildKit ignores
            // the FROM's own --platform then), so Windows-ness is inherited.
            let base_stage = expand_here(base).and_then(|b| {
                let b = b.to_ascii_lowercase();
                stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(b.as_str()))
            });
            let windows = match base_stage {
                Some(s) => s
                    .windows
                    .as_ref()
                    .map(|_| Windows::Base { stage: s.label() }),
                None => ins
                    .flag("platform")
                    .and_then(|f| f.value.as_deref())
                    .and_then(|written| {
                        let expanded = expand_here(written)?;
                        is_windows_platform(&expanded).then(|| Windows::Platform {
                            written: written.to_string(),
                            expanded,
                        })
                    }),
            };
            stages.push(Stage {
                index: stages.len(),
                from: n,
                line: ins.line,
                name,
                base: base.to_string(),
                windows,
                body: Vec::new(),
            });
        }
        if stages.is_empty() {
            let line = self.instructions.last().map_or(1, |i| i.line);
            return Err(ParseError {
                line,
                message: "no FROM: the file has no build stage".to_string(),
            });
        }
        Ok(stages)
    }
}

/// `windows`, `windows/amd64`, `Windows/AMD64/10.0.17763` …
pub fn is_windows_platform(platform: &str) -> bool {
    let p = platform.trim().to_ascii_lowercase();
    p == "windows" || p.starts_with("windows/")
}

/// What a variable holds while the file is read: a declared default, unknown (a build
/// argument or an automatic platform variable), or empty (never declared: BuildKit expands
/// it to nothing).
fn lookup(scope: &HashMap<String, Option<String>>, name: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `word` with the global ARG defaults substituted, as FROM sees it.
    fn expand_global(df: &Dockerfile, word: &str) -> Option<String> {
        let scope = df.scope();
        expand(word, df.escape, &|v| lookup(&scope, v)).0
    }

    fn parsed(text: &str) -> Dockerfile {
        parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn summary(df: &Dockerfile) -> Vec<(usize, String, String)> {
        df.instructions
            .iter()
            .map(|i| (i.line, i.keyword.clone(), i.args.clone()))
            .collect()
    }

    fn windows_stages(text: &str) -> Vec<bool> {
        parsed(text)
            .stages()
            .expect("stages")
            .iter()
            .map(|s| s.windows.is_some())
            .collect()
    }

    #[test]
    fn backslash_continuations_join_lines_and_keep_the_start_line() {
        let df = parsed("FROM scratch\nRUN a \\\n    b \\  \n c\nCOPY x y\n");
        assert_eq!(
            summary(&df),
            vec![
                (1, "FROM".into(), "scratch".into()),
                (2, "RUN".into(), "a     b  c".into()),
                (5, "COPY".into(), "x y".into()),
            ]
        );
        assert!(df.notices.is_empty());
    }

    #[test]
    fn backtick_escape_continues_and_makes_backslash_literal() {
        let text =
            "# escape=`\nFROM scratch\nRUN dir C:\\ `\n  && echo `\n  done\nWORKDIR C:\\app\\\n";
        let df = parsed(text);
        assert_eq!(df.escape, '`');
        assert_eq!(
            summary(&df),
            vec![
                (2, "FROM".into(), "scratch".into()),
                (3, "RUN".into(), "dir C:\\   && echo   done".into()),
                (6, "WORKDIR".into(), "C:\\app\\".into()),
            ]
        );
        // With the default escape the same trailing backslash would continue the line.
        let df = parsed("FROM scratch\nWORKDIR C:\\app\\\nUSER x\n");
        assert_eq!(
            summary(&df)[1],
            (2, "WORKDIR".into(), "C:\\appUSER x".into())
        );
    }

    #[test]
    fn escaped_escape_at_end_of_line_is_not_a_continuation() {
        let df = parsed("FROM scratch\nRUN echo \\\\\nUSER x\n");
        assert_eq!(summary(&df)[1], (2, "RUN".into(), "echo \\\\".into()));
        assert_eq!(summary(&df)[2].1, "USER");
    }

    #[test]
    fn comments_and_empty_lines_inside_continuations_are_skipped() {
        let text =
            "FROM scratch\nRUN a \\\n# a comment \\\n    # indented comment\n\n  b\nUSER x\n";
        let df = parsed(text);
        assert_eq!(
            summary(&df),
            vec![
                (1, "FROM".into(), "scratch".into()),
                (2, "RUN".into(), "a   b".into()),
                (7, "USER".into(), "x".into()),
            ]
        );
        assert_eq!(df.notices.len(), 1, "{:?}", df.notices);
        assert_eq!(df.notices[0].line, 2);
        assert!(df.notices[0].message.contains("empty continuation"));
    }

    #[test]
    fn comments_are_lines_starting_with_hash_after_whitespace() {
        let df = parsed("  # indented\nFROM scratch # not a comment\n\t#tab\nUSER a#b\n");
        assert_eq!(
            summary(&df),
            vec![
                (2, "FROM".into(), "scratch # not a comment".into()),
                (4, "USER".into(), "a#b".into()),
            ]
        );
        // A comment ending with the escape character does not continue.
        let df = parsed("FROM scratch\n# comment \\\nUSER x\n");
        assert_eq!(summary(&df)[1], (3, "USER".into(), "x".into()));
    }

    #[test]
    fn directives_only_at_the_very_top() {
        let df = parsed("# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM scratch\n");
        assert_eq!(df.escape, '`');
        assert_eq!(
            df.directives,
            vec![
                Directive {
                    name: "syntax".into(),
                    value: "docker/dockerfile:1".into(),
                    line: 1
                },
                Directive {
                    name: "escape".into(),
                    value: "`".into(),
                    line: 2
                },
            ]
        );
        // After a comment, a blank line or an instruction it is only a comment.
        for text in [
            "# hello\n# escape=`\nFROM scratch\n",
            "\n# escape=`\nFROM scratch\n",
            "FROM scratch\n# escape=`\n",
            "# unknown=1\n# escape=`\nFROM scratch\n",
        ] {
            let df = parsed(text);
            assert_eq!(df.escape, '\\', "{text:?}");
            assert!(df.directives.iter().all(|d| d.name != "escape"), "{text:?}");
        }
    }

    #[test]
    fn bad_directives_fail_with_their_line() {
        let e = parse("# escape=x\nFROM scratch\n").expect_err("bad escape");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("invalid escape token 'x'"), "{e}");
        let e = parse("# syntax=a\n# syntax=b\nFROM scratch\n").expect_err("twice");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("only one syntax"), "{e}");
    }

    #[test]
    fn keywords_are_case_insensitive_and_unknown_ones_fail() {
        let df = parsed("from scratch AS Base\nRun echo\nworkDIR /x\n");
        let kws: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["FROM", "RUN", "WORKDIR"]);
        let stages = df.stages().expect("stages");
        assert_eq!(stages[0].name.as_deref(), Some("base"));
        let e = parse("FROM scratch\n\nFORM x\n").expect_err("unknown");
        assert_eq!(e.line, 3);
        assert_eq!(e.message, "unknown instruction: FORM");
    }

    #[test]
    fn empty_files_and_files_without_from_fail() {
        assert!(parse("").is_err());
        assert!(parse("# only a comment\n\n").is_err());
        let e = parsed("ARG A=1\n").stages().expect_err("no FROM");
        assert!(e.message.contains("no FROM"), "{e}");
        let e = parsed("ARG A=1\nRUN x\nFROM scratch\n")
            .stages()
            .expect_err("RUN first");
        assert_eq!(e.line, 2);
        let e = parsed("FROM a AS x\nFROM b AS X\n")
            .stages()
            .expect_err("dup");
        assert_eq!(e.line, 2);
        let e = parsed("FROM\n").stages().expect_err("no image");
        assert!(e.message.contains("without an image"), "{e}");
    }

    #[test]
    fn continuation_at_end_of_file_is_accepted_with_a_notice() {
        let df = parsed("FROM scratch\nCOPY a b \\\n");
        assert_eq!(summary(&df)[1], (2, "COPY".into(), "a b".into()));
        assert_eq!(df.notices.len(), 1);
        assert_eq!(df.notices[0].line, 2);
    }

    #[test]
    fn crlf_and_bom_are_handled() {
        let df = parsed("\u{feff}# escape=`\r\nFROM scratch\r\nRUN a `\r\n  b\r\n");
        assert_eq!(df.escape, '`');
        assert_eq!(summary(&df)[1], (3, "RUN".into(), "a   b".into()));
    }

    #[test]
    fn platform_flag_in_both_forms() {
        let df = parsed(
            "FROM --platform=windows/amd64 a AS x\nFROM --platform \"windows/amd64\" b\nCOPY --link --from=x a b\n",
        );
        let p = |n: usize| df.instructions[n].flag("platform").cloned();
        assert_eq!(
            p(0),
            Some(Flag {
                name: "platform".into(),
                value: Some("windows/amd64".into()),
                separate: false
            })
        );
        let two = p(1).expect("two-word form");
        assert!(two.separate);
        assert_eq!(df.instructions[1].args, "b");
        assert_eq!(df.instructions[2].args, "a b");
        assert_eq!(
            df.instructions[2].flag("link").map(|f| f.value.clone()),
            Some(None)
        );
        let stages = df.stages().expect("stages");
        assert!(stages.iter().all(|s| s.windows.is_some()));
    }

    #[test]
    fn stages_inherit_windows_from_their_base_stage() {
        let text = "\
FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:1809 AS a
FROM A AS b
FROM b
FROM scratch
FROM --platform=linux/amd64 busybox AS c
FROM c
";
        assert_eq!(
            windows_stages(text),
            vec![true, true, true, false, false, false]
        );
        let stages = parsed(text).stages().expect("stages");
        assert_eq!(
            stages[2].windows,
            Some(Windows::Base {
                stage: "\"b\"".into()
            })
        );
        assert_eq!(stages[2].label(), "#2");
        // A name used before it is defined is an image, not the stage.
        assert_eq!(
            windows_stages("FROM x\nFROM --platform=windows/amd64 y AS x\n"),
            vec![false, true]
        );
    }

    #[test]
    fn stage_bodies_hold_their_instructions() {
        let df = parsed(
            "ARG A\nFROM --platform=windows/amd64 a AS w\nCOPY x y\nRUN z\nFROM scratch\nRUN q\n",
        );
        let stages = df.stages().expect("stages");
        let lines =
            |s: &Stage| -> Vec<usize> { s.body.iter().map(|&n| df.instructions[n].line).collect() };
        assert_eq!(lines(&stages[0]), vec![3, 4]);
        assert_eq!(lines(&stages[1]), vec![6]);
    }

    #[test]
    fn platform_variables_expand_with_global_arg_defaults() {
        let cases = [
            ("ARG P=windows/amd64\nFROM --platform=$P x\n", true),
            ("ARG P=windows/amd64\nFROM --platform=${P} x\n", true),
            (
                "ARG OS=windows\nARG P=${OS}/amd64\nFROM --platform=$P x\n",
                true,
            ),
            ("ARG P=\"windows/amd64\"\nFROM --platform=$P x\n", true),
            ("ARG P\nFROM --platform=$P x\n", false),
            ("FROM --platform=$TARGETPLATFORM x\n", false),
            ("FROM --platform=$BUILDPLATFORM x\n", false),
            ("FROM --platform=$UNDECLARED x\n", false),
            (
                "ARG TARGETPLATFORM=windows/amd64\nFROM --platform=$TARGETPLATFORM x\n",
                true,
            ),
            ("ARG P\nFROM --platform=${P:-windows/amd64} x\n", false),
            ("FROM --platform=${NOPE:-windows/amd64} x\n", true),
            ("FROM x\nARG P=windows/amd64\nFROM --platform=$P y\n", false),
            ("FROM --platform=Windows/AMD64 x\n", true),
            ("FROM --platform=windowsfoo/amd64 x\n", false),
        ];
        for (text, windows) in cases {
            let got = windows_stages(text);
            assert_eq!(*got.last().expect("a stage"), windows, "{text}");
        }
    }

    #[test]
    fn stage_references_expand_too() {
        let text = "ARG BASE=w\nFROM --platform=windows/amd64 x AS w\nFROM ${BASE}\n";
        assert_eq!(windows_stages(text), vec![true, true]);
    }

    #[test]
    fn expansion_rules() {
        let vars = |n: &str| match n {
            "A" => Some("1".to_string()),
            "E" => Some(String::new()),
            _ => None,
        };
        let x = |w: &str| expand(w, '\\', &vars).0;
        assert_eq!(x("a$A-${A}b"), Some("a1-1b".into()));
        assert_eq!(x("${E:-d}|${A:-d}|${A:+p}|${E:+p}"), Some("d|1|p|".into()));
        assert_eq!(x("'$A'\"$A\""), Some("$A1".into()));
        assert_eq!(x("\\$A"), Some("$A".into()));
        assert_eq!(x("$U"), None);
        assert_eq!(x("${U:-x}"), None);
        assert_eq!(x("${A"), None);
        assert_eq!(x("cost: 5$"), Some("cost: 5$".into()));
        // The backtick escape leaves backslashes alone.
        assert_eq!(expand("C:\\x\\$A", '`', &vars).0, Some("C:\\x\\1".into()));
        assert!(uses_variable("${SOURCE}", "SOURCE", '\\'));
        assert!(uses_variable("$SOURCE", "SOURCE", '\\'));
        assert!(uses_variable("${X:-$SOURCE}", "SOURCE", '\\'));
        assert!(!uses_variable("$SOURCES", "SOURCE", '\\'));
        assert!(!uses_variable("\\$SOURCE", "SOURCE", '\\'));
        assert!(!uses_variable("SOURCE", "SOURCE", '\\'));
    }

    #[test]
    fn heredocs_are_skipped() {
        let text = "FROM scratch\nRUN <<EOF cat <<-'END'\nnot an instruction\nEOF\n\tFROM neither\n\tEND\nUSER x\n";
        let df = parsed(text);
        assert_eq!(summary(&df)[2], (7, "USER".into(), "x".into()));
        let e = parse("FROM scratch\nRUN <<EOF\necho\n").expect_err("unterminated");
        assert_eq!(e.line, 2);
        // A quoted "<<EOF" is an argument, and the JSON form has no heredocs.
        let df = parsed("FROM scratch\nRUN echo \"<<EOF\"\nRUN [\"a\", \"<<EOF\"]\nUSER x\n");
        assert_eq!(df.instructions.len(), 4);
    }

    #[test]
    fn global_args() {
        let df = parsed("ARG A=1 B\nARG SOURCE\nFROM scratch\nARG C\n");
        assert!(df.declares_global_arg("SOURCE"));
        assert!(df.declares_global_arg("B"));
        assert!(!df.declares_global_arg("C"));
        assert_eq!(expand_global(&df, "$A-x"), Some("1-x".into()));
        assert_eq!(expand_global(&df, "$B"), None);
    }

    #[test]
    fn the_repos_own_dockerfiles_parse() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../images/powershell-helper");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("read");
        let cache = parsed(&read("Dockerfile"));
        let stages = cache.stages().expect("stages");
        assert_eq!(
            stages
                .iter()
                .map(|s| s.windows.is_some())
                .collect::<Vec<_>>(),
            vec![true, true, false]
        );
        assert_eq!(
            expand_global(&cache, &stages[0].base),
            Some("mcr.microsoft.com/windows/nanoserver:1809".into())
        );
        let windows = parsed(&read("Dockerfile_windows"));
        assert_eq!(windows.escape, '`');
        assert!(windows.notices.is_empty(), "{:?}", windows.notices);
        assert!(windows.stages().is_ok());
    }
}
