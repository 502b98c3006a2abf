//! What guards the peer port's Diffie–Hellman under load, as WireGuard does (its §5.4.4,
//! "cookie replies"), over TCP.
//!
//! The caller's first frame carries, after the Noise message, two MACs:
//! - `mac1`, keyed by the hash of the *answering* laptop's static public key. Only the
//!   partner knows that key (it is never on the wire), so a stranger cannot make a frame
//!   that passes: under load such a frame is closed before any Diffie–Hellman.
//! - `mac2`, keyed by a cookie: a MAC over the caller's address under a secret that changes
//!   every two minutes. Zero until the caller has one. Under load, a first frame whose
//!   `mac2` does not match gets a cookie reply instead of a handshake: the cookie, sealed
//!   (XChaCha20-Poly1305) under the hash of the answering laptop's public key and bound to
//!   the frame's `mac1`, so only the partner can open it and only for this attempt. The
//!   caller sends its first frame again with `mac2` set, and only then costs a
//!   Diffie–Hellman.
//!
//! A first frame without the MACs (a laptop on an older Haven) is still answered while the
//! port is not under load.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes of each MAC, and of a cookie.
pub const MAC_LEN: usize = 16;
/// What starts a cookie reply (never the start of a Noise reply, which is an ephemeral
/// key: a reply is told apart by its length and this magic together).
pub const COOKIE_MAGIC: &[u8] = b"HVCK1";
const NONCE_LEN: usize = 24;
/// magic, nonce, sealed cookie (cookie and tag).
pub const COOKIE_REPLY_LEN: usize = COOKIE_MAGIC.len() + NONCE_LEN + MAC_LEN + 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("not a cookie reply")]
    NotACookie,
    #[error("the cookie reply does not open with this partner's key")]
    Forged,
}

fn keyed_hash(label: &[u8], public: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(public);
    h.finalize().into()
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; MAC_LEN] {
    let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        // HMAC takes a key of any length.
        return [0; MAC_LEN];
    };
    for p in parts {
        m.update(p);
    }
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// `mac1` of a first message, for the laptop whose static public key is `responder`.
pub fn mac1(responder: &[u8; 32], message: &[u8]) -> [u8; MAC_LEN] {
    mac(&keyed_hash(b"haven mac1\0", responder), &[message])
}

/// `mac2` of a first message and its `mac1`, under `cookie`.
pub fn mac2(cookie: &[u8; MAC_LEN], message: &[u8], mac1: &[u8; MAC_LEN]) -> [u8; MAC_LEN] {
    mac(cookie, &[message, mac1])
}

/// The first frame: the Noise message, `mac1`, and `mac2` (zero without a cookie).
pub fn first_frame(
    responder: &[u8; 32],
    message: &[u8],
    cookie: Option<&[u8; MAC_LEN]>,
) -> Vec<u8> {
    let m1 = mac1(responder, message);
    let m2 = cookie.map_or([0; MAC_LEN], |c| mac2(c, message, &m1));
    [message, &m1, &m2].concat()
}

/// A first frame split into its Noise message and its two MACs.
pub struct FirstFrame<'a> {
    pub message: &'a [u8],
    pub mac1: [u8; MAC_LEN],
    pub mac2: [u8; MAC_LEN],
}

