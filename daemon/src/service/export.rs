//! `haven export`: the entries a brief or one entry renders, the agreements in force, what
//! changed over the range and, when asked, the partner's thanks. Only reads: the CLI does
//! the rendering.

use chrono::Local;

use haven_shared::ipc::{Answer, ErrorReply, Export, ExportData, ExportSelection};
use haven_shared::model::agreement::Status;
use haven_shared::model::notes::{NoteKind, NoteView};
use haven_shared::model::AgreementView;
use haven_shared::model::{Entry, ListQuery};

use crate::vault::Unlocked;

pub fn export(u: &Unlocked, call: Export) -> Answer<Export> {
    let mut received = Vec::new();
    let (entries, agreements, insights) = match call.selection {
        ExportSelection::Entry { id } => (vec![u.resolve_entry(&id)?.clone()], Vec::new(), None),
        ExportSelection::Range { query } => {
            query.check().map_err(super::invalid)?;
            if call.thanks {
                received = thanks_received(u, query.since);
            }
            let (since, until) = (query.since, query.until);
            let (entries, insights) = brief_range(u, query);
            (entries, brief_agreements(u, since, until)?, Some(insights))
        }
    };
    Ok(ExportData {
        entries,
        agreements,
        name: u.name.clone(),
        insights,
        thanks: received,
    })
}

/// The agreements in force, then those declined or withdrawn within the range (with the
/// words signed with the no): a therapist hears what was said no to as well.
fn brief_agreements(
    u: &Unlocked,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
    until: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Result<Vec<AgreementView>, ErrorReply> {
    let mut views = u.agreement_views(&u.book()?);
    views.retain(|v| match v.status {
        Status::Active | Status::DueForReview => true,
        Status::Proposed => false,
        Status::Declined | Status::Withdrawn => {
            let last = v
                .reasons
                .iter()
                .map(|r| r.at)
                .chain(v.withdrawn.as_ref().map(|w| w.at))
                .chain(v.last_said)
                .chain(v.revisions.last().map(|r| r.at))
                .max();
            last.is_some_and(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u))
        }
    });
    // In force first, each group as listed.
    views.sort_by_key(|v| !matches!(v.status, Status::Active | Status::DueForReview));
    Ok(views)
}

/// A session brief's entries (oldest first, as filtered) and what changed over the range,
/// which covers every entry of it whatever the filters.
fn brief_range(
    u: &Unlocked,
    query: ListQuery,
) -> (Vec<Entry>, haven_shared::model::insights::Insights) {
    let query = ListQuery {
        limit: None,
        brief: false,
        ..query
    };
    let mut entries: Vec<Entry> = u
        .index
        .query(&query)
        .0
        .into_iter()
        .map(|l| l.entry)
        .collect();
    entries.reverse();
    // One range for every count: the days the entries listed were written on.
    let today = query.until.map_or_else(
        || Local::now().date_naive(),
        |u| (u - chrono::Duration::seconds(1)).date_naive(),
    );
    let since = query.since.map_or_else(
        || entries.first().map_or(today, |e| e.created_at.date_naive()),
        |t| t.date_naive(),
    );
    let since = since.min(today);
    let insights = haven_shared::model::insights::compute(
        u.index.written_since(
            since
                .checked_sub_signed(chrono::Duration::days(2))
                .unwrap_or(since),
        ),
        since,
        today,
    )
    .keep_helped(&super::practice::plan_lines(u))
    .count_shared(u.board().notes.values(), since, today);
    (entries, insights)
}

/// The partner's verified appreciations since `since`, oldest first.
fn thanks_received(
    u: &Unlocked,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Vec<NoteView> {
    u.board()
        .in_order()
        .into_iter()
        .filter(|n| !n.mine && n.kind == NoteKind::Thanks && since.is_none_or(|s| n.at >= s))
        .cloned()
        .collect()
}
