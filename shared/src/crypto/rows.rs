//! Authenticating the rows of `haven.db`.
//!
//! Every row is an age file sealed to the home's *public* recipient, which sits in plain
//! view in the `meta` table: anyone who can write the file can also write rows that decrypt.
//! Encryption is not authentication. So each row also carries an HMAC-SHA256 tag under a
//! key derived from the storage identity, which only `identity.age` holds, over the row's
//! table, place (document and sequence number, or peer key), kind and ciphertext. One head
//! record, tagged the same way, names what the tables must hold (see `store`), so a dropped,
//! reordered or replayed row is found as surely as a forged one.

use age::secrecy::ExposeSecret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The key that tags rows. Wiped on drop.
pub struct RowKey(Zeroizing<[u8; 32]>);

impl RowKey {
    /// Derived from the storage identity, so it needs no new secret in `identity.age` and
    /// older homes have it too.
    pub fn derive(storage: &age::x25519::Identity) -> RowKey {
        let secret = storage.to_string();
        let hkdf =
            hkdf::Hkdf::<Sha256>::new(Some(b"haven rows v1"), secret.expose_secret().as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit of 8,160.
        #[allow(clippy::expect_used)]
        hkdf.expand(b"row authentication", key.as_mut_slice())
            .expect("32 bytes is a valid HKDF length");
        RowKey(key)
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        // HMAC takes a key of any length.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(self.0.as_slice()).expect("any key length");
        for part in parts {
            // Length-prefixed, so no two different lists of parts tag alike.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The tag of a row made of `parts`.
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.mac(parts).finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `parts` (in constant time).
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.mac(parts).verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_only_for_its_parts_and_its_key() {
        let id = age::x25519::Identity::generate();
        let key = RowKey::derive(&id);
        let tag = key.tag(&[b"chunk", b"journal", &7u64.to_be_bytes(), b"data"]);
        assert!(key.verify(&[b"chunk", b"journal", &7u64.to_be_bytes(), b"data"], &tag));
        assert!(!key.verify(&[b"chunk", b"journal", &8u64.to_be_bytes(), b"data"], &tag));
        assert!(!key.verify(
            &[b"chunk", b"journa", b"l", &7u64.to_be_bytes(), b"data"],
            &tag
        ));
        assert!(!key.verify(
            &[b"chunk", b"journal", &7u64.to_be_bytes(), b"data"],
            &tag[..31]
        ));
        let same = RowKey::derive(&id);
        assert_eq!(same.tag(&[b"x"]), key.tag(&[b"x"]));
        let other = RowKey::derive(&age::x25519::Identity::generate());
        assert!(!other.verify(&[b"chunk", b"journal", &7u64.to_be_bytes(), b"data"], &tag));
    }
}
