//! The practice's requests: pauses, the soothing plan, and insights.
//!
//! A pause is a journal entry of kind `pause`, so it is private, searchable, exported in a
//! brief and purged like any entry. Insights are computed here from the in-memory index,
//! never by shipping every entry to the CLI.

use chrono::{Datelike, Duration, Local, NaiveDate};

use haven_shared::ipc::{
    EntryReply, ErrorKind, ErrorReply, InsightsReply, LookBackReply, PauseStarted, PlanReply,
    PracticeCall, Reply,
};
use haven_shared::model::practice::DEFAULT_PAUSE_MINUTES;
use haven_shared::model::{insights, look_back};
use haven_shared::model::{
    new_id, AgreementView, Entry, Kind, NewPause, PauseEnd, PauseRecord, SoothingPlan,
};
use haven_shared::when;

use super::{doc_error, invalid};
use crate::vault::Unlocked;

pub fn handle(u: &mut Unlocked, call: PracticeCall) -> Reply {
    match call {
        PracticeCall::PauseStart(c) => start_pause(u, c.pause).map(Into::into),
        PracticeCall::PauseDone(c) => finish_pause(u, c.id, c.end).map(Into::into),
        PracticeCall::Soothe(_) => soothe(u).map(Into::into),
        PracticeCall::SootheSet(c) => set_soothe(u, c.text).map(Into::into),
        PracticeCall::Insights(c) => insights(u, c.since, c.until).map(Into::into),
        PracticeCall::LookBack(_) => Ok(look_back(u).into()),
    }
}

/// This day a week, a month and a year ago, from the index and the couple's notes.
fn look_back(u: &Unlocked) -> LookBackReply {
    let today = Local::now().date_naive();
    let entries_on = |day: NaiveDate| {
        u.index
            .written_since(day)
            .take_while(move |e| e.created_at.date_naive() <= day)
            .filter(move |e| e.created_at.date_naive() == day)
    };
    let thanks: Vec<_> = u.board().notes.into_values().collect();
    LookBackReply {
        look_back: look_back::gather(today, entries_on, &thanks),
    }
}

/// Words that make an agreement one about texting and checking in, shown during a pause.
const TEXTING_WORDS: [&str; 9] = [
    "text", "message", "check-in", "check in", "reply", "call", "phone", "answer", "heads-up",
];

/// How many whole weeks before this one `insights` looks without `--since`.
const DEFAULT_WEEKS: i64 = 12;

/// The agreements in force about texting; if none mentions it, every one in force.
fn texting_agreements(u: &Unlocked) -> Result<Vec<AgreementView>, ErrorReply> {
    let all = u.in_force_agreements()?;
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

fn start_pause(u: &mut Unlocked, pause: NewPause) -> Result<PauseStarted, ErrorReply> {
    let pause = pause.validated().map_err(invalid)?;
    let agreements = texting_agreements(u)?;
    let now = when::now();
    let entry = Entry {
        id: new_id(),
        kind: Kind::Pause,
        title: format!(
            "A pause of {}",
            haven_shared::plural::count(u64::from(pause.minutes), "minute", "minutes")
        ),
        body: String::new(),
        tags: Vec::new(),
        mood: None,
        intensity: None,
        created_at: pause.at.unwrap_or(now),
        updated_at: now,
        record: None,
        pause: Some(Box::new(PauseRecord {
            urge_before: pause.urge_before,
            minutes: pause.minutes,
            message: pause.message,
            agreement: agreements.first().map(|a| a.id.clone()),
            ..PauseRecord::default()
        })),
        feelings: Vec::new(),
    };
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    u.persist_journal()?;
    u.index.upsert(entry.clone());
    Ok(PauseStarted {
        entry,
        agreements,
        soothe: soothe_line(u),
    })
}

fn finish_pause(
    u: &mut Unlocked,
    id: Option<String>,
    end: PauseEnd,
) -> Result<EntryReply, ErrorReply> {
    let end = end.validated().map_err(invalid)?;
    let mut entry = match id {
        Some(id) => {
            let entry = u.resolve_entry(&id)?;
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
                [] => {
                    return Err(
                        ErrorReply::new(ErrorKind::NotFound, "no pause is open").hint(
                            "start one with `haven pause`; see past ones with `haven pause list`",
                        ),
                    )
                }
                [one] => (*one).clone(),
                many => {
                    let ids: Vec<&str> = many.iter().map(|e| e.id.as_str()).collect();
                    return Err(ErrorReply::new(
                            ErrorKind::Ambiguous,
                            format!("{} pauses are open ({})", many.len(), ids.join(", ")),
                        )
                        .hint("say which: `haven pause done ID --urge N --sent` (or --not-sent, or --rewrite TEXT)"));
                }
            }
        }
    };
    let now = when::now();
    let pause = entry.pause.get_or_insert_with(|| {
        Box::new(PauseRecord {
            minutes: DEFAULT_PAUSE_MINUTES,
            ..PauseRecord::default()
        })
    });
    if let Some(ended) = pause.finished_at {
        // Said once, kept as said: a second answer (or a rewrite afterwards) would
        // quietly change what the person recorded at the time.
        return Err(ErrorReply::new(
            ErrorKind::InvalidInput,
            format!(
                "the pause {} already ended, on {}",
                entry.id,
                ended.format("%-d %b at %H:%M")
            ),
        )
        .hint("see it with `haven pause list`; start a new one with `haven pause`"));
    }
    pause.urge_after = Some(end.urge_after);
    pause.sent = Some(end.sent);
    pause.rewrite = end.rewrite;
    pause.finished_at = Some(now);
    entry.updated_at = now;
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    u.persist_journal()?;
    u.index.upsert(entry.clone());
    Ok(EntryReply { entry })
}

fn soothe(u: &Unlocked) -> Result<PlanReply, ErrorReply> {
    Ok(PlanReply {
        plan: u.home.journal.soothing_plan().map_err(doc_error)?,
    })
}

fn set_soothe(u: &mut Unlocked, text: String) -> Result<PlanReply, ErrorReply> {
    SoothingPlan::check(&text).map_err(invalid)?;
    let plan = SoothingPlan {
        text: text.trim_end().to_string() + "\n",
        updated_at: when::now(),
    };
    u.home.journal.put_soothing_plan(&plan).map_err(doc_error)?;
    u.persist_journal()?;
    Ok(PlanReply { plan: Some(plan) })
}

fn insights(
    u: &Unlocked,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<InsightsReply, ErrorReply> {
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
    Ok(InsightsReply {
        insights: insights::compute(entries, since, until)
            .keep_helped(&plan_lines(u))
            .count_shared(u.board().notes.values(), since, until),
    })
}

/// The soothing plan's lines (none when there is no plan): what `insights` keeps of what
/// helped, besides what came back.
pub fn plan_lines(u: &Unlocked) -> Vec<String> {
    let plan = u.home.journal.soothing_plan().ok().flatten();
    plan.map(|p| {
        SoothingPlan::lines(&p.text)
            .into_iter()
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}
