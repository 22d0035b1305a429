//! The one integration-test binary (xshell's `tests/it/main.rs` layout): every test file is a
//! module here, so `cargo test` links one test executable instead of one per file. Run one
//! topic with `cargo test --test it bad_input::` (or any name fragment).
//!
//! Tests of different modules now run on threads of one process: none may change process-wide
//! state (environment variables, the current directory) or share a fixed path; folders come
//! from `support::TempDir`, and the stack tests that stop parts of the stack take it for
//! themselves (`support::stack::Stack::exclusive`).

mod support;

mod bad_input;
mod bounded;
mod cache_only;
mod cli;
mod closed_output;
mod completions;
mod concurrent_e2e;
mod consumer_e2e;
mod credential_helper;
mod credentials;
mod credentials_e2e;
mod docs;
mod doctor_e2e;
mod e2e;
mod engines;
mod executor;
mod faults_e2e;
mod front;
mod isolation;
mod layers;
mod lint;
mod list_step;
mod lists_e2e;
mod make_safety;
mod one_node_e2e;
mod ownership;
mod personas_e2e;
mod plan_compat;
mod plan_matrix;
mod progress;
mod quickstart_e2e;
mod release;
mod release_e2e;
mod report;
mod report_e2e;
mod secrets;
mod tls_doctor;
mod trust_inputs;
mod unchanged_e2e;
mod what_they_say;
