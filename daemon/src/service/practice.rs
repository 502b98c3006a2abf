//! The practice's requests: pauses, the soothing plan, and insights.
//!
//! A pause is a journal entry of kind `pause`, so it is private, searchable, exported in a
//! brief and purged like any entry. Insights are computed here from the in-memory index,
//! never by shipping every entry to the CLI.

use chrono::{Datelike, Duration, Local, NaiveDate};

use haven_shared::ipc::{ErrorKind, ErrorReply, OpenPause, Reply, Response};
use haven_shared::model::insights;
use haven_shared::model::practice::DEFAULT_PAUSE_MINUTES;
use haven_shared::model::{
    new_id, AgreementView, Entry, Kind, NewPause, PauseEnd, PauseRecord, SoothingPlan,
};
use haven_shared::when;

use super::{doc_error, in_force_agreements, invalid, persist_journal, resolve};
use crate::vault::Unlocked;

/// Words that make an agreement one about texting and checking in, shown during a pause.
const TEXTING_WORDS: [&str; 9] = [
    "text", "message", "check-in", "check in", "reply", "call", "phone", "answer", "heads-up",
];

/// How many whole weeks before this one `insights` looks without `--since`.
const DEFAULT_WEEKS: i64 = 12;

/// The agreements in force about texting; if none mentions it, every one in force.
fn texting_agreements(u: &Unlocked) -> Result<Vec<AgreementView>, ErrorReply> {
    let all = in_force_agreements(u)?;
    let about_texting: Vec<AgreementView> = all
        .iter()
        .filter(|a| {
            let text = format!("{}\n{}", a.title, a.text).to_lowercase();
            TEXTING_WORDS.iter().any(|w| text.contains(w))
        })
        .cloned()
        .collect();
    Ok(if about_texting.is_empty() {
        all
    } else {
        about_texting
    })
}

/// One line of the plan, different from minute to minute.
pub fn soothe_line(u: &Unlocked) -> Option<String> {
    let plan = u.home.journal.soothing_plan().ok()??;
    let minute = u64::try_from(when::now().timestamp() / 60).unwrap_or(0);
    plan.one_line(minute)
}

pub fn start_pause(u: &mut Unlocked, pause: NewPause) -> Reply {
    let pause = pause.validated().map_err(invalid)?;
    let agreements = texting_agreements(u)?;
    let now = when::now();
    let entry = Entry {
        id: new_id(),
        kind: Kind::Pause,
        title: format!("A pause of {} minutes", pause.minutes),
        body: String::new(),
        tags: Vec::new(),
        mood: None,
        intensity: None,
        created_at: now,
        updated_at: now,
        record: None,
        pause: Some(PauseRecord {
            urge_before: pause.urge_before,
            minutes: pause.minutes,
            message: pause.message,
            agreement: agreements.first().map(|a| a.id.clone()),
            ..PauseRecord::default()
        }),
    };
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    persist_journal(u)?;
    u.index.upsert(entry.clone());
    Ok(Response::PauseStarted {
        entry,
        agreements,
        soothe: soothe_line(u),
    })
}

pub fn finish_pause(u: &mut Unlocked, id: Option<String>, end: PauseEnd) -> Reply {
    let end = end.validated().map_err(invalid)?;
    let mut entry =
        match id {
            Some(id) => {
                let entry = resolve(u, &id)?;
                if entry.kind != Kind::Pause {
                    return Err(ErrorReply::new(
                        ErrorKind::InvalidInput,
                        format!("{} is a {} entry, not a pause", entry.id, entry.kind),
                    )
                    .hint("see your pauses with `haven pause list`"));
                }
                entry.clone()
            }
            None => {
                let open = u.index.open_pauses();
                match open.as_slice() {
                    [] => return Err(ErrorReply::new(ErrorKind::NotFound, "no pause is open")
                        .hint(
                            "start one with `haven pause`; see past ones with `haven pause list`",
                        )),
                    [one] => (*one).clone(),
                    many => {
                        let ids: Vec<&str> = many.iter().map(|e| e.id.as_str()).collect();
                        return Err(ErrorReply::new(
                            ErrorKind::Ambiguous,
                            format!("{} pauses are open ({})", many.len(), ids.join(", ")),
                        )
                        .hint("say which: `haven pause done ID --urge N --sent` (or --not-sent)"));
                    }
                }
            }
        };
    let now = when::now();
    let pause = entry.pause.get_or_insert_with(|| PauseRecord {
        minutes: DEFAULT_PAUSE_MINUTES,
        ..PauseRecord::default()
    });
    pause.urge_after = Some(end.urge_after);
    pause.sent = Some(end.sent);
    pause.finished_at = Some(now);
    entry.updated_at = now;
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    persist_journal(u)?;
    u.index.upsert(entry.clone());
    Ok(Response::Entry { entry })
}

pub fn open_pauses(u: &Unlocked) -> Vec<OpenPause> {
    u.index
        .open_pauses()
        .into_iter()
        .filter_map(|e| {
            let p = e.pause.as_ref()?;
            Some(OpenPause {
                id: e.id.clone(),
                started_at: e.created_at,
                ends_at: p.ends_at(e.created_at),
            })
        })
        .collect()
}

pub fn soothe(u: &Unlocked) -> Reply {
    Ok(Response::Soothe {
        plan: u.home.journal.soothing_plan().map_err(doc_error)?,
    })
}

pub fn set_soothe(u: &mut Unlocked, text: String) -> Reply {
    SoothingPlan::check(&text).map_err(invalid)?;
    let plan = SoothingPlan {
        text: text.trim_end().to_string() + "\n",
        updated_at: when::now(),
    };
    u.home.journal.put_soothing_plan(&plan).map_err(doc_error)?;
    persist_journal(u)?;
    Ok(Response::Soothe { plan: Some(plan) })
}

pub fn insights(u: &Unlocked, since: Option<NaiveDate>, until: Option<NaiveDate>) -> Reply {
    let today = Local::now().date_naive();
    let until = until.unwrap_or(today);
    // Whole weeks: from the Monday twelve weeks before this week's.
    let back = i64::from(until.weekday().num_days_from_monday()) + 7 * DEFAULT_WEEKS;
    let since = since.unwrap_or_else(|| {
        until
            .checked_sub_signed(Duration::days(back))
            .unwrap_or(until)
    });
    if since > today {
        return Err(ErrorReply::new(
            ErrorKind::InvalidInput,
            format!("--since {since} is in the future: there is nothing to show yet"),
        )
        .hint("use a date in the past, like 4w or 2026-11-01"));
    }
    if since > until {
        return Err(ErrorReply::new(
            ErrorKind::InvalidInput,
            format!("the range starts ({since}) after it ends ({until})"),
        ));
    }
    // Entries carry the offset they were written in; a day or two of margin on each side
    // lets `compute` decide by the day as written.
    let from = since.checked_sub_signed(Duration::days(2)).unwrap_or(since);
    let entries = u.index.written_since(from);
    Ok(Response::Insights {
        insights: insights::compute(entries, since, until),
    })
}
