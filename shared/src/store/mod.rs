//! `haven.db`: SQLite holding sealed automerge chunks, nothing in plaintext.
//!
//! One table of chunks per document id and sequence number (incremental changes appended as
//! they are made, a compacted snapshot now and then), a small `meta` table of ids and the
//! public recipient, and `peer`: the paired partner and the sync state, each one sealed
//! blob. WAL with `synchronous=FULL`, so a write acknowledged to the user survives `kill -9`
//! and power loss; `secure_delete` so rows removed by compaction or purge are overwritten
//! rather than left in free pages.
//!
//! Rows are authenticated (`crypto::rows`): every chunk and peer row carries a tag, and one
//! head record names, per document, the snapshot and the last sequence number, and a tag
//! over the whole `peer` table. Every write changes its row and the head in one
//! transaction. On load the rows must be exactly what the head names, each with a valid
//! tag: a forged, dropped, reordered or replayed row is an error naming the row. A rollback
//! of the whole file, head included, to an older copy of itself verifies; the head's
//! generation, counted up by every write and kept outside the file too ([`witness`]),
//! names it at unlock. A [`Store`] reads only the `meta` table until
//! [`Store::authenticate`] gives it the key.

pub mod doc_log;
pub mod witness;

pub use doc_log::{DocLog, COMPACT_AFTER};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::crypto::{ChunkKind, RowKey, SealError};

/// `PRAGMA application_id` of a Haven database: "HVEN".
const APPLICATION_ID: i32 = 0x4856_454E;
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 3;

/// Version 2 added the partner: its keys, addresses and sync state, sealed like chunks.
const PEER_TABLE_V2: &str =
    "CREATE TABLE IF NOT EXISTS peer (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;";
/// Version 3 authenticated the rows: a tag on each, and the head record.
const AUTH_V3: &str = "ALTER TABLE chunks ADD COLUMN mac BLOB;
     ALTER TABLE peer ADD COLUMN mac BLOB;
     CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 0), data BLOB NOT NULL, mac BLOB NOT NULL);";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} is not a Haven database (another program's file?)")]
    Foreign(PathBuf),
    #[error("the database is damaged ({0}); restore it from a backup, or run `haven doctor`")]
    Corrupt(String),
    #[error("the database was written by a newer Haven (format {0}); upgrade Haven")]
    TooNew(i32),
    #[error("the disk is full: nothing was saved; free some space and try again")]
    DiskFull,
    #[error("the database is missing {0}; it was not created by `haven init`")]
    MissingMeta(&'static str),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("the stored document cannot be read: {0}")]
    Document(#[from] automerge::AutomergeError),
    /// A row that the home's key did not write, or a row missing: someone with the disk
    /// changed the file. Names the rows.
    #[error("haven.db was changed outside Haven: {0}")]
    Tampered(String),
    #[error("haven.db is not unlocked (a write or read before the key was given)")]
    NotAuthenticated,
    #[error("cannot write the generation file {0}")]
    Generation(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The two documents of a home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocName {
    Journal,
    Couple,
}

impl DocName {
    pub fn as_str(self) -> &'static str {
        match self {
            DocName::Journal => "journal",
            DocName::Couple => "couple",
        }
    }
}

/// Non-secret facts about a home, readable while locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub journal_id: [u8; 16],
    pub couple_id: [u8; 16],
    /// The age recipient every chunk is sealed to; an identity whose recipient differs
    /// belongs to another home.
    pub recipient: String,
}

/// One sealed row.
pub struct StoredChunk {
    pub seq: u64,
    pub kind: ChunkKind,
    pub data: Vec<u8>,
}

/// The rows of one document: a snapshot at `snapshot`, then chunks up to `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Span {
    snapshot: u64,
    last: u64,
}

/// What the tables must hold, authenticated as one record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
struct Head {
    /// A tag over the `meta` table's ids and recipient.
    meta: String,
    journal: Option<Span>,
    couple: Option<Span>,
    /// A tag over every (key, row tag) of the `peer` table.
    peer: String,
    /// Raised by every write (0 in a head written before generations were counted).
    #[serde(default)]
    generation: u64,
}

impl Head {
    fn span(&self, doc: DocName) -> Option<Span> {
        match doc {
            DocName::Journal => self.journal,
            DocName::Couple => self.couple,
        }
    }
    fn set_span(&mut self, doc: DocName, span: Span) {
        match doc {
            DocName::Journal => self.journal = Some(span),
            DocName::Couple => self.couple = Some(span),
        }
    }
}

/// The `peer` table's tags by row key.
type PeerTags = BTreeMap<String, Vec<u8>>;

/// The key, and what the head said when it was last read or written.
struct Auth {
    key: RowKey,
    head: Head,
    /// The `peer` table's rows by key, with their tags, as the head names them.
    peer: PeerTags,
    /// Why the `peer` table cannot be trusted, if it cannot: the partner is then neither
    /// dialled nor synced with until `unpair` clears the table.
    peer_problem: Option<String>,
    /// What the generation file says (see [`witness`]), when the store has one.
    seen: Option<witness::Record>,
    /// Said once, at unlock: the generation file was missing or did not verify.
    witness_notice: Option<String>,
}

