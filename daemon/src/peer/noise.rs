//! Noise over a byte stream (TCP on the LAN, a QUIC stream through iroh when apart): the
//! IKpsk2 handshake between paired devices and the encrypted, framed channel that follows.
//! The same handshake runs on both paths, so pinned keys, the PSK and replay protection
//! hold end to end whatever carries the bytes.
//!
//! IK is the WireGuard shape: the initiator already knows the responder's static key, and
//! the responder learns the initiator's from the first message, checks it against the one
//! pinned at pairing, and drops a stranger before writing a single byte, so an unpaired
//! device learns nothing, not even the responder's key. The first message also carries a
//! timestamp; a responder refuses one not newer than the last it accepted, so a captured
//! handshake replayed gets no answer.
//!
//! The responder admits a session only once the caller's first transport message has
//! decrypted. The first handshake message alone proves little: someone who relays the
//! partner's fresh first message (a spoofed advertisement made the partner dial them)
//! gets an answer, but cannot write a transport message without the partner's ephemeral
//! key, so it can never displace the live session (see `Registry::admit`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use super::admission::{Load, Ticket};

use haven_shared::partner_record::PqSecrets;
use haven_shared::wire::cookie::{self, FirstFrame};
use haven_shared::wire::padding::{self, Chunk};
use haven_shared::wire::{chunks, encode_frame, FrameDecoder, Message, Reassembler, MAX_FRAME};

pub const IK_PARAMS: &str = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"haven/1 transport";
/// A handshake that takes longer than this is dropped (a stalled or malicious peer).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A caller's clock may be this far ahead of ours. A timestamp further ahead is refused
/// and not remembered: remembered, it would refuse every handshake of that laptop once its
/// clock was set right, until real time caught up.
pub const MAX_CLOCK_AHEAD: Duration = Duration::from_secs(10 * 60);
/// A caller must send its first message this soon: the partner sends it at once, and an
/// idle connection holds one of the few handshake slots (`admission`).
pub const FIRST_FRAME: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("the connection closed")]
    Closed,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("a malformed frame: {0}")]
    Frame(#[from] haven_shared::wire::FrameError),
    #[error("a malformed message: {0}")]
    Message(#[from] haven_shared::wire::MessageError),
    #[error("noise: {0}")]
    Noise(#[from] snow::Error),
    #[error("the peer is not the paired partner")]
    UnknownPeer,
    #[error("a replayed or stale handshake")]
    Replay,
    #[error("the partner's clock is more than 10 minutes ahead of this laptop's; check the date and time on both")]
    ClockAhead,
    #[error("timed out")]
    Timeout,
    #[error(
        "the caller answered the handshake but sent no message after it (a relayed handshake?)"
    )]
    NoFirstMessage,
    #[error("the partner has unpaired")]
    Farewell(Vec<u8>),
    #[error("the caller named a post-quantum epoch this laptop does not have")]
    UnknownEpoch,
    #[error(
        "the port is busy: the caller's first frame lacked the MACs or cookie the load asks for"
    )]
    Busy,
    #[error("the caller's first frame does not carry this laptop's MAC (not the partner)")]
    BadMac,
    #[error("a cookie reply that does not open with the partner's key")]
    BadCookie,
}

/// Starts a farewell frame: `FAREWELL_MAGIC`, then an Ed25519 signature.
pub const FAREWELL_MAGIC: &[u8] = b"HVBYE2";

/// What a farewell signs: the former partner's Noise key, the signer's, and the id of the
/// pairing it ends (so one captured now cannot end a later pairing of the same laptops).
pub fn farewell_statement(to: &[u8; 32], from: &[u8; 32], pairing: &[u8; 32]) -> Vec<u8> {
    let mut s = b"haven-unpaired-v2".to_vec();
    s.extend_from_slice(to);
    s.extend_from_slice(from);
    s.extend_from_slice(pairing);
    s
}

/// Whether a farewell frame carries the partner's signature over `statement`.
pub fn farewell_is_signed(
    frame: &[u8],
    statement: &[u8],
    partner: &haven_shared::ed25519_dalek::VerifyingKey,
) -> bool {
    frame
        .strip_prefix(FAREWELL_MAGIC)
        .and_then(|s| haven_shared::ed25519_dalek::Signature::from_slice(s).ok())
        .is_some_and(|sig| partner.verify_strict(statement, &sig).is_ok())
}

/// A byte stream a Noise channel runs on.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The partner's socket address, when the stream has one of its own (TCP).
    fn peer(&self) -> Option<std::net::SocketAddr> {
        None
    }
}

impl Stream for TcpStream {
    fn peer(&self) -> Option<std::net::SocketAddr> {
        self.peer_addr().ok()
    }
}

/// Reads one whole frame, whatever the stream's split.
pub async fn read_frame(
    stream: &mut (impl AsyncRead + Unpin),
    decoder: &mut FrameDecoder,
) -> Result<Vec<u8>, ChannelError> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(frame);
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(ChannelError::Closed);
        }
        decoder.push(&buf[..n]);
    }
}

/// The caller's first frame, within [`FIRST_FRAME`].
async fn read_first_frame(
    stream: &mut (impl AsyncRead + Unpin),
    decoder: &mut FrameDecoder,
) -> Result<Vec<u8>, ChannelError> {
    tokio::time::timeout(FIRST_FRAME, read_frame(stream, decoder))
        .await
        .map_err(|_| ChannelError::Timeout)?
}

pub async fn write_frame(
    stream: &mut (impl AsyncWrite + Unpin),
    payload: &[u8],
) -> Result<(), ChannelError> {
    stream.write_all(&encode_frame(payload)?).await?;
    Ok(())
}

/// When a session's sending key changes: every 2 minutes or 2^20 frames, whichever comes
/// first (checked as each message is sent; a quiet link still pings every 15 s).
#[derive(Debug, Clone, Copy)]
pub struct RekeyPolicy {
    pub after: Duration,
    pub frames: u64,
}

pub const REKEY: RekeyPolicy = RekeyPolicy {
    after: Duration::from_secs(120),
    frames: 1 << 20,
};

