//! The journal through the real CLI and daemon: write, list, filter, search, show, edit,
//! delete, purge, ids by prefix, and `--json` shapes.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::Home;
use serde_json::Value;

#[test]
fn entries_of_every_kind_are_written_listed_and_shown() {
    let h = Home::init("Maya");
    let trigger = h.write(&[
        "--kind",
        "trigger",
        "--title",
        "Late reply",
        "--tag",
        "work",
        "--tag",
        "#phone",
        "--intensity",
        "7",
        "--mood",
        "2",
        "He did not answer for three hours",
    ]);
    for kind in ["note", "letter", "needs", "checkin"] {
        h.write(&["--kind", kind, &format!("a {kind} entry")]);
    }
    let list = h.ok(&["journal", "list"]);
    assert_eq!(list.lines().count(), 5, "{list}");
    assert!(
        list.lines().last().unwrap().contains("Late reply"),
        "oldest last:\n{list}"
    );

    let entry = h.json(&["journal", "show", &trigger[..12], "--json"]);
    assert_eq!(entry["id"], trigger.as_str());
    assert_eq!(entry["kind"], "trigger");
    assert_eq!(entry["title"], "Late reply");
    assert_eq!(entry["body"], "He did not answer for three hours");
    assert_eq!(entry["tags"], serde_json::json!(["work", "phone"]));
    assert_eq!(entry["mood"], 2);
    assert_eq!(entry["intensity"], 7);
    let created = entry["created_at"].as_str().unwrap();
    assert!(chrono_like_rfc3339(created), "{created}");
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "body",
            "created_at",
            "id",
            "intensity",
            "kind",
            "mood",
            "tags",
            "title",
            "updated_at"
        ]
    );

    let shown = h.ok(&["journal", "show", &trigger[..12]]);
    assert!(
        shown.contains("intensity: 7/10") && shown.contains("He did not answer"),
        "{shown}"
    );
}

fn chrono_like_rfc3339(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes()[4] == b'-'
        && s.contains('T')
        && (s.ends_with('Z') || s.contains('+') || s.rfind('-') > Some(10))
}

#[test]
fn stdin_and_filters_and_search() {
    let h = Home::init("Maya");
    let a = h.run_stdin(
        &["journal", "write", "--tag", "home", "-"],
        "Felt ANXIOUS when the phone stayed silent\n",
    );
    assert_eq!(a.code, 0, "{}", a.stderr);
    h.write(&[
        "--kind",
        "trigger",
        "--tag",
        "work",
        "anxious about the deadline",
    ]);
    h.write(&["a calm day"]);

    let ids = |v: Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["body"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(h.json(&["journal", "list", "--search", "anxious", "--json"])).len(),
        2
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--search", "Anxious PHONE", "--json"])).len(),
        1
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--tag", "work", "--json"])),
        ["anxious about the deadline"]
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--kind", "trigger", "--json"])).len(),
        1
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "-n", "1", "--json"])),
        ["a calm day"]
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--since", "yesterday", "--json"])).len(),
        3
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--since", "2w", "--json"])).len(),
        3
    );
    assert_eq!(
        ids(h.json(&["journal", "list", "--since", "2099-01-01", "--json"])).len(),
        0
    );
    let body = h.json(&["journal", "list", "--tag", "home", "--json"]);
    assert_eq!(
        body[0]["body"],
        "Felt ANXIOUS when the phone stayed silent\n"
    );
}

#[test]
fn ids_resolve_by_unique_prefix_and_ambiguity_is_explained() {
    let h = Home::init("Maya");
    let a = h.write(&["first"]);
    let b = h.write(&["second"]);
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let err = h.fails(&["journal", "show", &a[..common]], 3);
    assert!(
        err.contains("matches several entries") && err.contains("hint:"),
        "{err}"
    );
    let shown = h.json(&["journal", "show", &a[..common + 1].to_uppercase(), "--json"]);
    assert_eq!(shown["id"], a.as_str());
    let err = h.fails(&["journal", "show", "zzzzzz"], 3);
    assert!(err.contains("no journal entry matches"), "{err}");
}

