//! The parser: lines to instructions, as BuildKit's parser splits them. Fails where BuildKit
//! would (an unknown instruction too: the build fails on it).

use super::{Directive, Dockerfile, Flag, Instruction, Notice, ParseError};

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
