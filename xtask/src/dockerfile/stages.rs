//! Build stages (`FROM [--platform=P] image [AS name]` and what follows), which of them are
//! Windows stages, the scope of global ARGs a FROM line sees (build args overriding the
//! defaults), and the external images a file builds from.

use std::collections::HashMap;

use super::expand::{expand, is_windows_platform, lookup};
use super::{words, Dockerfile, Instruction, ParseError, Stage, Windows};

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

    /// The global ARGs as a FROM line sees them: a build argument in `overrides` wins,
    /// else `Some(default)` (expanded with the ARGs before it), else `None` when only a
    /// build argument could give the value.
    pub fn scope(&self, overrides: &[(String, String)]) -> HashMap<String, Option<String>> {
        let mut scope: HashMap<String, Option<String>> = HashMap::new();
        for ins in self.global_args() {
            for word in words(&ins.args) {
                let name = word.split_once('=').map_or(word, |(n, _)| n);
                if let Some((_, v)) = overrides.iter().find(|(k, _)| k == name) {
                    scope.insert(name.to_string(), Some(v.clone()));
                    continue;
                }
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
        let scope = self.scope(&[]);
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

    /// The images a build of this file starts from, with `build_args` given: every FROM that
    /// is not `scratch` or an earlier stage, expanded as the build will expand it, each once.
    /// A FROM whose value only the build can tell is left out.
    pub fn external_bases(
        &self,
        build_args: &[(String, String)],
    ) -> Result<Vec<String>, ParseError> {
        let stages = self.stages()?;
        let scope = self.scope(build_args);
        let names: Vec<&str> = stages.iter().filter_map(|s| s.name.as_deref()).collect();
        let mut out: Vec<String> = Vec::new();
        for st in &stages {
            let Some(base) = expand(&st.base, self.escape, &|v| lookup(&scope, v)).0 else {
                continue;
            };
            let internal = names.contains(&base.to_lowercase().as_str());
            if !base.is_empty() && base != "scratch" && !internal && !out.contains(&base) {
                out.push(base);
            }
        }
        Ok(out)
    }
}