fn chunk_parts<'a>(
    doc: &'a str,
    seq: &'a [u8; 8],
    kind: &'a [u8; 1],
    data: &'a [u8],
) -> [&'a [u8]; 5] {
    [b"chunk", doc.as_bytes(), seq, kind, data]
}

fn chunk_tag(key: &RowKey, doc: DocName, seq: u64, kind: ChunkKind, data: &[u8]) -> [u8; 32] {
    let (seq_bytes, kind_byte) = (seq.to_be_bytes(), [kind as u8]);
    key.tag(&chunk_parts(doc.as_str(), &seq_bytes, &kind_byte, data))
}

fn peer_tag(key: &RowKey, name: &str, data: &[u8]) -> [u8; 32] {
    key.tag(&[b"peer", name.as_bytes(), data])
}

fn peer_set_tag(key: &RowKey, rows: &PeerTags) -> String {
    let mut parts: Vec<&[u8]> = vec![b"peer-set"];
    for (name, tag) in rows {
        parts.push(name.as_bytes());
        parts.push(tag);
    }
    hex::encode(key.tag(&parts))
}

fn meta_tag(key: &RowKey, meta: &Meta) -> String {
    hex::encode(key.tag(&[
        b"meta",
        &meta.journal_id,
        &meta.couple_id,
        meta.recipient.as_bytes(),
    ]))
}

/// How long a write waits for another connection to let go of haven.db.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Store {
    conn: Connection,
    path: PathBuf,
    auth: Option<Auth>,
    /// Inside [`Store::batch`]: writes join its transaction.
    in_batch: bool,
    /// Where the newest generation seen is kept ([`Store::watch_generation`]).
    witness: Option<witness::Witness>,
}

