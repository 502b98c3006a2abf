//! The couple document's sync with the partner, in one place and with no transport in it
//! (the shape of automerge's own `sync.rs` example): what to send next, what arrived, and
//! what is still waiting. The daemon's session only moves these bytes.
//!
//! Everything the partner sends enters here, and passes [`guard::check`] before automerge
//! sees it. What it may write *into* the document is judged later, on every read: an
//! agreement counts only through signatures (see `model::agreement`).

use automerge::sync::{self, SyncDoc};

use crate::documents::CoupleDoc;

pub mod guard;

pub use guard::{Limits, Refused};

/// Why a message from the partner was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("refused before decoding: {0}")]
    Refused(#[from] Refused),
    #[error("not an automerge sync message: {0}")]
    Decode(String),
    #[error("automerge refused it: {0}")]
    Apply(#[from] automerge::AutomergeError),
}

/// One side of the couple document's sync: the document and the state kept for the peer.
pub struct CoupleSync<'a> {
    doc: &'a mut CoupleDoc,
    state: &'a mut sync::State,
}

impl<'a> CoupleSync<'a> {
    pub fn new(doc: &'a mut CoupleDoc, state: &'a mut sync::State) -> CoupleSync<'a> {
        CoupleSync { doc, state }
    }

    /// The next message for the partner, if there is anything to say.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        self.doc
            .automerge_mut()
            .sync()
            .generate_sync_message(self.state)
            .map(|m| m.encode())
    }

    /// Takes a message from the partner. `Ok(true)`: the document changed (persist it
    /// before answering).
    pub fn receive(&mut self, bytes: &[u8]) -> Result<bool, SyncError> {
        guard::check(bytes, &Limits::default())?;
        let message = sync::Message::decode(bytes).map_err(|e| SyncError::Decode(e.to_string()))?;
        let doc = self.doc.automerge_mut();
        let before = doc.get_heads();
        doc.sync().receive_sync_message(self.state, message)?;
        Ok(doc.get_heads() != before)
    }

    /// Local changes the partner is not known to have.
    pub fn waiting(&mut self) -> usize {
        self.doc
            .automerge_mut()
            .get_changes(&self.state.shared_heads)
            .len()
    }

    /// Where the two copies stand, as far as this session knows: this copy's heads and,
    /// once the partner has said, theirs (see [`Standing`]).
    pub fn standing(&mut self) -> Standing {
        let ours = self.doc.automerge_mut().get_heads();
        let theirs = self.state.their_heads.clone();
        Standing {
            in_sync: theirs.as_ref().is_some_and(|t| same_heads(t, &ours)),
            ours: fingerprint(&ours),
            theirs: theirs.as_deref().map(fingerprint),
        }
    }
}

/// Where this copy of the couple document stands against the partner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The partner's last word on their heads is exactly this copy's heads.
    pub in_sync: bool,
    /// This copy's heads, as [`fingerprint`].
    pub ours: String,
    /// The partner's heads as they last said (this session), as [`fingerprint`].
    pub theirs: Option<String>,
}

