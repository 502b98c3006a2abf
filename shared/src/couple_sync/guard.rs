//! The check every sync message from the partner passes before automerge sees it.
//!
//! The partner's device holds valid keys and can send any bytes inside a session, and
//! automerge 0.12 trusts its input in ways that stop a daemon (read in its source,
//! `sync/bloom.rs`, `storage/chunk.rs`, `storage/columns/raw_column.rs`):
//! - a "have" Bloom filter with entries but no bits makes the *next*
//!   `generate_sync_message` divide by zero, and `num_probes = 2^32-1` asks for 16 GiB;
//! - a compressed change chunk, and every deflated column of a document chunk, is inflated
//!   with no bound, so a few megabytes can ask for gigabytes.
//!
//! So this module walks the message's own format (sync message, then the chunks inside
//! `changes`, then a document chunk's column table) without building anything, and refuses
//! a message that breaks a limit normal use never meets. It allocates nothing in
//! proportion to a count it has read: inflation is counted into a sink, never stored.

use std::io::Read;

/// Limits far above anything two honest laptops send (1,000 agreements sync in ~175 KB).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Change hashes in `heads`, `need` or one `have`'s `last_sync`.
    pub max_hashes: u64,
    /// Entries in `have` (automerge sends at most one).
    pub max_haves: u64,
    /// Chunks in `changes`.
    pub max_chunks: u64,
    /// Bytes after inflating every compressed chunk and column of one message.
    pub max_inflated: u64,
    /// Columns in one document chunk's change or op table (automerge writes about a dozen).
    pub max_columns: u64,
    /// Actors named in one document chunk.
    pub max_actors: u64,
    /// Bloom filter probes (automerge uses 7) and bits per entry (automerge uses 10).
    pub max_probes: u32,
    pub max_bits_per_entry: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_hashes: 100_000,
            max_haves: 16,
            max_chunks: 1_000_000,
            max_inflated: 256 << 20,
            max_columns: 64,
            max_actors: 100_000,
            max_probes: 64,
            max_bits_per_entry: 64,
        }
    }
}

