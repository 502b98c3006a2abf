//! jrnl's JSON export: `{"tags": {...}, "entries": [{"title", "body", "date", "time",
//! "tags": ["@tag"], "starred"}]}`, dates in local time.

use chrono::{Local, NaiveDate, NaiveTime, TimeZone};
use serde::Deserialize;
use std::path::Path;

use super::{clean_tags, Imported};
use crate::error::{CliError, CliResult};

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

pub fn read(path: &Path) -> CliResult<Vec<Imported>> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
    let export: Export = serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{name} is not a jrnl JSON export ({e}); nothing was imported"
        ))
        .hint("make one with `jrnl --format json > FILE`")
    })?;
    export
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |why: &str| {
                CliError::usage(format!(
                    "entry {} of {name} {why}; nothing was imported",
                    i + 1
                ))
            };
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
