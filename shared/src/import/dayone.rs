//! Day One's JSON export: `{"metadata": {...}, "entries": [{"uuid", "creationDate",
//! "text", "tags", ...}]}`, as a .json file or inside the export's .zip.
//!
//! A zip says how large its files are, but a hostile one may lie: what each entry
//! inflates to is read through a bound, and all of them together through
//! [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).

use chrono::DateTime;
use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};

use super::{clean_tags, ImportError, Imported, MAX_TEXT_BYTES};

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

/// The JSON journals of an export: the file itself, or each `.json` inside its zip (read
/// from the file, not into memory: an export with photos can be gigabytes).
fn json_texts<R: Read + Seek>(mut input: R) -> Result<Vec<String>, ImportError> {
    let mut magic = [0u8; 2];
    let is_zip = input.read_exact(&mut magic).is_ok() && &magic == b"PK";
    let bad_zip = |e: &dyn std::fmt::Display| ImportError::BadZip(e.to_string());
    input.seek(SeekFrom::Start(0)).map_err(|e| bad_zip(&e))?;
    if !is_zip {
        return Ok(vec![super::read_text(input, "Day One")?]);
    }
    let mut zip = zip::ZipArchive::new(input).map_err(|e| bad_zip(&e))?;
    let mut texts = Vec::new();
    let mut budget = MAX_TEXT_BYTES;
    for i in 0..zip.len() {
        let file = zip.by_index(i).map_err(|e| bad_zip(&e))?;
        if !file.name().ends_with(".json") {
            continue;
        }
        let mut raw = Vec::new();
        file.take(budget + 1)
            .read_to_end(&mut raw)
            .map_err(|e| bad_zip(&e))?;
        budget = budget
            .checked_sub(raw.len() as u64)
            .ok_or(ImportError::TooLarge)?;
        texts.push(
            String::from_utf8(raw).map_err(|_| ImportError::NotAnExport {
                app: "Day One",
                why: "a journal in the zip is not text".into(),
            })?,
        );
    }
    if texts.is_empty() {
        return Err(ImportError::NoJournal);
    }
    Ok(texts)
}

/// Every entry of a Day One export (the .json or the .zip), or the first reason it cannot
/// be imported.
pub fn parse<R: Read + Seek>(input: R) -> Result<Vec<Imported>, ImportError> {
    let mut out = Vec::new();
    for text in json_texts(input)? {
        let export: Export = serde_json::from_str(&text).map_err(|e| ImportError::NotAnExport {
            app: "Day One",
            why: e.to_string(),
        })?;
        for e in export.entries {
            let at = |why| ImportError::Entry {
                index: out.len() + 1,
                why,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            zip.start_file(*name, options).expect("start");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn a_zip_export_reads_and_its_title_comes_from_the_heading() {
        let json = br##"{"entries": [{"uuid": "A1", "creationDate": "2026-11-01T09:30:00Z",
            "text": "# Walk\nBy the river.", "tags": ["calm"]}]}"##;
        let entries = parse(Cursor::new(zip_of(&[
            ("photos/a.jpg", b"jpg"),
            ("Journal.json", json),
        ])))
        .expect("parse");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].title, "Walk");
        assert_eq!(entries[0].body, "By the river.");
        assert!(matches!(
            parse(Cursor::new(zip_of(&[("a.txt", b"x")]))),
            Err(ImportError::NoJournal)
        ));
    }

    #[test]
    fn a_zip_that_inflates_past_the_bound_is_refused_without_holding_it() {
        // 300 MiB of spaces deflate to well under a megabyte.
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("Journal.json", options).expect("start");
        let block = vec![b' '; 1 << 20];
        for _ in 0..300 {
            zip.write_all(&block).expect("write");
        }
        zip.finish().expect("finish");
        let bytes = out.into_inner();
        assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
        assert!(matches!(
            parse(Cursor::new(bytes)),
            Err(ImportError::TooLarge)
        ));
    }
}