/// An established session: every message is chunked, encrypted and framed.
pub struct Channel {
    stream: Box<dyn Stream>,
    noise: snow::TransportState,
    decoder: FrameDecoder,
    reassembler: Reassembler,
    /// Protocol 3, from the hellos on: padded chunks and a sending key that changes.
    padded: bool,
    pub rekey: RekeyPolicy,
    frames_since_rekey: u64,
    rekeyed_at: std::time::Instant,
    /// How often each side's key changed (the log and the tests read them).
    pub rekeys_sent: u64,
    pub rekeys_received: u64,
    /// This side dialled (Noise's initiator): it offers the post-quantum exchange.
    pub initiator: bool,
    /// The post-quantum epoch the handshake named (0: none), see `peer::pq`.
    pub opened_epoch: u32,
    /// The handshake hash, which the post-quantum keys are bound to.
    handshake_hash: Vec<u8>,
    /// The partner's post-quantum sending key, until its switch flag arrives.
    pending_pq: Option<Zeroizing<[u8; 32]>>,
    /// Both directions use the post-quantum keys.
    pub post_quantum: bool,
    sent_pq: bool,
    /// Total bytes written to the socket (the benchmarks report them).
    pub bytes_sent: u64,
    /// The timestamp of the partner's first handshake message, on the answering side.
    pub handshake_stamp: Option<u64>,
    /// Where the partner listens, on the answering side (its IP and the port it sent).
    pub callback: Option<String>,
    /// The caller's first message, read by the answering side before it admits the session.
    early: Option<Message>,
}

impl Channel {
    pub fn new(stream: impl Stream, noise: snow::TransportState, decoder: FrameDecoder) -> Channel {
        Channel {
            stream: Box::new(stream),
            noise,
            decoder,
            reassembler: Reassembler::new(),
            padded: false,
            rekey: REKEY,
            frames_since_rekey: 0,
            rekeyed_at: std::time::Instant::now(),
            rekeys_sent: 0,
            rekeys_received: 0,
            initiator: false,
            opened_epoch: 0,
            handshake_hash: Vec::new(),
            pending_pq: None,
            post_quantum: false,
            sent_pq: false,
            bytes_sent: 0,
            handshake_stamp: None,
            callback: None,
            early: None,
        }
    }

    /// For a channel made outside this module (the person's own devices): which side
    /// dialled, and the handshake hash the post-quantum keys are bound to.
    pub fn set_handshake(&mut self, initiator: bool, hash: Vec<u8>) {
        self.initiator = initiator;
        self.handshake_hash = hash;
    }

    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.stream.peer()
    }

    /// After both hellos of protocol 3: every chunk from here on is padded, and the keys
    /// change on [`RekeyPolicy`]'s schedule.
    pub fn start_padding_and_rekeying(&mut self) {
        self.padded = true;
        self.rekeyed_at = std::time::Instant::now();
        self.frames_since_rekey = 0;
    }

    /// After the post-quantum exchange (`peer::pq`): tells the partner this side's key
    /// changes, changes it to the one derived from `ss`, and readies the partner's, used
    /// once its own switch flag arrives.
    pub async fn switch_to_post_quantum(&mut self, ss: &[u8; 32]) -> Result<(), ChannelError> {
        let (from_initiator, from_responder) =
            haven_shared::crypto::pq::transport_keys(ss, &self.handshake_hash);
        let mut sealed = vec![0u8; MAX_FRAME];
        let n = self
            .noise
            .write_message(&padding::pq_switch(), &mut sealed)?;
        let frame = encode_frame(&sealed[..n])?;
        if self.initiator {
            self.noise.rekey_initiator_manually(&from_initiator);
            self.pending_pq = Some(from_responder);
        } else {
            self.noise.rekey_responder_manually(&from_responder);
            self.pending_pq = Some(from_initiator);
        }
        self.sent_pq = true;
        self.stream.write_all(&frame).await?;
        self.bytes_sent += frame.len() as u64;
        Ok(())
    }

    /// The partner's switch flag: its key is now the post-quantum one.
    fn partner_switched(&mut self) -> Result<(), ChannelError> {
        let key = self.pending_pq.take().ok_or(ChannelError::Message(
            haven_shared::wire::MessageError::Malformed("a key change nobody agreed on"),
        ))?;
        if self.initiator {
            self.noise.rekey_responder_manually(&key);
        } else {
            self.noise.rekey_initiator_manually(&key);
        }
        self.post_quantum = self.sent_pq;
        Ok(())
    }

    pub async fn send(&mut self, message: &Message) -> Result<(), ChannelError> {
        self.send_bytes(&Zeroizing::new(message.encode())).await
    }

    /// Sends an encoded message of a protocol of its own (the person's own devices use
    /// this transport with their own messages; see `devices::session`).
    pub async fn send_bytes(&mut self, encoded: &[u8]) -> Result<(), ChannelError> {
        let mut out = Vec::new();
        let mut sealed = vec![0u8; MAX_FRAME];
        if self.padded
            && (self.frames_since_rekey >= self.rekey.frames
                || self.rekeyed_at.elapsed() >= self.rekey.after)
        {
            // Sealed under the old key; the partner changes its receiving key on reading it.
            let n = self.noise.write_message(&padding::rekey(), &mut sealed)?;
            out.extend_from_slice(&encode_frame(&sealed[..n])?);
            self.noise.rekey_outgoing();
            self.frames_since_rekey = 0;
            self.rekeyed_at = std::time::Instant::now();
            self.rekeys_sent += 1;
        }
        for chunk in chunks(encoded)? {
            let chunk = Zeroizing::new(if self.padded {
                padding::pad(&chunk)?
            } else {
                chunk
            });
            let n = self.noise.write_message(&chunk, &mut sealed)?;
            out.extend_from_slice(&encode_frame(&sealed[..n])?);
            self.frames_since_rekey += 1;
        }
        self.stream.write_all(&out).await?;
        self.bytes_sent += out.len() as u64;
        Ok(())
    }

    /// The next message. Cancel-safe: bytes are taken from the socket only when a read
    /// completes, and decoded without awaiting.
    pub async fn recv(&mut self) -> Result<Message, ChannelError> {
        if let Some(message) = self.early.take() {
            return Ok(message);
        }
        let bytes = Zeroizing::new(self.recv_bytes().await?);
        Ok(Message::decode(&bytes)?)
    }

    /// The next message's bytes, for a protocol of its own. Cancel-safe as [`Self::recv`].
    pub async fn recv_bytes(&mut self) -> Result<Vec<u8>, ChannelError> {
        let mut buf = [0u8; 16 * 1024];
        let mut plain = Zeroizing::new(vec![0u8; MAX_FRAME]);
        loop {
            while let Some(frame) = self.decoder.next_frame()? {
                let n = self.noise.read_message(&frame, &mut plain)?;
                let chunk = if self.padded {
                    match padding::unpad(&plain[..n])? {
                        Chunk::Rekey => {
                            self.noise.rekey_incoming();
                            self.rekeys_received += 1;
                            continue;
                        }
                        Chunk::PqSwitch => {
                            self.partner_switched()?;
                            continue;
                        }
                        Chunk::Data(chunk) => Zeroizing::new(chunk),
                    }
                } else {
                    Zeroizing::new(plain[..n].to_vec())
                };
                if let Some(message) = self.reassembler.push_bytes(&chunk)? {
                    return Ok(message);
                }
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Err(ChannelError::Closed);
            }
            self.decoder.push(&buf[..n]);
        }
    }
}

