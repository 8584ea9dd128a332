//! Cross-crate tests: golden vectors produced by the reference, live interop with the
//! reference. The conformance binary's tests live in its own crate.

mod allocations;
mod cluster;
mod dashboards;
mod end_to_end;
mod generate;
mod interop;
mod legacy_examples;
mod platform_examples;
mod processes;
mod real_agent;
mod real_brain;
mod reference;
mod vectors;

use std::path::PathBuf;

/// A file under `tests/`.
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of a JSON-lines vector file under `tests/vectors/`.
pub fn vector_rows(name: &str) -> Vec<serde_json::Value> {
    let path = tests_dir().join("vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| serde_json::from_str(line).expect("vector rows are JSON"))
        .collect()
}