impl Store {
    /// Creates a new database, authenticated with `key`; fails if the file exists.
    pub fn create(path: &Path, meta: &Meta, key: RowKey) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::Sqlite(rusqlite::Error::InvalidPath(
                path.to_path_buf(),
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        restrict(path);
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            auth: None,
            in_batch: false,
            witness: None,
        };
        store.configure()?;
        store.conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {SCHEMA_VERSION};
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             CREATE TABLE chunks (
                 doc TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 kind INTEGER NOT NULL,
                 data BLOB NOT NULL,
                 mac BLOB,
                 PRIMARY KEY (doc, seq)
             ) WITHOUT ROWID;
             CREATE TABLE peer (key TEXT PRIMARY KEY, data BLOB NOT NULL, mac BLOB) WITHOUT ROWID;
             CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 0), data BLOB NOT NULL, mac BLOB NOT NULL);"
        ))?;
        let tx = store.conn.unchecked_transaction()?;
        for (k, v) in [
            ("journal_id", hex::encode(meta.journal_id)),
            ("couple_id", hex::encode(meta.couple_id)),
            ("recipient", meta.recipient.clone()),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        let peer = BTreeMap::new();
        let mut head = Head {
            meta: meta_tag(&key, meta),
            journal: None,
            couple: None,
            peer: peer_set_tag(&key, &peer),
            generation: 0,
        };
        write_head(&tx, &key, &mut head)?;
        tx.commit()?;
        store.auth = Some(Auth {
            key,
            head,
            peer,
            peer_problem: None,
            seen: None,
            witness_notice: None,
        });
        Ok(store)
    }

    /// Opens an existing database and checks it is a Haven database this build can read.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            auth: None,
            in_batch: false,
            witness: None,
        };
        let app_id: i32 = store
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| match StoreError::from(e) {
                // A damaged SQLite file still starts with SQLite's header; anything else is
                // some other program's file.
                StoreError::Corrupt(why) if has_sqlite_header(path) => StoreError::Corrupt(why),
                StoreError::Corrupt(_) => StoreError::Foreign(path.to_path_buf()),
                other => other,
            })?;
        if app_id != APPLICATION_ID {
            return Err(StoreError::Foreign(path.to_path_buf()));
        }
        let version: i32 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew(version));
        }
        store.configure()?;
        if version < SCHEMA_VERSION {
            store.migrate(version)?;
        }
        Ok(store)
    }

    /// Brings an older database to this build's schema, in one transaction. The rows of a
    /// version 2 database get their tags at the first unlock ([`Store::authenticate`]),
    /// which needs the key.
    fn migrate(&self, from: i32) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        if from < 2 {
            tx.execute_batch(PEER_TABLE_V2)?;
        }
        tx.execute_batch(AUTH_V3)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    /// Gives the store its key and checks the head record. `expect_head`: the identity says
    /// this home's rows are authenticated, so a missing head means it was stripped. Without
    /// it (a home from before authenticated rows), the rows as they are now get their tags
    /// and a head, in one transaction; returns true then.
    ///
    /// The chunks are checked when they are read (a load); the `peer` table here, and if it
    /// does not verify the store still opens, with [`Store::peer_problem`] saying why.
    pub fn authenticate(&mut self, key: RowKey, expect_head: bool) -> Result<bool> {
        let meta = self.meta()?;
        let stored: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row("SELECT data, mac FROM head WHERE id = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (head, upgraded) = match stored {
            Some((data, mac)) => {
                if !key.verify(&[b"head", &data], &mac) {
                    return Err(StoreError::Tampered(
                        "the head record does not verify".into(),
                    ));
                }
                let head: Head = serde_json::from_slice(&data)
                    .map_err(|_| StoreError::Tampered("the head record is unreadable".into()))?;
                if head.meta != meta_tag(&key, &meta) {
                    return Err(StoreError::Tampered(
                        "the document ids or the recipient in the meta table were changed".into(),
                    ));
                }
                (head, false)
            }
            None if expect_head => {
                return Err(StoreError::Tampered(
                    "the head record is missing (the rows' tags were stripped)".into(),
                ))
            }
            None => (self.tag_existing_rows(&key, &meta)?, true),
        };
        let (peer, peer_problem) = self.read_peer_tags(&key, &head)?;
        self.auth = Some(Auth {
            key,
            head,
            peer,
            peer_problem,
            seen: None,
            witness_notice: None,
        });
        self.check_generation();
        Ok(upgraded)
    }

    /// Keeps the newest generation seen in `path` (see [`witness`]); before
    /// [`Store::authenticate`], which compares the head with it.
    /// On a store just created (already authenticated), starts the file at its generation.
    pub fn watch_generation(&mut self, path: PathBuf) {
        self.witness = Some(witness::Witness::new(path));
        if self.auth.is_some() {
            self.check_generation();
            if let Some(auth) = self.auth.as_mut() {
                auth.witness_notice = None;
            }
        }
    }

    /// At unlock: the head against the newest generation seen. A head that is older is a
    /// rollback, written to the file so it stays named until accepted.
    fn check_generation(&mut self) {
        let (Some(w), Some(auth)) = (&self.witness, self.auth.as_mut()) else {
            return;
        };
        let found = auth.head.generation;
        let mut record = match w.read(&auth.key) {
            witness::Read::Found(r) => r,
            read => {
                // Nothing to compare with: named once, then counted from here. A home
                // from before generations (0) has nothing to name.
                if found > 0 {
                    auth.witness_notice = Some(format!(
                        "{} {}: Haven cannot tell whether haven.db is the newest copy",
                        w.path.display(),
                        if read == witness::Read::Missing {
                            "was missing"
                        } else {
                            "was changed outside Haven"
                        }
                    ));
                }
                witness::Record::default()
            }
        };
        if found < record.newest && record.rollback.is_none() {
            record.rollback = Some(witness::Rollback {
                found,
                newest: record.newest,
                noticed: crate::when::now(),
            });
        }
        record.newest = record.newest.max(found);
        if let Err(e) = w.write(&auth.key, &record) {
            auth.witness_notice = Some(format!("cannot write {}: {e}", w.path.display()));
        }
        auth.seen = Some(record);
    }

    /// After a commit: the generation file follows the head.
    fn note_generation(&mut self) {
        if self.in_batch {
            return;
        }
        let (Some(w), Some(auth)) = (&self.witness, self.auth.as_mut()) else {
            return;
        };
        let Some(seen) = auth.seen.as_mut() else {
            return;
        };
        if auth.head.generation > seen.newest {
            seen.newest = auth.head.generation;
            if let Err(e) = w.write(&auth.key, seen) {
                auth.witness_notice = Some(format!("cannot write {}: {e}", w.path.display()));
            }
        }
    }

    /// When haven.db was found older than the newest generation seen on this laptop.
    pub fn rollback(&self) -> Option<&witness::Rollback> {
        self.auth
            .as_ref()
            .and_then(|a| a.seen.as_ref())
            .and_then(|s| s.rollback.as_ref())
    }

    /// The generation file was missing or changed at unlock, or cannot be written.
    pub fn witness_notice(&self) -> Option<&str> {
        self.auth.as_ref().and_then(|a| a.witness_notice.as_deref())
    }

    /// This database's generation (how many writes it has had since generations were
    /// counted).
    pub fn generation(&self) -> u64 {
        self.auth.as_ref().map_or(0, |a| a.head.generation)
    }

    /// The person put the older copy back on purpose: it becomes the newest.
    pub fn accept_older(&mut self) -> Result<()> {
        let (Some(w), Some(auth)) = (&self.witness, self.auth.as_mut()) else {
            return Err(StoreError::NotAuthenticated);
        };
        let record = witness::Record {
            newest: auth.head.generation,
            rollback: None,
        };
        w.write(&auth.key, &record)
            .map_err(|e| StoreError::Generation(format!("{}: {e}", w.path.display())))?;
        auth.seen = Some(record);
        Ok(())
    }

    /// The upgrade of a version 2 home: tags every row as it stands and writes the head.
    fn tag_existing_rows(&self, key: &RowKey, meta: &Meta) -> Result<Head> {
        let tx = self.conn.unchecked_transaction()?;
        let mut head = Head {
            meta: meta_tag(key, meta),
            ..Head::default()
        };
        for doc in [DocName::Journal, DocName::Couple] {
            let snapshot: Option<i64> = tx.query_row(
                "SELECT MAX(seq) FROM chunks WHERE doc = ?1 AND kind = 1",
                [doc.as_str()],
                |r| r.get(0),
            )?;
            let last: Option<i64> = tx.query_row(
                "SELECT MAX(seq) FROM chunks WHERE doc = ?1",
                [doc.as_str()],
                |r| r.get(0),
            )?;
            let rows = {
                let mut stmt = tx.prepare("SELECT seq, kind, data FROM chunks WHERE doc = ?1")?;
                let rows = stmt.query_map([doc.as_str()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                })?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            for (seq, kind, data) in rows {
                let kind = stored_kind(seq, kind)?;
                let seq_u = stored_seq(seq)?;
                tx.execute(
                    "UPDATE chunks SET mac = ?3 WHERE doc = ?1 AND seq = ?2",
                    params![
                        doc.as_str(),
                        seq,
                        chunk_tag(key, doc, seq_u, kind, &data).to_vec()
                    ],
                )?;
            }
            if let (Some(snapshot), Some(last)) = (snapshot, last) {
                head.set_span(
                    doc,
                    Span {
                        snapshot: stored_seq(snapshot)?,
                        last: stored_seq(last)?,
                    },
                );
            }
        }
        let peer_rows = {
            let mut stmt = tx.prepare("SELECT key, data FROM peer")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut peer = BTreeMap::new();
        for (name, data) in peer_rows {
            let tag = peer_tag(key, &name, &data).to_vec();
            tx.execute(
                "UPDATE peer SET mac = ?2 WHERE key = ?1",
                params![name, tag],
            )?;
            peer.insert(name, tag);
        }
        head.peer = peer_set_tag(key, &peer);
        write_head(&tx, key, &mut head)?;
        tx.commit()?;
        Ok(head)
    }

    /// Reads the `peer` table's tags and checks each row and the whole set against `head`.
    fn read_peer_tags(&self, key: &RowKey, head: &Head) -> Result<(PeerTags, Option<String>)> {
        let mut stmt = self.conn.prepare("SELECT key, data, mac FROM peer")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })?;
        let mut peer = BTreeMap::new();
        let mut problem = None;
        for row in rows {
            let (name, data, mac) = row?;
            let mac = mac.unwrap_or_default();
            if !key.verify(&[b"peer", name.as_bytes(), &data], &mac) {
                problem.get_or_insert(format!("the peer row `{name}` does not verify"));
            }
            peer.insert(name, mac);
        }
        if problem.is_none() && peer_set_tag(key, &peer) != head.peer {
            problem = Some("peer rows were removed or put back from an older copy".into());
        }
        Ok((peer, problem))
    }

    fn auth(&self) -> Result<&Auth> {
        self.auth.as_ref().ok_or(StoreError::NotAuthenticated)
    }

    /// Why the partner's rows cannot be trusted, if they cannot (see [`Store::authenticate`]).
    pub fn peer_problem(&self) -> Option<&str> {
        self.auth.as_ref().and_then(|a| a.peer_problem.as_deref())
    }

    /// A transaction for one write; `None` inside [`Store::batch`], whose transaction the
    /// write joins. Outside a batch a transaction left open is an error, never joined: a
    /// write that joined it would be acknowledged and never committed.
    fn begin(&self) -> Result<Option<rusqlite::Transaction<'_>>> {
        if self.in_batch {
            Ok(None)
        } else {
            Ok(Some(self.conn.unchecked_transaction()?))
        }
    }

    /// Runs `f` as one transaction: every write inside it reaches the disk together, with
    /// one commit (one fsync, ~0.3 ms here), or none does and the store is as before.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let before = self.auth.as_ref().map(|a| (a.head.clone(), a.peer.clone()));
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_batch = true;
        let result = f(self).and_then(|v| {
            self.conn.execute_batch("COMMIT")?;
            Ok(v)
        });
        self.in_batch = false;
        if result.is_ok() {
            self.note_generation();
        }
        if let Err(e) = result {
            if let (Some(auth), Some((head, peer))) = (self.auth.as_mut(), before) {
                auth.head = head;
                auth.peer = peer;
            }
            // SQLite may have rolled back already (a full disk does); otherwise undo here.
            // A rollback that fails is the error to report: the store cannot go on.
            if !self.conn.is_autocommit() {
                self.conn.execute_batch("ROLLBACK")?;
            }
            return Err(e);
        }
        result
    }

    /// Remembers the head a transaction just committed (inside a batch: the head the
    /// batch will commit).
    fn remember(&mut self, head: Head) {
        if let Some(auth) = self.auth.as_mut() {
            auth.head = head;
        }
        self.note_generation();
    }

    /// A sealed blob of the `peer` table (the partner record, the sync state), verified.
    pub fn peer_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let auth = self.auth()?;
        if let Some(problem) = &auth.peer_problem {
            return Err(StoreError::Tampered(problem.clone()));
        }
        let row: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached("SELECT data, mac FROM peer WHERE key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None if auth.peer.contains_key(key) => Err(StoreError::Tampered(format!(
                "the peer row `{key}` was removed"
            ))),
            None => Ok(None),
            Some((data, mac)) => {
                let mac = mac.unwrap_or_default();
                if auth.peer.get(key) != Some(&mac)
                    || !auth.key.verify(&[b"peer", key.as_bytes(), &data], &mac)
                {
                    return Err(StoreError::Tampered(format!(
                        "the peer row `{key}` does not verify"
                    )));
                }
                Ok(Some(data))
            }
        }
    }

    /// Writes (or replaces) a sealed blob of the `peer` table; durable when this returns.
    /// Refused while the table does not verify: writing would bless what someone else put
    /// there.
    pub fn put_peer_blob(&mut self, key: &str, data: &[u8]) -> Result<()> {
        let auth = self.auth()?;
        if let Some(problem) = &auth.peer_problem {
            return Err(StoreError::Tampered(problem.clone()));
        }
        let tag = peer_tag(&auth.key, key, data).to_vec();
        let mut peer = auth.peer.clone();
        peer.insert(key.to_string(), tag.clone());
        let mut head = auth.head.clone();
        head.peer = peer_set_tag(&auth.key, &peer);
        let tx = self.begin()?;
        let conn = tx.as_deref().unwrap_or(&self.conn);
        conn.prepare_cached("INSERT OR REPLACE INTO peer (key, data, mac) VALUES (?1, ?2, ?3)")?
            .execute(params![key, data, tag])?;
        write_head(conn, &auth.key, &mut head)?;
        tx.map(|tx| tx.commit()).transpose()?;
        self.remember(head);
        if let Some(auth) = self.auth.as_mut() {
            auth.peer = peer;
        }
        Ok(())
    }

    /// Forgets the partner: every row of the `peer` table, then keeps `keep` (rows to
    /// leave behind, such as the farewell and the person's own devices), all in one
    /// transaction: either all of it is on disk or none. Also the way back to a `peer`
    /// table that verifies after it was tampered with.
    pub fn clear_peer(&mut self, keep: &[(&str, &[u8])]) -> Result<()> {
        let auth = self.auth()?;
        let mut peer = BTreeMap::new();
        let keep: Vec<(&str, &[u8], Vec<u8>)> = keep
            .iter()
            .map(|&(key, data)| (key, data, peer_tag(&auth.key, key, data).to_vec()))
            .collect();
        for (key, _, tag) in &keep {
            peer.insert(key.to_string(), tag.clone());
        }
        let mut head = auth.head.clone();
        head.peer = peer_set_tag(&auth.key, &peer);
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM peer", [])?;
        for (key, data, tag) in &keep {
            tx.execute(
                "INSERT INTO peer (key, data, mac) VALUES (?1, ?2, ?3)",
                params![key, data, tag],
            )?;
        }
        write_head(&tx, &auth.key, &mut head)?;
        tx.commit()?;
        self.remember(head);
        if let Some(auth) = self.auth.as_mut() {
            auth.peer = peer;
            auth.peer_problem = None;
        }
        Ok(())
    }

    fn configure(&self) -> Result<()> {
        // WAL + FULL: a commit is on disk when it returns (~0.3 ms here).
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn meta(&self) -> Result<Meta> {
        let get = |key: &'static str| -> Result<String> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .ok_or(StoreError::MissingMeta(key))
        };
        let id = |key: &'static str| -> Result<[u8; 16]> {
            let mut out = [0u8; 16];
            hex::decode_to_slice(get(key)?, &mut out)
                .map_err(|_| StoreError::Corrupt(format!("bad {key}")))?;
            Ok(out)
        };
        Ok(Meta {
            journal_id: id("journal_id")?,
            couple_id: id("couple_id")?,
            recipient: get("recipient")?,
        })
    }

    /// The snapshot of `doc` the head names and every chunk after it, in order, each
    /// verified; any row missing, extra or not verifying is [`StoreError::Tampered`].
    pub fn chunks_since_snapshot(&self, doc: DocName) -> Result<Vec<StoredChunk>> {
        let auth = self.auth()?;
        let name = doc.as_str();
        let span = auth
            .head
            .span(doc)
            .ok_or_else(|| StoreError::Corrupt(format!("the {name} document has no snapshot")))?;
        let tampered = StoreError::Tampered;
        let outside: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM chunks WHERE doc = ?1 AND (seq < ?2 OR seq > ?3)",
            params![name, seq_i64(span.snapshot)?, seq_i64(span.last)?],
            |r| r.get(0),
        )?;
        if outside > 0 {
            return Err(tampered(format!(
                "{outside} rows of the {name} document were not written by Haven"
            )));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, data, mac FROM chunks WHERE doc = ?1 AND seq >= ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![name, seq_i64(span.snapshot)?], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        let mut expected = span.snapshot;
        for row in rows {
            let (seq, kind, data, mac) = row?;
            let kind = stored_kind(seq, kind)?;
            let seq = stored_seq(seq)?;
            if seq != expected {
                return Err(tampered(format!(
                    "chunk {expected} of the {name} document is missing"
                )));
            }
            let want_kind = if seq == span.snapshot {
                ChunkKind::Snapshot
            } else {
                ChunkKind::Changes
            };
            let (seq_bytes, kind_byte) = (seq.to_be_bytes(), [kind as u8]);
            let parts = chunk_parts(name, &seq_bytes, &kind_byte, &data);
            if kind != want_kind || !auth.key.verify(&parts, &mac.unwrap_or_default()) {
                return Err(tampered(format!(
                    "chunk {seq} of the {name} document does not verify"
                )));
            }
            out.push(StoredChunk { seq, kind, data });
            expected += 1;
        }
        if expected != span.last + 1 {
            return Err(tampered(format!(
                "chunks {expected} to {} of the {name} document were removed",
                span.last
            )));
        }
        Ok(out)
    }

    /// Appends one sealed chunk, right after the last; durable when this returns.
    pub fn append(&mut self, doc: DocName, seq: u64, kind: ChunkKind, data: &[u8]) -> Result<()> {
        let auth = self.auth()?;
        let mut head = auth.head.clone();
        let span = head
            .span(doc)
            .filter(|s| s.last + 1 == seq)
            .ok_or_else(|| StoreError::Corrupt(format!("chunk {seq} does not follow the log")))?;
        head.set_span(doc, Span { last: seq, ..span });
        let tag = chunk_tag(&auth.key, doc, seq, kind, data).to_vec();
        let tx = self.begin()?;
        let conn = tx.as_deref().unwrap_or(&self.conn);
        conn.prepare_cached(
            "INSERT INTO chunks (doc, seq, kind, data, mac) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![doc.as_str(), seq_i64(seq)?, kind as u8, data, tag])?;
        write_head(conn, &auth.key, &mut head)?;
        tx.map(|tx| tx.commit()).transpose()?;
        self.remember(head);
        Ok(())
    }

    /// Writes a snapshot at `seq` and removes every older row of `doc`, atomically.
    pub fn replace_with_snapshot(&mut self, doc: DocName, seq: u64, data: &[u8]) -> Result<()> {
        let auth = self.auth()?;
        let mut head = auth.head.clone();
        head.set_span(
            doc,
            Span {
                snapshot: seq,
                last: seq,
            },
        );
        let tag = chunk_tag(&auth.key, doc, seq, ChunkKind::Snapshot, data).to_vec();
        let seq_i = seq_i64(seq)?;
        let tx = self.begin()?;
        let conn = tx.as_deref().unwrap_or(&self.conn);
        conn.execute(
            "INSERT INTO chunks (doc, seq, kind, data, mac) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![doc.as_str(), seq_i, ChunkKind::Snapshot as u8, data, tag],
        )?;
        conn.execute(
            "DELETE FROM chunks WHERE doc = ?1 AND seq < ?2",
            params![doc.as_str(), seq_i],
        )?;
        write_head(conn, &auth.key, &mut head)?;
        tx.map(|tx| tx.commit()).transpose()?;
        self.remember(head);
        Ok(())
    }

    /// Moves the WAL into the main file and truncates it, so removed rows leave no copy
    /// behind. A checkpoint that a reader holds up is retried for a few seconds, then an
    /// error: `purge` must not report success while old pages are still in the WAL.
    pub fn checkpoint(&self) -> Result<()> {
        // TRUNCATE waits for readers through the busy handler (5 s a try): the tries here
        // are the only wait, a few seconds in all.
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let tried = (0..40).try_fold(false, |done, attempt| {
            if done {
                return Ok(true);
            }
            let busy: i64 = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                std::thread::sleep(std::time::Duration::from_millis(25 * (1 + attempt % 4)));
            }
            Ok::<bool, StoreError>(busy == 0)
        });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        if tried? {
            return Ok(());
        }
        Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("another process keeps haven.db's log in use; close it and purge again".into()),
        )))
    }

    /// Writes a consistent, compacted copy of the database to `path` (for backups). The rows
    /// are sealed, so the copy holds no plaintext either.
    pub fn copy_to(&self, path: &Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        restrict(path);
        Ok(())
    }

    /// SQLite's own integrity check: "ok" or a description of the damage.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("; "))
    }

    /// Rows and bytes of sealed data per document (for `doctor` and the benchmarks).
    pub fn usage(&self, doc: DocName) -> Result<(u64, u64)> {
        let (rows, bytes): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM chunks WHERE doc = ?1",
            [doc.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((rows.max(0) as u64, bytes.max(0) as u64))
    }
}