/// Keys of one paired link.
pub struct LinkKeys<'a> {
    pub own_static: &'a [u8; 32],
    pub partner_public: &'a [u8; 32],
    pub psk: &'a [u8; 32],
    /// The post-quantum secrets of the last sessions (`peer::pq`), none before the first.
    pub pq: Option<&'a PqSecrets>,
}

/// The handshake's first payload: the timestamp, the port this side listens on, and the
/// post-quantum epoch it mixes into the PSK (0: none).
const FIRST_PAYLOAD: usize = 8 + 2 + 4;
/// Protocol 2's first payload: no epoch.
const FIRST_PAYLOAD_V2: usize = 8 + 2;
/// The first Noise message of `IKpsk2` with [`FIRST_PAYLOAD`]: ephemeral key, sealed static
/// key, sealed payload. The first frame adds the two MACs of `wire::cookie`.
const FIRST_MESSAGE: usize = 32 + (32 + 16) + (FIRST_PAYLOAD + 16);

/// The caller's first Noise message, as the port's load asks (`admission`): with a
/// `ticket` (the LAN port), its MACs are checked before any Diffie–Hellman, a cookie is
/// asked for under load, and a frame without MACs (an older Haven) is answered only when
/// the port is calm. Without one (iroh, whose QUIC handshake proved the partner's key
/// already), MACs that are there are checked and taken off.
async fn checked_first_message(
    stream: &mut impl Stream,
    decoder: &mut FrameDecoder,
    own_public: &[u8; 32],
    ticket: Option<&mut Ticket>,
) -> Result<Vec<u8>, ChannelError> {
    let Some(ticket) = ticket else {
        let frame = read_first_frame(stream, decoder).await?;
        return match FirstFrame::split(&frame, FIRST_MESSAGE) {
            Some(first) if first.mac1_ok(own_public) => Ok(first.message.to_vec()),
            Some(_) => Err(ChannelError::BadMac),
            None => Ok(frame),
        };
    };
    let frame = tokio::select! {
        frame = read_first_frame(stream, decoder) => frame?,
        () = ticket.evicted() => return Err(ChannelError::Busy),
    };
    let load = ticket.first_frame().ok_or(ChannelError::Busy)?;
    let Some(first) = FirstFrame::split(&frame, FIRST_MESSAGE) else {
        if load == Load::Heavy {
            ticket.refused_under_load();
            return Err(ChannelError::Busy);
        }
        ticket.spend();
        return Ok(frame);
    };
    if !first.mac1_ok(own_public) {
        ticket.refused_under_load();
        return Err(ChannelError::BadMac);
    }
    let cookie = ticket.cookie();
    if load == Load::Calm || first.mac2_ok(&cookie) {
        ticket.spend();
        return Ok(first.message.to_vec());
    }
    let nonce = haven_shared::crypto::random_bytes::<24>();
    write_frame(
        stream,
        &cookie::seal_reply(own_public, &first.mac1, &cookie, nonce),
    )
    .await?;
    ticket.cookie_sent();
    // A replayed first frame earns a cookie too: until the caller proves it holds it, the
    // connection waits like a newcomer and holds no handshake slot.
    if !ticket.wait_again() {
        return Err(ChannelError::Busy);
    }
    let again = tokio::select! {
        frame = read_first_frame(stream, decoder) => frame?,
        () = ticket.evicted() => return Err(ChannelError::Busy),
    };
    ticket.first_frame().ok_or(ChannelError::Busy)?;
    match FirstFrame::split(&again, FIRST_MESSAGE) {
        Some(second) if second.mac1_ok(own_public) && second.mac2_ok(&cookie) => {
            ticket.spend();
            Ok(second.message.to_vec())
        }
        _ => {
            ticket.refused_under_load();
            Err(ChannelError::Busy)
        }
    }
}

/// The public half of a Noise static key.
fn public_of(secret: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes()
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// How the first frame of a handshake this laptop makes is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstFrameForm {
    /// With the MACs of `wire::cookie`: what this Haven's port asks for under load.
    WithMacs,
    /// The Noise message alone, as Haven before the MACs reads it.
    Bare,
}

/// Dials side of the handshake.
/// `listen_port` tells the partner where to call back (it sees only our source port).
pub async fn initiate(
    stream: impl Stream,
    keys: LinkKeys<'_>,
    listen_port: u16,
    form: FirstFrameForm,
) -> Result<Channel, ChannelError> {
    initiate_at(stream, keys, listen_port, now_nanos(), form).await
}