fn same_heads(a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// A short name for a document's heads (two groups of four hex digits), the same on two
/// laptops exactly when their copies hold the same changes: people compare it by eye, as
/// they compare safety words. 32 bits: a chance match is one in four billion.
pub fn fingerprint(heads: &[automerge::ChangeHash]) -> String {
    use sha2::{Digest, Sha256};
    let mut heads = heads.to_vec();
    heads.sort();
    let mut h = Sha256::new();
    h.update(b"haven heads v1");
    for head in &heads {
        h.update(head.0);
    }
    let digest = h.finalize();
    format!(
        "{} {}",
        hex::encode(&digest[..2]),
        hex::encode(&digest[2..4])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the partner lacks more than a third of the document, automerge sends the whole
    /// document in one message. One over 16 MiB (the old cap) still goes through the wire
    /// codec and the guard, and the two documents converge.
    #[test]
    fn a_whole_document_over_16_mib_still_syncs() {
        use automerge::{transaction::Transactable, ROOT};
        let (mut a, mut b) = (CoupleDoc::new(), CoupleDoc::new());
        let mut noise = vec![0u8; 20 << 20];
        getrandom::getrandom(&mut noise).expect("random");
        a.automerge_mut()
            .put(ROOT, "x/large", noise)
            .expect("a large item");
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        let over_the_wire = |bytes: Vec<u8>| {
            let mut r = crate::wire::Reassembler::new();
            let mut out = None;
            for chunk in crate::wire::chunks(&crate::wire::Message::Sync(bytes).encode())
                .expect("not too large to send")
            {
                out = r.push(&chunk).expect("not too large to receive");
            }
            match out {
                Some(crate::wire::Message::Sync(bytes)) => bytes,
                other => panic!("not a sync message: {other:?}"),
            }
        };
        let mut largest = 0;
        for _ in 0..10 {
            let ma = CoupleSync::new(&mut a, &mut sa).next_message();
            if let Some(m) = ma.clone() {
                largest = largest.max(m.len());
                CoupleSync::new(&mut b, &mut sb)
                    .receive(&over_the_wire(m))
                    .expect("b");
            }
            let mb = CoupleSync::new(&mut b, &mut sb).next_message();
            if let Some(m) = mb.clone() {
                CoupleSync::new(&mut a, &mut sa)
                    .receive(&over_the_wire(m))
                    .expect("a");
            }
            if ma.is_none() && mb.is_none() {
                break;
            }
        }
        assert!(
            largest > 16 << 20,
            "the test needs a message over 16 MiB: {largest}"
        );
        assert_eq!(a.automerge_mut().get_heads(), b.automerge_mut().get_heads());
    }

    /// Two documents converge through the one entrance, with no network.
    #[test]
    fn two_documents_converge() {
        let (mut a, mut b) = (CoupleDoc::new(), CoupleDoc::new());
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let now = crate::when::now();
        for item in crate::model::agreement::propose(
            &key,
            "01jx0000000000000000000000",
            "t",
            "text",
            None,
            1,
            now,
        ) {
            a.put_item(&item).expect("propose");
        }
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        for _ in 0..10 {
            let ma = CoupleSync::new(&mut a, &mut sa).next_message();
            if let Some(m) = &ma {
                CoupleSync::new(&mut b, &mut sb).receive(m).expect("b");
            }
            let mb = CoupleSync::new(&mut b, &mut sb).next_message();
            if let Some(m) = &mb {
                CoupleSync::new(&mut a, &mut sa).receive(m).expect("a");
            }
            if ma.is_none() && mb.is_none() {
                break;
            }
        }
        assert_eq!(CoupleSync::new(&mut a, &mut sa).waiting(), 0);
        assert_eq!(a.automerge_mut().get_heads(), b.automerge_mut().get_heads());
        let bloom = [0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0];
        assert!(matches!(
            CoupleSync::new(&mut a, &mut sa).receive(&bloom),
            Err(SyncError::Refused(_))
        ));
    }

    /// "In sync" only once the partner has said their heads and they are exactly ours: not
    /// before they said anything, not while a change of either side is on its way. Both
    /// sides then show the same fingerprint, and it moves with every change.
    #[test]
    fn in_sync_only_when_both_copies_hold_the_same_changes() {
        use automerge::{transaction::Transactable, ROOT};
        let (mut a, mut b) = (CoupleDoc::new(), CoupleDoc::new());
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        let exchange =
            |a: &mut CoupleDoc, sa: &mut sync::State, b: &mut CoupleDoc, sb: &mut sync::State| {
                for _ in 0..10 {
                    let ma = CoupleSync::new(a, sa).next_message();
                    if let Some(m) = &ma {
                        CoupleSync::new(b, sb).receive(m).expect("b");
                    }
                    let mb = CoupleSync::new(b, sb).next_message();
                    if let Some(m) = &mb {
                        CoupleSync::new(a, sa).receive(m).expect("a");
                    }
                    if ma.is_none() && mb.is_none() {
                        break;
                    }
                }
            };
        a.automerge_mut().put(ROOT, "x/one", "1").expect("put");
        let before = CoupleSync::new(&mut a, &mut sa).standing();
        assert!(!before.in_sync, "the partner has said nothing yet");
        assert_eq!(before.theirs, None);
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        let (sta, stb) = (
            CoupleSync::new(&mut a, &mut sa).standing(),
            CoupleSync::new(&mut b, &mut sb).standing(),
        );
        assert!(sta.in_sync && stb.in_sync, "{sta:?} {stb:?}");
        assert_eq!(sta.ours, stb.ours, "the same fingerprint on both laptops");
        assert_eq!(sta.theirs.as_deref(), Some(sta.ours.as_str()));
        // A change of Sam's not yet sent: neither side is in sync.
        b.automerge_mut().put(ROOT, "x/two", "2").expect("put");
        let stb2 = CoupleSync::new(&mut b, &mut sb).standing();
        assert!(!stb2.in_sync);
        assert_ne!(stb2.ours, stb.ours, "the fingerprint moves with a change");
        // Sam's message reaches Maya, Maya's answer has not reached Sam yet.
        let m = CoupleSync::new(&mut b, &mut sb)
            .next_message()
            .expect("a message");
        CoupleSync::new(&mut a, &mut sa).receive(&m).expect("a");
        assert!(!CoupleSync::new(&mut b, &mut sb).standing().in_sync);
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        let (sta, stb) = (
            CoupleSync::new(&mut a, &mut sa).standing(),
            CoupleSync::new(&mut b, &mut sb).standing(),
        );
        assert!(sta.in_sync && stb.in_sync);
        assert_eq!((sta.ours.len(), sta.ours.clone()), (9, stb.ours));
    }

    #[test]
    fn a_fingerprint_ignores_the_order_of_heads_and_tells_sets_apart() {
        let h = |b: u8| automerge::ChangeHash([b; 32]);
        assert_eq!(fingerprint(&[h(1), h(2)]), fingerprint(&[h(2), h(1)]));
        assert_ne!(fingerprint(&[h(1), h(2)]), fingerprint(&[h(1)]));
        assert_ne!(fingerprint(&[]), fingerprint(&[h(0)]));
    }
}
