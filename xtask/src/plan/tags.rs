//! Tags of one image: compat mode's are upstream's (`R/I:V`, `R/I:V-linux-cache`); matrix
//! mode's carry the OS version (`R/I:V-windows-amd64-<os>`, `R/I:V-linux-amd64-<os>`, the
//! list `R/I:V`).

use super::Setup;
use crate::images::Image;

pub struct Tags;

impl Tags {
    pub fn repo(cfg: &Setup, img: &Image) -> String {
        format!("{}/{}", cfg.registry, img.name)
    }
    /// The Windows image: `R/I:V`, or `R/I:V-windows-amd64-<os>` in matrix mode.
    pub fn windows(cfg: &Setup, img: &Image, os: Option<&str>) -> String {
        match os {
            None => format!("{}:{}", Self::repo(cfg, img), img.version),
            Some(os) => format!(
                "{}:{}-windows-amd64-{os}",
                Self::repo(cfg, img),
                img.version
            ),
        }
    }
    /// The manifest list of matrix mode: `R/I:V`.
    pub fn list(cfg: &Setup, img: &Image) -> String {
        format!("{}:{}", Self::repo(cfg, img), img.version)
    }
    /// The Linux cache image: `R/I:V-linux-cache`, or `R/I:V-linux-amd64-<os>`.
    pub fn cache(cfg: &Setup, img: &Image, os: Option<&str>) -> String {
        match os {
            None => format!("{}:{}-linux-cache", Self::repo(cfg, img), img.version),
            Some(os) => format!("{}:{}-linux-amd64-{os}", Self::repo(cfg, img), img.version),
        }
    }
}