/// Writes `head` one generation on.
fn write_head(tx: &Connection, key: &RowKey, head: &mut Head) -> Result<()> {
    head.generation = head.generation.saturating_add(1);
    let data = serde_json::to_vec(head).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mac = key.tag(&[b"head", &data]).to_vec();
    tx.prepare_cached("INSERT OR REPLACE INTO head (id, data, mac) VALUES (0, ?1, ?2)")?
        .execute(params![data, mac])?;
    Ok(())
}

fn seq_i64(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt("sequence overflow".into()))
}

fn stored_seq(seq: i64) -> Result<u64> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt("negative sequence".into()))
}

fn stored_kind(seq: i64, kind: i64) -> Result<ChunkKind> {
    u8::try_from(kind)
        .ok()
        .and_then(ChunkKind::from_u8)
        .ok_or_else(|| StoreError::Corrupt(format!("chunk {seq} has an unknown kind")))
}

fn has_sqlite_header(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok()
        && &header == b"SQLite format 3\0"
}

fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(test)]
mod tests {
    //! Someone with the disk, writing `haven.db` with SQLite directly.
    use super::*;

    struct Disk {
        _dir: tempfile::TempDir,
        path: PathBuf,
        id: age::x25519::Identity,
    }

    impl Disk {
        /// A store with a snapshot and two chunks of the journal, and a partner row.
        fn new() -> (Disk, Store) {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("haven.db");
            let id = age::x25519::Identity::generate();
            let meta = Meta {
                journal_id: [1; 16],
                couple_id: [2; 16],
                recipient: id.to_public().to_string(),
            };
            let mut store = Store::create(&path, &meta, RowKey::derive(&id)).expect("create");
            store
                .replace_with_snapshot(DocName::Journal, 0, b"snapshot")
                .expect("snapshot");
            store
                .append(DocName::Journal, 1, ChunkKind::Changes, b"one")
                .expect("1");
            store
                .append(DocName::Journal, 2, ChunkKind::Changes, b"two")
                .expect("2");
            store.put_peer_blob("partner", b"keys").expect("peer");
            (
                Disk {
                    _dir: dir,
                    path,
                    id,
                },
                store,
            )
        }

