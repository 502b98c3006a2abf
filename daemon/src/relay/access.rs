//! Who the relay serves: the couple, and nobody else.
//!
//! A laptop introduces itself with the couple's token (from the relay URL) and a statement
//! signed by its pairing key that names its iroh key (which the relay handshake has
//! already proven) and its partner's pairing key (`haven_shared::relay_introduction`).
//! The first introduction names the couple, written down; after that a key is admitted
//! only if one of the couple's two pairing keys vouches for it *and* it carries the token.
//! Anyone else is refused before a byte is relayed: a stranger without the token, and a
//! stranger with the whole URL, who cannot sign as either partner. So a URL seen after
//! the first laptop joined lets nobody in, and a laptop whose iroh key changes is let in
//! again without a slot to free. `havend relay --forget` starts over (a new pairing).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use iroh_relay::server::{Access, AccessControl, ClientRequest};
use sha2::{Digest, Sha256};

use haven_shared::paths::write_private_file;
use haven_shared::relay_introduction::{self, IntroductionError};

#[derive(Debug)]
pub struct CoupleOnly {
    token_sha256: [u8; 32],
    file: PathBuf,
    /// The couple's two pairing keys, once the first laptop introduced itself.
    couple: Mutex<Option<[[u8; 32]; 2]>>,
    /// The iroh keys a relay from before introductions admitted (`admitted` beside the
    /// couple's file), first come first served: after an upgrade only one of them may
    /// name the couple, so the upgrade opens no window to whoever has the URL. Empty: any.
    earlier: BTreeSet<[u8; 32]>,
    /// Laptops refused by that rule, so the first few are explained in the log.
    earlier_refused: AtomicU64,
    /// The iroh keys seen so far, so each is logged once.
    seen: Mutex<BTreeSet<[u8; 32]>>,
    refused: AtomicU64,
}

/// A refusal's reason, as the laptop's `haven doctor` shows it.
pub const NOT_INTRODUCED: &str = "this laptop was never introduced to the relay: add the relay URL printed by `havend relay` with `haven partner relay URL`";
pub const OTHER_COUPLE: &str = "the relay serves another couple's laptops; to start over, run `havend relay --forget` on the relay machine";
pub const OLDER_HAVEN: &str = "this laptop's Haven is older than the relay's and cannot introduce itself by its pairing key: update Haven on this laptop";
pub const BAD_INTRODUCTION: &str =
    "this laptop's introduction to the relay does not verify: run `haven partner relay URL` again";

