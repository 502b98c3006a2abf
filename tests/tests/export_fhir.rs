//! `haven export --format fhir`: an R4 Bundle of Observations, validated against HL7's
//! published FHIR R4 JSON schema (vendored in `tests/fixtures/fhir`), with figures the test
//! wrote itself, and no words unless `--with-text`.
#![allow(clippy::unwrap_used)]

use std::io::Read;

use haven_tests::{assert_one_error, Home};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SCHEMA_SHA256: &str = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d";
const CANARY: &str = "canary-words-of-the-situation";

fn schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fhir/fhir.schema.json.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(text.as_bytes())),
        SCHEMA_SHA256,
        "the vendored schema is HL7's, unchanged"
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft6::new(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).take(5).collect();
    assert!(errors.is_empty(), "not valid FHIR R4: {errors:#?}");
}

/// A thought record (8 → 3), a finished pause (urge 7 → 2), a check-in with mood 2, and
/// a plain note with nothing to measure.
fn journal() -> (Home, String, String) {
    let h = Home::init("Maya");
    let record = h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "8",
        "--at",
        "2d ago",
        "--title",
        "Late reply",
        CANARY,
    ]);
    h.ok(&["journal", "edit", &record, "--after", "3"]);
    let pause = h.ok(&[
        "pause",
        "--urge",
        "7",
        "--at",
        "1d ago",
        "--message",
        "why are you ignoring me",
    ]);
    let pause = pause.trim().to_string();
    h.ok(&["pause", "done", &pause, "--urge", "2", "--not-sent"]);
    h.ok(&[
        "checkin",
        "--mood",
        "2",
        "--feeling",
        "anxious",
        "heavy morning",
    ]);
    h.write(&["a plain note, no numbers"]);
    (h, record, pause)
}

fn export(h: &Home, extra: &[&str]) -> Value {
    let mut args = vec!["export", "--since", "1w", "--format", "fhir"];
    args.extend_from_slice(extra);
    h.json(&args)
}

/// `code` → (value, effectiveDateTime, entry id) for each Observation.
fn observations(bundle: &Value) -> Vec<(String, i64, String, String)> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let o = &e["resource"];
            assert_eq!(o["resourceType"], "Observation");
            assert_eq!(
                o["status"], "final",
                "the schema does not require it; FHIR does"
            );
            (
                o["code"]["coding"][0]["code"].as_str().unwrap().to_string(),
                o["valueInteger"].as_i64().unwrap(),
                o["effectiveDateTime"].as_str().unwrap().to_string(),
                o["identifier"][0]["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_bundle_is_valid_fhir_r4_and_carries_the_numbers_written() {
    let validator = schema();
    let (h, record, pause) = journal();
    let bundle = export(&h, &[]);
    assert_valid(&validator, &bundle);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");

    let obs = observations(&bundle);
    let codes: Vec<(&str, i64, &str)> = obs
        .iter()
        .map(|(c, v, _, id)| (c.as_str(), *v, id.as_str()))
        .collect();
    let checkin = obs.iter().find(|o| o.0 == "mood").unwrap().3.clone();
    assert_eq!(
        codes,
        [
            ("trigger-intensity-written", 8, record.as_str()),
            ("trigger-intensity-passed", 3, record.as_str()),
            ("pause-urge-before", 7, pause.as_str()),
            ("pause-urge-after", 2, pause.as_str()),
            ("mood", 2, checkin.as_str()),
        ],
        "one Observation per number, in the order written; the plain note gives none"
    );
    // Dated when it happened: the record two days ago, the pause's start yesterday.
    let day = |ago: i64| {
        (chrono::Local::now() - chrono::Duration::days(ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    assert!(obs[0].2.starts_with(&day(2)), "{}", obs[0].2);
    assert!(obs[2].2.starts_with(&day(1)), "{}", obs[2].2);

    // Exporting twice gives the same ids, so a clinic can match them.
    let again = export(&h, &[]);
    let urls = |b: &Value| -> Vec<String> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(urls(&bundle), urls(&again));
    assert_eq!(
        urls(&bundle)
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        5
    );
}

#[test]
fn no_words_leave_without_with_text_and_the_words_are_valid_fhir_with_it() {
    let validator = schema();
    let (h, _, _) = journal();
    let bare = export(&h, &[]).to_string();
    for words in [
        CANARY,
        "Late reply",
        "why are you ignoring me",
        "heavy morning",
        "Maya",
        "anxious",
    ] {
        assert!(!bare.contains(words), "{words:?} left without --with-text");
    }

    let with_text = export(&h, &["--with-text"]);
    assert_valid(&validator, &with_text);
    let s = with_text.to_string();
    assert!(s.contains(CANARY) && s.contains("Late reply") && s.contains("heavy morning"));
    assert!(
        !s.contains("why are you ignoring me"),
        "a pause's message still needs --messages"
    );
    let both = export(&h, &["--with-text", "--messages"]).to_string();
    assert!(both.contains("why are you ignoring me"));
    // --redact reaches the notes too.
    let redacted = export(&h, &["--with-text", "--redact", "Late=someone"]).to_string();
    assert!(!redacted.contains("Late reply") && redacted.contains("someone reply"));
}

#[test]
fn the_schema_check_can_fail() {
    // The validator rejects what it should, so a green run means something.
    let validator = schema();
    let (h, _, _) = journal();
    let good = export(&h, &[]);
    let mut bad_type = good.clone();
    bad_type["type"] = "diary".into();
    assert!(!validator.is_valid(&bad_type));
    let mut bad_date = good.clone();
    bad_date["entry"][0]["resource"]["effectiveDateTime"] = "yesterday".into();
    assert!(!validator.is_valid(&bad_date));
    let mut bad_value = good;
    bad_value["entry"][0]["resource"]["valueInteger"] = "eight".into();
    assert!(!validator.is_valid(&bad_value));
}

#[test]
fn nothing_to_measure_and_with_text_elsewhere_are_one_clear_line() {
    let h = Home::init("Maya");
    h.write(&["only words today"]);
    let out = h.run(&["export", "--since", "1w", "--format", "fhir"]);
    assert_one_error(&out, 3, "fhir with no numbers");
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let out = h.run(&["export", "--since", "1w", "--with-text"]);
    assert_one_error(&out, 2, "--with-text without fhir");
    assert!(out.stderr.contains("--format fhir"), "{}", out.stderr);
}