        fn sql(&self, statement: &str) {
            Connection::open(&self.path)
                .expect("open")
                .execute_batch(statement)
                .expect("attacker's write");
        }

        fn reopen(&self) -> Result<Store> {
            let mut store = Store::open(&self.path)?;
            store.authenticate(RowKey::derive(&self.id), true)?;
            Ok(store)
        }
    }

    fn tampered(result: Result<impl Sized>) -> String {
        match result {
            Err(StoreError::Tampered(why)) => why,
            Err(other) => panic!("expected tampering, got {other}"),
            Ok(_) => panic!("expected tampering, the store accepted it"),
        }
    }

    #[test]
    fn what_haven_wrote_reads_back_after_a_reopen() {
        let (disk, store) = Disk::new();
        drop(store);
        let store = disk.reopen().expect("reopen");
        let chunks = store.chunks_since_snapshot(DocName::Journal).expect("rows");
        let data: Vec<&[u8]> = chunks.iter().map(|c| c.data.as_slice()).collect();
        assert_eq!(data, vec![&b"snapshot"[..], b"one", b"two"]);
        assert_eq!(
            store.peer_blob("partner").expect("peer"),
            Some(b"keys".to_vec())
        );
        assert_eq!(store.peer_problem(), None);
    }

    /// A batch is one commit: all of it reads back after a reopen, or, when any write in
    /// it fails, none of it does and the store still verifies and takes the next write.
    #[test]
    fn a_batch_is_stored_whole_or_not_at_all() {
        let (disk, mut store) = Disk::new();
        store
            .batch(|s| {
                s.replace_with_snapshot(DocName::Couple, 0, b"c0")?;
                s.append(DocName::Couple, 1, ChunkKind::Changes, b"c1")?;
                s.put_peer_blob("partner", b"keys 2")?;
                s.put_peer_blob("sync", b"state")
            })
            .expect("batch");
        let failed = store.batch(|s| {
            s.append(DocName::Journal, 3, ChunkKind::Changes, b"three")?;
            s.put_peer_blob("sync", b"state 2")?;
            // Not after the last chunk: refused, and the whole batch with it.
            s.append(DocName::Journal, 9, ChunkKind::Changes, b"nine")
        });
        assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{failed:?}");
        // The store in memory is as before the failed batch: the next write follows on.
        store
            .append(DocName::Journal, 3, ChunkKind::Changes, b"three again")
            .expect("the log goes on from the last committed chunk");
        drop(store);
        let store = disk.reopen().expect("every row verifies after a reopen");
        let journal = store.chunks_since_snapshot(DocName::Journal).expect("rows");
        let data: Vec<&[u8]> = journal.iter().map(|c| c.data.as_slice()).collect();
        assert_eq!(data, vec![&b"snapshot"[..], b"one", b"two", b"three again"]);
        let couple = store.chunks_since_snapshot(DocName::Couple).expect("rows");
        assert_eq!(couple.len(), 2);
        assert_eq!(
            store.peer_blob("sync").expect("peer"),
            Some(b"state".to_vec())
        );
        assert_eq!(
            store.peer_blob("partner").expect("peer"),
            Some(b"keys 2".to_vec())
        );
    }

