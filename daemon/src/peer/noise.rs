//! Noise over TCP: the IKpsk2 handshake between paired devices and the encrypted,
//! framed channel that follows.
//!
//! IK is the WireGuard shape: the initiator already knows the responder's static key, and
//! the responder learns the initiator's from the first message, checks it against the one
//! pinned at pairing, and drops a stranger before writing a single byte, so an unpaired
//! device learns nothing, not even the responder's key. The first message also carries a
//! timestamp; a responder refuses one not newer than the last it accepted, so a captured
//! handshake replayed gets no answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use haven_shared::wire::{chunks, encode_frame, FrameDecoder, Message, Reassembler, MAX_FRAME};

pub const IK_PARAMS: &str = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"haven/1 transport";
/// A handshake that takes longer than this is dropped (a stalled or malicious peer).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    #[error("timed out")]
    Timeout,
}

/// Reads one whole frame, whatever the stream's split.
pub async fn read_frame(
    stream: &mut TcpStream,
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

pub async fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> Result<(), ChannelError> {
    stream.write_all(&encode_frame(payload)?).await?;
    Ok(())
}

/// An established session: every message is chunked, encrypted and framed.
pub struct Channel {
    stream: TcpStream,
    noise: snow::TransportState,
    decoder: FrameDecoder,
    reassembler: Reassembler,
    /// Total bytes written to the socket (the benchmarks report them).
    pub bytes_sent: u64,
    /// The timestamp of the partner's first handshake message, on the answering side.
    pub handshake_stamp: Option<u64>,
}

impl Channel {
    pub fn new(stream: TcpStream, noise: snow::TransportState, decoder: FrameDecoder) -> Channel {
        Channel {
            stream,
            noise,
            decoder,
            reassembler: Reassembler::new(),
            bytes_sent: 0,
            handshake_stamp: None,
        }
    }

    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.stream.peer_addr().ok()
    }

    pub async fn send(&mut self, message: &Message) -> Result<(), ChannelError> {
        let encoded = Zeroizing::new(message.encode());
        let mut out = Vec::new();
        let mut sealed = vec![0u8; MAX_FRAME];
        for chunk in chunks(&encoded)? {
            let chunk = Zeroizing::new(chunk);
            let n = self.noise.write_message(&chunk, &mut sealed)?;
            out.extend_from_slice(&encode_frame(&sealed[..n])?);
        }
        self.stream.write_all(&out).await?;
        self.bytes_sent += out.len() as u64;
        Ok(())
    }

    /// The next message. Cancel-safe: bytes are taken from the socket only when a read
    /// completes, and decoded without awaiting.
    pub async fn recv(&mut self) -> Result<Message, ChannelError> {
        let mut buf = [0u8; 16 * 1024];
        let mut plain = Zeroizing::new(vec![0u8; MAX_FRAME]);
        loop {
            while let Some(frame) = self.decoder.next_frame()? {
                let n = self.noise.read_message(&frame, &mut plain)?;
                if let Some(message) = self.reassembler.push(&plain[..n])? {
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
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Dials side of the handshake.
pub async fn initiate(mut stream: TcpStream, keys: LinkKeys<'_>) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(keys.own_static)?
            .remote_public_key(keys.partner_public)?
            .psk(2, keys.psk)?
            .build_initiator()?;
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&now_nanos().to_be_bytes(), &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let mut decoder = FrameDecoder::new();
        let reply = read_frame(&mut stream, &mut decoder).await?;
        let mut payload = vec![0u8; MAX_FRAME];
        hs.read_message(&reply, &mut payload)?;
        Ok(Channel::new(stream, hs.into_transport_mode()?, decoder))
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}

/// Answers a handshake, only for the pinned partner and only with a fresh timestamp.
/// `last_accepted` holds the newest timestamp accepted so far.
pub async fn respond(
    mut stream: TcpStream,
    keys: LinkKeys<'_>,
    last_accepted: &AtomicU64,
) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut hs = snow::Builder::new(IK_PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(keys.own_static)?
            .psk(2, keys.psk)?
            .build_responder()?;
        let mut decoder = FrameDecoder::new();
        let first = read_frame(&mut stream, &mut decoder).await?;
        let mut payload = vec![0u8; MAX_FRAME];
        let n = hs.read_message(&first, &mut payload)?;
        if hs.get_remote_static() != Some(&keys.partner_public[..]) {
            return Err(ChannelError::UnknownPeer);
        }
        let stamp: [u8; 8] = payload[..n].try_into().map_err(|_| ChannelError::Replay)?;
        let stamp = u64::from_be_bytes(stamp);
        if last_accepted.fetch_max(stamp, Ordering::SeqCst) >= stamp {
            return Err(ChannelError::Replay);
        }
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&[], &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.handshake_stamp = Some(stamp);
        Ok(channel)
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}
