//! Who the relay serves: the couple, and nobody else.
//!
//! A laptop introduces itself by presenting the couple's token (from the relay URL) with
//! its iroh key, which the relay handshake has already proven. The first two keys that do
//! are the couple's and are written down; after that a key is admitted only if it is one
//! of those two *and* carries the token. Anyone else is refused before a byte is relayed:
//! a stranger without the token, and a stranger who somehow learnt it once both laptops
//! have joined. `havend relay --forget` starts the list over (a new laptop, a new pairing).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use iroh_relay::server::{Access, AccessControl, ClientRequest};
use sha2::{Digest, Sha256};

use haven_shared::paths::write_private_file;

/// Two laptops: the couple.
pub const COUPLE: usize = 2;

#[derive(Debug)]
pub struct CoupleOnly {
    token_sha256: [u8; 32],
    file: PathBuf,
    admitted: Mutex<BTreeSet<[u8; 32]>>,
    refused: AtomicU64,
}

/// A refusal's reason, as the laptop's `haven doctor` shows it.
pub const NOT_INTRODUCED: &str = "this laptop was never introduced to the relay: add the relay URL printed by `havend relay` with `haven partner relay URL`";
pub const FULL: &str = "the relay already serves two laptops; to start over, run `havend relay --forget` on the relay machine";

impl CoupleOnly {
    /// The admitted keys are kept in `file`, one hex key per line.
    pub fn load(token: &str, file: PathBuf) -> Result<CoupleOnly> {
        let admitted = match std::fs::read_to_string(&file) {
            Ok(text) => text
                .lines()
                .filter_map(|l| hex::decode(l.trim()).ok())
                .filter_map(|b| <[u8; 32]>::try_from(b).ok())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
        };
        Ok(CoupleOnly {
            token_sha256: Sha256::digest(token.as_bytes()).into(),
            file,
            admitted: Mutex::new(admitted),
            refused: AtomicU64::new(0),
        })
    }

    pub fn admitted(&self) -> usize {
        self.admitted.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// The decision, apart from the server: `token` as presented, `key` as proven.
    pub fn decide(&self, token: Option<&str>, key: [u8; 32]) -> Result<(), &'static str> {
        // Hashes compared, so the time taken says nothing about the token.
        let presented: [u8; 32] = Sha256::digest(token.unwrap_or("").as_bytes()).into();
        if presented != self.token_sha256 {
            return Err(NOT_INTRODUCED);
        }
        let Ok(mut admitted) = self.admitted.lock() else {
            return Err(FULL);
        };
        if admitted.contains(&key) {
            return Ok(());
        }
        if admitted.len() >= COUPLE {
            return Err(FULL);
        }
        admitted.insert(key);
        let text: String = admitted.iter().map(|k| hex::encode(k) + "\n").collect();
        if let Err(e) = write_private_file(&self.file, text.as_bytes()) {
            // Admitted for now; the next start asks again, and the token still guards it.
            tracing::warn!(error = %e, file = %self.file.display(), "cannot write down the admitted laptops");
        }
        tracing::info!(laptop = %short(&key), "a laptop introduced itself with the couple's token");
        Ok(())
    }
}

fn short(key: &[u8; 32]) -> String {
    hex::encode(&key[..5])
}

impl AccessControl for CoupleOnly {
    async fn on_connect(&self, request: &ClientRequest) -> Access {
        let key = *request.endpoint_id().as_bytes();
        match self.decide(request.auth_token().as_deref(), key) {
            Ok(()) => Access::Allow,
            Err(reason) => {
                // A flood of strangers must not fill the disk with log lines.
                let n = self.refused.fetch_add(1, Ordering::Relaxed);
                if n < 20 || n.is_power_of_two() {
                    tracing::warn!(laptop = %short(&key), refused_so_far = n + 1, "refused a key: {reason}");
                }
                Access::Deny {
                    reason: Some(reason.to_string()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_two_keys_with_the_token_are_the_couple_and_nobody_else_gets_in() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("admitted");
        let token = "ab".repeat(32);
        let relay = CoupleOnly::load(&token, file.clone()).expect("load");
        assert_eq!(relay.decide(None, [1; 32]), Err(NOT_INTRODUCED));
        assert_eq!(relay.decide(Some("wrong"), [1; 32]), Err(NOT_INTRODUCED));
        assert_eq!(relay.decide(Some(&token), [1; 32]), Ok(()));
        assert_eq!(relay.decide(Some(&token), [2; 32]), Ok(()));
        assert_eq!(relay.decide(Some(&token), [3; 32]), Err(FULL));
        assert_eq!(
            relay.decide(Some("wrong"), [2; 32]),
            Err(NOT_INTRODUCED),
            "a member still needs the token"
        );
        // Kept across a restart.
        let again = CoupleOnly::load(&token, file).expect("load");
        assert_eq!(again.admitted(), 2);
        assert_eq!(again.decide(Some(&token), [3; 32]), Err(FULL));
        assert_eq!(again.decide(Some(&token), [1; 32]), Ok(()));
    }
}
