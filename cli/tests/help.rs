//! The help users read is pinned here, so the README and the program cannot drift apart.
//! (Having an integration test also makes `cargo test --workspace` build the `haven`
//! binary that the end-to-end tests in `tests/` run.)
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .output()
        .expect("run haven");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn top_level_help_lists_every_command() {
    let text = help(&["--help"]);
    for command in [
        "init",
        "unlock",
        "lock",
        "status",
        "journal",
        "agree",
        "share",
        "notes",
        "thanks",
        "ask",
        "device",
        "daemon",
        "doctor",
        "completions",
    ] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "missing {command}:\n{text}"
        );
    }
    assert!(
        text.contains("not therapy"),
        "the help says Haven is not therapy:\n{text}"
    );
}

#[test]
fn journal_write_help_names_its_flags() {
    let text = help(&["journal", "write", "--help"]);
    for flag in [
        "--kind",
        "--title",
        "--tag",
        "--mood",
        "--intensity",
        "[TEXT]",
    ] {
        assert!(text.contains(flag), "missing {flag}:\n{text}");
    }
    let list = help(&["journal", "list", "--help"]);
    for flag in ["-n", "--tag", "--kind", "--search", "--since", "--json"] {
        assert!(list.contains(flag), "missing {flag}:\n{list}");
    }
}

#[test]
fn version_is_printed() {
    assert_eq!(
        help(&["--version"]).trim(),
        format!("haven {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Every command's `--help`, pinned whole in `tests/cmd/*.toml` and its
/// `.stdout` file (rage pins its output the same way). `TRYCMD=overwrite` rewrites them
/// after a deliberate change; the diff is then reviewed like code.
#[test]
fn help_pages_are_pinned() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
