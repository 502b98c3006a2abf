//! `identity.age`: the device's secret keys, encrypted with the user's passphrase.
//!
//! The file is an age file for an scrypt recipient (what `age -p` writes), armored. Inside
//! is an age identity file: the X25519 storage key on its own line, and Haven's two other
//! keys (the Noise static key and the Ed25519 signing key) on comment lines, which age
//! ignores. So `age -d -i identity.age` decrypts any chunk with the reference CLI.
//!
//! The work factor is fixed at age's default, logN 18 (~0.7 s), not the crate's
//! auto-calibration, which picks logN 20 (2.8 s) on a fast machine.

use age::secrecy::{ExposeSecret, SecretString};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::io::{Read, Write};
use std::str::FromStr;
use zeroize::Zeroizing;

use super::random_bytes;
use crate::model::agreement::{member_id_of, MemberId};

/// age's default scrypt work factor.
pub const SCRYPT_LOG_N: u8 = 18;
/// The highest work factor accepted when unlocking (a hostile file cannot make us spin).
#[cfg(not(fuzzing))]
pub const SCRYPT_MAX_LOG_N: u8 = 22;
/// Under the fuzzer an input must not spend seconds in scrypt: the decoders behind the
/// decryption are what is being searched, with files the fuzz target encrypts cheaply.
#[cfg(fuzzing)]
pub const SCRYPT_MAX_LOG_N: u8 = 2;

const NOISE_PREFIX: &str = "# haven-noise-static: ";
const SIGNING_PREFIX: &str = "# haven-signing: ";
/// Written once the home's rows carry tags (`crypto::rows`): from then on a `haven.db`
/// without its head record has been stripped, not merely never upgraded.
const ROWS_MARK: &str = "# haven-rows: authenticated";

