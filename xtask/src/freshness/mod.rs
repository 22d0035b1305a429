//! Freshness: what has moved since the images were built — each base's digest now against the
//! pushed images and the pins (`bases`: `lint --bases`, `pin-bases`), and whether the pinned
//! PowerShell download exists (`online`: `lint --online`). Both ask the world (registries,
//! the releases site), so they run only when asked for.

pub mod bases;
pub mod online;
