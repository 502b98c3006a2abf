//! Pairing, once per couple: a short code, SPAKE2 with explicit key confirmation, then
//! Noise XXpsk0 keyed by the SPAKE2 key to exchange and pin long-term keys.
//!
//! The code (`7-harbor-violet`) is a nameplate number, used only to find the other laptop
//! on the LAN, and two words (16 bits) that are the SPAKE2 password. SPAKE2 "succeeds" with
//! a wrong password too, yielding a different key, so both sides prove the key with an
//! HMAC before anything else is said: the joiner first, so a wrong guess learns nothing
//! that could be checked offline. The host accepts one attempt per code (one guess, as
//! magic-wormhole); a wrong code aborts both sides and the code is spent.
//!
//! The PSK is mixed in from the first Noise message (`psk0`), so each side accepts the
//! other's static key and introduction only from someone who holds the SPAKE2 key. (With
//! `psk3`, as before, the joiner read the host's key before any PSK was mixed: whoever sat
//! on the connection after the confirmations could have swapped in their own.)

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use haven_shared::model::agreement::member_id_of;
use haven_shared::partner_record::{Key32, Partner};
use haven_shared::wire::{FrameDecoder, MAX_FRAME};

pub use crate::contract::{Intro, Material};
use haven_shared::words::safety_words;

use super::noise::{read_frame, write_frame, ChannelError};
use haven_shared::words::{index_of, WORDS};

const XX_PARAMS: &str = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2s";
const XX_PROLOGUE: &[u8] = b"haven/2 pairing";
/// Where the PSK is mixed in: before the first message.
const XX_PSK_POSITION: u8 = 0;
/// How long a code stays valid on the laptop that showed it.
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// How long one pairing exchange may take once connected.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("the code did not match: it was mistyped on one of the laptops")]
    WrongCode,
    /// On the laptop that showed the code: someone tried it and it did not match.
    #[error("someone on this network tried the code and it did not match, so the code is spent")]
    CodeTried,
    #[error("cannot reach the laptop showing the code: {0}")]
    Unreachable(String),
    #[error("{0}")]
    BadCode(String),
    #[error("the other laptop broke off the pairing ({0})")]
    Protocol(String),
    #[error("the pairing timed out")]
    Timeout,
}

impl From<ChannelError> for PairError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Timeout => PairError::Timeout,
            other => PairError::Protocol(other.to_string()),
        }
    }
}

impl From<snow::Error> for PairError {
    fn from(e: snow::Error) -> Self {
        PairError::Protocol(format!("noise: {e}"))
    }
}

/// A pairing code: a nameplate (1–99) and two words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub nameplate: u8,
    words: [u8; 2],
}

impl Code {
    pub fn generate() -> Code {
        let r = haven_shared::crypto::random_bytes::<3>();
        Code {
            nameplate: r[0] % 99 + 1,
            words: [r[1], r[2]],
        }
    }

    pub fn parse(text: &str) -> Result<Code, PairError> {
        let bad = || {
            PairError::BadCode(format!(
                "{:?} is not a code (it looks like 7-harbor-violet)",
                text.trim()
            ))
        };
        let mut parts = text.trim().split(['-', ' ']).filter(|p| !p.is_empty());
        let nameplate: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let word = |w: &str| {
            index_of(w).ok_or_else(|| {
                PairError::BadCode(format!(
                    "{w:?} is not one of the code words; check the spelling"
                ))
            })
        };
        if !(1..=99).contains(&nameplate) {
            return Err(bad());
        }
        Ok(Code {
            nameplate,
            words: [word(a)?, word(b)?],
        })
    }

    fn password(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.nameplate,
            WORDS[usize::from(self.words[0])],
            WORDS[usize::from(self.words[1])]
        )
    }
}

/// What a successful pairing yields on either side.
pub struct Outcome {
    pub partner: Partner,
    pub safety_words: String,
}

fn confirmation(key: &[u8], role: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"haven pairing confirm v1 ");
    mac.update(role);
    mac.finalize().into_bytes().to_vec()
}

fn verify(key: &[u8], role: &[u8], tag: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"haven pairing confirm v1 ");
    mac.update(role);
    mac.verify_slice(tag).is_ok()
}

pub fn derive(key: &[u8], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), key)
        .expand(info, &mut out[..])
        .expect("32 bytes is a valid HKDF length");
    out
}

