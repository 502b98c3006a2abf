//! How a laptop introduces itself to the couple's relay: the token from the relay URL, and
//! a statement signed by the laptop's pairing (signing) key that names its iroh key and the
//! partner's signing key.
//!
//! The relay used to admit the first two iroh keys that showed the token, so a stranger
//! who saw the URL before both laptops joined (pasted into a chat, a shell history) took a
//! slot and locked a partner out. Now the first introduction names the *couple* (the two
//! signing keys the pairing pinned), and from then on the relay admits any iroh key that
//! one of those two signing keys vouches for, and nobody else: a stranger with the whole
//! URL cannot sign as either of them. The one window left is before the first laptop
//! joins, seconds after the URL is made, when the person who made it pastes it.
//!
//! Sent as iroh's auth token: `TOKEN.INTRODUCTION` (hex), about 390 characters.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// What is signed, first: the statement means nothing anywhere else.
const CONTEXT: &[u8] = b"haven relay introduction v1\0";
/// signer, partner, iroh key, signature.
const BYTES: usize = 32 + 32 + 32 + 64;

/// A laptop's statement, as the relay checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introduction {
    /// The laptop's signing key (its pairing key).
    pub signer: [u8; 32],
    /// The partner's signing key, as this laptop pinned it at pairing.
    pub partner: [u8; 32],
    /// The iroh key the laptop joins the relay with.
    pub endpoint: [u8; 32],
    signature: [u8; 64],
}

/// Why an auth token does not introduce a laptop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntroductionError {
    /// Only the token: an older Haven, from before introductions.
    #[error("no introduction")]
    Missing,
    #[error("the introduction is malformed")]
    Malformed,
    #[error("the introduction's signature does not verify")]
    Signature,
}

fn signed_bytes(
    token: &str,
    signer: &[u8; 32],
    partner: &[u8; 32],
    endpoint: &[u8; 32],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 4 * 32);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(&Sha256::digest(token.as_bytes()));
    m.extend_from_slice(signer);
    m.extend_from_slice(partner);
    m.extend_from_slice(endpoint);
    m
}

/// The auth token a laptop presents: the relay's token and this laptop's introduction.
pub fn auth_token(
    token: &str,
    signing: &SigningKey,
    partner: &VerifyingKey,
    endpoint: &[u8; 32],
) -> String {
    let signer = signing.verifying_key().to_bytes();
    let partner = partner.to_bytes();
    let signature = signing.sign(&signed_bytes(token, &signer, &partner, endpoint));
    let mut bytes = Vec::with_capacity(BYTES);
    bytes.extend_from_slice(&signer);
    bytes.extend_from_slice(&partner);
    bytes.extend_from_slice(endpoint);
    bytes.extend_from_slice(&signature.to_bytes());
    format!("{token}.{}", hex::encode(bytes))
}

/// Splits an auth token into the token and the introduction, and checks the introduction's
/// signature over the token it came with. The token itself is the caller's to check.
pub fn parse(auth: &str) -> (&str, Result<Introduction, IntroductionError>) {
    let Some((token, intro)) = auth.split_once('.') else {
        return (auth, Err(IntroductionError::Missing));
    };
    (token, decode(token, intro))
}

fn decode(token: &str, intro: &str) -> Result<Introduction, IntroductionError> {
    if intro.len() != 2 * BYTES {
        return Err(IntroductionError::Malformed);
    }
    let mut bytes = [0u8; BYTES];
    hex::decode_to_slice(intro, &mut bytes).map_err(|_| IntroductionError::Malformed)?;
    let part = |at: usize| -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&bytes[at..at + 32]);
        out
    };
    let (signer, partner, endpoint) = (part(0), part(32), part(64));
    let mut signature = [0u8; 64];
    signature.copy_from_slice(&bytes[96..]);
    if signer == partner {
        return Err(IntroductionError::Malformed);
    }
    let key = VerifyingKey::from_bytes(&signer).map_err(|_| IntroductionError::Malformed)?;
    VerifyingKey::from_bytes(&partner).map_err(|_| IntroductionError::Malformed)?;
    key.verify_strict(
        &signed_bytes(token, &signer, &partner, &endpoint),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| IntroductionError::Signature)?;
    Ok(Introduction {
        signer,
        partner,
        endpoint,
        signature,
    })
}

impl Introduction {
    /// The couple it names, in a fixed order: the same for both laptops' introductions.
    pub fn couple(&self) -> [[u8; 32]; 2] {
        let mut c = [self.signer, self.partner];
        c.sort();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn an_introduction_verifies_for_its_token_and_names_the_couple_both_ways() {
        let (maya, sam) = (key(1), key(2));
        let token = "ab".repeat(32);
        let m = auth_token(&token, &maya, &sam.verifying_key(), &[7; 32]);
        let s = auth_token(&token, &sam, &maya.verifying_key(), &[8; 32]);
        let (t, intro) = parse(&m);
        assert_eq!(t, token);
        let intro = intro.expect("verifies");
        assert_eq!(intro.endpoint, [7; 32]);
        assert_eq!(intro.couple(), parse(&s).1.expect("verifies").couple());
        // Moved to another relay's token, or with another iroh key: refused.
        let (_, moved) = m.split_once('.').expect("dot");
        assert_eq!(
            parse(&format!("{}.{moved}", "cd".repeat(32))).1,
            Err(IntroductionError::Signature)
        );
        let mut other_key = m.clone();
        let at = token.len() + 1 + 2 * 64;
        other_key.replace_range(at..at + 2, "08");
        assert_eq!(parse(&other_key).1, Err(IntroductionError::Signature));
    }

    #[test]
    fn a_bare_token_or_garbage_is_refused_without_a_panic() {
        assert_eq!(parse("abcd").1, Err(IntroductionError::Missing));
        for bad in [
            "t.",
            "t.zz",
            "t.é",
            &format!("t.{}", "g".repeat(2 * BYTES)),
            &format!("t.{}", "0".repeat(2 * BYTES + 2)),
            &format!("t.{}", "0".repeat(2 * BYTES)),
        ] {
            assert!(parse(bad).1.is_err(), "{bad}");
        }
        // A laptop naming itself as its own partner is no couple.
        let maya = key(1);
        let own = auth_token("t", &maya, &maya.verifying_key(), &[7; 32]);
        assert_eq!(parse(&own).1, Err(IntroductionError::Malformed));
    }
}
