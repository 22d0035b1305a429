//! The registry group: where images go (REGISTRY) and how long a registry may take to answer
//! a query (REGISTRY_TIMEOUT); REGISTRY_INSECURE is obsolete, still checked and said ignored.

use std::time::Duration;

use super::parse::{parse_seconds, parse_switch};
use super::Warnings;
use crate::error::BadInput;
use crate::reference;

pub const DEFAULT_REGISTRY: &str = "registry.k8s.io/e2e-test-images";

/// Where images go.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Registry prefix images are pushed under [default: registry.k8s.io/e2e-test-images].
    #[arg(long, env = "REGISTRY", value_name = "R")]
    pub registry: Option<String>,
    /// Obsolete (lists no longer use `docker manifest`); still accepted as 0 or 1.
    #[arg(long, env = "REGISTRY_INSECURE", value_name = "0|1")]
    pub registry_insecure: Option<String>,
    /// Seconds the registry may take to answer a query [default: 30].
    #[arg(long, env = "REGISTRY_TIMEOUT", value_name = "S")]
    pub registry_timeout: Option<String>,
}

/// The registry, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port]/path`, tags are `PREFIX/IMAGE:TAG`.
    pub prefix: String,
    /// How long any registry query may take.
    pub timeout: Duration,
}

impl RegistryArgs {
    pub fn resolve(self, warnings: &mut Warnings) -> anyhow::Result<Registry> {
        let prefix = self
            .registry
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
        if let Some(problem) = reference::registry_problem(&prefix) {
            return Err(BadInput::new(
                "REGISTRY",
                &prefix,
                format!("not a valid registry prefix: {problem}"),
                "use host[:port]/path with lowercase path components, e.g. REGISTRY=registry.example.com/e2e-test-images",
            ));
        }
        // Obsolete: lists are pushed by `buildx imagetools`, which takes no --insecure (buildx
        // reaches a loopback registry over HTTP by itself). Still checked, so an old env file
        // with a wrong value is not silently taken, and said to be ignored when set.
        parse_switch(
            "REGISTRY_INSECURE",
            self.registry_insecure.as_deref(),
            "REGISTRY_INSECURE is obsolete: unset it",
        )?;
        let timeout = parse_seconds(
            "REGISTRY_TIMEOUT",
            self.registry_timeout.as_deref(),
            3600,
            30,
            "seconds a registry may take to answer a query; the default is 30",
        )?;
        if self.registry_insecure.is_some_and(|v| !v.is_empty()) {
            warnings.0.push(
                "REGISTRY_INSECURE is obsolete and ignored: lists are pushed by `docker buildx imagetools`, which needs no --insecure"
                    .to_string(),
            );
        }
        Ok(Registry { prefix, timeout })
    }
}
