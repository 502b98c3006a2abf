//! What every export format renders: the entries, a summary of trigger intensity, the
//! agreements in force, and what was redacted.

use chrono::{DateTime, FixedOffset, Local};
use serde_json::json;

use crate::range::Range;
use haven_shared::ipc::ExportData;
use haven_shared::model::agreement::{Said, Status};
use haven_shared::model::insights::Insights;
use haven_shared::model::notes::NoteView;
use haven_shared::model::{AgreementView, Entry, Kind};

pub struct Export {
    /// What changed over the range (a brief only).
    pub insights: Option<Insights>,
    pub name: String,
    pub entries: Vec<Entry>,
    pub agreements: Vec<AgreementView>,
    /// The partner's appreciations in the range (`--thanks`).
    pub thanks: Vec<NoteView>,
    /// A session brief (a range) rather than one entry.
    pub brief: bool,
    pub since: Option<DateTime<FixedOffset>>,
    pub until: DateTime<FixedOffset>,
    /// When the export was made (its footer).
    pub exported: DateTime<FixedOffset>,
    /// "Sam → partner (3)" lines, when `--redact` was given.
    pub redactions: Option<Vec<String>>,
    /// The words of the pauses (`--messages`): often angry, always private, so they
    /// leave only when asked for; without them a pause says only how it ended.
    pub messages: bool,
    /// `--summary`: the first page only, no appendix of entries.
    pub summary_only: bool,
}

/// Trigger intensity over the range: the points, oldest first.
pub struct Intensity {
    pub points: Vec<(DateTime<FixedOffset>, u8)>,
}

impl Intensity {
    /// "3 trigger entries, average intensity 6.3, highest 9."
    pub fn summary(&self) -> String {
        format!(
            "{}, average intensity {:.1}, highest {}.",
            haven_shared::plural::count(
                self.points.len() as u64,
                "trigger entry",
                "trigger entries"
            ),
            self.average(),
            self.highest()
        )
    }

    pub fn average(&self) -> f64 {
        self.points.iter().map(|(_, i)| f64::from(*i)).sum::<f64>()
            / self.points.len().max(1) as f64
    }
    pub fn highest(&self) -> u8 {
        self.points.iter().map(|(_, i)| *i).max().unwrap_or(0)
    }
    /// Where each point goes on a chart spanning `left..right` and `top..bottom` (y grows
    /// downwards): x by time (evenly spaced if all share one time), y by intensity 0–10.
    pub fn positions(&self, left: f64, right: f64, top: f64, bottom: f64) -> Vec<(f64, f64)> {
        let points = &self.points;
        let first = points.first().map(|p| p.0.timestamp()).unwrap_or(0);
        let last = points.last().map(|p| p.0.timestamp()).unwrap_or(0);
        let span = (last - first).max(1) as f64;
        points
            .iter()
            .enumerate()
            .map(|(i, (t, v))| {
                let x = if points.len() == 1 {
                    (left + right) / 2.0
                } else if last == first {
                    left + (right - left) * i as f64 / (points.len() - 1) as f64
                } else {
                    left + (right - left) * (t.timestamp() - first) as f64 / span
                };
                (x, bottom - (bottom - top) * f64::from(*v) / 10.0)
            })
            .collect()
    }

    /// One block per point, ▁ (0) to █ (10).
    pub fn sparkline(&self) -> String {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        self.points
            .iter()
            .map(|(_, i)| BARS[(usize::from(*i) * 7 + 5) / 10])
            .collect()
    }
}

pub const FOOTER: &str = "Haven is a journal, not therapy, and it does not replace a therapist. If you are in \
crisis, call your local emergency number or a crisis line (https://findahelpline.com lists them by country).";

pub fn day(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Local).format("%A %-d %B %Y").to_string()
}

pub fn day_time(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Local)
        .format("%A %-d %B %Y, %H:%M")
        .to_string()
}

/// The brief's two groups of agreements: in force, and said no to within the range.
pub const AGREEMENT_GROUPS: [(&str, bool); 2] = [
    ("Agreements in force", true),
    ("Declined or withdrawn in this period", false),
];

impl Export {
    /// "1 entry", "12 entries".
    pub fn entry_count(&self) -> String {
        haven_shared::plural::count(self.entries.len() as u64, "entry", "entries")
    }

    /// The agreements of one group of [`AGREEMENT_GROUPS`].
    pub fn agreements(&self, in_force: bool) -> impl Iterator<Item = &AgreementView> {
        self.agreements
            .iter()
            .filter(move |a| matches!(a.status, Status::Active | Status::DueForReview) == in_force)
    }