/// Why a message was refused. Says which part, never echoes content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the message ends early ({0})")]
    Truncated(&'static str),
    #[error("unknown message type {0:#04x}")]
    UnknownType(u8),
    #[error("too many {what} ({count})")]
    TooMany { what: &'static str, count: u64 },
    #[error("a Bloom filter with {0}")]
    BadBloom(&'static str),
    #[error("a chunk with {0}")]
    BadChunk(&'static str),
    #[error("it inflates to more than {0} bytes")]
    Inflates(u64),
    #[error("a number does not fit")]
    Number,
}

const MESSAGE_V1: u8 = 0x42;
const MESSAGE_V2: u8 = 0x43;
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
const COLUMN_DEFLATE: u32 = 0b1000;

/// A cursor over untrusted bytes; every read is checked.
struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Refused> {
        let n = usize::try_from(n).map_err(|_| Refused::Truncated(what))?;
        if n > self.bytes.len() {
            return Err(Refused::Truncated(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, Refused> {
        let (first, rest) = self.bytes.split_first().ok_or(Refused::Truncated(what))?;
        self.bytes = rest;
        Ok(*first)
    }

    /// Unsigned LEB128, at most 10 bytes, as automerge writes it.
    fn leb(&mut self, what: &'static str) -> Result<u64, Refused> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.byte(what)?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(Refused::Number);
            }
            value |= part.checked_shl(shift).ok_or(Refused::Number)?;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Refused::Number)
    }

    fn leb32(&mut self, what: &'static str) -> Result<u32, Refused> {
        u32::try_from(self.leb(what)?).map_err(|_| Refused::Number)
    }

    fn count(&mut self, what: &'static str, max: u64) -> Result<u64, Refused> {
        let count = self.leb(what)?;
        if count > max {
            return Err(Refused::TooMany { what, count });
        }
        Ok(count)
    }

    fn hashes(&mut self, what: &'static str, max: u64) -> Result<(), Refused> {
        let n = self.count(what, max)?;
        self.take(n * 32, what).map(|_| ())
    }

    fn prefixed(&mut self, what: &'static str) -> Result<&'a [u8], Refused> {
        let len = self.leb(what)?;
        self.take(len, what)
    }
}

/// Checks one encoded sync message (`automerge::sync::Message::encode`'s format).
pub fn check(bytes: &[u8], limits: &Limits) -> Result<(), Refused> {
    let mut i = Input { bytes };
    match i.byte("type")? {
        MESSAGE_V1 | MESSAGE_V2 => {}
        other => return Err(Refused::UnknownType(other)),
    }
    i.hashes("heads", limits.max_hashes)?;
    i.hashes("needed hashes", limits.max_hashes)?;
    let haves = i.count("haves", limits.max_haves)?;
    for _ in 0..haves {
        i.hashes("last-sync hashes", limits.max_hashes)?;
        check_bloom(i.prefixed("bloom filter")?, limits)?;
    }
    let chunks = i.count("change chunks", limits.max_chunks)?;
    // automerge joins the chunks and loads them as one stream, so check them the same way.
    let mut joined = Vec::new();
    for _ in 0..chunks {
        joined.extend_from_slice(i.prefixed("change chunk")?);
    }
    let mut budget = limits.max_inflated;
    let mut stream = Input { bytes: &joined };
    while !stream.bytes.is_empty() {
        check_chunk(&mut stream, limits, &mut budget)?;
    }
    if !i.bytes.is_empty() {
        i.prefixed("flags")?;
    }
    Ok(())
}

/// automerge's `BloomFilter::parse`: nothing, or entries, bits per entry, probes, bits.
fn check_bloom(bytes: &[u8], limits: &Limits) -> Result<(), Refused> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut i = Input { bytes };
    let entries = i.leb32("bloom entries")?;
    let bits_per_entry = i.leb32("bloom bits per entry")?;
    let probes = i.leb32("bloom probes")?;
    if entries == 0 {
        // automerge never probes an empty filter.
        return Ok(());
    }
    if bits_per_entry == 0 || bits_per_entry > limits.max_bits_per_entry {
        return Err(Refused::BadBloom("a bad number of bits per entry"));
    }
    if probes == 0 || probes > limits.max_probes {
        return Err(Refused::BadBloom("a bad number of probes"));
    }
    let bits = (u64::from(entries) * u64::from(bits_per_entry)).div_ceil(8);
    if bits == 0 || u64::try_from(i.bytes.len()).map_or(true, |have| have < bits) {
        return Err(Refused::BadBloom("fewer bits than it claims"));
    }
    // The probe arithmetic is modulo 8 × the number of bytes, in u32.
    if bits.checked_mul(8).is_none_or(|b| b > u64::from(u32::MAX)) {
        return Err(Refused::BadBloom("too many bits"));
    }
    Ok(())
}

fn check_chunk(i: &mut Input<'_>, limits: &Limits, budget: &mut u64) -> Result<(), Refused> {
    if i.take(4, "chunk magic")? != CHUNK_MAGIC {
        return Err(Refused::BadChunk("no chunk header"));
    }
    i.take(4, "chunk checksum")?;
    let kind = i.byte("chunk type")?;
    let body = i.prefixed("chunk body")?;
    match kind {
        CHUNK_CHANGE => Ok(()),
        CHUNK_COMPRESSED => inflate_within(body, budget, limits.max_inflated),
        CHUNK_DOCUMENT => check_document(body, limits, budget),
        _ => Err(Refused::BadChunk("an unknown chunk type")),
    }
}

/// A document chunk: actors, heads, the change and op column tables, their data. Every
/// deflated column is inflated against the budget.
fn check_document(body: &[u8], limits: &Limits, budget: &mut u64) -> Result<(), Refused> {
    let mut i = Input { bytes: body };
    let actors = i.count("actors", limits.max_actors)?;
    for _ in 0..actors {
        i.prefixed("actor id")?;
    }
    i.hashes("document heads", limits.max_hashes)?;
    let mut tables = Vec::new();
    for what in ["change columns", "op columns"] {
        let n = i.count(what, limits.max_columns)?;
        let mut columns = Vec::new();
        for _ in 0..n {
            let spec = i.leb32("column spec")?;
            let len = i.leb("column length")?;
            columns.push((spec, len));
        }
        tables.push(columns);
    }
    for columns in tables {
        for (spec, len) in columns {
            let data = i.take(len, "column data")?;
            if spec & COLUMN_DEFLATE != 0 {
                inflate_within(data, budget, limits.max_inflated)?;
            }
        }
    }
    Ok(())
}

/// Inflates `data` into nothing, counting; refuses once the budget is spent.
fn inflate_within(data: &[u8], budget: &mut u64, limit: u64) -> Result<(), Refused> {
    let mut decoder = flate2::bufread::DeflateDecoder::new(data).take(budget.saturating_add(1));
    let inflated = std::io::copy(&mut decoder, &mut std::io::sink())
        .map_err(|_| Refused::BadChunk("a broken deflate stream"))?;
    if inflated > *budget {
        return Err(Refused::Inflates(limit));
    }
    *budget -= inflated;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::{self, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn doc_with(n: usize) -> AutoCommit {
        let mut d = AutoCommit::new();
        for k in 0..n {
            d.put(ROOT, format!("k{k}"), "x".repeat(300)).expect("put");
            d.commit();
        }
        d
    }

    /// Every message two honest documents exchange on the way to convergence passes.
    #[test]
    fn honest_messages_pass() {
        let (mut a, mut b) = (doc_with(50), doc_with(3));
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        let mut seen = 0;
        for _ in 0..10 {
            let mut quiet = true;
            if let Some(m) = a.sync().generate_sync_message(&mut sa) {
                let bytes = m.encode();
                check(&bytes, &Limits::default()).expect("a's message");
                seen += 1;
                quiet = false;
                b.sync()
                    .receive_sync_message(&mut sb, sync::Message::decode(&bytes).expect("d"))
                    .expect("b receives");
            }
            if let Some(m) = b.sync().generate_sync_message(&mut sb) {
                let bytes = m.encode();
                check(&bytes, &Limits::default()).expect("b's message");
                seen += 1;
                quiet = false;
                a.sync()
                    .receive_sync_message(&mut sa, sync::Message::decode(&bytes).expect("d"))
                    .expect("a receives");
            }
            if quiet {
                break;
            }
        }
        assert!(seen >= 3, "the documents exchanged {seen} messages");
        assert_eq!(a.get_heads(), b.get_heads());
        // A saved document (what a V2 message carries) is a document chunk: it passes too.
        let mut whole = vec![MESSAGE_V2, 0, 0, 0, 1];
        let saved = a.save();
        let mut len = Vec::new();
        leb(&mut len, saved.len() as u64);
        whole.extend(len);
        whole.extend(saved);
        check(&whole, &Limits::default()).expect("a whole document");
    }

    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// The 10-byte message of the review: one have, a filter with 1 entry and 0 bits.
    #[test]
    fn the_bloom_filter_with_no_bits_is_refused() {
        let message = [MESSAGE_V1, 0, 0, 1, 0, 3, 1, 0, 7, 0];
        assert_eq!(
            check(&message, &Limits::default()),
            Err(Refused::BadBloom("a bad number of bits per entry"))
        );
        // And it is the message that stops automerge (on the next generate).
        let decoded = sync::Message::decode(&message).expect("automerge takes it");
        let mut doc = doc_with(1);
        let mut state = sync::State::new();
        doc.sync()
            .receive_sync_message(&mut state, decoded)
            .expect("accepted by automerge");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            doc.sync().generate_sync_message(&mut state)
        }))
        .is_err();
        assert!(
            panicked,
            "automerge no longer panics: the check may be relaxed"
        );
    }

    #[test]
    fn huge_probe_counts_and_short_filters_are_refused() {
        let mut probes = vec![MESSAGE_V1, 0, 0, 1, 0];
        let mut bloom = vec![1, 10];
        leb(&mut bloom, u64::from(u32::MAX));
        bloom.extend([0xff; 2]);
        probes.push(bloom.len() as u8);
        probes.extend(bloom);
        probes.push(0);
        assert_eq!(
            check(&probes, &Limits::default()),
            Err(Refused::BadBloom("a bad number of probes"))
        );
        // Claims 1,000 entries (1,250 bytes) but carries 2.
        let short = [MESSAGE_V1, 0, 0, 1, 0, 6, 0xe8, 0x07, 10, 7, 0, 0, 0];
        assert_eq!(
            check(&short, &Limits::default()),
            Err(Refused::BadBloom("fewer bits than it claims"))
        );
    }

    /// A compressed change chunk of 10 MB of zeros: refused by a small budget, counted
    /// without ever being held.
    #[test]
    fn an_inflation_bomb_is_refused() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 10 << 20]).expect("deflate");
        let deflated = enc.finish().expect("finish");
        let mut chunk = CHUNK_MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(CHUNK_COMPRESSED);
        leb(&mut chunk, deflated.len() as u64);
        chunk.extend(&deflated);
        let mut message = vec![MESSAGE_V1, 0, 0, 0, 1];
        leb(&mut message, chunk.len() as u64);
        message.extend(&chunk);
        let small = Limits {
            max_inflated: 1 << 20,
            ..Limits::default()
        };
        assert_eq!(check(&message, &small), Err(Refused::Inflates(1 << 20)));
        assert!(check(&message, &Limits::default()).is_ok());
    }

    #[test]
    fn garbage_and_truncations_are_refused_never_panic() {
        let honest = {
            let mut a = doc_with(5);
            let m = a
                .sync()
                .generate_sync_message(&mut sync::State::new())
                .expect("m");
            m.encode()
        };
        check(&honest, &Limits::default()).expect("honest");
        // Only the prefix that stops just before the optional flags is a message too.
        let passing = (0..honest.len())
            .filter(|&cut| check(&honest[..cut], &Limits::default()).is_ok())
            .count();
        assert!(passing <= 1, "{passing} truncations passed");
        assert!(check(&[], &Limits::default()).is_err());
        assert!(check(
            &[0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            &Limits::default()
        )
        .is_err());
        assert_eq!(
            check(&[0x42, 0xff, 0xff, 0x7f], &Limits::default()),
            Err(Refused::TooMany {
                what: "heads",
                count: 0x1f_ffff
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_checked_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = check(&bytes, &Limits::default());
        }
    }
}
