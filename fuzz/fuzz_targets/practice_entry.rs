//! The practice's decoders: the thought record's editor form as any editor could leave it,
//! and a journal entry's JSON (as read from the disk or an import) with a record or a
//! pause, validated and counted by `insights` over the days around it.
#![no_main]
use haven_shared::model::{insights, record, Entry};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let text = String::from_utf8_lossy(rest);
        if let Ok(parsed) = record::parse(&text) {
            // What reads back renders and reads back again.
            let again = record::editor_text(&parsed.record, parsed.intensity, &parsed.body);
            let _ = record::parse(&again);
        }
    } else if let Ok(entry) = serde_json::from_slice::<Entry>(rest) {
        let entry = entry.clone().validated().unwrap_or(entry);
        let day = entry.created_at.date_naive();
        let from = day.pred_opt().unwrap_or(day);
        let to = day.succ_opt().unwrap_or(day);
        let _ = insights::compute([&entry], from, to);
        let _ = entry.headline();
        let _ = entry.search_text();
        if let Some(p) = &entry.pause {
            let _ = p.ends_at(entry.created_at);
        }
    }
});
