//! Small sealed records (the partner record, the sync state, seen marks): one age file
//! each, encrypted to this home's own recipient, its plaintext prefixed with a label so a
//! record can never be read as another kind.

use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the partner record cannot be decrypted with this identity: {0}")]
    Decrypt(#[from] age::DecryptError),
    #[error("the partner record is not a {0} record")]
    WrongLabel(&'static str),
    #[error("the partner record is damaged: {0}")]
    Malformed(String),
    #[error("could not encrypt the partner record: {0}")]
    Encrypt(#[from] age::EncryptError),
}

/// Encrypts `payload` to `recipient`, prefixed with `label` so a blob cannot be read as
/// another kind.
pub fn seal_blob(
    recipient: &age::x25519::Recipient,
    label: &'static str,
    payload: &[u8],
) -> Result<Vec<u8>, BlobError> {
    let mut plain = Zeroizing::new(Vec::with_capacity(label.len() + 1 + payload.len()));
    plain.extend_from_slice(label.as_bytes());
    plain.push(b'\n');
    plain.extend_from_slice(payload);
    Ok(age::encrypt(recipient, &plain)?)
}

/// Decrypts a blob sealed by [`seal_blob`] with the same `label`.
pub fn open_blob(
    identity: &age::x25519::Identity,
    label: &'static str,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    let plain = Zeroizing::new(age::decrypt(identity, data)?);
    let rest = plain
        .strip_prefix(label.as_bytes())
        .and_then(|r| r.strip_prefix(b"\n"))
        .ok_or(BlobError::WrongLabel(label))?;
    Ok(Zeroizing::new(rest.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_keep_their_kind() {
        let id = age::x25519::Identity::generate();
        let sealed = seal_blob(&id.to_public(), "partner", b"{\"x\":1}").expect("seal");
        assert_eq!(
            &open_blob(&id, "partner", &sealed).expect("open")[..],
            b"{\"x\":1}"
        );
        assert!(matches!(
            open_blob(&id, "sync", &sealed),
            Err(BlobError::WrongLabel("sync"))
        ));
        let other = age::x25519::Identity::generate();
        assert!(matches!(
            open_blob(&other, "partner", &sealed),
            Err(BlobError::Decrypt(_))
        ));
    }
}
