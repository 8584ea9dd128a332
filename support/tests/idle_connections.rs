//! 1,000 idle clients against the brain's endpoints, through the `idle_memory` tool (the
//! clients run in a child process, so only the brain's memory is counted). The targets
//! (64 KiB per idle agent, 16 KiB per idle dashboard) live in BENCHMARKS.md; this guards
//! against a regression of the kind the old example brain had, 137 KiB per idle `/ws`
//! client from tungstenite's default 128 KiB read buffer, with a bound of twice each
//! target.

use std::process::Command;

/// Bytes per connection that `idle_memory COUNT KIND` reports.
fn bytes_per_connection(kind: &str) -> u64 {
    let output = Command::new(env!("CARGO_BIN_EXE_idle_memory"))
        .args(["1000", kind])
        .output()
        .expect("idle_memory runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    // "... after, 10883 bytes (10.6 KiB) each"
    text.split(" bytes (")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {text:?}"))
}

#[test]
fn a_thousand_idle_dashboards_take_under_32_kib_each() {
    for kind in ["dashboards", "dashboards-axum"] {
        let per = bytes_per_connection(kind);
        assert!(per < 32 * 1024, "{kind}: {per} bytes per idle connection");
    }
}

#[test]
fn a_thousand_idle_agents_take_under_128_kib_each() {
    let per = bytes_per_connection("agents");
    assert!(per < 128 * 1024, "{per} bytes per idle agent connection");
}
