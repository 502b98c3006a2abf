//! What this laptop writes into and reads out of the couple document: its member's signed
//! items (published, put back when missing, carried over from the first release), the
//! items the partner wrote, and a wipe after an unpair.

use std::collections::BTreeMap;

use super::{own_member, HomeError, OpenHome};
use crate::documents::{CoupleDoc, TOGETHER_KEYS};
use crate::model::agreement::{
    sign_revision, sign_statement, Keyring, SignedItem, Sources, StatementBody, REVISION_KEY,
    STATEMENT_KEY,
};

impl OpenHome {
    /// Replaces the couple document with a fresh one naming only this member, and removes
    /// every older row of it (`haven partner unpair --wipe`).
    pub fn wipe_couple(&mut self) -> Result<(), HomeError> {
        // This member's own items go too, or the next republish would bring them back.
        self.journal.clear_own()?;
        self.persist_journal()?;
        let mut fresh = CoupleDoc::new();
        fresh.put_member(&own_member(&self.identity, &self.own_name()))?;
        let recipient = self.identity.recipient();
        self.couple_log
            .compact(&mut self.store, &recipient, fresh.automerge_mut())?;
        self.couple = fresh;
        self.store.checkpoint()?;
        Ok(())
    }

    /// What agreements are assembled from: the couple document's items with this member's
    /// own (from the private journal) merged in, and the v1 snapshot.
    pub fn agreement_sources(&self) -> Result<Sources, HomeError> {
        let mut sources = self.couple.sources()?;
        sources.items.extend(
            self.journal
                .own_items()
                .into_iter()
                .filter(|(k, _)| k.starts_with(REVISION_KEY) || k.starts_with(STATEMENT_KEY)),
        );
        sources.snapshots = self.journal.legacy_snapshots();
        Ok(sources)
    }

    /// What notes and the weekly question are assembled from: the couple document's items
    /// with this member's own merged in.
    pub fn together_items(&self) -> BTreeMap<String, String> {
        let mut items = self.couple.together_items();
        items.extend(
            self.journal
                .own_items()
                .into_iter()
                .filter(|(k, _)| TOGETHER_KEYS.iter().any(|p| k.starts_with(p))),
        );
        items
    }

    /// Publishes items this member just signed: first into the private journal (this
    /// device's authoritative copy), then into the couple document. Durable when this
    /// returns; if the second write fails, the next republish brings the items over.
    pub fn publish_items(&mut self, items: &[SignedItem]) -> Result<(), HomeError> {
        for item in items {
            self.journal.put_own_item(item)?;
        }
        self.persist_journal()?;
        for item in items {
            self.couple.put_item(item)?;
        }
        self.persist_couple()
    }

    /// Names this laptop's iroh key in its member record; true when that changed it.
    pub fn publish_endpoint(&mut self, endpoint: &[u8; 32]) -> Result<bool, HomeError> {
        let me = self.identity.member_id();
        if !self.couple.put_endpoint(&me, &hex::encode(endpoint))? {
            return Ok(false);
        }
        self.persist_couple()?;
        Ok(true)
    }

    /// Puts back into the couple document every item of this member's (and their device
    /// list's current version) that is missing or altered there (the partner's device
    /// deleted it, or a write was cut short). Returns how many.
    pub fn republish_own(&mut self) -> Result<usize, HomeError> {
        let mut put = 0;
        for (key, value) in self.journal.own_items() {
            let item = SignedItem { key, value };
            if !self.couple.has_item(&item)? {
                self.couple.put_item(&item)?;
                put += 1;
            }
        }
        // And the current version of this person's device list, which the partner's
        // devices follow.
        if let Some(own) = self.own_devices().ok().flatten() {
            if matches!(self.put_device_list(&own), Ok(true)) {
                put += 1;
            }
        }
        if put > 0 {
            self.persist_couple()?;
        }
        Ok(put)
    }

    /// Once per home: carries v1 agreements over to signed items (see
    /// `model::agreement::LegacyAgreement`). Snapshots the v1 revisions, re-signs the ones
    /// this member wrote, turns this member's own verified v1 records into signed
    /// statements numbered in time order, and publishes them. The journal write (snapshot,
    /// items and the done-mark in one chunk) comes first, so a crash midway is finished by
    /// the next republish. Returns how many v1 agreements there were.
    pub fn migrate_agreements(&mut self, keyring: &Keyring) -> Result<usize, HomeError> {
        if self.journal.agreements_migrated()? {
            return Ok(0);
        }
        let sources = self.couple.sources()?;
        let key = self.identity.signing_key().clone();
        let me = self.identity.member_id();
        let mut items = Vec::new();
        let mut records = Vec::new();
        for legacy in sources.legacy.values() {
            let mut snapshot = legacy.clone();
            snapshot.records.clear();
            self.journal.put_legacy_snapshot(&snapshot)?;
            for body in legacy.revision_bodies() {
                if body.by == me {
                    items.push(sign_revision(&key, &body));
                }
            }
            records.extend(
                legacy
                    .own_records(keyring)
                    .into_iter()
                    .map(|r| (legacy.id.clone(), r.clone())),
            );
        }
        records.sort_by_key(|(_, r)| (r.at, r.verb));
        for ((agreement, r), counter) in records.into_iter().zip(1..) {
            items.push(sign_statement(
                &key,
                &StatementBody {
                    agreement,
                    revision: r.hash,
                    verb: r.verb,
                    by: me.clone(),
                    counter,
                    at: r.at,
                    reason: r.reason,
                },
            ));
        }
        self.journal.mark_agreements_migrated()?;
        self.publish_items(&items)?;
        Ok(sources.legacy.len())
    }
}