#[test]
fn edit_with_flags_and_in_an_editor() {
    let h = Home::init("Maya");
    let id = h.write(&["--tag", "old", "draft text"]);
    h.ok(&[
        "journal",
        "edit",
        &id,
        "--title",
        "Named",
        "--tag",
        "new",
        "--intensity",
        "3",
    ]);
    let e = h.json(&["journal", "show", &id, "--json"]);
    assert_eq!(
        (
            e["title"].as_str(),
            e["tags"][0].as_str(),
            e["intensity"].as_i64()
        ),
        (Some("Named"), Some("new"), Some(3))
    );
    assert_eq!(e["body"], "draft text");
    assert_ne!(e["created_at"], e["updated_at"]);

    // An "editor" that appends a line to the file it is given.
    let script = h.tmp.path().join("append-editor");
    haven_tests::script(&script, "printf 'more words\\n' >> \"$1\"");
    let mut h = h;
    h.env.push(("EDITOR".into(), script.display().to_string()));
    h.ok(&["journal", "edit", &id]);
    assert_eq!(
        h.json(&["journal", "show", &id, "--json"])["body"],
        "draft textmore words\n"
    );

    // An editor that changes nothing saves nothing.
    h.env.retain(|(k, _)| k != "EDITOR");
    h.env.push(("EDITOR".into(), "true".into()));
    let out = h.run(&["journal", "edit", &id]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("No changes"), "{}", out.stderr);
}

#[test]
fn write_in_an_editor_opens_the_kinds_template() {
    let mut h = Home::init("Maya");
    // The editor copies what it was given somewhere we can read, then adds an answer.
    let seen = h.tmp.path().join("seen.txt");
    let script = h.tmp.path().join("template-editor");
    haven_tests::script(
        &script,
        &format!(
            "cp \"$1\" {}\nsed -i '/^## What helped/a the phone was silent' \"$1\"",
            seen.display()
        ),
    );
    h.env.push(("EDITOR".into(), script.display().to_string()));
    let id = h.write(&["--kind", "trigger"]);
    let template = std::fs::read_to_string(&seen).unwrap();
    for heading in [
        "Situation",
        "The story I told myself",
        "Feeling",
        "Intensity before (0-10)",
        "What I needed",
        "What I did",
        "What helped",
    ] {
        assert!(
            template.contains(heading),
            "template lacks {heading}:\n{template}"
        );
    }
    let entry = h.json(&["journal", "show", &id, "--json"]);
    assert_eq!(entry["record"]["helped"], "the phone was silent", "{entry}");
    // An untouched template is an empty entry: nothing saved, and not an error.
    h.env.retain(|(k, _)| k != "EDITOR");
    h.env.push(("EDITOR".into(), "true".into()));
    let out = h.run(&["journal", "write", "--kind", "trigger"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, "Nothing saved: the page was left empty.\n")
    );
    assert_eq!(h.entry_count(), 1);
}