/// A passphrase, wiped from memory when dropped.
pub type Passphrase = SecretString;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("identity.age is not a Haven identity file ({0})")]
    Malformed(&'static str),
    #[error("identity.age could not be decrypted: {0}")]
    Age(#[from] age::DecryptError),
    #[error("could not encrypt the identity: {0}")]
    Encrypt(#[from] age::EncryptError),
    #[error("i/o error on the identity: {0}")]
    Io(#[from] std::io::Error),
}

/// The device's secret keys. Each key type zeroizes itself on drop.
pub struct Identity {
    storage: age::x25519::Identity,
    noise_static: Zeroizing<[u8; 32]>,
    signing: SigningKey,
    /// Whether this home's rows are authenticated (every home made since they are; older
    /// ones once their first unlock has upgraded them).
    pub rows_authenticated: bool,
}

impl Identity {
    pub fn generate() -> Identity {
        Identity {
            storage: age::x25519::Identity::generate(),
            noise_static: Zeroizing::new(random_bytes::<32>()),
            signing: SigningKey::from_bytes(&random_bytes::<32>()),
            rows_authenticated: true,
        }
    }

    /// The key that tags this home's rows in `haven.db`.
    pub fn row_key(&self) -> super::RowKey {
        super::RowKey::derive(&self.storage)
    }

    /// The recipient every chunk of this home is sealed to.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.storage.to_public()
    }
    pub fn storage(&self) -> &age::x25519::Identity {
        &self.storage
    }
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
    pub fn member_id(&self) -> MemberId {
        member_id_of(&self.verifying_key())
    }
    pub fn noise_static(&self) -> &[u8; 32] {
        &self.noise_static
    }
    /// Swaps in a new Noise static key (the partner pins its public half; after leaving,
    /// a key the former partner never saw). Returns the old one, to put back if sealing
    /// the new one fails.
    pub fn replace_noise_static(&mut self, new: Zeroizing<[u8; 32]>) -> Zeroizing<[u8; 32]> {
        std::mem::replace(&mut self.noise_static, new)
    }

    /// A new random Noise static key.
    pub fn new_noise_static() -> Zeroizing<[u8; 32]> {
        Zeroizing::new(random_bytes::<32>())
    }

    /// The public half of the Noise static key: what the partner pins at pairing.
    pub fn noise_public(&self) -> [u8; 32] {
        let secret = x25519_dalek::StaticSecret::from(*self.noise_static);
        x25519_dalek::PublicKey::from(&secret).to_bytes()
    }

    /// Encrypts the identity with `passphrase` (age scrypt, logN 18, armored).
    pub fn seal(&self, passphrase: &Passphrase) -> Result<Vec<u8>, IdentityError> {
        let mut plain = Zeroizing::new(String::new());
        plain.push_str("# Haven device identity. Without it nothing in haven.db can be read.\n");
        plain.push_str(NOISE_PREFIX);
        plain.push_str(&hex::encode(*self.noise_static));
        plain.push('\n');
        plain.push_str(SIGNING_PREFIX);
        plain.push_str(&hex::encode(self.signing.to_bytes()));
        plain.push('\n');
        if self.rows_authenticated {
            plain.push_str(ROWS_MARK);
            plain.push('\n');
        }
        plain.push_str(self.storage.to_string().expose_secret());
        plain.push('\n');

        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(SCRYPT_LOG_N);
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))?;
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)?;
        let mut writer = encryptor.wrap_output(armor)?;
        writer.write_all(plain.as_bytes())?;
        writer.finish()?.finish()?;
        Ok(out)
    }

    /// Decrypts an identity file. A wrong passphrase is [`IdentityError::WrongPassphrase`].
    pub fn unseal(file: &[u8], passphrase: &Passphrase) -> Result<Identity, IdentityError> {
        let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(file))
            .map_err(|_| IdentityError::Malformed("not an age file"))?;
        if !decryptor.is_scrypt() {
            return Err(IdentityError::Malformed("not protected by a passphrase"));
        }
        let mut identity = age::scrypt::Identity::new(passphrase.clone());
        identity.set_max_work_factor(SCRYPT_MAX_LOG_N);
        let mut reader =
            decryptor
                .decrypt(std::iter::once(&identity as _))
                .map_err(|e| match e {
                    age::DecryptError::DecryptionFailed
                    | age::DecryptError::KeyDecryptionFailed
                    | age::DecryptError::NoMatchingKeys => IdentityError::WrongPassphrase,
                    other => IdentityError::Age(other),
                })?;
        let mut plain = Zeroizing::new(String::new());
        reader
            .read_to_string(&mut plain)
            .map_err(|_| IdentityError::Malformed("the decrypted file is damaged"))?;
        Identity::parse(&plain)
    }

    /// The keys inside a decrypted identity file. Public for the fuzzer: this is what runs
    /// on the bytes behind the passphrase.
    pub fn parse(plain: &str) -> Result<Identity, IdentityError> {
        let mut noise = None;
        let mut signing = None;
        let mut storage = None;
        let mut rows_authenticated = false;
        for line in plain.lines() {
            if line.trim_end() == ROWS_MARK {
                rows_authenticated = true;
            }
            if let Some(h) = line.strip_prefix(NOISE_PREFIX) {
                noise = Some(decode_key(h)?);
            } else if let Some(h) = line.strip_prefix(SIGNING_PREFIX) {
                signing = Some(decode_key(h)?);
            } else if line.starts_with("AGE-SECRET-KEY-") {
                storage = Some(
                    age::x25519::Identity::from_str(line)
                        .map_err(|_| IdentityError::Malformed("bad storage key"))?,
                );
            }
        }
        match (storage, noise, signing) {
            (Some(storage), Some(noise), Some(signing)) => Ok(Identity {
                storage,
                noise_static: noise,
                signing: SigningKey::from_bytes(&signing),
                rows_authenticated,
            }),
            _ => Err(IdentityError::Malformed("a key is missing")),
        }
    }
}

fn decode_key(hex_text: &str) -> Result<Zeroizing<[u8; 32]>, IdentityError> {
    let mut out = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_text.trim(), out.as_mut_slice())
        .map_err(|_| IdentityError::Malformed("bad key encoding"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_round_trips_through_its_passphrase() {
        let id = Identity::generate();
        let pass = SecretString::from("correct horse".to_string());
        let file = id.seal(&pass).expect("seal");
        assert!(file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        let back = Identity::unseal(&file, &pass).expect("unseal");
        assert_eq!(back.member_id(), id.member_id());
        assert_eq!(back.recipient().to_string(), id.recipient().to_string());
        assert_eq!(back.noise_static(), id.noise_static());
        assert!(back.rows_authenticated);
        let mut old = back;
        old.rows_authenticated = false;
        let file = old.seal(&pass).expect("seal");
        assert!(
            !Identity::unseal(&file, &pass)
                .expect("unseal")
                .rows_authenticated
        );
    }

    #[test]
    fn a_wrong_passphrase_is_named_as_such() {
        let id = Identity::generate();
        let file = id
            .seal(&SecretString::from("right".to_string()))
            .expect("seal");
        let err = Identity::unseal(&file, &SecretString::from("wrong".to_string()));
        assert!(
            matches!(err, Err(IdentityError::WrongPassphrase)),
            "{:?}",
            err.err()
        );
    }

    #[test]
    fn garbage_is_not_an_identity() {
        let err = Identity::unseal(b"hello", &SecretString::from("x".to_string()));
        assert!(matches!(err, Err(IdentityError::Malformed(_))));
    }
}