impl<'a> FirstFrame<'a> {
    /// Splits `frame` when it is `noise_len` + two MACs long; `None` for any other length
    /// (a frame from an older Haven carries the Noise message alone).
    pub fn split(frame: &'a [u8], noise_len: usize) -> Option<FirstFrame<'a>> {
        if frame.len() != noise_len + 2 * MAC_LEN {
            return None;
        }
        let (message, macs) = frame.split_at(noise_len);
        let (m1, m2) = macs.split_at(MAC_LEN);
        Some(FirstFrame {
            message,
            mac1: m1.try_into().ok()?,
            mac2: m2.try_into().ok()?,
        })
    }

    /// Whether `mac1` is right for the laptop whose public key is `own`. Compared in
    /// constant time.
    pub fn mac1_ok(&self, own: &[u8; 32]) -> bool {
        ct_eq(&mac1(own, self.message), &self.mac1)
    }

    /// Whether `mac2` is right under `cookie`.
    pub fn mac2_ok(&self, cookie: &[u8; MAC_LEN]) -> bool {
        ct_eq(&mac2(cookie, self.message, &self.mac1), &self.mac2)
    }
}

fn ct_eq(a: &[u8; MAC_LEN], b: &[u8; MAC_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie of an address under `secret` (the answering laptop's, changed every two
/// minutes).
pub fn cookie_of(secret: &[u8; 32], address: &std::net::IpAddr) -> [u8; MAC_LEN] {
    let bytes = match address {
        std::net::IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(a) => a.octets(),
    };
    mac(secret, &[&bytes])
}

/// A cookie reply: `cookie` sealed for the caller that sent `mac1` to the laptop whose
/// public key is `own`.
pub fn seal_reply(
    own: &[u8; 32],
    mac1: &[u8; MAC_LEN],
    cookie: &[u8; MAC_LEN],
    nonce: [u8; NONCE_LEN],
) -> Vec<u8> {
    let aead = XChaCha20Poly1305::new(&keyed_hash(b"haven cookie\0", own).into());
    let sealed = aead
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: cookie,
                aad: mac1,
            },
        )
        .unwrap_or_default();
    [COOKIE_MAGIC, &nonce, &sealed].concat()
}

/// Opens a cookie reply from the laptop whose public key is `responder`, for the attempt
/// that sent `mac1`.
pub fn open_reply(
    responder: &[u8; 32],
    mac1: &[u8; MAC_LEN],
    reply: &[u8],
) -> Result<[u8; MAC_LEN], CookieError> {
    if reply.len() != COOKIE_REPLY_LEN || !reply.starts_with(COOKIE_MAGIC) {
        return Err(CookieError::NotACookie);
    }
    let (nonce, sealed) = reply[COOKIE_MAGIC.len()..].split_at(NONCE_LEN);
    let aead = XChaCha20Poly1305::new(&keyed_hash(b"haven cookie\0", responder).into());
    let plain = aead
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: mac1,
            },
        )
        .map_err(|_| CookieError::Forged)?;
    plain.try_into().map_err(|_| CookieError::Forged)
}

/// Whether a reply to a first frame is a cookie reply rather than the Noise answer.
pub fn is_cookie_reply(reply: &[u8]) -> bool {
    reply.len() == COOKIE_REPLY_LEN && reply.starts_with(COOKIE_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAYA: [u8; 32] = [1; 32];
    const NOISE_LEN: usize = 110;

    #[test]
    fn only_a_caller_that_knows_the_key_passes_mac1_and_only_with_the_cookie_mac2() {
        let message = [7u8; NOISE_LEN];
        let frame = first_frame(&MAYA, &message, None);
        let first = FirstFrame::split(&frame, NOISE_LEN).expect("split");
        assert!(first.mac1_ok(&MAYA));
        assert!(!first.mac1_ok(&[2; 32]), "a frame for another laptop");
        let secret = [9u8; 32];
        let sam: std::net::IpAddr = "192.0.2.7".parse().expect("ip");
        let cookie = cookie_of(&secret, &sam);
        assert!(!first.mac2_ok(&cookie), "no cookie yet");
        // The reply opens only with Maya's public key and for this attempt's mac1.
        let reply = seal_reply(&MAYA, &first.mac1, &cookie, [3; NONCE_LEN]);
        assert!(is_cookie_reply(&reply));
        assert_eq!(open_reply(&MAYA, &first.mac1, &reply), Ok(cookie));
        assert_eq!(
            open_reply(&[2; 32], &first.mac1, &reply),
            Err(CookieError::Forged)
        );
        assert_eq!(
            open_reply(&MAYA, &[0; MAC_LEN], &reply),
            Err(CookieError::Forged)
        );
        let again = first_frame(&MAYA, &message, Some(&cookie));
        let second = FirstFrame::split(&again, NOISE_LEN).expect("split");
        assert!(second.mac1_ok(&MAYA) && second.mac2_ok(&cookie));
        // Another address has another cookie; another secret (two minutes on) too.
        let other: std::net::IpAddr = "192.0.2.8".parse().expect("ip");
        assert!(!second.mac2_ok(&cookie_of(&secret, &other)));
        assert!(!second.mac2_ok(&cookie_of(&[8; 32], &sam)));
    }

    #[test]
    fn garbage_is_refused_without_a_panic() {
        assert!(FirstFrame::split(&[0; 10], NOISE_LEN).is_none());
        assert!(FirstFrame::split(&[0; NOISE_LEN], NOISE_LEN).is_none());
        for reply in [&[][..], COOKIE_MAGIC, &[0; COOKIE_REPLY_LEN], &[0xff; 300]] {
            assert!(open_reply(&MAYA, &[0; MAC_LEN], reply).is_err());
        }
        let mut forged = seal_reply(&MAYA, &[0; MAC_LEN], &[5; MAC_LEN], [1; NONCE_LEN]);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(
            open_reply(&MAYA, &[0; MAC_LEN], &forged),
            Err(CookieError::Forged)
        );
    }
}
