//! The brief's first page, for a 50-minute session: what the person wants to bring, what
//! changed, the three hardest moments with how each ended, the pauses, and the agreements
//! that changed. Every format draws these same lines; the entries follow as an appendix
//! (or not at all, with `--summary`).

use haven_shared::model::agreement::Status;
use haven_shared::model::{Entry, Kind};

use super::model::{day, Export};

/// One part of the first page: a heading and its lines.
pub struct Section {
    pub heading: &'static str,
    pub lines: Vec<String>,
}

/// How many of the hardest moments the first page names.
const HARDEST: usize = 3;

impl Export {
    /// "What I want to bring": every `bring` entry of the range, oldest first.
    pub fn to_bring(&self) -> Option<Section> {
        let lines: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.kind == Kind::Bring)
            .map(|e| e.body.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        (!lines.is_empty()).then_some(Section {
            heading: "What I want to bring",
            lines,
        })
    }

    /// What follows "What changed" on the first page.
    pub fn summary(&self) -> Vec<Section> {
        [self.hardest(), self.pauses(), self.agreements_changed()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The three thought records of highest intensity, each with how it ended.
    fn hardest(&self) -> Option<Section> {
        let mut records: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.kind == Kind::Trigger && e.intensity.is_some())
            .collect();
        // Highest first; the earlier of two equal ones first.
        records.sort_by(|a, b| {
            b.intensity
                .cmp(&a.intensity)
                .then(a.created_at.cmp(&b.created_at))
        });
        let lines: Vec<String> = records
            .iter()
            .take(HARDEST)
            .map(|e| hard_moment(e))
            .collect();
        (!lines.is_empty()).then_some(Section {
            heading: "The hardest moments",
            lines,
        })
    }

    /// The pauses of the range, by how they ended.
    fn pauses(&self) -> Option<Section> {
        let p = &self.changed()?.pauses;
        if p.count == 0 {
            return None;
        }
        let sent = p.finished.saturating_sub(p.not_sent + p.rewritten);
        let mut ended = Vec::new();
        for (n, what) in [
            (p.not_sent, "not sent"),
            (p.rewritten, "sent as a needs statement"),
            (sent, "sent as written"),
        ] {
            if n > 0 {
                ended.push(format!("{n} {what}"));
            }
        }
        let open = p.count - p.finished.min(p.count);
        if open > 0 {
            ended.push(format!("{open} still open"));
        }
        Some(Section {
            heading: "Pauses before sending",
            lines: vec![format!(
                "{}: {}.",
                haven_shared::plural::count(p.count as u64, "pause", "pauses"),
                ended.join(", ")
            )],
        })
    }

    /// Agreements declined or withdrawn in the range, and those revised or renewed with
    /// words, with the words.
    fn agreements_changed(&self) -> Option<Section> {
        let lines: Vec<String> = self
            .agreements
            .iter()
            .filter(|a| {
                matches!(a.status, Status::Declined | Status::Withdrawn) || !a.reasons.is_empty()
            })
            .map(|a| {
                let words = Export::agreement_words(a);
                if words.is_empty() {
                    format!("“{}”: {}.", a.title, a.status.label())
                } else {
                    format!(
                        "“{}” ({}): {}.",
                        a.title,
                        a.status.label(),
                        words.join("; ")
                    )
                }
            })
            .collect();
        (!lines.is_empty()).then_some(Section {
            heading: "Agreements that changed",
            lines,
        })
    }
}

/// "Tuesday 3 November: “no reply all evening”, came at 9, passed at 4; reached for
/// soothing."
fn hard_moment(e: &Entry) -> String {
    let mut line = format!(
        "{}: “{}”, came at {}",
        day(&e.created_at),
        e.headline(),
        e.intensity.unwrap_or_default()
    );
    let record = e.record.as_ref();
    match record.and_then(|r| r.intensity_after) {
        Some(a) => line.push_str(&format!(", passed at {a}")),
        None => line.push_str("; how it ended was not written down"),
    }
    if let Some(r) = record.filter(|r| !r.did.is_empty()) {
        line.push_str(&format!(
            "; reached for {}",
            haven_shared::model::record::did_list(&r.did)
        ));
    }
    line.push('.');
    line
}
