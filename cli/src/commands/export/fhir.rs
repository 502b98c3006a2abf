//! `export --format fhir`: the numbers of the practice as an HL7 FHIR R4 `Bundle` of
//! `Observation`s, for a clinic whose record system imports FHIR.
//!
//! What goes in: a thought record's intensity when written and once it had passed, a
//! pause's urge before and after, and every mood. Each is dated and carries the entry's
//! id (a random ULID, so a re-export can be matched with the first one), and nothing else:
//! no name, no title, no text. `--with-text` adds the entry's words as the Observation's
//! `note` (as the Markdown brief shows them, so `--messages` and `--redact` apply).
//!
//! The codes are Haven's own (`urn:haven:observation`): no LOINC or SNOMED code means
//! "intensity of a trigger on a 0–10 self-rating", and a borrowed code that almost fits
//! would tell a clinic something Haven did not measure. Each code's `text` says in words
//! what was measured and on which scale. Checked against the published R4 JSON schema in
//! `tests/tests/export_fhir.rs`.

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write;

use super::Export;
use haven_shared::model::Entry;

/// Haven's code system for what it measures.
const SYSTEM: &str = "urn:haven:observation";

/// What one Observation measured: its code, its words, and the scale.
struct Measure {
    code: &'static str,
    text: &'static str,
}

const INTENSITY_BEFORE: Measure = Measure {
    code: "trigger-intensity-written",
    text: "Intensity of a trigger when written down (self-rated, 0 to 10)",
};
const INTENSITY_AFTER: Measure = Measure {
    code: "trigger-intensity-passed",
    text: "Intensity of a trigger once it had passed (self-rated, 0 to 10)",
};
const URGE_BEFORE: Measure = Measure {
    code: "pause-urge-before",
    text: "Urge to send a message, at the start of a pause (self-rated, 0 to 10)",
};
const URGE_AFTER: Measure = Measure {
    code: "pause-urge-after",
    text: "Urge to send a message, at the end of a pause (self-rated, 0 to 10)",
};
const MOOD: Measure = Measure {
    code: "mood",
    text: "Mood (self-rated, 1 low to 5 good)",
};

/// The Bundle, pretty-printed JSON; `None` when no entry in the export has a number.
pub fn render(x: &Export, with_text: bool) -> Option<String> {
    let entries: Vec<Value> = x
        .entries
        .iter()
        .flat_map(|e| observations(x, e, with_text))
        .collect();
    if entries.is_empty() {
        return None;
    }
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(&x.exported),
        "entry": entries,
    });
    Some(serde_json::to_string_pretty(&bundle).unwrap_or_default() + "\n")
}

/// The Observations one entry gives, in the order it happened.
fn observations(x: &Export, e: &Entry, with_text: bool) -> Vec<Value> {
    let mut found: Vec<(&Measure, u8, DateTime<FixedOffset>)> = Vec::new();
    if let Some(i) = e.intensity {
        found.push((&INTENSITY_BEFORE, i, e.created_at));
    }
    if let Some(a) = e.record.as_ref().and_then(|r| r.intensity_after) {
        found.push((&INTENSITY_AFTER, a, e.created_at));
    }
    if let Some(p) = &e.pause {
        if let Some(u) = p.urge_before {
            found.push((&URGE_BEFORE, u, e.created_at));
        }
        if let Some(u) = p.urge_after {
            found.push((&URGE_AFTER, u, p.finished_at.unwrap_or(e.created_at)));
        }
    }
    if let Some(m) = e.mood {
        found.push((&MOOD, m, e.created_at));
    }
    let note = with_text.then(|| note(x, e)).filter(|n| !n.is_empty());
    found
        .into_iter()
        .map(|(measure, value, at)| {
            let id = format!("{}-{}", e.id, measure.code);
            let mut obs = json!({
                "resourceType": "Observation",
                "id": id,
                "identifier": [{"system": "urn:haven:entry", "value": e.id}],
                "status": "final",
                "category": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                    "display": "Survey",
                }]}],
                "code": {
                    "coding": [{"system": SYSTEM, "code": measure.code, "display": measure.text}],
                    "text": measure.text,
                },
                "effectiveDateTime": instant(&at),
                "issued": instant(&e.updated_at),
                "valueInteger": value,
            });
            if let Some(text) = &note {
                obs["note"] = json!([{"text": text}]);
            }
            json!({"fullUrl": format!("urn:uuid:{}", uuid_of(&id)), "resource": obs})
        })
        .collect()
}

/// The entry's words as the brief shows them: title, then each section under its heading.
fn note(x: &Export, e: &Entry) -> String {
    let mut parts = Vec::new();
    if !e.title.trim().is_empty() {
        parts.push(e.title.trim().to_string());
    }
    for (heading, text) in x.blocks(e) {
        parts.push(match heading {
            Some(h) => format!("{h}: {text}"),
            None => text,
        });
    }
    parts.join("\n\n")
}

/// FHIR's `instant`: seconds, with the offset the entry was written in.
fn instant(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A UUID (version 8, RFC 9562) derived from the Observation's id, so exporting the same
/// range twice gives the same `fullUrl`s.
fn uuid_of(id: &str) -> String {
    let mut b: [u8; 16] = Sha256::digest(id.as_bytes())[..16]
        .try_into()
        .unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_well_formed_and_distinct() {
        let a = uuid_of("01jc-mood");
        assert_eq!(a, uuid_of("01jc-mood"));
        assert_ne!(a, uuid_of("01jc-pause-urge-before"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'), "version 8: {a}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant: {a}"
        );
    }
}