/// What a code is for. Each purpose has its own SPAKE2 identities and Noise prologue, so
/// a pairing code typed into `haven device add`, or a link code into `haven pair`, is
/// simply a code that does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Two partners' laptops, once per couple.
    Pairing,
    /// A person's new device and one of their devices already linked.
    Linking,
}

impl Purpose {
    /// SPAKE2's identities: (host, joiner).
    fn identities(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Purpose::Pairing => (b"haven pairing host", b"haven pairing joiner"),
            Purpose::Linking => (b"haven linking host", b"haven linking joiner"),
        }
    }

    fn prologue(self) -> &'static [u8] {
        match self {
            Purpose::Pairing => XX_PROLOGUE,
            Purpose::Linking => b"haven/1 linking",
        }
    }
}

/// The laptop that showed the code.
pub async fn host(stream: TcpStream, code: &Code, me: &Material) -> Result<Outcome, PairError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(stream, code, me, false))
        .await
        .map_err(|_| PairError::Timeout)?
}

/// The laptop the code was typed into.
pub async fn join(stream: TcpStream, code: &Code, me: &Material) -> Result<Outcome, PairError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(stream, code, me, true))
        .await
        .map_err(|_| PairError::Timeout)?
}

/// Both sides introduced and authenticated by the code: what either learnt of the other,
/// and the Noise channel between them, for a purpose that has more to say (linking).
pub struct Introduced {
    pub their_static: [u8; 32],
    pub intro: Intro,
    /// The SPAKE2 key and the handshake hash, to derive secrets from.
    pub key: Zeroizing<Vec<u8>>,
    pub transcript: Vec<u8>,
    pub stream: TcpStream,
    pub decoder: FrameDecoder,
    pub transport: snow::TransportState,
}

/// SPAKE2 on the code, its confirmation, then Noise XXpsk0 keyed by it: the two sides'
/// introductions, for `purpose`. Not timed: the caller bounds it.
pub async fn handshake(
    mut stream: TcpStream,
    code: &Code,
    me: &Material,
    joiner: bool,
    purpose: Purpose,
) -> Result<Introduced, PairError> {
    let mut decoder = FrameDecoder::new();
    let key = agree_on_key(&mut stream, &mut decoder, code, joiner, purpose).await?;
    let (their_static, intro, transcript, transport) =
        introduce(&mut stream, &mut decoder, &key, me, joiner, purpose).await?;
    Ok(Introduced {
        their_static,
        intro,
        key,
        transcript,
        stream,
        decoder,
        transport,
    })
}

async fn exchange(
    stream: TcpStream,
    code: &Code,
    me: &Material,
    joiner: bool,
) -> Result<Outcome, PairError> {
    let done = handshake(stream, code, me, joiner, Purpose::Pairing).await?;
    let (key, transcript, intro, their_static) =
        (&done.key, &done.transcript, done.intro, done.their_static);
    let psk = derive(key, transcript, b"haven transport psk v1");
    let discovery = derive(key, transcript, b"haven discovery v1");
    let safety = safety_words(
        &me.noise_public,
        &their_static,
        &me.intro.signing_key,
        &intro.signing_key,
    );
    Ok(Outcome {
        partner: Partner {
            name: intro.name,
            member_id: intro.member_id,
            signing_key: intro.signing_key,
            noise_key: hex::encode(their_static),
            psk: Key32::new(*psk),
            discovery: Key32::new(*discovery),
            paired_at: haven_shared::when::now(),
            addresses: Vec::new(),
            last_address: None,
            last_seen: None,
            last_synced: None,
            last_handshake: 0,
            endpoint_secret: None,
            relay: None,
            pq: None,
            devices: None,
        },
        safety_words: safety,
    })
}

