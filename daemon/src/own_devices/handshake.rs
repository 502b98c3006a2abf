//! The Noise handshake between two of the person's devices: `IKpsk2`, as with the partner
//! (the answering device never reveals its key to a caller it does not know), keyed by the
//! secret the person's devices share, with a prologue of its own so that nothing of the
//! partner's transport can be replayed here. The caller's first payload carries a
//! timestamp (a replayed handshake is refused), the port it listens on, and which
//! generation of the devices' secret it keys the handshake with: the PSK enters only the
//! answer, so the answering device reads the caller's key and generation first, and a
//! device that was away when the secret was replaced (a revocation) is still answered,
//! then given the new one in session.

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
/// The timestamp, the port and the secret's generation.
const PAYLOAD: usize = 8 + 2 + 4;

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Calls the device with Noise key `to`, keyed by the secret `link.psks[nth]` (the
/// current one first; an older one for a device that was away when it was replaced).
pub async fn initiate(
    mut stream: TcpStream,
    link: &OwnLink,
    to: &[u8; 32],
    listen_port: u16,
    nth: usize,
) -> Result<Channel, ChannelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async move {
        let (generation, psk) = link.psks.get(nth).ok_or(ChannelError::UnknownEpoch)?;
        let mut hs = snow::Builder::new(PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(&link.own_static[..])?
            .remote_public_key(to)?
            .psk(2, psk.bytes())?
            .build_initiator()?;
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(&now_nanos().to_be_bytes());
        payload[8..10].copy_from_slice(&listen_port.to_be_bytes());
        payload[10..].copy_from_slice(&generation.to_be_bytes());
        let mut buf = vec![0u8; MAX_FRAME];
        let n = hs.write_message(&payload, &mut buf)?;
        write_frame(&mut stream, &buf[..n]).await?;
        let mut decoder = FrameDecoder::new();
        let answer = read_frame(&mut stream, &mut decoder).await?;
        hs.read_message(&answer, &mut buf)?;
        let hash = hs.get_handshake_hash().to_vec();
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.set_handshake(true, hash);
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
        let (_, current) = link.psks.first().ok_or(ChannelError::UnknownEpoch)?;
        let mut hs = snow::Builder::new(PARAMS.parse()?)
            .prologue(PROLOGUE)?
            .local_private_key(&link.own_static[..])?
            .psk(2, current.bytes())?
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
        let generation = u32::from_be_bytes([payload[10], payload[11], payload[12], payload[13]]);
        let (_, psk) = link
            .psks
            .iter()
            .find(|(g, _)| *g == generation)
            .ok_or(ChannelError::UnknownEpoch)?;
        hs.set_psk(2, psk.bytes())?;
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
        let hash = hs.get_handshake_hash().to_vec();
        let mut channel = Channel::new(stream, hs.into_transport_mode()?, decoder);
        channel.set_handshake(false, hash);
        channel.start_padding_and_rekeying();
        Ok((channel, caller, port))
    })
    .await
    .map_err(|_| ChannelError::Timeout)?
}
