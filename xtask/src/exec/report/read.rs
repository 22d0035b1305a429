//! Reading a run report back (`report`, `promotion`): the file named on the command line,
//! as JSON, or bad input naming it (exit 2) before anything is printed.

use std::path::Path;

use serde_json::Value;

use crate::error::BadInput;

/// The report at `path`, parsed; refuses a missing, unreadable or non-JSON file, or JSON that
/// is no run report.
pub fn read(path: &Path) -> anyhow::Result<Value> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        BadInput::new(
            "RUN.json",
            &shown,
            format!("cannot read it: {e}"),
            "name the run report a run wrote (--report FILE or REPORT=FILE)",
        )
    })?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        BadInput::new(
            "RUN.json",
            &shown,
            format!("not JSON: {e}"),
            "name the run report a run wrote (--report FILE or REPORT=FILE)",
        )
    })?;
    if doc["format_version"].as_u64().is_none() || !doc["steps"].is_array() {
        return Err(BadInput::new(
            "RUN.json",
            &shown,
            "JSON, but not a run report (no format_version and steps)",
            "name the run report a run wrote (--report FILE or REPORT=FILE)",
        ));
    }
    Ok(doc)
}
