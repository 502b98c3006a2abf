//! An automerge document persisted as a log of sealed chunks.
//!
//! Load is one `AutoCommit::load` of the latest snapshot and the chunks after it, decrypted
//! and concatenated (never `load_incremental` chunk by chunk, ~2 ms each on a large
//! document). After a load we remember the heads and append `save_after(heads)`: the first
//! `save_incremental()` after a load would return the whole history. After
//! [`COMPACT_AFTER`] chunks the log is folded into a new snapshot, so a load never reads
//! thousands of loose chunks.

use automerge::{AutoCommit, ChangeHash};

use super::{DocName, Result, Store, StoreError};
use crate::crypto::{seal, ChunkHeader, ChunkKind};

/// How many incremental chunks may follow a snapshot before the log is compacted.
pub const COMPACT_AFTER: usize = 256;

pub struct DocLog {
    name: DocName,
    doc_id: [u8; 16],
    next_seq: u64,
    saved_heads: Vec<ChangeHash>,
    chunks_since_snapshot: usize,
}

impl DocLog {
    /// Writes `doc` as the first snapshot of a new log.
    pub fn create(
        store: &mut Store,
        recipient: &age::x25519::Recipient,
        name: DocName,
        doc_id: [u8; 16],
        doc: &mut AutoCommit,
    ) -> Result<DocLog> {
        let mut log = DocLog {
            name,
            doc_id,
            next_seq: 0,
            saved_heads: Vec::new(),
            chunks_since_snapshot: 0,
        };
        log.compact(store, recipient, doc)?;
        Ok(log)
    }

    /// Reads and decrypts the latest snapshot and the chunks after it.
    pub fn load(
        store: &Store,
        identity: &age::x25519::Identity,
        name: DocName,
        doc_id: [u8; 16],
    ) -> Result<(DocLog, AutoCommit)> {
        // The store checks that these are exactly the rows its head names, each tagged.
        let chunks = store.chunks_since_snapshot(name)?;
        let first = chunks.first().ok_or_else(|| {
            StoreError::Corrupt(format!("the {} document has no snapshot", name.as_str()))
        })?;
        let mut bytes = Vec::new();
        let mut next_seq = first.seq;
        for chunk in &chunks {
            let header = ChunkHeader {
                doc_id,
                seq: chunk.seq,
                kind: chunk.kind,
            };
            bytes.extend_from_slice(&seal::open(identity, header, &chunk.data)?);
            next_seq = chunk.seq + 1;
        }
        let mut doc = AutoCommit::load(&bytes)?;
        zeroize::Zeroize::zeroize(&mut bytes);
        let log = DocLog {
            name,
            doc_id,
            next_seq,
            saved_heads: doc.get_heads(),
            chunks_since_snapshot: chunks.len() - 1,
        };
        Ok((log, doc))
    }

    /// Appends what changed since the last save. Returns false when nothing changed.
    /// When this returns `Ok`, the change is durably on disk.
    pub fn persist(
        &mut self,
        store: &mut Store,
        recipient: &age::x25519::Recipient,
        doc: &mut AutoCommit,
    ) -> Result<bool> {
        let heads = doc.get_heads();
        if heads == self.saved_heads {
            return Ok(false);
        }
        let changes = zeroize::Zeroizing::new(doc.save_after(&self.saved_heads));
        if changes.is_empty() {
            self.saved_heads = heads;
            return Ok(false);
        }
        let header = ChunkHeader {
            doc_id: self.doc_id,
            seq: self.next_seq,
            kind: ChunkKind::Changes,
        };
        let sealed = seal::seal(recipient, header, &changes)?;
        store.append(self.name, self.next_seq, ChunkKind::Changes, &sealed)?;
        self.next_seq += 1;
        self.saved_heads = heads;
        self.chunks_since_snapshot += 1;
        Ok(true)
    }

    pub fn needs_compaction(&self) -> bool {
        self.chunks_since_snapshot >= COMPACT_AFTER
    }