async fn initiate_at(
    mut stream: impl Stream,
    keys: LinkKeys<'_>,
    listen_port: u16,
    stamp: u64,
    form: FirstFrameForm,
) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let newest = keys.pq.and_then(PqSecrets::newest);
        let epoch = newest.map_or(0, |e| e.epoch);
        let psk = match newest {
            Some(e) => haven_shared::crypto::pq::handshake_psk(keys.psk, e.secret.bytes()),
            None => Zeroizing::new(*keys.psk),
        };
        let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(keys.own_static)?
            .remote_public_key(keys.partner_public)?
            .psk(2, &psk)?
            .build_initiator()?;
        let mut buf = vec![0u8; MAX_FRAME];
        let mut hello = stamp.to_be_bytes().to_vec();
        hello.extend_from_slice(&listen_port.to_be_bytes());
        hello.extend_from_slice(&epoch.to_be_bytes());
        let n = hs.write_message(&hello, &mut buf)?;
        let message = &buf[..n];
        let first = match form {
            FirstFrameForm::WithMacs => cookie::first_frame(keys.partner_public, message, None),
            FirstFrameForm::Bare => message.to_vec(),
        };
        write_frame(&mut stream, &first).await?;
        let mut decoder = FrameDecoder::new();
        let mut reply = read_frame(&mut stream, &mut decoder).await?;
        if cookie::is_cookie_reply(&reply) {
            // The partner's port is under load: ask again with the cookie it sealed for us.
            let mac1 = cookie::mac1(keys.partner_public, message);
            let given = cookie::open_reply(keys.partner_public, &mac1, &reply)
                .map_err(|_| ChannelError::BadCookie)?;
            let again = cookie::first_frame(keys.partner_public, message, Some(&given));
            write_frame(&mut stream, &again).await?;
            reply = read_frame(&mut stream, &mut decoder).await?;
        }
        if reply.starts_with(FAREWELL_MAGIC) {
            return Err(ChannelError::Farewell(reply));
        }
        let mut payload = vec![0u8; MAX_FRAME];
        hs.read_message(&reply, &mut payload)?;
        let handshake_hash = hs.get_handshake_hash().to_vec();
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.initiator = true;
        channel.opened_epoch = epoch;
        channel.handshake_hash = handshake_hash;
        Ok(channel)
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}

/// After unpairing: reads a caller's first message and, if the caller is the former
/// partner (its key hashes to `former`), answers with a signed farewell and closes.
/// Anyone else gets nothing.
pub async fn farewell(
    mut stream: impl Stream,
    own_static: &[u8; 32],
    own_public: &[u8; 32],
    former: &[u8; 32],
    pairing: &[u8; 32],
    signing: &haven_shared::ed25519_dalek::SigningKey,
    ticket: &mut Ticket,
) -> Result<(), ChannelError> {
    use haven_shared::ed25519_dalek::Signer;
    use sha2::Digest;
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut decoder = FrameDecoder::new();
        let first =
            checked_first_message(&mut stream, &mut decoder, own_public, Some(ticket)).await?;
        // The PSK is forgotten; the first message of IKpsk2 does not need it.
        let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(own_static)?
            .psk(2, &[0u8; 32])?
            .build_responder()?;
        let mut payload = vec![0u8; MAX_FRAME];
        hs.read_message(&first, &mut payload)?;
        let caller: [u8; 32] = hs
            .get_remote_static()
            .and_then(|k| k.try_into().ok())
            .ok_or(ChannelError::UnknownPeer)?;
        if sha2::Sha256::digest(caller).as_slice() != former {
            return Err(ChannelError::UnknownPeer);
        }
        let signature = signing.sign(&farewell_statement(&caller, own_public, pairing));
        let mut frame = FAREWELL_MAGIC.to_vec();
        frame.extend_from_slice(&signature.to_bytes());
        write_frame(&mut stream, &frame).await
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}

