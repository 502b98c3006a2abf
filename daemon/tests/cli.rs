//! `havend --help` and `--version`. (Also makes `cargo test --workspace` build the
//! `havend` binary that the end-to-end tests in `tests/` run.)
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn help_names_home_and_foreground() {
    let out = Command::new(env!("CARGO_BIN_EXE_havend"))
        .arg("--help")
        .output()
        .expect("run havend");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("--home <DIR>") && text.contains("--foreground"),
        "{text}"
    );
}

#[test]
fn version_is_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_havend"))
        .arg("--version")
        .output()
        .expect("run havend");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("havend {}", env!("CARGO_PKG_VERSION"))
    );
}
