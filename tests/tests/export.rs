//! `haven export`: each text format written and read back, redaction, age encryption read
//! by the reference `age` CLI, and bad input that writes nothing.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::Home;
use std::process::Command;

fn journal() -> Home {
    let h = Home::init("Maya");
    h.write(&[
        "--kind",
        "trigger",
        "--title",
        "Late reply",
        "--intensity",
        "7",
        "--tag",
        "phone",
        "Sam did not answer; SAM was busy.",
    ]);
    h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "3",
        "Smaller wave today; Samuel called.",
    ]);
    h.write(&[
        "--kind",
        "needs",
        "Ich fühle mich ruhiger, 日本語も大丈夫。",
    ]);
    h
}

#[test]
fn every_text_format_is_written_and_reads_back() {
    let h = journal();
    let dir = h.tmp.path();
    for format in ["md", "txt", "html", "json"] {
        let file = dir.join(format!("brief.{format}"));
        h.ok(&[
            "export",
            "--since",
            "2w",
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("Late reply")
                && text.contains("日本語も大丈夫")
                && text.contains("fühle"),
            "{format}"
        );
        assert!(text.contains("not therapy"), "{format}: the footer");
        // Entries in time order: the first written comes first.
        assert!(
            text.find("Late reply") < text.find("Smaller wave"),
            "{format}: time order"
        );
    }
    let md = std::fs::read_to_string(dir.join("brief.md")).unwrap();
    assert!(md.starts_with("# Session brief: "), "{md}");
    for heading in ["\n## Trigger intensity\n", "\n## Entries\n", "\n### "] {
        assert!(md.contains(heading), "missing {heading:?}");
    }
    assert!(
        md.contains("2 trigger entries, average intensity 5.0, highest 7."),
        "{md}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("brief.json")).unwrap()).unwrap();
    assert_eq!(json["kind"], "brief");
    assert_eq!(json["entries"].as_array().unwrap().len(), 3);
    assert_eq!(json["intensity"]["triggers"], 2);
    assert_eq!(json["intensity"]["highest"], 7);
    assert_eq!(json["entries"][0]["title"], "Late reply");

    let html = std::fs::read_to_string(dir.join("brief.html")).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg"),
        "an inline chart"
    );
    for remote in ["<script", "<link", "<img", "@import", "url(", "src=\"http"] {
        assert!(
            !html.contains(remote),
            "the HTML must be self-contained, found {remote}"
        );
    }
}

#[test]
fn one_entry_by_prefix_and_the_filters() {
    let h = journal();
    let id = h.write(&[
        "--tag",
        "younger-self",
        "--kind",
        "letter",
        "Dear younger me, you were not too much.",
    ]);
    let md = h.ok(&["export", &id[..12]]);
    assert!(md.starts_with("# Dear younger me"), "{md}");
    assert!(!md.contains("Late reply"), "one entry only");
    let only = h.ok(&[
        "export", "--since", "2w", "--kind", "trigger", "--format", "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&only).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    let tagged: serde_json::Value = serde_json::from_str(&h.ok(&[
        "export", "--since", "2w", "--tag", "phone", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(tagged["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn redaction_replaces_whole_words_in_any_case_and_says_so() {
    let h = journal();
    let md = h.ok(&["export", "--since", "2w", "--redact", "Sam=partner"]);
    // Everything above the closing line, which names what was redacted.
    let content = md.split("\n---\n").next().unwrap();
    assert!(
        !content.contains("Sam ") && !content.contains("SAM"),
        "{md}"
    );
    assert!(
        md.contains("partner did not answer; partner was busy."),
        "{md}"
    );
    assert!(md.contains("Samuel called"), "whole words only: {md}");
    assert!(md.contains("Redacted: Sam → partner (2)."), "{md}");
    h.fails(&["export", "--since", "2w", "--redact", "Sam"], 2);
}

#[test]
fn redaction_reaches_every_field_of_a_record_and_a_pause() {
    let h = Home::init("Maya");
    h.write(&[
        "--situation",
        "Sam was late",
        "--story",
        "Sam is leaving",
        "--other-story",
        "Sam got caught at work",
        "--feeling",
        "scared of losing Sam",
        "--need",
        "to hear from Sam",
        "--helped",
        "a walk, then a text to Sam",
    ]);
    let id = h.ok(&["pause", "--message", "Sam, where are you"]);
    h.ok(&[
        "pause",
        "done",
        id.trim(),
        "--urge",
        "3",
        "--rewrite",
        "I feel scared when Sam is quiet; I need a short text",
    ]);
    for format in ["md", "json", "html"] {
        let out = h.ok(&[
            "export",
            "--since",
            "2w",
            "--format",
            format,
            "--redact",
            "Sam=partner",
            "--messages",
        ]);
        // Only the report of what was redacted names the name (nine times: the six
        // fields, the message, its rewrite and the title; "what helped" written once is
        // not repeated in the insights).
        let report = "Sam → partner (9)";
        assert!(out.contains(report), "{format}: {out}");
        assert!(!out.replace(report, "").contains("Sam"), "{format}: {out}");
        assert!(
            out.contains("partner got caught at work"),
            "{format}: {out}"
        );
        assert!(out.contains("when partner is quiet"), "{format}: {out}");
    }
}

#[test]
fn an_encrypted_export_is_read_by_the_reference_age_cli() {
    let h = journal();
    let key = h.tmp.path().join("therapist.key");
    let ok = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .expect("age-keygen (Debian package age)");
    assert!(ok.status.success());
    let recipient = String::from_utf8(
        Command::new("age-keygen")
            .arg("-y")
            .arg(&key)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let file = h.tmp.path().join("brief.md.age");
    h.ok(&[
        "export",
        "--since",
        "2w",
        "--to",
        recipient.trim(),
        "-o",
        file.to_str().unwrap(),
    ]);
    let sealed = std::fs::read_to_string(&file).unwrap();
    assert!(
        sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----") && !sealed.contains("Late reply")
    );
    let plain = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert!(String::from_utf8(plain.stdout)
        .unwrap()
        .contains("Late reply"));
}

#[test]
fn bad_exports_write_nothing() {
    let h = journal();
    let dir = h.tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let target = dir.join("x.md");
    let t = target.to_str().unwrap();
    let err = h.fails(&["export", "--since", "2099-01-01", "-o", t], 3);
    assert!(err.contains("nothing was written"), "{err}");
    h.fails(&["export", "zzzz", "-o", t], 3);
    h.fails(
        &["export", "--since", "2w", "--to", "age1notakey", "-o", t],
        2,
    );
    let missing = h.tmp.path().join("missing/x.md");
    let err = h.fails(
        &["export", "--since", "2w", "-o", missing.to_str().unwrap()],
        2,
    );
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(
        h.run(&["export", "--since", "2w", "--format", "docx"]).code,
        2
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no partial or temp file left behind"
    );
}

/// A heading line of the brief ("Monday 23 November 2026, 10:05: Title"), a meta line
/// under it, or a section heading.
fn is_heading(line: &str) -> bool {
    let clock = line.split(", ").nth(1).is_some_and(|rest| {
        rest.len() > 6 && rest.as_bytes()[2] == b':' && rest[5..].starts_with(": ")
    });
    clock
        || line == "note"
        || line.starts_with("trigger ·")
        || ["Entries", "Trigger intensity", "Agreements in force"].contains(&line)
}

#[test]
fn the_pdf_is_real_text_in_any_script_with_page_numbers_and_no_stranded_headings() {
    let h = Home::init("Maya");
    h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "7",
        "--title",
        "Späte Antwort",
        "Ich hätte gern gewusst, ob es dir gut geht. Straße, Größe, Ærø.",
    ]);
    h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "4",
        "--title",
        "返事",
        "今日は返事がなくて不安だった。我需要你告诉我你没事。한국어도 읽을 수 있어요.",
    ]);
    let sentence = "Today I noticed the old story again, and I asked for what I needed instead. ";
    for i in 0..40 {
        let body = sentence.repeat(1 + (i * 7) % 13);
        h.write(&["--title", &format!("Note number {i}"), &body]);
    }
    let file = h.tmp.path().join("brief.pdf");
    h.ok(&[
        "export",
        "--since",
        "1d",
        "--format",
        "pdf",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));

    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils, installed by .ci/run) must be installed");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Session brief",
        "Straße, Größe, Ærø.",
        "今日は返事がなくて不安だった。",
        "我需要你告诉我你没事。",
        "한국어도 읽을 수 있어요.",
        "2 trigger entries, average intensity 5.5, highest 7.",
        "Note number 39",
        "Haven is a journal, not therapy",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} is not in the PDF's text:\n{text}"
        );
    }
    let today = chrono::Local::now().format("%A %-d %B %Y").to_string();
    assert!(
        text.contains(&today),
        "dates in a human form ({today}):\n{text}"
    );

    let pages: Vec<&str> = text
        .split('\x0c')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 3, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        let number = format!("Page {} of {}", i + 1, pages.len());
        assert!(page.contains(&number), "page {} has no {number:?}", i + 1);
        let last = page
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("Page "))
            .unwrap_or_default();
        assert!(
            !is_heading(last),
            "page {} ends with a heading: {last:?}",
            i + 1
        );
    }

    // Without -o, the PDF goes to a pipe whole.
    let id = h.write(&["one more"]);
    let piped = h
        .command("haven")
        .args(["export", &id, "--format", "pdf"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(piped.stdout.starts_with(b"%PDF-"));
    assert!(
        piped.stdout.windows(5).any(|w| w == b"%%EOF"),
        "a whole PDF"
    );
}

/// An export into a shared folder (here one anyone may write to): a link planted where
/// the old writer put its temp file, or at the target itself, never makes the export
/// write into someone else's file.
#[test]
fn an_export_into_a_shared_folder_never_writes_through_a_planted_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let h = journal();
    let shared = h.tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = h.tmp.path().join("victim.txt");
    std::fs::write(&victim, "VICTIM'S OWN TEXT").unwrap();
    symlink(&victim, shared.join(".brief.md.tmp")).unwrap();
    let out = shared.join("brief.md");
    h.ok(&["export", "--since", "2w", "-o", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "VICTIM'S OWN TEXT"
    );
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Late reply"));
    // The target itself a link: it is replaced, its target left alone.
    let linked = shared.join("linked.md");
    symlink(&victim, &linked).unwrap();
    h.ok(&["export", "--since", "2w", "-o", linked.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "VICTIM'S OWN TEXT"
    );
    assert!(!std::fs::symlink_metadata(&linked)
        .unwrap()
        .file_type()
        .is_symlink());
    let mode = std::fs::metadata(&linked).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let left: Vec<_> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".haven-"))
        .collect();
    assert!(left.is_empty(), "temp files left behind: {left:?}");
}