/// Answers a handshake, only for the pinned partner and only with a fresh timestamp.
/// `last_accepted` holds the newest timestamp accepted so far.
pub async fn respond(
    mut stream: impl Stream,
    keys: LinkKeys<'_>,
    last_accepted: &AtomicU64,
    ticket: Option<&mut Ticket>,
) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut decoder = FrameDecoder::new();
        let own_public = public_of(keys.own_static);
        let first = checked_first_message(&mut stream, &mut decoder, &own_public, ticket).await?;
        // Built only now: snow derives the public key again, which a refused frame
        // should not cost.
        let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(keys.own_static)?
            .psk(2, keys.psk)?
            .build_responder()?;
        let mut payload = vec![0u8; MAX_FRAME];
        let n = hs.read_message(&first, &mut payload)?;
        if hs.get_remote_static() != Some(&keys.partner_public[..]) {
            return Err(ChannelError::UnknownPeer);
        }
        // The timestamp, the port the partner listens on, the post-quantum epoch. A laptop
        // on protocol 2 sends no epoch: it is answered, so that its hello can say it has
        // to update (`session::hello`).
        if n != FIRST_PAYLOAD && n != FIRST_PAYLOAD_V2 {
            return Err(ChannelError::Replay);
        }
        let stamp: [u8; 8] = payload[..8].try_into().map_err(|_| ChannelError::Replay)?;
        let port = u16::from_be_bytes([payload[8], payload[9]]);
        let epoch = match payload
            .get(10..FIRST_PAYLOAD)
            .filter(|_| n == FIRST_PAYLOAD)
        {
            Some(e) => u32::from_be_bytes([e[0], e[1], e[2], e[3]]),
            None => 0,
        };
        // A partner that names no epoch is answered (see `peer::pq`); one that names an
        // epoch this laptop no longer has is not.
        if epoch != 0 {
            let secret = keys
                .pq
                .and_then(|pq| pq.of(epoch))
                .ok_or(ChannelError::UnknownEpoch)?;
            hs.set_psk(
                2,
                &*haven_shared::crypto::pq::handshake_psk(keys.psk, secret.bytes()),
            )?;
        }
        let stamp = u64::from_be_bytes(stamp);
        let ahead = u64::try_from(MAX_CLOCK_AHEAD.as_nanos()).unwrap_or(u64::MAX);
        if stamp > now_nanos().saturating_add(ahead) {
            return Err(ChannelError::ClockAhead);
        }
        if last_accepted.fetch_max(stamp, Ordering::SeqCst) >= stamp {
            return Err(ChannelError::Replay);
        }
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&[], &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let handshake_hash = hs.get_handshake_hash().to_vec();
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.opened_epoch = epoch;
        channel.handshake_hash = handshake_hash;
        // Only the partner itself can write this: until it decrypts, nothing is admitted.
        let first = tokio::time::timeout(FIRST_FRAME, channel.recv())
            .await
            .map_err(|_| ChannelError::NoFirstMessage)?
            .map_err(|e| match e {
                ChannelError::Closed => ChannelError::NoFirstMessage,
                other => other,
            })?;
        channel.early = Some(first);
        channel.handshake_stamp = Some(stamp);
        channel.callback = channel
            .peer_addr()
            .map(|a| std::net::SocketAddr::new(a.ip(), port).to_string());
        Ok(channel)
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn keypair() -> ([u8; 32], [u8; 32]) {
        let kp = snow::Builder::new(IK_PARAMS.parse().expect("params"))
            .generate_keypair()
            .expect("keypair");
        (
            kp.private.try_into().expect("32"),
            kp.public.try_into().expect("32"),
        )
    }

    /// The partner's side, up to the end of the handshake; `then_hello` sends the first
    /// transport message too, as the real partner does at once.
    async fn caller(
        addr: std::net::SocketAddr,
        own: [u8; 32],
        remote: [u8; 32],
        psk: [u8; 32],
        then_hello: bool,
        stamp: u64,
    ) -> Result<Box<dyn Stream>, ChannelError> {
        let mut channel = dial(addr, (own, remote, psk), stamp, FirstFrameForm::WithMacs).await?;
        if then_hello {
            channel.send(&Message::Hello { version: 2 }).await?;
        }
        Ok(channel.stream)
    }

    /// Connects to `addr` and makes the handshake with `(own, remote, psk)`.
    async fn dial(
        addr: std::net::SocketAddr,
        (own, remote, psk): ([u8; 32], [u8; 32], [u8; 32]),
        stamp: u64,
        form: FirstFrameForm,
    ) -> Result<Channel, ChannelError> {
        let stream = TcpStream::connect(addr).await?;
        let keys = LinkKeys {
            own_static: &own,
            partner_public: &remote,
            psk: &psk,
            pq: None,
        };
        initiate_at(stream, keys, 4000, stamp, form).await
    }

    /// Maya's side listening, and both laptops' keys.
    struct Pair {
        maya_static: [u8; 32],
        maya_public: [u8; 32],
        sam_static: [u8; 32],
        sam_public: [u8; 32],
        psk: [u8; 32],
        listener: TcpListener,
        addr: std::net::SocketAddr,
        last: AtomicU64,
    }

    impl Pair {
        async fn new() -> Pair {
            let (maya_static, maya_public) = keypair();
            let (sam_static, sam_public) = keypair();
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            Pair {
                maya_static,
                maya_public,
                sam_static,
                sam_public,
                psk: [7u8; 32],
                addr: listener.local_addr().expect("addr"),
                listener,
                last: AtomicU64::new(0),
            }
        }

        /// Sam dials Maya's listener (see [`caller`]).
        fn sam_calls(
            &self,
            then_hello: bool,
            stamp: u64,
        ) -> tokio::task::JoinHandle<Result<Box<dyn Stream>, ChannelError>> {
            tokio::spawn(caller(
                self.addr,
                self.sam_static,
                self.maya_public,
                self.psk,
                then_hello,
                stamp,
            ))
        }

        /// Maya's keys for answering Sam.
        fn keys(&self) -> LinkKeys<'_> {
            LinkKeys {
                own_static: &self.maya_static,
                partner_public: &self.sam_public,
                psk: &self.psk,
                pq: None,
            }
        }
    }

    /// A relayed first message (the relay then falls silent) yields no session: the answer
    /// waits for a transport message only the real partner can write.
    #[tokio::test]
    async fn a_session_is_admitted_only_after_the_callers_first_message_decrypts() {
        let p = Pair::new().await;

        let silent = p.sam_calls(false, now_nanos());
        let (stream, _) = p.listener.accept().await.expect("accept");
        let result = respond(stream, p.keys(), &p.last, None).await;
        assert!(
            matches!(result, Err(ChannelError::NoFirstMessage)),
            "a handshake with nothing after it must not make a session: {:?}",
            result.map(|_| ())
        );
        drop(silent.await);

        let honest = p.sam_calls(true, now_nanos());
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut channel = respond(stream, p.keys(), &p.last, None)
            .await
            .expect("a session");
        assert!(matches!(
            channel.recv().await,
            Ok(Message::Hello { version: 2 })
        ));
        drop(honest.await);
    }

    /// Under load (a burst of handshakes this second), Sam's first frame gets a cookie
    /// reply, and his second, with the cookie's MAC, a session; a caller that does not
    /// know Maya's key, and one from an older Haven (no MACs), are closed before any
    /// Diffie–Hellman. Calm, a frame without MACs is still answered.
    #[tokio::test]
    async fn under_load_the_partner_gets_in_with_a_cookie_and_strangers_cost_no_handshake() {
        use super::super::admission::Admission;
        use std::sync::Arc;
        let p = Pair::new().await;
        let admission = Arc::new(Admission::default());
        let here: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
        // A burst: eight handshakes begun this second put the port under load.
        for _ in 0..super::super::admission::LOAD_PER_SECOND {
            let mut t = admission.admit(here).expect("a place");
            t.first_frame().expect("a slot");
            t.spend();
        }
        let honest = p.sam_calls(true, now_nanos());
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut ticket = admission.admit(here).expect("a place");
        let mut channel = respond(stream, p.keys(), &p.last, Some(&mut ticket))
            .await
            .expect("a session after the cookie");
        assert!(matches!(
            channel.recv().await,
            Ok(Message::Hello { version: 2 })
        ));
        assert_eq!(admission.cookies_sent.load(Ordering::Relaxed), 1);
        drop(honest.await);
        drop(ticket);

        // A caller that takes Maya for someone else: its mac1 is wrong.
        let (_, other_public) = keypair();
        let stranger = tokio::spawn(caller(
            p.addr,
            p.sam_static,
            other_public,
            p.psk,
            true,
            now_nanos(),
        ));
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut ticket = admission.admit(here).expect("a place");
        let result = respond(stream, p.keys(), &p.last, Some(&mut ticket)).await;
        assert!(
            matches!(result, Err(ChannelError::BadMac)),
            "{:?}",
            result.map(|_| ())
        );
        drop(stranger.await);
        drop(ticket);

        // An older Haven's first frame, the Noise message alone: closed under load.
        let legacy = |p: &Pair| {
            let (addr, sam_static, maya_public, psk) = (p.addr, p.sam_static, p.maya_public, p.psk);
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
                    .prologue(PROLOGUE)?
                    .local_private_key(&sam_static)?
                    .remote_public_key(&maya_public)?
                    .psk(2, &psk)?
                    .build_initiator()?;
                let mut buf = vec![0u8; MAX_FRAME];
                let mut hello = now_nanos().to_be_bytes().to_vec();
                hello.extend_from_slice(&[0u8; 6]);
                let n = hs.write_message(&hello, &mut buf)?;
                write_frame(&mut stream, &buf[..n]).await?;
                let mut decoder = FrameDecoder::new();
                read_frame(&mut stream, &mut decoder).await.map(|_| ())
            })
        };
        let old = legacy(&p);
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut ticket = admission.admit(here).expect("a place");
        let result = respond(stream, p.keys(), &p.last, Some(&mut ticket)).await;
        assert!(
            matches!(result, Err(ChannelError::Busy)),
            "{:?}",
            result.map(|_| ())
        );
        assert!(
            old.await.expect("joined").is_err(),
            "closed with nothing sent"
        );
        assert_eq!(admission.refused_under_load.load(Ordering::Relaxed), 2);
        drop(ticket);

        // Calm (a fresh port): the older Haven is answered.
        let calm = Arc::new(Admission::default());
        let old = legacy(&p);
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut ticket = calm.admit(here).expect("a place");
        let result = respond(stream, p.keys(), &p.last, Some(&mut ticket)).await;
        // Answered: the handshake went through (no transport message follows it here).
        assert!(
            matches!(result, Err(ChannelError::NoFirstMessage)),
            "{:?}",
            result.map(|_| ())
        );
        assert!(old.await.expect("joined").is_ok());
        assert_eq!(calm.cookies_sent.load(Ordering::Relaxed), 0);
    }

    /// A first frame recorded off the LAN and replayed under load has a right `mac1`, so
    /// it earns a cookie; while the replayer cannot answer with it, the connection holds
    /// no handshake slot and newcomers push it out (before, it held a slot for 3 s: a
    /// few replays a second kept the partner out).
    #[tokio::test]
    async fn a_replayed_first_frame_under_load_holds_no_handshake_slot() {
        use super::super::admission::{Admission, LOAD_PER_SECOND, WAITING};
        use std::sync::Arc;
        let p = Pair::new().await;
        let admission = Arc::new(Admission::default());
        let here: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..LOAD_PER_SECOND {
            let mut t = admission.admit(here).expect("a place");
            t.first_frame().expect("a slot");
            t.spend();
        }
        // Sam's real first frame, as recorded by someone on the LAN.
        let mut hs = snow::Builder::new(IK_PARAMS.parse().expect("params"))
            .prologue(PROLOGUE)
            .and_then(|b| b.local_private_key(&p.sam_static))
            .and_then(|b| b.remote_public_key(&p.maya_public))
            .and_then(|b| b.psk(2, &p.psk))
            .and_then(|b| b.build_initiator())
            .expect("initiator");
        let mut buf = vec![0u8; MAX_FRAME];
        let mut hello = now_nanos().to_be_bytes().to_vec();
        hello.extend_from_slice(&[0u8; 6]);
        let n = hs.write_message(&hello, &mut buf).expect("message");
        let recorded = cookie::first_frame(&p.maya_public, &buf[..n], None);

        let mut replayer = TcpStream::connect(p.addr).await.expect("connect");
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut ticket = admission.admit(here).expect("a place");
        let answer = {
            let admission = admission.clone();
            let keys = (p.maya_static, p.sam_public, p.psk);
            tokio::spawn(async move {
                let keys = LinkKeys {
                    own_static: &keys.0,
                    partner_public: &keys.1,
                    psk: &keys.2,
                    pq: None,
                };
                let last = AtomicU64::new(0);
                let result = respond(stream, keys, &last, Some(&mut ticket)).await;
                drop(admission);
                result.map(|_| ())
            })
        };
        write_frame(&mut replayer, &recorded).await.expect("replay");
        let mut decoder = FrameDecoder::new();
        let reply = read_frame(&mut replayer, &mut decoder)
            .await
            .expect("reply");
        assert!(cookie::is_cookie_reply(&reply), "a cookie was sent");
        // The replayer cannot open the cookie and falls silent: its slot is free again.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while admission.counts() != (1, 0) {
            assert!(
                std::time::Instant::now() < deadline,
                "the silent replayer still holds a handshake slot: {:?}",
                admission.counts()
            );
            tokio::task::yield_now().await;
        }
        // Newcomers push it out at once, well before its 3 s for a frame.
        let newcomers: Vec<_> = (0..WAITING)
            .map(|i| {
                let ip = std::net::IpAddr::from([10, 9, (i / 250) as u8, (i % 250) as u8 + 1]);
                admission.admit(ip).expect("a place")
            })
            .collect();
        let result = tokio::time::timeout(Duration::from_secs(2), answer)
            .await
            .expect("let go for newcomers, not after its wait")
            .expect("joined");
        assert!(matches!(result, Err(ChannelError::Busy)), "{result:?}");
        drop(newcomers);
        assert_eq!(admission.counts(), (0, 0));
    }

    /// A laptop on Haven before the MACs reads the whole first frame as the Noise message:
    /// a bare first frame is what it can answer.
    #[tokio::test]
    async fn a_bare_first_frame_reaches_a_port_from_before_the_macs() {
        let p = Pair::new().await;
        for (form, readable) in [
            (FirstFrameForm::WithMacs, false),
            (FirstFrameForm::Bare, true),
        ] {
            let (addr, keys) = (p.addr, (p.sam_static, p.maya_public, p.psk));
            let calling =
                tokio::spawn(async move { dial(addr, keys, now_nanos(), form).await.map(|_| ()) });
            let (mut stream, _) = p.listener.accept().await.expect("accept");
            let frame = read_frame(&mut stream, &mut FrameDecoder::new())
                .await
                .expect("a first frame");
            let mut old = snow::Builder::new(IK_PARAMS.parse().expect("params"))
                .prologue(PROLOGUE)
                .and_then(|b| b.local_private_key(&p.maya_static))
                .and_then(|b| b.psk(2, &p.psk))
                .and_then(|b| b.build_responder())
                .expect("responder");
            let mut payload = vec![0u8; MAX_FRAME];
            assert_eq!(
                old.read_message(&frame, &mut payload).is_ok(),
                readable,
                "{form:?}"
            );
            drop(stream);
            assert!(calling.await.expect("joined").is_err(), "no answer came");
        }
    }

    /// A farewell names the pairing it ends: one captured from an earlier pairing of the
    /// same two laptops does not end the next.
    #[test]
    fn a_farewell_from_an_earlier_pairing_does_not_end_this_one() {
        use haven_shared::ed25519_dalek::{Signer, SigningKey};
        let sam = SigningKey::from_bytes(&[4u8; 32]);
        let (maya_noise, sam_noise) = ([1u8; 32], [2u8; 32]);
        let (first, second) = ([7u8; 32], [8u8; 32]);
        let frame = |pairing: &[u8; 32]| {
            let sig = sam.sign(&farewell_statement(&maya_noise, &sam_noise, pairing));
            [FAREWELL_MAGIC, &sig.to_bytes()[..]].concat()
        };
        let ended = |frame: &[u8], pairing: &[u8; 32]| {
            farewell_is_signed(
                frame,
                &farewell_statement(&maya_noise, &sam_noise, pairing),
                &sam.verifying_key(),
            )
        };
        assert!(ended(&frame(&second), &second));
        assert!(
            !ended(&frame(&first), &second),
            "a farewell replayed from the first pairing"
        );
        let other = SigningKey::from_bytes(&[5u8; 32]);
        let forged = [
            FAREWELL_MAGIC,
            &other
                .sign(&farewell_statement(&maya_noise, &sam_noise, &second))
                .to_bytes()[..],
        ]
        .concat();
        assert!(!ended(&forged, &second), "signed by someone else");
        assert!(!ended(&frame(&second)[..40], &second), "cut short");
    }

    /// A laptop whose clock ran ahead is refused, and not remembered: once its clock is
    /// right again, its handshakes are accepted (remembered, they would be refused until
    /// real time caught up with the wrong clock).
    #[tokio::test]
    async fn a_clock_far_ahead_is_refused_without_locking_that_laptop_out() {
        let p = Pair::new().await;
        let a_day = 24 * 3600 * 1_000_000_000u64;
        let ahead = p.sam_calls(true, now_nanos() + a_day);
        let (stream, _) = p.listener.accept().await.expect("accept");
        let result = respond(stream, p.keys(), &p.last, None).await;
        assert!(
            matches!(result, Err(ChannelError::ClockAhead)),
            "{:?}",
            result.map(|_| ())
        );
        assert_eq!(
            p.last.load(Ordering::SeqCst),
            0,
            "the stamp from the future is not remembered"
        );
        assert!(
            ahead.await.expect("task").is_err(),
            "the caller got no session"
        );

        let right = p.sam_calls(true, now_nanos());
        let (stream, _) = p.listener.accept().await.expect("accept");
        respond(stream, p.keys(), &p.last, None)
            .await
            .expect("the clock set right is accepted");
        assert!(right.await.expect("task").is_ok());
    }

    /// Both sides of one session after the hellos of protocol 3.
    async fn session_pair() -> (Channel, Channel) {
        let p = Pair::new().await;
        let (own, remote, psk, addr) = (p.sam_static, p.maya_public, p.psk, p.addr);
        let sam = tokio::spawn(async move {
            let mut channel = dial(
                addr,
                (own, remote, psk),
                now_nanos(),
                FirstFrameForm::WithMacs,
            )
            .await?;
            channel.send(&Message::Hello { version: 3 }).await?;
            Ok::<Channel, ChannelError>(channel)
        });
        let (stream, _) = p.listener.accept().await.expect("accept");
        let mut maya = respond(stream, p.keys(), &p.last, None)
            .await
            .expect("answered");
        let mut sam = sam.await.expect("task").expect("called");
        maya.send(&Message::Hello { version: 3 })
            .await
            .expect("hello");
        assert_eq!(
            maya.recv().await.expect("hello"),
            Message::Hello { version: 3 }
        );
        assert_eq!(
            sam.recv().await.expect("hello"),
            Message::Hello { version: 3 }
        );
        maya.start_padding_and_rekeying();
        sam.start_padding_and_rekeying();
        (maya, sam)
    }

    #[tokio::test]
    async fn keys_change_on_schedule_and_no_message_is_lost() {
        let (mut maya, mut sam) = session_pair().await;
        // Sam's key changes every 3 frames, Maya's before every message (two minutes
        // gone by, each time).
        sam.rekey = RekeyPolicy {
            after: Duration::from_secs(3600),
            frames: 3,
        };
        maya.rekey = RekeyPolicy {
            after: Duration::ZERO,
            frames: u64::MAX,
        };
        let sent: Vec<Message> = (0..50u8)
            .map(|i| Message::Sync(vec![i; 100 + usize::from(i) * 40]))
            .collect();
        for m in &sent {
            sam.send(m).await.expect("send");
        }
        for m in &sent {
            assert_eq!(&maya.recv().await.expect("every message arrives"), m);
        }
        // Before messages 3, 6, ... 48.
        assert_eq!(sam.rekeys_sent, 16);
        assert_eq!(maya.rekeys_received, sam.rekeys_sent);
        for _ in 0..5 {
            maya.send(&Message::Ping).await.expect("ping");
        }
        for _ in 0..5 {
            assert_eq!(sam.recv().await.expect("ping"), Message::Ping);
        }
        assert_eq!((maya.rekeys_sent, sam.rekeys_received), (5, 5));
    }

    #[tokio::test]
    async fn frames_are_padded_to_buckets() {
        let (mut maya, mut sam) = session_pair().await;
        maya.rekey = RekeyPolicy {
            after: Duration::from_secs(3600),
            frames: u64::MAX,
        };
        // A frame: 2 bytes of length, the padded chunk, Noise's 16-byte tag.
        for (body, bucket) in [(1, 256), (200, 256), (300, 512), (5000, 8192)] {
            let before = maya.bytes_sent;
            let m = Message::Sync(vec![7; body]);
            maya.send(&m).await.expect("send");
            assert_eq!(maya.bytes_sent - before, 2 + bucket + 16, "{body} bytes");
            assert_eq!(sam.recv().await.expect("recv"), m);
        }
        // A ping is as long as a short sync message.
        let before = maya.bytes_sent;
        maya.send(&Message::Ping).await.expect("ping");
        assert_eq!(maya.bytes_sent - before, 2 + 256 + 16);
    }

    /// A stream that keeps every byte it reads: what someone on the path records.
    struct Tap {
        inner: TcpStream,
        seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    }

    impl AsyncRead for Tap {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
            let fresh = buf.filled()[before..].to_vec();
            self.seen.lock().expect("tap").extend_from_slice(&fresh);
            poll
        }
    }

    impl AsyncWrite for Tap {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    impl Stream for Tap {}

    /// Both sides of a handshake with chosen ephemeral keys (so an attacker who is handed
    /// every X25519 secret can run it again), as transport states.
    fn handshake_with(
        sam: &[u8; 32],
        sam_e: &[u8; 32],
        maya: &[u8; 32],
        maya_pub: &[u8; 32],
        maya_e: &[u8; 32],
        psk: &[u8; 32],
    ) -> (snow::TransportState, snow::TransportState, Vec<u8>) {
        let mut i = snow::Builder::new(IK_PARAMS.parse().expect("params"))
            .prologue(PROLOGUE)
            .and_then(|b| b.local_private_key(sam))
            .and_then(|b| b.remote_public_key(maya_pub))
            .and_then(|b| b.psk(2, psk))
            .expect("builder")
            .fixed_ephemeral_key_for_testing_only(sam_e)
            .build_initiator()
            .expect("initiator");
        let mut r = snow::Builder::new(IK_PARAMS.parse().expect("params"))
            .prologue(PROLOGUE)
            .and_then(|b| b.local_private_key(maya))
            .and_then(|b| b.psk(2, psk))
            .expect("builder")
            .fixed_ephemeral_key_for_testing_only(maya_e)
            .build_responder()
            .expect("responder");
        let (mut a, mut b) = (vec![0u8; 1024], vec![0u8; 1024]);
        let n = i.write_message(&[], &mut a).expect("first");
        r.read_message(&a[..n], &mut b).expect("read first");
        let n = r.write_message(&[], &mut a).expect("second");
        i.read_message(&a[..n], &mut b).expect("read second");
        let hash = i.get_handshake_hash().to_vec();
        (
            i.into_transport_mode().expect("transport"),
            r.into_transport_mode().expect("transport"),
            hash,
        )
    }

    /// Record now, break X25519 later: an attacker handed every X25519 secret of a
    /// session (both static keys, both ephemeral ones) and its classical PSK reads what
    /// was sent before the post-quantum switch, and nothing after it.
    #[tokio::test]
    async fn a_recorded_session_stays_sealed_after_the_switch_with_x25519_broken() {
        let (sam_static, _) = keypair();
        let (maya_static, maya_public) = keypair();
        let (sam_e, _) = keypair();
        let (maya_e, _) = keypair();
        let psk = [7u8; 32];
        let (sam_t, maya_t, hash) = handshake_with(
            &sam_static,
            &sam_e,
            &maya_static,
            &maya_public,
            &maya_e,
            &psk,
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let dial = tokio::spawn(async move { TcpStream::connect(addr).await.expect("connect") });
        let (maya_side, _) = listener.accept().await.expect("accept");
        let sam_side = dial.await.expect("task");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut sam = Channel::new(sam_side, sam_t, FrameDecoder::new());
        let mut maya = Channel::new(
            Tap {
                inner: maya_side,
                seen: seen.clone(),
            },
            maya_t,
            FrameDecoder::new(),
        );
        for (c, initiator) in [(&mut sam, true), (&mut maya, false)] {
            c.initiator = initiator;
            c.handshake_hash = hash.clone();
            c.start_padding_and_rekeying();
        }

        // The exchange itself, as the session runs it.
        let (offer, key) = haven_shared::crypto::pq::offer();
        let (ciphertext, maya_ss) = haven_shared::crypto::pq::answer(&key).expect("answer");
        let sam_ss = haven_shared::crypto::pq::finish(&offer, &ciphertext).expect("finish");

        let before = Message::Sync(b"CANARY-BEFORE the switch".to_vec());
        let after = Message::Sync(b"CANARY-AFTER the switch".to_vec());
        sam.send(&before).await.expect("send");
        maya.switch_to_post_quantum(&maya_ss).await.expect("switch");
        sam.switch_to_post_quantum(&sam_ss).await.expect("switch");
        sam.send(&after).await.expect("send");
        assert_eq!(maya.recv().await.expect("before"), before);
        assert_eq!(maya.recv().await.expect("after"), after);
        assert!(maya.post_quantum);
        maya.send(&Message::Ping).await.expect("ping");
        assert_eq!(
            sam.recv().await.expect("maya's flag, then a ping"),
            Message::Ping
        );
        assert!(sam.post_quantum);

        // The attacker runs the same handshake from the secrets it was handed.
        let (_, mut spy, spy_hash) = handshake_with(
            &sam_static,
            &sam_e,
            &maya_static,
            &maya_public,
            &maya_e,
            &psk,
        );
        assert_eq!(
            spy_hash, hash,
            "the attacker has the session's classical keys"
        );
        let mut frames = FrameDecoder::new();
        frames.push(&seen.lock().expect("tap"));
        let mut plain = vec![0u8; MAX_FRAME];
        let mut read = Vec::new();
        while let Ok(Some(frame)) = frames.next_frame() {
            read.push(
                spy.read_message(&frame, &mut plain)
                    .map(|n| plain[..n].to_vec()),
            );
        }
        assert_eq!(
            read.len(),
            3,
            "the message before, the switch flag, the message after"
        );
        let first =
            padding::unpad(read[0].as_ref().expect("X25519 alone opens this")).expect("a chunk");
        assert!(matches!(first, Chunk::Data(d) if d.ends_with(b"CANARY-BEFORE the switch")));
        assert!(
            read[1].is_ok(),
            "the flag itself was sent before the switch"
        );
        assert!(
            read[2].is_err(),
            "after the switch, X25519 alone opens nothing"
        );
    }
}