    /// Replaces the log with one snapshot of `doc` (which may be a rebuilt document with a
    /// fresh history: that is how `purge` forgets deleted text).
    pub fn compact(
        &mut self,
        store: &mut Store,
        recipient: &age::x25519::Recipient,
        doc: &mut AutoCommit,
    ) -> Result<()> {
        let snapshot = zeroize::Zeroizing::new(doc.save());
        let header = ChunkHeader {
            doc_id: self.doc_id,
            seq: self.next_seq,
            kind: ChunkKind::Snapshot,
        };
        let sealed = seal::seal(recipient, header, &snapshot)?;
        store.replace_with_snapshot(self.name, self.next_seq, &sealed)?;
        self.next_seq += 1;
        self.saved_heads = doc.get_heads();
        self.chunks_since_snapshot = 0;
        Ok(())
    }

    pub fn saved_heads(&self) -> &[ChangeHash] {
        &self.saved_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Meta;
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};

    fn setup() -> (tempfile::TempDir, Store, age::x25519::Identity) {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = age::x25519::Identity::generate();
        let meta = Meta {
            journal_id: [1; 16],
            couple_id: [2; 16],
            recipient: id.to_public().to_string(),
        };
        let store = Store::create(
            &dir.path().join("haven.db"),
            &meta,
            crate::crypto::RowKey::derive(&id),
        )
        .expect("create");
        (dir, store, id)
    }

    /// A new journal log of `doc` in `store`.
    fn create_journal(
        store: &mut Store,
        id: &age::x25519::Identity,
        doc: &mut AutoCommit,
    ) -> Result<DocLog> {
        DocLog::create(store, &id.to_public(), DocName::Journal, [1; 16], doc)
    }

    #[test]
    fn appended_changes_and_compaction_load_back() {
        let (_dir, mut store, id) = setup();
        let mut doc = AutoCommit::new();
        let mut log = create_journal(&mut store, &id, &mut doc).expect("create");
        for i in 0..(COMPACT_AFTER + 10) {
            doc.put(ROOT, format!("k{i}"), i as u64).expect("put");
            assert!(log
                .persist(&mut store, &id.to_public(), &mut doc)
                .expect("persist"));
            if log.needs_compaction() {
                log.compact(&mut store, &id.to_public(), &mut doc)
                    .expect("compact");
            }
        }
        assert!(!log
            .persist(&mut store, &id.to_public(), &mut doc)
            .expect("nothing new"));
        let (rows, _) = store.usage(DocName::Journal).expect("usage");
        assert!(
            rows <= 11,
            "compaction should have folded the log, {rows} rows"
        );
        let (loaded_log, loaded) =
            DocLog::load(&store, &id, DocName::Journal, [1; 16]).expect("load");
        assert_eq!(loaded.length(ROOT), COMPACT_AFTER + 10);
        assert_eq!(loaded_log.saved_heads(), doc.get_heads().as_slice());
    }

    #[test]
    fn a_persist_after_load_writes_only_the_new_change() {
        let (_dir, mut store, id) = setup();
        let mut doc = AutoCommit::new();
        for i in 0..1000u64 {
            doc.put(
                ROOT,
                format!("key{i}"),
                format!(
                    "a longer value to make history visible: {}",
                    i * 7919 % 10007
                ),
            )
            .expect("put");
        }
        create_journal(&mut store, &id, &mut doc).expect("create");
        let (mut log, mut loaded) =
            DocLog::load(&store, &id, DocName::Journal, [1; 16]).expect("load");
        let (_, before) = store.usage(DocName::Journal).expect("usage");
        loaded.put(ROOT, "new", 1u64).expect("put");
        log.persist(&mut store, &id.to_public(), &mut loaded)
            .expect("persist");
        let (_, after) = store.usage(DocName::Journal).expect("usage");
        // One row of the smallest bucket and age's own header, where a rewrite of the
        // whole document would take a bucket of its size.
        let small = crate::crypto::padded_len(0) as u64 + 400;
        let whole = crate::crypto::padded_len(loaded.save().len()) as u64;
        assert!(whole > small, "the test's document is too small to tell");
        assert!(
            after - before < small,
            "an incremental chunk should be small, grew {}",
            after - before
        );
    }

    #[test]
    fn a_row_from_another_document_is_refused() {
        let (_dir, mut store, id) = setup();
        let mut doc = AutoCommit::new();
        create_journal(&mut store, &id, &mut doc).expect("create");
        // Loading the journal's rows as if they were the couple document's.
        assert!(DocLog::load(&store, &id, DocName::Journal, [2; 16]).is_err());
        let other = age::x25519::Identity::generate();
        assert!(DocLog::load(&store, &other, DocName::Journal, [1; 16]).is_err());
    }
}