    #[test]
    fn a_forged_dropped_or_moved_chunk_is_named() {
        let (disk, _store) = Disk::new();
        // A row appended after the last one, with no tag or a made-up one.
        disk.sql("INSERT INTO chunks VALUES ('journal', 3, 0, x'00', x'0102')");
        let why = tampered(
            disk.reopen()
                .expect("the head verifies")
                .chunks_since_snapshot(DocName::Journal),
        );
        assert_eq!(
            why,
            "1 rows of the journal document were not written by Haven"
        );
        disk.sql("DELETE FROM chunks WHERE seq = 3");
        // The tail dropped: a deleted entry would come back.
        disk.sql("DELETE FROM chunks WHERE doc = 'journal' AND seq = 2");
        let why = tampered(
            disk.reopen()
                .expect("the head verifies")
                .chunks_since_snapshot(DocName::Journal),
        );
        assert_eq!(why, "chunks 2 to 2 of the journal document were removed");
        // A row's content replaced by another row's (a replay at another place).
        let (disk, _store) = Disk::new();
        disk.sql("UPDATE chunks SET data = (SELECT data FROM chunks WHERE seq = 1) WHERE seq = 2");
        let why = tampered(
            disk.reopen()
                .expect("the head verifies")
                .chunks_since_snapshot(DocName::Journal),
        );
        assert_eq!(why, "chunk 2 of the journal document does not verify");
        // Both data and tag moved together: the tag binds the place.
        let (disk, _store) = Disk::new();
        disk.sql(
            "UPDATE chunks SET data = (SELECT data FROM chunks WHERE seq = 1),
                               mac = (SELECT mac FROM chunks WHERE seq = 1) WHERE seq = 2",
        );
        let why = tampered(
            disk.reopen()
                .expect("the head verifies")
                .chunks_since_snapshot(DocName::Journal),
        );
        assert_eq!(why, "chunk 2 of the journal document does not verify");
    }