/// SPAKE2 on the code, then explicit key confirmation, the joiner first: a wrong code
/// ends here, and the host closes without a word, so the joiner learns only that its
/// guess was wrong.
async fn agree_on_key(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
    code: &Code,
    joiner: bool,
    purpose: Purpose,
) -> Result<Zeroizing<Vec<u8>>, PairError> {
    use spake2::{Ed25519Group, Identity, Password, Spake2};
    let password = Password::new(code.password().as_bytes());
    let (host, joining) = purpose.identities();
    let (host_id, joiner_id) = (Identity::new(host), Identity::new(joining));
    let (spake, outbound) = if joiner {
        Spake2::<Ed25519Group>::start_a(&password, &joiner_id, &host_id)
    } else {
        Spake2::<Ed25519Group>::start_b(&password, &joiner_id, &host_id)
    };
    write_frame(stream, &outbound).await?;
    let inbound = read_frame(stream, decoder).await?;
    let key = Zeroizing::new(
        spake
            .finish(&inbound)
            .map_err(|e| PairError::Protocol(format!("spake2: {e:?}")))?,
    );
    if joiner {
        write_frame(stream, &confirmation(&key, b"joiner")).await?;
        let theirs = read_frame(stream, decoder)
            .await
            .map_err(|_| PairError::WrongCode)?;
        if !verify(&key, b"host", &theirs) {
            return Err(PairError::WrongCode);
        }
    } else {
        let theirs = read_frame(stream, decoder).await?;
        if !verify(&key, b"joiner", &theirs) {
            return Err(PairError::WrongCode);
        }
        write_frame(stream, &confirmation(&key, b"host")).await?;
    }
    Ok(key)
}

/// Noise XXpsk0 keyed by the confirmed SPAKE2 key: each side sends its introduction and
/// learns the other's long-term key. Returns that key, the other's introduction
/// (checked), the handshake hash the session keys are derived from, and the channel.
async fn introduce(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
    key: &[u8],
    me: &Material,
    joiner: bool,
    purpose: Purpose,
) -> Result<([u8; 32], Intro, Vec<u8>, snow::TransportState), PairError> {
    let psk = derive(key, b"", b"haven pairing xxpsk0 v2");
    let builder = snow::Builder::new(XX_PARAMS.parse()?)
        .prologue(purpose.prologue())?
        .local_private_key(&me.noise_static[..])?
        .psk(XX_PSK_POSITION, &psk)?;
    let mut hs = if joiner {
        builder.build_initiator()?
    } else {
        builder.build_responder()?
    };
    let intro = serde_json::to_vec(&me.intro).map_err(|e| PairError::Protocol(e.to_string()))?;
    let mut buf = vec![0u8; MAX_FRAME];
    let mut payload = vec![0u8; MAX_FRAME];
    let theirs: Vec<u8> = if joiner {
        // -> psk, e ; <- e, ee, s, es (their intro) ; -> s, se (our intro)
        let n = hs.write_message(&[], &mut buf)?;
        write_frame(stream, &buf[..n]).await?;
        let m = read_frame(stream, decoder).await?;
        let n = hs.read_message(&m, &mut payload)?;
        let theirs = payload[..n].to_vec();
        let n = hs.write_message(&intro, &mut buf)?;
        write_frame(stream, &buf[..n]).await?;
        theirs
    } else {
        let m = read_frame(stream, decoder).await?;
        hs.read_message(&m, &mut payload)?;
        let n = hs.write_message(&intro, &mut buf)?;
        write_frame(stream, &buf[..n]).await?;
        let m = read_frame(stream, decoder).await?;
        let n = hs.read_message(&m, &mut payload)?;
        payload[..n].to_vec()
    };
    let their_static: [u8; 32] = hs
        .get_remote_static()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| PairError::Protocol("no static key".into()))?;
    let intro: Intro = serde_json::from_slice(&theirs)
        .map_err(|e| PairError::Protocol(format!("a malformed introduction: {e}")))?;
    check_intro(&intro)?;
    let transcript = hs.get_handshake_hash().to_vec();
    Ok((their_static, intro, transcript, hs.into_transport_mode()?))
}

