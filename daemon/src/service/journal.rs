//! The journal's calls: write, list, show, edit, delete, purge, import (`export` has a
//! file of its own). Private by construction: nothing here touches the couple document.

use haven_shared::devices::journal_sync::Tombstone;
use haven_shared::ipc::{
    Answer, Created, Entries, EntryReply, Imported, JournalCall, JournalDelete, JournalEdit,
    JournalImport, JournalPurge, JournalWrite, Purged, RecipientReply, Reply,
};
use haven_shared::ipc::{ErrorKind, ErrorReply};
use haven_shared::model::{new_id, EntryChanges, ModelError};
use haven_shared::store::DocName;
use haven_shared::when;

use super::{doc_error, export, invalid};
use crate::vault::{home_error, Unlocked};

pub fn handle(u: &mut Unlocked, call: JournalCall) -> Reply {
    match call {
        JournalCall::Recipient(_) => Ok(RecipientReply {
            recipient: u.home.identity.recipient().to_string(),
        }
        .into()),
        JournalCall::JournalWrite(c) => write(u, c).map(Into::into),
        JournalCall::JournalList(c) => {
            c.query.check().map_err(invalid)?;
            let (entries, total) = u.index.query(&c.query);
            Ok(Entries { entries, total }.into())
        }
        JournalCall::JournalShow(c) => Ok(EntryReply {
            entry: u.resolve_entry(&c.id)?.clone(),
        }
        .into()),
        JournalCall::JournalEdit(c) => edit(u, c).map(Into::into),
        JournalCall::JournalDelete(c) => delete(u, c).map(Into::into),
        JournalCall::JournalPurge(c) => purge(u, c).map(Into::into),
        JournalCall::JournalImport(c) => import(u, c).map(Into::into),
        JournalCall::Export(c) => export::export(u, c).map(Into::into),
    }
}

fn write(u: &mut Unlocked, call: JournalWrite) -> Answer<JournalWrite> {
    let entry = call.entry.validated().map_err(invalid)?;
    let at = entry.at.unwrap_or_else(when::now);
    let entry = entry.into_entry(new_id(), at);
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    u.persist_journal()?;
    let id = entry.id.clone();
    u.index.upsert(entry);
    Ok(Created { id })
}

fn edit(u: &mut Unlocked, call: JournalEdit) -> Answer<JournalEdit> {
    let changes: EntryChanges = call.changes.validated().map_err(invalid)?;
    let mut entry = u.resolve_entry(&call.id)?.clone();
    if !changes.apply(&mut entry).map_err(invalid)? {
        return Ok(EntryReply { entry });
    }
    entry.updated_at = when::now();
    u.home.journal.put_entry(&entry).map_err(doc_error)?;
    u.persist_journal()?;
    u.index.upsert(entry.clone());
    Ok(EntryReply { entry })
}

fn delete(u: &mut Unlocked, call: JournalDelete) -> Answer<JournalDelete> {
    let entry = u.resolve_entry(&call.id)?.clone();
    let tombstone = Tombstone {
        id: entry.id.clone(),
        at: when::now().to_rfc3339(),
    };
    u.home
        .journal
        .delete_entry(&tombstone.id, &tombstone.at)
        .map_err(doc_error)?;
    u.persist_journal()?;
    u.index.delete(&tombstone);
    Ok(EntryReply { entry })
}

fn purge(u: &mut Unlocked, _: JournalPurge) -> Answer<JournalPurge> {
    let (_, bytes_before) = u.home.store.usage(DocName::Journal).unwrap_or_default();
    let at = when::now().to_rfc3339();
    u.home.purge_journal(Some(&at)).map_err(home_error)?;
    if let Some(marks) = u.index.marks_if_made() {
        marks.set_purged(at);
    }
    let (_, bytes_after) = u.home.store.usage(DocName::Journal).unwrap_or_default();
    tracing::info!(entries = u.index.len(), "journal purged");
    Ok(Purged {
        entries: u.index.len(),
        bytes_before,
        bytes_after,
    })
}

fn import(u: &mut Unlocked, call: JournalImport) -> Answer<JournalImport> {
    // Validate the whole batch before writing any of it.
    let mut fresh = Vec::new();
    let mut existing = 0;
    // An id twice in one file: the first is imported, the next counted as already there
    // (the document and the index must keep the same one).
    let mut seen = std::collections::HashSet::new();
    for entry in call.entries {
        let at = entry.created_at;
        let entry = entry.validated().map_err(|e| invalid_entry(at, e))?;
        // An id deleted here stays deleted (the deletion travels to the person's other
        // devices, which would delete it again): it counts as already there.
        if u.index.contains(&entry.id)
            || u.home.journal.is_deleted(&entry.id)
            || !seen.insert(entry.id.clone())
        {
            existing += 1;
            continue;
        }
        fresh.push(entry);
    }
    for entry in &fresh {
        u.home.journal.put_entry(entry).map_err(doc_error)?;
    }
    u.persist_journal()?;
    let added = fresh.len();
    u.index.insert_many(fresh);
    Ok(Imported { added, existing })
}

fn invalid_entry(at: chrono::DateTime<chrono::FixedOffset>, e: ModelError) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::InvalidInput,
        format!(
            "the entry of {} cannot be imported: {e}; nothing was imported",
            at.to_rfc3339()
        ),
    )
}
