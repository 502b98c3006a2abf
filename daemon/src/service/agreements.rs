//! The agreements' calls: propose, list, show, and the signed verbs (accept, decline,
//! revise, withdraw, renew). The book is assembled from verified statements every time
//! (see `model::agreement`): what counts is what verifies, never a stored status.

use chrono::Local;

use haven_shared::ipc::{
    AgreePropose, AgreementCall, AgreementReply, Agreements, Answer, Created, ErrorKind,
    ErrorReply, Reply,
};
use haven_shared::model::agreement::DeviceSigner;
use haven_shared::model::agreement::{
    self, checked_reason, Agreement, Book, SignedItem, VerbError,
};
use haven_shared::model::{new_id, ModelError, Verb};
use haven_shared::when;

use super::{invalid, waiting};
use crate::vault::Unlocked;

pub fn handle(u: &mut Unlocked, call: AgreementCall) -> Reply {
    let now = when::now();
    match call {
        AgreementCall::AgreePropose(c) => propose(u, c).map(Into::into),
        AgreementCall::AgreeList(_) => {
            let book = u.book()?;
            waiting::mark_seen(u, Some(&book), None, None, |_| true);
            Ok(Agreements {
                agreements: u.agreement_views(&book),
                ignored: book.malformed,
            }
            .into())
        }
        AgreementCall::AgreeShow(c) => {
            let book = u.book()?;
            let id = resolve_agreement(&book, &c.id)?.id.clone();
            waiting::seen_agreement(u, &book, &id);
            agreement_reply_from(u, &book, &id).map(Into::into)
        }
        AgreementCall::AgreeAccept(c) => verb(u, &c.id, |a, k, n| {
            a.respond(k, Verb::Consent, None, n, now).map(|i| vec![i])
        })
        .map(Into::into),
        AgreementCall::AgreeDecline(c) => {
            let why = checked_reason(c.why).map_err(invalid)?;
            verb(u, &c.id, |a, k, n| {
                a.respond(k, Verb::Decline, why, n, now).map(|i| vec![i])
            })
            .map(Into::into)
        }
        AgreementCall::AgreeRevise(c) => {
            if c.text.trim().is_empty() {
                return Err(invalid(ModelError::EmptyAgreement));
            }
            let why = checked_reason(c.why).map_err(invalid)?;
            verb(u, &c.id, |a, k, n| a.revise(k, c.text.trim(), why, n, now)).map(Into::into)
        }
        AgreementCall::AgreeWithdraw(c) => {
            let why = checked_reason(c.reason).map_err(invalid)?;
            verb(u, &c.id, |a, k, n| {
                a.respond(k, Verb::Withdraw, why, n, now).map(|i| vec![i])
            })
            .map(Into::into)
        }
        AgreementCall::AgreeRenew(c) => {
            let note = checked_reason(c.note).map_err(invalid)?;
            verb(u, &c.id, |a, k, n| a.renew(k, c.review_on, note, n, now)).map(Into::into)
        }
    }
}

fn propose(u: &mut Unlocked, call: AgreePropose) -> Answer<AgreePropose> {
    if call.title.trim().is_empty() {
        return Err(invalid(ModelError::EmptyTitle));
    }
    if call.text.trim().is_empty() {
        return Err(invalid(ModelError::EmptyAgreement));
    }
    let id = new_id();
    let key = u.home.signer();
    let counter = u.book()?.next_counter(&u.home.member_id());
    let items = agreement::propose(
        &key,
        &id,
        call.title.trim(),
        call.text.trim(),
        call.review_on,
        counter,
        when::now(),
    );
    u.publish(&items)?;
    Ok(Created { id })
}

/// An agreement by exact id (always wins) or unique prefix.
fn resolve_agreement<'b>(book: &'b Book, prefix: &str) -> Result<&'b Agreement, ErrorReply> {
    book.resolve(prefix).map_err(|ids| match ids.as_slice() {
        [] => ErrorReply::new(
            ErrorKind::NotFound,
            format!("no agreement matches {:?}", prefix.trim()),
        )
        .hint("see the ids with `haven agree list`"),
        many => ErrorReply::new(
            ErrorKind::Ambiguous,
            format!(
                "{:?} matches several agreements ({})",
                prefix.trim(),
                many.join(", ")
            ),
        )
        .hint("type more of the id"),
    })
}

/// Applies one signed verb to an agreement (by id or prefix), publishes what it signed,
/// and shows the result.
fn verb(
    u: &mut Unlocked,
    prefix: &str,
    verb: impl FnOnce(&Agreement, &DeviceSigner, u64) -> Result<Vec<SignedItem>, VerbError>,
) -> Result<AgreementReply, ErrorReply> {
    let before = u.book()?;
    let agreement = resolve_agreement(&before, prefix)?;
    let key = u.home.signer();
    let counter = before.next_counter(&u.home.member_id());
    let items = verb(agreement, &key, counter)
        .map_err(|e| ErrorReply::new(ErrorKind::InvalidInput, e.to_string()))?;
    let id = agreement.id.clone();
    u.publish(&items)?;
    let after = u.book()?;
    // Answering it is having seen it: nothing about it is left waiting.
    waiting::seen_agreement(u, &after, &id);
    agreement_reply_from(u, &after, &id)
}

/// The agreement `id` as shown, from a book already assembled.
fn agreement_reply_from(u: &Unlocked, book: &Book, id: &str) -> Result<AgreementReply, ErrorReply> {
    let today = Local::now().date_naive();
    let agreement = book
        .agreements
        .get(id)
        .ok_or_else(|| ErrorReply::new(ErrorKind::NotFound, format!("no agreement {id}")))?;
    Ok(AgreementReply {
        agreement: agreement.view(u.keyring(), today),
    })
}
