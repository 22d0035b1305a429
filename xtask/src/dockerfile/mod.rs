//! Dockerfile reading, the way BuildKit's frontend reads a file: `parse` (directives,
//! comments, continuations with the escape character, heredocs skipped, keywords
//! case-insensitive; each instruction keeps its flags and the line it starts on), `stages`
//! (the build stages and which are Windows stages, the ARG scope FROM lines see) and
//! `expand` (`$VAR` / `${VAR}` expansion). No I/O: callers read the files.

mod expand;
mod parse;
mod stages;
#[cfg(test)]
mod tests;

use std::fmt;

pub use expand::uses_variable;
pub use parse::{parse, words};

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