    #[test]
    fn a_stripped_head_is_refused_unless_the_home_was_never_upgraded() {
        let (disk, store) = Disk::new();
        drop(store);
        disk.sql("DELETE FROM head");
        assert_eq!(
            tampered(disk.reopen()),
            "the head record is missing (the rows' tags were stripped)"
        );
        // A home from before authenticated rows: its rows get tags and a head.
        let mut store = Store::open(&disk.path).expect("open");
        assert!(store
            .authenticate(RowKey::derive(&disk.id), false)
            .expect("upgrade"));
        assert_eq!(
            store
                .chunks_since_snapshot(DocName::Journal)
                .expect("rows")
                .len(),
            3
        );
        drop(store);
        disk.reopen().expect("an upgraded home opens");
        // A head from another home's key, or a changed meta table.
        disk.sql("UPDATE head SET mac = x'00'");
        assert_eq!(tampered(disk.reopen()), "the head record does not verify");
        let (disk, _store) = Disk::new();
        disk.sql(
            "UPDATE meta SET value = '03030303030303030303030303030303' WHERE key = 'couple_id'",
        );
        assert!(tampered(disk.reopen()).contains("meta table"));
    }

    #[test]
    fn unpairing_leaves_the_farewell_in_the_same_transaction() {
        let (disk, mut store) = Disk::new();
        store.clear_peer(&[("farewell", b"bye")]).expect("unpair");
        drop(store);
        let store = disk.reopen().expect("the peer table verifies");
        assert_eq!(store.peer_blob("partner").expect("ok"), None);
        assert_eq!(
            store.peer_blob("farewell").expect("ok"),
            Some(b"bye".to_vec())
        );
    }

