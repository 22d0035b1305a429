//! What `xtask-tls make` reports to xtask: one JSON object on stdout, so xtask learns a
//! refusal as data (the flag, the value, the problem, the hint) and exits 2 with it, instead
//! of parsing a message.
//!
//!   {"outcome":"done"}
//!   {"outcome":"refused","flag":"--ca","value":"…","problem":"…","hint":"…"}
//!   {"outcome":"failed","message":"…"}

use serde_json::{json, Value};

use crate::args::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything written (or, with --dry-run, everything checked).
    Done,
    /// Bad input, found before anything was written (exit 2).
    Refused(Invalid),
    /// Something failed while making or writing; nothing is left behind (exit 1).
    Failed(String),
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Refused(_) => 2,
            Outcome::Failed(_) => 1,
        }
    }

    pub fn to_json(&self) -> String {
        let v = match self {
            Outcome::Done => json!({ "outcome": "done" }),
            Outcome::Refused(i) => json!({
                "outcome": "refused",
                "flag": i.flag,
                "value": i.value,
                "problem": i.problem,
                "hint": i.hint,
            }),
            Outcome::Failed(m) => json!({ "outcome": "failed", "message": m }),
        };
        v.to_string()
    }

    /// The outcome in `text` (xtask-tls's stdout), or None when it holds none.
    pub fn from_json(text: &str) -> Option<Outcome> {
        let v: Value = serde_json::from_str(text.trim()).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        match v.get("outcome")?.as_str()? {
            "done" => Some(Outcome::Done),
            "refused" => Some(Outcome::Refused(Invalid {
                flag: s("flag")?,
                value: s("value")?,
                problem: s("problem")?,
                hint: s("hint")?,
            })),
            "failed" => Some(Outcome::Failed(s("message")?)),
            _ => None,
        }
    }
}
