//! jrnl's JSON export: `{"tags": {...}, "entries": [{"title", "body", "date", "time",
//! "tags": ["@tag"], "starred"}]}`, dates in local time.

use chrono::{Local, NaiveDate, NaiveTime, TimeZone};
use serde::Deserialize;

use super::{clean_tags, ImportError, Imported};

#[derive(Deserialize)]
struct Export {
    entries: Vec<JrnlEntry>,
}

#[derive(Deserialize)]
struct JrnlEntry {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    date: Option<String>,
    time: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// Every entry of a jrnl export, or the first reason it cannot be imported.
pub fn parse(text: &str) -> Result<Vec<Imported>, ImportError> {
    let export: Export = serde_json::from_str(text).map_err(|e| ImportError::NotAnExport {
        app: "jrnl",
        why: e.to_string(),
    })?;
    export
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |why| ImportError::Entry { index: i + 1, why };
            let date = e.date.as_deref().ok_or_else(|| at("has no date"))?;
            let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| at("has a date that does not parse"))?;
            let time = NaiveTime::parse_from_str(e.time.as_deref().unwrap_or("00:00"), "%H:%M")
                .map_err(|_| at("has a time that does not parse"))?;
            let created_at = Local
                .from_local_datetime(&day.and_time(time))
                .earliest()
                .ok_or_else(|| at("has a time that does not exist here"))?
                .fixed_offset();
            // jrnl splits an entry after its first sentence; a one-line entry has no body.
            let (title, body) = if e.body.trim().is_empty() {
                (String::new(), e.title)
            } else {
                (e.title, e.body)
            };
            Ok(Imported {
                created_at,
                title: title.trim().to_string(),
                body,
                tags: clean_tags(e.tags),
                source_id: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_with_its_tags_and_a_bad_one_is_named() {
        let ok = r#"{"entries": [{"title": "Sunday call.", "body": "It went well.",
            "date": "2026-11-01", "time": "09:30", "tags": ["@us", "@us"]}]}"#;
        let entries = parse(ok).expect("parse");
        assert_eq!(entries[0].title, "Sunday call.");
        assert_eq!(entries[0].tags, vec!["us".to_string()]);
        let bad = r#"{"entries": [{"title": "a", "date": "2026-11-01"}, {"title": "b"}]}"#;
        assert!(matches!(
            parse(bad),
            Err(ImportError::Entry {
                index: 2,
                why: "has no date"
            })
        ));
        assert!(matches!(
            parse("[]"),
            Err(ImportError::NotAnExport { app: "jrnl", .. })
        ));
    }
}
