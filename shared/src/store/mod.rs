//! `haven.db`: SQLite holding sealed automerge chunks, nothing in plaintext.
//!
//! One table of chunks per document id and sequence number (incremental changes appended as
//! they are made, a compacted snapshot now and then), a small `meta` table of ids and the
//! public recipient, and `peer`: the paired partner and the sync state, each one sealed blob. WAL with `synchronous=FULL`, so a write acknowledged to the user survives
//! `kill -9` and power loss; `secure_delete` so rows removed by compaction or purge are
//! overwritten rather than left in free pages.

pub mod doc_log;

pub use doc_log::{DocLog, COMPACT_AFTER};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

use crate::crypto::{ChunkKind, SealError};

/// `PRAGMA application_id` of a Haven database: "HVEN".
const APPLICATION_ID: i32 = 0x4856_454E;
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// Version 2 added the partner: its keys, addresses and sync state, sealed like chunks.
const PEER_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS peer (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;";

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

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Creates a new database; fails if the file exists.
    pub fn create(path: &Path, meta: &Meta) -> Result<Store> {
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
        let store = Store {
            conn,
            path: path.to_path_buf(),
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
                 PRIMARY KEY (doc, seq)
             ) WITHOUT ROWID;
             {PEER_TABLE}"
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
        tx.commit()?;
        Ok(store)
    }

    /// Opens an existing database and checks it is a Haven database this build can read.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
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
            store.migrate()?;
        }
        Ok(store)
    }

    /// Brings an older database to this build's schema, in one transaction.
    fn migrate(&self) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute_batch(PEER_TABLE)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    /// A sealed blob of the `peer` table (the partner record, the sync state).
    pub fn peer_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM peer WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Writes (or replaces) a sealed blob of the `peer` table; durable when this returns.
    pub fn put_peer_blob(&self, key: &str, data: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO peer (key, data) VALUES (?1, ?2)")?
            .execute(params![key, data])?;
        Ok(())
    }

    /// Forgets the partner: every row of the `peer` table.
    pub fn clear_peer(&self) -> Result<()> {
        self.conn.execute("DELETE FROM peer", [])?;
        Ok(())
    }

    fn configure(&self) -> Result<()> {
        // WAL + FULL: a commit is on disk when it returns (~0.3 ms here).
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
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

    /// The latest snapshot of `doc` and every chunk after it, in order.
    pub fn chunks_since_snapshot(&self, doc: DocName) -> Result<Vec<StoredChunk>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, data FROM chunks
             WHERE doc = ?1 AND seq >= COALESCE((SELECT MAX(seq) FROM chunks WHERE doc = ?1 AND kind = 1), 0)
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([doc.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, kind, data) = row?;
            let kind = u8::try_from(kind)
                .ok()
                .and_then(ChunkKind::from_u8)
                .ok_or_else(|| StoreError::Corrupt(format!("chunk {seq} has an unknown kind")))?;
            let seq =
                u64::try_from(seq).map_err(|_| StoreError::Corrupt("negative sequence".into()))?;
            out.push(StoredChunk { seq, kind, data });
        }
        Ok(out)
    }

    /// Appends one sealed chunk; durable when this returns.
    pub fn append(&self, doc: DocName, seq: u64, kind: ChunkKind, data: &[u8]) -> Result<()> {
        let seq =
            i64::try_from(seq).map_err(|_| StoreError::Corrupt("sequence overflow".into()))?;
        self.conn
            .prepare_cached("INSERT INTO chunks (doc, seq, kind, data) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![doc.as_str(), seq, kind as u8, data])?;
        Ok(())
    }

    /// Writes a snapshot at `seq` and removes every older row of `doc`, atomically.
    pub fn replace_with_snapshot(&self, doc: DocName, seq: u64, data: &[u8]) -> Result<()> {
        let seq_i =
            i64::try_from(seq).map_err(|_| StoreError::Corrupt("sequence overflow".into()))?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO chunks (doc, seq, kind, data) VALUES (?1, ?2, ?3, ?4)",
            params![doc.as_str(), seq_i, ChunkKind::Snapshot as u8, data],
        )?;
        tx.execute(
            "DELETE FROM chunks WHERE doc = ?1 AND seq < ?2",
            params![doc.as_str(), seq_i],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Moves the WAL into the main file and truncates it, so removed rows leave no copy behind.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
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
