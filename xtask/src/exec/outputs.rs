//! The run's output paths — the report (REPORT) and the step-log folder (LOG_DIR, or quiet
//! mode's own) — checked before the first step, so a run never publishes everything and then
//! fails for a file it cannot write: the report can be written (its temporary name is created
//! and removed: the folder is writable and the name leaves room for `.NAME.tmp-PID`), it is
//! neither the log folder nor one of this run's own step logs, and neither lies inside an image
//! folder (a file there changes the build context, so skip-unchanged would never skip and the
//! next run builds again). The log folder's own writability is proven where it is created
//! (`logs::prepare`). Each problem is bad input (exit 2) naming the variable.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::{logs, report};
use crate::error::BadInput;
use crate::plan::Plan;

/// Checks REPORT and the log folder (`(variable, folder)`) for a run of `plan` over images in
/// `image_dirs`. Reads only, except the report's temporary name, created and removed.
pub fn check(
    plan: &Plan,
    report_path: Option<&Path>,
    log_dir: Option<(&str, &Path)>,
    image_dirs: &[&Path],
) -> anyhow::Result<()> {
    let images: Vec<(PathBuf, &Path)> = image_dirs.iter().map(|d| (resolved(d), *d)).collect();
    let inside_image = |var: &str, p: &Path, shown: &Path| -> anyhow::Result<()> {
        let real = resolved(p);
        if let Some((_, dir)) = images.iter().find(|(r, _)| real.starts_with(r)) {
            return Err(BadInput::new(
                var,
                shown.display().to_string(),
                format!(
                    "lies inside the image folder {}: a file written there changes the image's build context, so skip-unchanged would never skip it",
                    dir.display()
                ),
                "put the run's outputs outside IMAGES_DIR's image folders, e.g. under target/",
            ));
        }
        Ok(())
    };
    if let Some((var, dir)) = log_dir {
        inside_image(var, dir, dir)?;
    }
    let Some(path) = report_path else {
        return Ok(());
    };
    inside_image("REPORT", path, path)?;
    let real = resolved(path);
    if let Some((var, dir)) = log_dir {
        let dir_real = resolved(dir);
        if real == dir_real {
            return Err(BadInput::new(
                "REPORT",
                path.display().to_string(),
                format!("is the step-log folder ({var})"),
                "name a file for the report, e.g. REPORT=target/run.json, and a folder for the logs",
            ));
        }
        let n = plan.steps.len();
        if real.parent() == Some(dir_real.as_path()) {
            if let Some(s) = plan
                .steps
                .iter()
                .find(|s| real.file_name() == Some(logs::file_name(s, n).as_ref()))
            {
                return Err(BadInput::new(
                    "REPORT",
                    path.display().to_string(),
                    format!(
                        "is step {}'s own log ({var} holds the step logs): the log would overwrite the report, or the report the log",
                        s.id
                    ),
                    "name a file outside the log folder, e.g. REPORT=target/run.json",
                ));
            }
        }
    }
    // A device or pipe is written through at the end; opening a FIFO now would hand its reader
    // an end of file, so it is left alone.
    if report::is_special(path) {
        return Ok(());
    }
    let tmp = report::temp_name(path);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
    {
        Ok(_) => {
            let _ = fs::remove_file(&tmp);
            Ok(())
        }
        Err(e) => Err(BadInput::new(
            "REPORT",
            path.display().to_string(),
            format!(
                "cannot be written (its temporary file {} could not be created: {e})",
                tmp.display()
            ),
            "name a file in a folder you can write to, with a name short enough for .NAME.tmp-PID (255 bytes)",
        )),
    }
}

/// `p` with every link in its existing part resolved and `.`/`..` folded: the deepest
/// existing ancestor made canonical, the rest appended. Two spellings of one place compare
/// equal; a path that does not exist yet still gets the folder it would be created in.
pub fn resolved(p: &Path) -> PathBuf {
    let mut base = p.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(&base) {
            let mut out = real;
            for part in rest.iter().rev() {
                match Path::new(part).components().next() {
                    Some(Component::ParentDir) => {
                        out.pop();
                    }
                    Some(Component::CurDir) | None => {}
                    _ => out.push(part),
                }
            }
            return out;
        }
        match (base.file_name().map(|n| n.to_os_string()), base.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                base = parent.to_path_buf();
            }
            // `..` at the end, or nothing left: compare the text as given.
            _ => return p.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_folds_links_and_missing_parts() {
        let base = std::env::temp_dir().join(format!("xtask-resolved-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(base.join("real")).expect("mkdir");
        std::os::unix::fs::symlink(base.join("real"), base.join("link")).expect("link");
        let real = fs::canonicalize(base.join("real")).expect("canonical");
        assert_eq!(resolved(&base.join("link/new/file")), real.join("new/file"));
        assert_eq!(resolved(&base.join("real/./x")), real.join("x"));
        assert_eq!(resolved(&base.join("link")), real);
        let _ = fs::remove_dir_all(&base);
    }
}