/// The search goes through a word index built on the first search and kept up to date:
/// a part of a word still finds it, an edit moves the entry to its new words, and a
/// deleted or purged entry is never found again, in the running daemon or after a
/// restart. A search too long to be a person's is refused, kindly.
#[test]
fn search_finds_parts_of_words_and_never_a_deleted_entry() {
    let h = Home::init("Maya");
    let found = |q: &str| -> Vec<String> {
        h.json(&["journal", "list", "--search", q, "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let kept = h.write(&["Self-soothing by the river, ΣΟΦΊΑ"]);
    assert_eq!(
        found("sooth RIVER"),
        [kept.as_str()],
        "built on this search"
    );
    let edited = h.write(&["an evening walk"]);
    let gone = h.write(&["the river at night"]);
    assert_eq!(found("river"), [gone.as_str(), kept.as_str()]);
    assert_eq!(found("σοφία"), [kept.as_str()]);
    h.ok(&["journal", "edit", &edited, "--text", "a morning swim"]);
    assert!(found("evening").is_empty());
    assert_eq!(found("morn"), [edited.as_str()]);
    h.ok(&["journal", "delete", &gone, "--yes"]);
    assert_eq!(found("river"), [kept.as_str()]);
    h.ok(&["journal", "purge"]);
    assert_eq!(found("night"), Vec::<String>::new());
    h.ok(&["daemon", "stop"]);
    assert_eq!(found("river"), [kept.as_str()]);
    assert!(found("night").is_empty());
    assert_eq!(found("swim"), [edited.as_str()]);

    let many = vec!["word"; 10_000].join(" ");
    let err = h.fails(&["journal", "list", "--search", &many], 2);
    assert!(
        err.contains("the search is 49999 characters long: keep it to 1000 at most"),
        "{err}"
    );
    let many = vec!["a"; 40].join(" ");
    let err = h.fails(&["journal", "list", "--search", &many], 2);
    assert!(
        err.contains("the search has 40 words: keep it to 32 at most (every word must match)"),
        "{err}"
    );
    // As long as one argument may be (a megabyte does not fit in one).
    let huge = "a".repeat(100_000);
    let err = h.fails(&["journal", "list", "--search", &huge], 2);
    assert!(
        err.contains("the search is 100000 characters long: keep it to 1000 at most"),
        "{err}"
    );
    h.ok(&["status"]);
}

#[test]
fn delete_then_purge_erases_the_text_from_the_stored_history() {
    let h = Home::init("Maya");
    let keep = h.write(&["keep me"]);
    let gone = h.write(&["CANARY-DELETED-4471 a secret to forget"]);
    h.ok(&["journal", "edit", &keep, "--text", "keep me, edited"]);
    h.ok(&["journal", "delete", &gone, "--yes"]);
    h.fails(&["journal", "show", &gone], 3);
    assert_eq!(h.entry_count(), 1);

    // Before purge the deleted text is still in the (encrypted) history.
    h.ok(&["daemon", "stop"]);
    let mut home = h.open_directly();
    assert!(contains(
        &home.journal.automerge_mut().save_nocompress(),
        b"CANARY-DELETED-4471"
    ));
    drop(home);

    h.ok(&["journal", "purge"]);
    h.ok(&["daemon", "stop"]);
    let mut home = h.open_directly();
    let history = home.journal.automerge_mut().save_nocompress();
    assert!(
        !contains(&history, b"CANARY-DELETED-4471"),
        "purge must drop deleted text from history"
    );
    assert!(
        !contains(&history, b"keep me\""),
        "and the pre-edit version"
    );
    let (entries, _) = home.journal.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].body, "keep me, edited");
    let rows = count(&h, "SELECT COUNT(*) FROM chunks WHERE doc = 'journal'");
    assert_eq!(rows, 1, "one snapshot left after purge");
    // Byte by byte: every sealed row starts with age's header, so the files hold exactly
    // the live rows' copies, and no stale sealed copy of the old history in free pages,
    // the WAL or the shared-memory file.
    let live = count(
        &h,
        "SELECT (SELECT COUNT(*) FROM chunks) + (SELECT COUNT(*) FROM peer)",
    );
    assert_eq!(sealed_copies_on_disk(&h), live as usize);
}

/// One number from `haven.db` (the daemon stopped).
fn count(h: &Home, query: &str) -> i64 {
    rusqlite::Connection::open(h.home.join("haven.db"))
        .unwrap()
        .query_row(query, [], |r| r.get(0))
        .unwrap()
}

/// How many age files (`age-encryption.org/v1` headers) `haven.db`, `-wal` and `-shm` hold.
fn sealed_copies_on_disk(h: &Home) -> usize {
    ["haven.db", "haven.db-wal", "haven.db-shm"]
        .iter()
        .filter_map(|f| std::fs::read(h.home.join(f)).ok())
        .map(|bytes| {
            bytes
                .windows(b"age-encryption.org/v1".len())
                .filter(|w| w == b"age-encryption.org/v1")
                .count()
        })
        .sum()
}

/// The log is compacted on its own every few hundred writes; that compaction forgets
/// deleted and overwritten text as `purge` does (it used to keep the whole history).
#[test]
fn automatic_compaction_forgets_deleted_text_too() {
    let h = Home::init("Maya");
    let gone = h.write(&["CANARY-COMPACTED-9182 a secret to forget"]);
    h.ok(&["journal", "delete", &gone, "--yes"]);
    // Enough writes for the log to pass COMPACT_AFTER chunks since its snapshot.
    let writes = haven_shared::store::COMPACT_AFTER + 5;
    for i in 0..writes {
        h.write(&[&format!("entry {i}")]);
    }
    h.ok(&["daemon", "stop"]);
    let mut home = h.open_directly();
    let (entries, _) = home.journal.entries().unwrap();
    assert_eq!(entries.len(), writes, "every entry survives compaction");
    let history = home.journal.automerge_mut().save_nocompress();
    assert!(
        !contains(&history, b"CANARY-COMPACTED-9182"),
        "compaction must drop deleted text from history"
    );
    let rows = count(&h, "SELECT COUNT(*) FROM chunks WHERE doc = 'journal'");
    assert!(rows < 20, "the log was compacted: {rows} rows");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn completions_are_printed_for_each_shell() {
    let h = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = h.ok(&["completions", shell]);
        assert!(out.contains("journal") && out.contains("agree"), "{shell}");
    }
}

#[test]
fn without_a_home_flag_haven_uses_the_xdg_folders() {
    let h = Home::new();
    let user_home = h.tmp.path().join("user");
    std::fs::create_dir_all(&user_home).unwrap();
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(haven_tests::bin_dir().join("haven"));
        // A usual umask, so the parents' permissions below are predictable.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::umask(0o022);
                Ok(())
            });
        }
        let out = command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &user_home)
            .env("XDG_RUNTIME_DIR", &h.runtime)
            .env("HAVEN_PASSPHRASE_FILE", &h.pass_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["init", "--name", "Sam"]);
    run(&["journal", "write", "an entry in the default place"]);
    assert!(run(&["journal", "list"]).contains("an entry in the default place"));
    let data = user_home.join(".local/share/haven");
    assert!(data.join("haven.db").exists() && data.join("identity.age").exists());
    assert!(
        h.runtime.join("haven/haven.sock").exists(),
        "the socket is in $XDG_RUNTIME_DIR/haven"
    );
    let mode = |p: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
            & 0o777
    };
    assert_eq!(mode(&data), 0o700);
    assert_eq!(
        mode(&user_home.join(".local/share")) & 0o077,
        0o055,
        "parents keep the usual permissions"
    );
    let pid: i32 = std::fs::read_to_string(h.runtime.join("haven/havend.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    run(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
}

#[test]
fn a_note_becomes_a_thought_record_with_its_text_under_situation() {
    let mut h = Home::init("Maya");
    let id = h.write(&["He did not answer for three hours."]);
    // Saved as it opened: the note's text is the situation.
    let keep = h.tmp.path().join("keep");
    haven_tests::script(&keep, "true");
    h.env.push(("EDITOR".into(), keep.display().to_string()));
    h.ok(&["journal", "edit", &id, "--kind", "trigger"]);
    let e = &h.json(&["journal", "list", "--json"])[0];
    assert_eq!(e["kind"], "trigger", "{e}");
    assert_eq!(
        e["record"]["situation"], "He did not answer for three hours.",
        "{e}"
    );
    assert_eq!(e["body"], "", "{e}");
    // A second one, with the intensity filled in the editor.
    let other = h.write(&["The plans changed at the last minute."]);
    let fill = h.tmp.path().join("fill");
    haven_tests::script(
        &fill,
        "grep -q '^The plans changed at the last minute.$' \"$1\" && \
         sed -i 's/^## Intensity before (0-10)$/## Intensity before (0-10)\\n7/' \"$1\"",
    );
    h.env.push(("EDITOR".into(), fill.display().to_string()));
    h.ok(&["journal", "edit", &other, "--kind", "trigger"]);
    let e = h
        .json(&["journal", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == other.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (e["kind"].as_str(), e["intensity"].as_i64()),
        (Some("trigger"), Some(7)),
        "{e}"
    );
}
