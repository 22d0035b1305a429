//! The interface of `cargo xtask tls`, defined once for the two crates that implement it:
//! xtask validates the flags before any work and prints the plan; xtask-tls makes the certs
//! and writes them. Here: the flags and their limits (args.rs), DNS-name rules (dns.rs), the
//! files written with their modes and the file-system checks that come before writing
//! (layout.rs), how a user's value is shown in any message of either crate (shown.rs), the
//! outcome xtask-tls make reports back to xtask (outcome.rs) and the facts xtask-tls inspect
//! reports about a cert folder (inspect.rs).
//!
//! Only what xtask already builds (clap, serde_json, std): xtask's cold build must not pay
//! for the crypto, which lives in xtask-tls.

mod args;
mod dns;
mod inspect;
mod layout;
mod outcome;
mod shown;

pub use args::{Args, Invalid, Spec, DEFAULT_DAYS, MAX_BACKDATE, MAX_DAYS};
pub use dns::{dns_problem, MAX_LABEL, MAX_NAME};
pub use inspect::{CertFacts, Facts, KeyFacts};
pub use layout::{Entry, File, Folder, Item, DIR_MODE, FILE_MODE, KEY_MODE, LAYOUT};
pub use outcome::Outcome;
pub use shown::{
    bounded, escaped, escaped_lines, hidden, mask_password, quoted, shown, shown_long, shown_path,
    LONG_MAX, SHOWN_MAX,
};

#[cfg(test)]
mod tests;
