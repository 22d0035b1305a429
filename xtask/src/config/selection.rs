//! The selection group: which folder holds the images (IMAGES_DIR) and which of them a
//! command handles (IMAGES, or names typed after the command).

use std::path::PathBuf;

use super::parse::parse_list;
use super::project_root;
use crate::error::{shown, BadInput};
use crate::reference;

/// `--images-dir` (IMAGES_DIR).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Images")]
pub struct ImagesDirArg {
    /// Folder holding one folder per image [default: images/ of this repository].
    #[arg(long, env = "IMAGES_DIR", value_name = "DIR")]
    pub images_dir: Option<String>,
}

/// `--images` (IMAGES): a selection, for the commands that handle several images.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Images")]
pub struct ImagesArg {
    /// Images to handle, space separated; positional names do the same [default: every folder of IMAGES_DIR with a VERSION].
    #[arg(long, env = "IMAGES", value_name = "\"A B\"")]
    pub images: Option<String>,
}

/// The images a command handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// IMAGES_DIR, absolute (docker never reads a folder named `-x` as a flag).
    pub dir: PathBuf,
    /// Images named, in the given order; empty means every image.
    pub names: Vec<String>,
}

impl ImagesDirArg {
    /// The folder, absolute and present.
    pub fn resolve(self) -> anyhow::Result<PathBuf> {
        let dir = match &self.images_dir {
            Some(d) if d.is_empty() => {
                return Err(BadInput::new(
                    "IMAGES_DIR",
                    "",
                    "it is empty",
                    "unset it to use images/ of this repository, or name a folder",
                ))
            }
            Some(d) => super::nodes::absolute("IMAGES_DIR", d)?,
            None => project_root().join("images"),
        };
        if !dir.is_dir() {
            return Err(BadInput::new(
                "IMAGES_DIR",
                self.images_dir.unwrap_or_default(),
                format!("no such folder: {}", shown(&dir.display().to_string())),
                "point IMAGES_DIR at the folder that holds one folder per image",
            ));
        }
        Ok(dir)
    }

    /// This folder with no names: every image in it.
    pub fn all(self) -> anyhow::Result<Selection> {
        Ok(Selection {
            dir: self.resolve()?,
            names: Vec::new(),
        })
    }
}

impl ImagesArg {
    /// The names: `positional` when given (they stand for IMAGES), else IMAGES.
    pub fn resolve(self, dir: ImagesDirArg, positional: Vec<String>) -> anyhow::Result<Selection> {
        let dir = dir.resolve()?;
        let value = if positional.is_empty() {
            self.images
        } else {
            Some(positional.join(" "))
        };
        let names = parse_list(
            "IMAGES",
            value.as_deref(),
            reference::is_path_component,
            "image name (a folder of IMAGES_DIR)",
            "powershell-helper",
        )?;
        Ok(Selection { dir, names })
    }
}
