//! The Noise handshake between two of the person's devices: `IKpsk2`, as with the partner
//! (the answering device never reveals its key to a caller it does not know), keyed by the
//! secret the person's devices share, with a prologue of its own so that nothing of the
//! partner's transport can be replayed here. The caller's first payload carries a
//! timestamp (a replayed handshake is refused) and the port it listens on.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio::net::TcpStream;

use haven_shared::wire::{FrameDecoder, MAX_FRAME};

use crate::contract::OwnLink;
use crate::peer::noise::{
    read_frame, write_frame, Channel, ChannelError, HANDSHAKE_TIMEOUT, MAX_CLOCK_AHEAD,
};

const PARAMS: &str = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"haven/1 own devices";
/// The timestamp and the port.
const PAYLOAD: usize = 8 + 2;

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Calls the device with Noise key `to`.
pub async fn initiate(
    mut stream: TcpStream,
    link: &OwnLink,
    to: &[u8; 32],
    listen_port: u16,
) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut hs = snow::Builder::new(PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(&link.own_static[..])?
            .remote_public_key(to)?
            .psk(2, link.psk.bytes())?
            .build_initiator()?;
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(&now_nanos().to_be_bytes());
        payload[8..].copy_from_slice(&listen_port.to_be_bytes());
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&payload, &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let mut decoder = FrameDecoder::new();
        let answer = read_frame(&mut stream, &mut decoder).await?;
        hs.read_message(&answer, &mut buf)?;
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.start_padding_and_rekeying();
        Ok(channel)
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}

/// Answers a call, only from a device in `link` and only with a fresh timestamp. Returns
/// the channel, the caller's Noise key and the port it listens on.
pub async fn respond(
    mut stream: TcpStream,
    link: &OwnLink,
    stamps: &Mutex<HashMap<[u8; 32], u64>>,
) -> Result<(Channel, [u8; 32], u16), ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let mut decoder = FrameDecoder::new();
        let first = read_frame(&mut stream, &mut decoder).await?;
        let mut hs = snow::Builder::new(PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(&link.own_static[..])?
            .psk(2, link.psk.bytes())?
            .build_responder()?;
        let mut payload = vec![0u8; MAX_FRAME];
        let n = hs.read_message(&first, &mut payload)?;
        let caller: [u8; 32] = hs
            .get_remote_static()
            .and_then(|k| k.try_into().ok())
            .ok_or(ChannelError::UnknownPeer)?;
        if !link.others.iter().any(|d| d.noise_public == caller) {
            return Err(ChannelError::UnknownPeer);
        }
        if n != PAYLOAD {
            return Err(ChannelError::Replay);
        }
        let stamp = u64::from_be_bytes(payload[..8].try_into().map_err(|_| ChannelError::Replay)?);
        let port = u16::from_be_bytes([payload[8], payload[9]]);
        let ahead = u64::try_from(MAX_CLOCK_AHEAD.as_nanos()).unwrap_or(u64::MAX);
        if stamp > now_nanos().saturating_add(ahead) {
            return Err(ChannelError::ClockAhead);
        }
        {
            let mut stamps = stamps.lock().map_err(|_| ChannelError::Replay)?;
            let last = stamps.entry(caller).or_insert(0);
            if *last >= stamp {
                return Err(ChannelError::Replay);
            }
            *last = stamp;
        }
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&[], &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.start_padding_and_rekeying();
        Ok((channel, caller, port))
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}