    /// The words signed with an agreement's statements, one line each: "Sam, declining:
    /// I'd like …".
    pub fn agreement_words(a: &AgreementView) -> Vec<String> {
        a.reasons
            .iter()
            .map(|r| {
                let doing = match r.said {
                    Said::Declined => "declining",
                    Said::Withdrew => "withdrawing",
                    Said::Revised => "revising it",
                    Said::Renewed => "on how it has worked",
                    Said::Accepted => "accepting",
                };
                format!("{}, {doing}: {}", r.by, r.text.trim())
            })
            .collect()
    }
    pub fn new(data: ExportData, brief: bool, range: Range) -> Export {
        let exported = haven_shared::when::now();
        Export {
            insights: data.insights.filter(|_| brief),
            name: data.name,
            entries: data.entries,
            agreements: data.agreements,
            thanks: data.thanks,
            brief,
            since: range.since,
            // The last moment included, so the title names the last day of the range.
            until: range
                .until
                .map_or(exported, |u| u - chrono::Duration::seconds(1)),
            exported,
            redactions: None,
            messages: false,
            summary_only: false,
        }
    }

    pub fn title(&self) -> String {
        if self.brief {
            let from = self
                .since
                .or_else(|| self.entries.first().map(|e| e.created_at))
                .unwrap_or(self.until);
            format!("Session brief: {} to {}", day(&from), day(&self.until))
        } else {
            self.entries
                .first()
                .map(|e| e.headline().to_string())
                .unwrap_or_default()
        }
    }

    pub fn intensity(&self) -> Intensity {
        Intensity {
            points: self
                .entries
                .iter()
                .filter(|e| e.kind == Kind::Trigger)
                .filter_map(|e| e.intensity.map(|i| (e.created_at, i)))
                .collect(),
        }
    }

    /// One line describing an entry: kind, tags, mood, intensity.
    /// An entry's heading: when it was written, and its title if it has one.
    pub fn heading(e: &Entry) -> String {
        if e.title.is_empty() {
            day_time(&e.created_at)
        } else {
            format!("{}: {}", day_time(&e.created_at), e.title)
        }
    }

    pub fn meta(e: &Entry) -> String {
        let mut parts = vec![e.kind.to_string()];
        let after = e.record.as_ref().and_then(|r| r.intensity_after);
        match (e.intensity, after) {
            (Some(i), Some(a)) => parts.push(format!("intensity {i}/10 → {a}/10")),
            (Some(i), None) => parts.push(format!("intensity {i}/10")),
            (None, Some(a)) => parts.push(format!("intensity after {a}/10")),
            (None, None) => {}
        }
        if let Some(p) = &e.pause {
            parts.push(format!(
                "{} minutes, {}",
                p.minutes,
                crate::output::pause_summary(p)
            ));
        }
        if let Some(m) = e.mood {
            parts.push(format!("mood {m}/5"));
        }
        for t in &e.tags {
            parts.push(format!("#{t}"));
        }
        parts.join(" · ")
    }

    /// An entry's text as exported: its own text, then a thought record's fields under
    /// their headings, then the message a pause kept unsent.
    pub fn blocks(&self, e: &Entry) -> Vec<(Option<&'static str>, String)> {
        let mut out = Vec::new();
        if !e.body.trim().is_empty() {
            out.push((None, e.body.trim_end().to_string()));
        }
        if let Some(r) = &e.record {
            for (heading, text) in r.sections() {
                out.push((Some(heading), text.trim_end().to_string()));
            }
        }
        if let Some(p) = e.pause.as_ref().filter(|_| self.messages) {
            if let Some(m) = p.message.as_deref() {
                out.push((
                    Some(crate::output::pause_message_heading(p)),
                    m.trim_end().to_string(),
                ));
            }
            if let Some(r) = p.rewrite.as_deref() {
                out.push((
                    Some("Rewritten as a needs statement"),
                    r.trim_end().to_string(),
                ));
            }
        }
        out
    }

    /// The entries as `--json` gives them: a pause's words only with `--messages` (its
    /// `outcome` still says how it ended).
    fn entries_json(&self) -> serde_json::Value {
        let mut entries = json!(self.entries);
        if !self.messages {
            for e in entries.as_array_mut().into_iter().flatten() {
                if let Some(p) = e.get_mut("pause").and_then(|p| p.as_object_mut()) {
                    p.remove("message");
                    p.remove("rewrite");
                }
            }
        }
        entries
    }

    /// The brief's "What changed" section, when the range has anything to say.
    pub fn changed(&self) -> Option<&Insights> {
        self.insights
            .as_ref()
            .filter(|x| x.triggers.count + x.pauses.count + x.wins.count > 0)
    }

    pub fn json(&self) -> serde_json::Value {
        let intensity = self.intensity();
        json!({
            "kind": if self.brief { "brief" } else { "entry" },
            "title": self.title(),
            "name": self.name,
            "since": self.since,
            "until": self.until,
            "entries": self.entries_json(),
            "intensity": {
                "triggers": intensity.points.len(),
                "average": (!intensity.points.is_empty()).then(|| intensity.average()),
                "highest": (!intensity.points.is_empty()).then(|| intensity.highest()),
                "points": intensity.points.iter().map(|(t, i)| json!({"at": t, "intensity": i})).collect::<Vec<_>>(),
            },
            "agreements": self.agreements,
            "thanks": self.thanks,
            "insights": self.insights,
            "redacted": self.redactions,
            "footer": FOOTER,
        })
    }
}
