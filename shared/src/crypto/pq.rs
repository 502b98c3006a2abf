//! Post-quantum keys for the partner session (the daemon's `peer::session` runs the
//! exchange): an ML-KEM-768 exchange inside each new
//! session, and the secret it leaves for the next handshake.
//!
//! Every session starts as Noise `IKpsk2` (X25519) with a PSK. Someone who records the
//! traffic today and breaks X25519 later (a quantum computer) could read a session that
//! rests on X25519 alone, and so could anyone who recorded the pairing, from which the
//! PSK came. So, as WireGuard's Rosenpass does, a post-quantum secret joins in:
//!
//! - At the start of every session, right after the hellos, the side that dialled sends
//!   an ML-KEM-768 encapsulation key (`PqOffer`) and the other answers with a ciphertext
//!   (`PqReply`). Both now hold a shared secret `ss` that only ML-KEM protects. Nothing
//!   of the couple document is sent before this exchange is done.
//! - Right after, each side switches its sending key to one derived from `ss` and the
//!   handshake hash (a flag inside the encryption says when, as for rekeying), so every
//!   sync message of the session is post-quantum.
//! - Both derive a secret for the next handshakes from `ss` and the secret the session was
//!   opened with, named by an *epoch* id drawn from `ss`, and store it with the partner.
//!   The next handshake names the epoch it uses and mixes that secret into the PSK, so
//!   even the hellos of a recorded session need ML-KEM broken as well as X25519. The
//!   last [`KEEP`] epochs are kept, so a reply lost midway, or two sessions racing at
//!   once, never lock the laptops out. A partner that names no epoch (a restored
//!   laptop that lost its secrets) is still answered: its session becomes post-quantum
//!   at the exchange, before any of the couple document moves.
//!
//! Keys and ciphertexts of the wrong size are refused when decoded ([`crate::wire`]);
//! a reply for another epoch, or any other message where the
//! exchange is expected, closes the session.

use hkdf::Hkdf;
use ml_kem::kem::{Decapsulate, Encapsulate};
use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
use sha2::Sha256;
use zeroize::Zeroizing;

pub use crate::wire::{PQ_CIPHERTEXT, PQ_ENCAPSULATION_KEY};

/// How many epochs' secrets are kept.
pub const KEEP: usize = 3;

type DecapsulationKey = <MlKem768 as KemCore>::DecapsulationKey;

/// The dialler's half of an exchange: the key to decapsulate with, kept until the reply.
pub struct Offer {
    dk: Box<DecapsulationKey>,
}

/// Makes a key pair; the encapsulation key goes in the `PqOffer`.
pub fn offer() -> (Offer, Vec<u8>) {
    let (dk, ek) = MlKem768::generate(&mut rand_core::OsRng);
    (Offer { dk: Box::new(dk) }, ek.as_bytes().to_vec())
}

/// The epoch id a shared secret names (never 0, which means "no epoch").
pub fn epoch_of(ss: &[u8; 32]) -> u32 {
    let id = expand(b"haven pq", ss, b"haven pq epoch id");
    u32::from_be_bytes([id[0], id[1], id[2], id[3]]).max(1)
}

/// The answering side: a ciphertext for the partner and the shared secret; `None` if the
/// key is not an ML-KEM-768 encapsulation key.
pub fn answer(ek: &[u8]) -> Option<(Vec<u8>, Zeroizing<[u8; 32]>)> {
    let ek = ml_kem::Encoded::<<MlKem768 as KemCore>::EncapsulationKey>::try_from(ek).ok()?;
    let ek = <MlKem768 as KemCore>::EncapsulationKey::from_bytes(&ek);
    let (ct, ss) = ek.encapsulate(&mut rand_core::OsRng).ok()?;
    Some((ct.to_vec(), Zeroizing::new(ss.into())))
}

/// The dialler's shared secret from the partner's ciphertext.
pub fn finish(offer: &Offer, ct: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
    let ct = ml_kem::Ciphertext::<MlKem768>::try_from(ct).ok()?;
    let ss = offer.dk.decapsulate(&ct).ok()?;
    Some(Zeroizing::new(ss.into()))
}

fn expand(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit.
    #[allow(clippy::expect_used)]
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out.as_mut_slice())
        .expect("32 bytes is a valid HKDF length");
    out
}

/// The sending keys for the rest of the session, dialler's then answerer's.
pub fn transport_keys(
    ss: &[u8; 32],
    handshake_hash: &[u8],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    (
        expand(handshake_hash, ss, b"haven pq transport initiator"),
        expand(handshake_hash, ss, b"haven pq transport responder"),
    )
}

/// The secret of the epoch `ss` names, from `ss` and the secret the session was opened
/// with (the pairing's PSK when it named no epoch).
pub fn next_secret(opened_with: &[u8; 32], ss: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    expand(opened_with, ss, b"haven pq epoch secret")
}

/// The PSK of a handshake at `epoch` with its secret.
pub fn handshake_psk(psk: &[u8; 32], secret: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    expand(psk, secret, b"haven pq psk")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_reach_the_same_secret_and_bad_input_is_refused() {
        let (offer, ek) = offer();
        assert_eq!(ek.len(), PQ_ENCAPSULATION_KEY);
        let (ct, theirs) = answer(&ek).expect("a valid key");
        assert_eq!(ct.len(), PQ_CIPHERTEXT);
        let ours = finish(&offer, &ct).expect("a valid ciphertext");
        assert_eq!(*ours, *theirs);
        assert!(answer(&ek[1..]).is_none());
        assert!(finish(&offer, &ct[1..]).is_none());
        // ML-KEM decapsulates a forged ciphertext to another secret (implicit rejection).
        let mut forged = ct.clone();
        forged[0] ^= 1;
        assert_ne!(*finish(&offer, &forged).expect("decapsulates"), *theirs);
        let psk = [7u8; 32];
        let (_, other) = answer(&ek).expect("again");
        assert_ne!(
            epoch_of(&ours),
            epoch_of(&other),
            "each exchange its own epoch"
        );
        assert_ne!(*next_secret(&psk, &ours), *next_secret(&psk, &other));
        assert_ne!(*next_secret(&psk, &ours), *next_secret(&[8u8; 32], &ours));
        assert_ne!(*handshake_psk(&psk, &ours), psk);
    }
}