    #[test]
    fn a_forged_dropped_or_replayed_peer_row_stops_the_partner_until_unpaired() {
        let (disk, _store) = Disk::new();
        disk.sql("UPDATE peer SET data = x'6174746163686572' WHERE key = 'partner'");
        let mut store = disk.reopen().expect("the journal still opens");
        assert_eq!(
            store.peer_problem(),
            Some("the peer row `partner` does not verify")
        );
        tampered(store.peer_blob("partner"));
        // No write may bless it; forgetting the partner is the way back.
        tampered(store.put_peer_blob("sync", b"state"));
        store.clear_peer(&[]).expect("unpair");
        assert_eq!(store.peer_blob("partner").expect("clean"), None);
        store
            .put_peer_blob("partner", b"new keys")
            .expect("pair again");
        drop(store);
        assert_eq!(
            disk.reopen()
                .expect("reopen")
                .peer_blob("partner")
                .expect("ok"),
            Some(b"new keys".to_vec())
        );

        // An older row put back, tag and all: each row verifies, the set does not.
        let (disk, mut store) = Disk::new();
        let old: (Vec<u8>, Vec<u8>) = store
            .conn
            .query_row(
                "SELECT data, mac FROM peer WHERE key = 'partner'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("old row");
        store
            .put_peer_blob("partner", b"newer keys")
            .expect("newer");
        drop(store);
        disk.sql(&format!(
            "UPDATE peer SET data = x'{}', mac = x'{}' WHERE key = 'partner'",
            hex::encode(&old.0),
            hex::encode(&old.1)
        ));
        let store = disk.reopen().expect("opens");
        assert_eq!(
            store.peer_problem(),
            Some("peer rows were removed or put back from an older copy")
        );
        // A row dropped.
        let (disk, _store) = Disk::new();
        disk.sql("DELETE FROM peer");
        let store = disk.reopen().expect("opens");
        assert!(store.peer_problem().is_some());
        tampered(store.peer_blob("partner"));
    }
}