impl CoupleOnly {
    /// The couple is kept in `file`: its two pairing keys, one hex key per line.
    pub fn load(token: &str, file: PathBuf) -> Result<CoupleOnly> {
        let couple = match std::fs::read_to_string(&file) {
            Ok(text) => {
                let keys: Vec<[u8; 32]> = text
                    .lines()
                    .filter_map(|l| hex::decode(l.trim()).ok())
                    .filter_map(|b| <[u8; 32]>::try_from(b).ok())
                    .collect();
                match keys[..] {
                    [a, b] if a < b => Some([a, b]),
                    _ => anyhow::bail!(
                        "{} is damaged; run `havend relay --forget` and let the laptops join again",
                        file.display()
                    ),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
        };
        let earlier = match couple {
            Some(_) => BTreeSet::new(),
            None => earlier_keys(&file.with_file_name("admitted"))?,
        };
        Ok(CoupleOnly {
            token_sha256: Sha256::digest(token.as_bytes()).into(),
            file,
            couple: Mutex::new(couple),
            earlier,
            earlier_refused: AtomicU64::new(0),
            seen: Mutex::default(),
            refused: AtomicU64::new(0),
        })
    }

    /// Whether a couple is named yet (until then the URL is worth printing).
    pub fn has_couple(&self) -> bool {
        self.couple.lock().map(|c| c.is_some()).unwrap_or(true)
    }

    /// The decision, apart from the server: the auth token as presented, `key` as proven.
    pub fn decide(&self, auth: Option<&str>, key: [u8; 32]) -> Result<(), &'static str> {
        let (token, intro) = relay_introduction::parse(auth.unwrap_or(""));
        // Hashes compared, so the time taken says nothing about the token.
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if presented != self.token_sha256 {
            return Err(NOT_INTRODUCED);
        }
        let intro = match intro {
            Ok(i) => i,
            Err(IntroductionError::Missing) => return Err(OLDER_HAVEN),
            Err(_) => return Err(BAD_INTRODUCTION),
        };
        if intro.endpoint != key {
            return Err(BAD_INTRODUCTION);
        }
        let Ok(mut couple) = self.couple.lock() else {
            return Err(OTHER_COUPLE);
        };
        match *couple {
            Some(c) if c == intro.couple() => {}
            Some(_) => return Err(OTHER_COUPLE),
            None if !self.earlier.is_empty() && !self.earlier.contains(&key) => {
                if self.earlier_refused.fetch_add(1, Ordering::Relaxed) < 5 {
                    tracing::warn!(
                        laptop = %short(&key),
                        file = %self.file.with_file_name("admitted").display(),
                        "refused a laptop this relay had not admitted before its upgrade; \
                         `havend relay --forget` lets any of the couple's laptops join again"
                    );
                }
                return Err(OTHER_COUPLE);
            }
            None => {
                *couple = Some(intro.couple());
                let text: String = intro
                    .couple()
                    .iter()
                    .map(|k| hex::encode(k) + "\n")
                    .collect();
                if let Err(e) = write_private_file(&self.file, text.as_bytes()) {
                    // Serving them now; the next start takes the next introduction.
                    tracing::warn!(error = %e, file = %self.file.display(), "cannot write down the couple");
                }
                tracing::info!(
                    couple = %format!("{} {}", short(&intro.couple()[0]), short(&intro.couple()[1])),
                    "the first laptop joined: the relay serves this couple and nobody else"
                );
            }
        }
        if self.seen.lock().map(|mut s| s.insert(key)).unwrap_or(false) {
            tracing::info!(laptop = %short(&key), by = %short(&intro.signer), "a laptop introduced itself with the couple's token");
        }
        Ok(())
    }
}

/// The iroh keys in an older relay's `admitted` file, one hex key per line; none if there
/// is no such file.
fn earlier_keys(file: &std::path::Path) -> Result<BTreeSet<[u8; 32]>> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| hex::decode(l.trim()).ok())
            .filter_map(|b| <[u8; 32]>::try_from(b).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
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
    use haven_shared::ed25519_dalek::SigningKey;
    use haven_shared::relay_introduction::auth_token;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn the_first_introduction_names_the_couple_and_nobody_else_gets_in() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("couple");
        let token = "ab".repeat(32);
        let relay = CoupleOnly::load(&token, file.clone()).expect("load");
        let (maya, sam, eve, frank) = (key(1), key(2), key(3), key(4));
        let intro = |who: &SigningKey, partner: &SigningKey, iroh: u8| {
            auth_token(&token, who, &partner.verifying_key(), &[iroh; 32])
        };
        assert_eq!(relay.decide(None, [1; 32]), Err(NOT_INTRODUCED));
        assert_eq!(relay.decide(Some(&token), [1; 32]), Err(OLDER_HAVEN));
        let wrong = auth_token("wrong", &maya, &sam.verifying_key(), &[1; 32]);
        assert_eq!(relay.decide(Some(&wrong), [1; 32]), Err(NOT_INTRODUCED));
        // Another laptop's introduction replayed with this key: refused.
        assert_eq!(
            relay.decide(Some(&intro(&maya, &sam, 1)), [9; 32]),
            Err(BAD_INTRODUCTION)
        );
        assert!(!relay.has_couple());
        assert_eq!(relay.decide(Some(&intro(&maya, &sam, 1)), [1; 32]), Ok(()));
        assert!(relay.has_couple());
        // A stranger with the whole URL, before Sam joined: no slot to take.
        assert_eq!(
            relay.decide(Some(&intro(&eve, &frank, 3)), [3; 32]),
            Err(OTHER_COUPLE)
        );
        assert_eq!(
            relay.decide(Some(&intro(&eve, &sam, 3)), [3; 32]),
            Err(OTHER_COUPLE)
        );
        assert_eq!(relay.decide(Some(&intro(&sam, &maya, 2)), [2; 32]), Ok(()));
        // Sam's laptop with a new iroh key: still Sam.
        assert_eq!(relay.decide(Some(&intro(&sam, &maya, 5)), [5; 32]), Ok(()));
        // Kept across a restart.
        let again = CoupleOnly::load(&token, file.clone()).expect("load");
        assert!(again.has_couple());
        assert_eq!(
            again.decide(Some(&intro(&eve, &frank, 3)), [3; 32]),
            Err(OTHER_COUPLE)
        );
        assert_eq!(again.decide(Some(&intro(&maya, &sam, 1)), [1; 32]), Ok(()));
        // A damaged file is said, not read as "no couple".
        std::fs::write(&file, "garbage\n").expect("write");
        let err = CoupleOnly::load(&token, file).expect_err("damaged");
        assert!(err.to_string().contains("--forget"), "{err}");
    }

    /// A relay upgraded from first-come admission keeps its word: only a laptop it had
    /// admitted may name the couple, not a stranger who has the URL.
    #[test]
    fn after_an_upgrade_only_a_laptop_admitted_before_names_the_couple() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("couple");
        std::fs::write(
            dir.path().join("admitted"),
            format!("{}\n{}\n", hex::encode([1u8; 32]), hex::encode([2u8; 32])),
        )
        .expect("admitted");
        let token = "cd".repeat(32);
        let relay = CoupleOnly::load(&token, file.clone()).expect("load");
        let (maya, sam, eve, frank) = (key(1), key(2), key(3), key(4));
        let intro = |who: &SigningKey, partner: &SigningKey, iroh: u8| {
            auth_token(&token, who, &partner.verifying_key(), &[iroh; 32])
        };
        assert_eq!(
            relay.decide(Some(&intro(&eve, &frank, 3)), [3; 32]),
            Err(OTHER_COUPLE)
        );
        assert!(!relay.has_couple());
        assert_eq!(relay.decide(Some(&intro(&sam, &maya, 2)), [2; 32]), Ok(()));
        assert_eq!(relay.decide(Some(&intro(&maya, &sam, 7)), [7; 32]), Ok(()));
        // Once named, the old file no longer matters.
        let again = CoupleOnly::load(&token, file).expect("load");
        assert_eq!(again.decide(Some(&intro(&maya, &sam, 8)), [8; 32]), Ok(()));
    }
}
