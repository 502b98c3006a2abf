//! Day One's JSON export: `{"metadata": {...}, "entries": [{"uuid", "creationDate",
//! "text", "tags", ...}]}`, as a .json file or inside the export's .zip.

use chrono::DateTime;
use serde::Deserialize;
use std::io::Read;
use std::path::Path;

use super::{clean_tags, Imported};
use crate::error::{CliError, CliResult};

#[derive(Deserialize)]
struct Export {
    entries: Vec<DayOneEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DayOneEntry {
    uuid: Option<String>,
    creation_date: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    tags: Vec<String>,
}

fn json_texts(path: &Path) -> CliResult<Vec<String>> {
    let name = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
    if !bytes.starts_with(b"PK") {
        return Ok(vec![String::from_utf8(bytes).map_err(|_| {
            CliError::usage(format!(
                "{name} is not a Day One JSON export (not text); nothing was imported"
            ))
        })?]);
    }
    let bad_zip = |e: &dyn std::fmt::Display| {
        CliError::usage(format!(
            "{name} is not a readable zip ({e}); nothing was imported"
        ))
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad_zip(&e))?;
    let mut texts = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(|e| bad_zip(&e))?;
        if file.name().ends_with(".json") {
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(|e| bad_zip(&e))?;
            texts.push(text);
        }
    }
    if texts.is_empty() {
        return Err(CliError::usage(format!(
            "{name} holds no .json journal; nothing was imported"
        )));
    }
    Ok(texts)
}

pub fn read(path: &Path) -> CliResult<Vec<Imported>> {
    let name = path.display();
    let mut out = Vec::new();
    for text in json_texts(path)? {
        let export: Export = serde_json::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "{name} is not a Day One JSON export ({e}); nothing was imported"
            ))
        })?;
        for (i, e) in export.entries.into_iter().enumerate() {
            let at = |why: &str| {
                CliError::usage(format!(
                    "entry {} of {name} {why}; nothing was imported",
                    i + 1
                ))
            };
            let date = e
                .creation_date
                .as_deref()
                .ok_or_else(|| at("has no creationDate"))?;
            let created_at = DateTime::parse_from_rfc3339(date)
                .map_err(|_| at("has a creationDate that does not parse"))?;
            // Day One writes the title as the first line, as a Markdown heading.
            let (title, body) = match e.text.split_once('\n') {
                Some((first, rest)) if first.starts_with("# ") => (
                    first.trim_start_matches("# ").trim().to_string(),
                    rest.trim_start().to_string(),
                ),
                _ => (String::new(), e.text),
            };
            out.push(Imported {
                created_at,
                title,
                body,
                tags: clean_tags(e.tags),
                source_id: e.uuid,
            });
        }
    }
    Ok(out)
}