/// The partner's introduction must be self-consistent: its member id is its signing key's.
fn check_intro(intro: &Intro) -> Result<(), PairError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&intro.signing_key, &mut bytes)
        .map_err(|_| PairError::Protocol("a malformed signing key".into()))?;
    let key = haven_shared::ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| PairError::Protocol("an invalid signing key".into()))?;
    if member_id_of(&key) != intro.member_id {
        return Err(PairError::Protocol(
            "the member id does not match its key".into(),
        ));
    }
    if intro.name.trim().is_empty() || intro.name.len() > 200 {
        return Err(PairError::Protocol("an empty or overlong name".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_and_parse_back() {
        for _ in 0..50 {
            let c = Code::generate();
            assert!((1..=99).contains(&c.nameplate));
            assert_eq!(Code::parse(&c.to_string()).expect("parse"), c);
            assert_eq!(
                Code::parse(&format!("  {}  ", c.to_string().to_uppercase())).expect("upper"),
                c
            );
        }
        for bad in [
            "",
            "7",
            "7-harbor",
            "0-harbor-violet",
            "100-harbor-violet",
            "x-harbor-violet",
            "7-harbor-nope",
            "7-harbor-violet-tulip",
        ] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn safety_words_do_not_depend_on_who_asks() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let w = safety_words(&a, &b, "aa", "bb");
        assert_eq!(w, safety_words(&b, &a, "bb", "aa"));
        assert_eq!(w.split(' ').count(), haven_shared::words::SAFETY_WORDS);
        assert_ne!(w, safety_words(&a, &[3u8; 32], "aa", "bb"));
    }

    #[test]
    fn confirmation_tags_differ_by_role_and_key() {
        let k = [5u8; 32];
        let tag = confirmation(&k, b"joiner");
        assert!(verify(&k, b"joiner", &tag));
        assert!(!verify(&k, b"host", &tag));
        assert!(!verify(&[6u8; 32], b"joiner", &tag));
    }

    fn material(name: &str) -> Material {
        let kp = snow::Builder::new(XX_PARAMS.parse().expect("params"))
            .generate_keypair()
            .expect("keypair");
        let signing = haven_shared::ed25519_dalek::SigningKey::from_bytes(
            &haven_shared::crypto::random_bytes::<32>(),
        );
        Material {
            intro: Intro {
                name: name.into(),
                member_id: member_id_of(&signing.verifying_key()),
                signing_key: hex::encode(signing.verifying_key().to_bytes()),
            },
            noise_static: Zeroizing::new(kp.private.try_into().expect("32")),
            noise_public: kp.public.try_into().expect("32"),
        }
    }

    /// Someone on the path relays the SPAKE2 messages and the confirmations between the
    /// two laptops (it cannot forge them), then answers the key exchange itself. The
    /// joiner must not pin its keys.
    #[tokio::test]
    async fn whoever_sits_in_the_middle_cannot_swap_in_its_keys_after_the_confirmations() {
        use tokio::net::TcpListener;
        let code = Code::generate();
        let host_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let host_addr = host_listener.local_addr().expect("addr");
        let host_side = tokio::spawn(async move {
            let (stream, _) = host_listener.accept().await.expect("accept");
            host(stream, &code, &material("Maya")).await.map(|_| ())
        });
        let relay_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let relay_addr = relay_listener.local_addr().expect("addr");
        let relay = tokio::spawn(async move {
            let (mut j, _) = relay_listener.accept().await?;
            let mut h = TcpStream::connect(host_addr).await?;
            let (mut jd, mut hd) = (FrameDecoder::new(), FrameDecoder::new());
            // SPAKE2 both ways, then the two confirmations, joiner first.
            for from_joiner in [true, false, true, false] {
                if from_joiner {
                    let f = read_frame(&mut j, &mut jd).await?;
                    write_frame(&mut h, &f).await?;
                } else {
                    let f = read_frame(&mut h, &mut hd).await?;
                    write_frame(&mut j, &f).await?;
                }
            }
            let mallory = material("Mallory");
            let mut hs = snow::Builder::new(XX_PARAMS.parse()?)
                .prologue(XX_PROLOGUE)?
                .local_private_key(&mallory.noise_static[..])?
                .psk(XX_PSK_POSITION, &[0u8; 32])?
                .build_responder()?;
            let first = read_frame(&mut j, &mut jd).await?;
            let (mut payload, mut buf) = (vec![0u8; MAX_FRAME], vec![0u8; MAX_FRAME]);
            let reply = match hs.read_message(&first, &mut payload) {
                Ok(_) => {
                    let intro = serde_json::to_vec(&mallory.intro).expect("json");
                    let n = hs.write_message(&intro, &mut buf)?;
                    buf[..n].to_vec()
                }
                // Without the PSK it cannot even read the first message: it guesses.
                Err(_) => haven_shared::crypto::random_bytes::<96>().to_vec(),
            };
            write_frame(&mut j, &reply).await?;
            let _ = read_frame(&mut j, &mut jd).await;
            Ok::<_, ChannelError>(())
        });
        let stream = TcpStream::connect(relay_addr).await.expect("connect");
        let joined = join(stream, &code, &material("Sam")).await;
        assert!(
            joined.is_err(),
            "the joiner pinned the keys of {:?}",
            joined.map(|o| o.partner.name).unwrap_or_default()
        );
        relay.abort();
        host_side.abort();
    }
}
