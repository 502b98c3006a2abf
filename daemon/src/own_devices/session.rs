//! One session with another of the person's devices: the journal's messages
//! (`haven_shared::devices::journal_sync`) both ways, and each change made here pushed at
//! once. The session never touches the journal: it hands what arrives to the core and
//! sends what the core answers.

use std::time::Duration;
use tokio::sync::oneshot;

use haven_shared::devices::journal_sync::DeviceMessage;

use super::OwnNet;
use crate::contract::{ask_core, CoreMsg, DeviceOp, DevicesLink};
use crate::peer::noise::Channel;

/// How long the first sync of a new device may take (a long journal on a slow network).
pub const FIRST_SYNC: Duration = Duration::from_secs(600);
/// A quiet session pings this often, and ends when nothing arrived for [`QUIET`]: a device
/// whose cable was pulled is not shown "on the LAN" (or "in sync") for long.
const PING: Duration = Duration::from_secs(15);
const QUIET: Duration = Duration::from_secs(45);

/// How a session ends: when cancelled (another session took over, or the device is no
/// longer linked), or once the two hold the same journal (the link's first sync).
pub enum Until {
    Cancelled(oneshot::Receiver<()>),
    InSync,
}

async fn send_all(channel: &mut Channel, messages: Vec<DeviceMessage>) -> Result<(), String> {
    for m in messages {
        channel
            .send_bytes(&m.encode())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The next message, within 10 s.
async fn next_within(channel: &mut Channel) -> Result<DeviceMessage, String> {
    let bytes = tokio::time::timeout(Duration::from_secs(10), channel.recv_bytes())
        .await
        .map_err(|_| "no post-quantum message within 10 s".to_string())?
        .map_err(|e| e.to_string())?;
    DeviceMessage::decode(&bytes).map_err(|e| e.to_string())
}

/// The post-quantum exchange, first in a live session: the device that called offers an
/// ML-KEM-768 key, the other answers; both switch to keys derived from the shared secret
/// and bound to the handshake, so what a recorder keeps today stays closed to a quantum
/// computer later (the partner's sessions do the same, `peer::session`).
pub async fn post_quantum(channel: &mut Channel) -> Result<(), String> {
    use haven_shared::crypto::pq;
    let ss = if channel.initiator {
        let (offer, key) = pq::offer();
        let key = hex::encode(key);
        send_all(channel, vec![DeviceMessage::PqOffer { key }]).await?;
        match next_within(channel).await? {
            DeviceMessage::PqReply { ciphertext } => hex::decode(ciphertext)
                .ok()
                .and_then(|ct| pq::finish(&offer, &ct))
                .ok_or("a post-quantum reply that does not answer the offer")?,
            _ => return Err("the other device did not answer the post-quantum offer".into()),
        }
    } else {
        match next_within(channel).await? {
            DeviceMessage::PqOffer { key } => {
                let (ciphertext, ss) = hex::decode(key)
                    .ok()
                    .and_then(|k| pq::answer(&k))
                    .ok_or("a post-quantum offer whose key is not one")?;
                let ciphertext = hex::encode(ciphertext);
                send_all(channel, vec![DeviceMessage::PqReply { ciphertext }]).await?;
                ss
            }
            _ => return Err("the other device did not start the post-quantum exchange".into()),
        }
    };
    channel
        .switch_to_post_quantum(&ss)
        .await
        .map_err(|e| e.to_string())
}

/// Runs the session with `device` (its id); `address` is where it listens, to dial later.
pub async fn run(
    net: &OwnNet,
    mut channel: Channel,
    device: String,
    address: Option<String>,
    until: Until,
) -> Result<(), String> {
    let session = net.session_id();
    let first = ask_core(&net.core, |reply| DeviceOp::Opened {
        session,
        device: device.clone(),
        address,
        reply,
    })
    .await
    .flatten()
    .ok_or("that device is not one of this person's")?;
    let (mut first, close) = first;
    if matches!(until, Until::InSync) {
        // The link's first sync is the journal's alone, and ends the moment the journals
        // match: couple messages or marks still on their way then would be cut off, and
        // the cut connection would fail the link. Both follow in the next session.
        for m in &mut first {
            if let DeviceMessage::Hello { couple, marks, .. } = m {
                (*couple, *marks) = (false, false);
            }
        }
    }
    let result = if close {
        tell_left(net, &mut channel, &device, first).await
    } else {
        exchange(net, &mut channel, session, &device, first, until).await
    };
    let _ = net
        .core
        .send(CoreMsg::Device(DeviceOp::Closed { session }))
        .await;
    result
}

/// This device left: it only tells the other so, and counts it told once the other
/// answers that it took the list (closing before that could lose the list: a socket
/// closed with the other's messages unread is reset, and the reset drops what was sent).
async fn tell_left(
    net: &OwnNet,
    channel: &mut Channel,
    device: &str,
    list: Vec<DeviceMessage>,
) -> Result<(), String> {
    // The other answers with the version it holds: this one's, unless it holds a newer
    // list (one that does not say this device left), and then it was not told.
    let sent = list.iter().find_map(|m| match m {
        DeviceMessage::List { list } => list.open().ok().map(|l| l.version),
        _ => None,
    });
    send_all(channel, list).await?;
    let answer = async {
        loop {
            let bytes = channel.recv_bytes().await.map_err(|e| e.to_string())?;
            if let Ok(DeviceMessage::ListTaken { version }) = DeviceMessage::decode(&bytes) {
                return if Some(version) == sent {
                    Ok(())
                } else {
                    Err(format!(
                        "the other device holds list version {version}, not this one's"
                    ))
                };
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .map_err(|_| "the other device did not answer that it took the list".to_string())??;
    let device = device.to_string();
    let _ = net
        .core
        .send(CoreMsg::Device(DeviceOp::Told { device }))
        .await;
    Ok(())
}

/// One message from the other device: a ping answered here, anything else handed to the
/// core and its answers sent. True once the two hold the same journal.
async fn handle(
    net: &OwnNet,
    channel: &mut Channel,
    session: u64,
    bytes: &[u8],
) -> Result<bool, String> {
    let message = DeviceMessage::decode(bytes).map_err(|e| e.to_string())?;
    match message {
        DeviceMessage::Ping => {
            send_all(channel, vec![DeviceMessage::Pong]).await?;
            return Ok(false);
        }
        DeviceMessage::Pong => return Ok(false),
        _ => {}
    }
    let (replies, in_sync) = ask_core(&net.core, |reply| DeviceOp::Received {
        session,
        message: Box::new(message),
        reply,
    })
    .await
    .ok_or("the daemon is stopping")??;
    send_all(channel, replies).await?;
    Ok(in_sync)
}

async fn exchange(
    net: &OwnNet,
    channel: &mut Channel,
    session: u64,
    device: &str,
    first: Vec<DeviceMessage>,
    until: Until,
) -> Result<(), String> {
    send_all(channel, first).await?;
    let mut changed = net.journal_changed.clone();
    changed.borrow_and_update();
    let mut link = net.link.clone();
    let (mut cancel, until_in_sync) = match until {
        Until::Cancelled(rx) => (Some(rx), false),
        Until::InSync => (None, true),
    };
    let mut ping = tokio::time::interval(PING);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    let mut said_post_quantum = false;
    loop {
        let cancelled = async {
            match &mut cancel {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            bytes = channel.recv_bytes() => {
                let bytes = bytes.map_err(|e| e.to_string())?;
                heard = tokio::time::Instant::now();
                if channel.post_quantum && !said_post_quantum {
                    // Both sides switched once the other's switch has been read.
                    said_post_quantum = true;
                    tracing::info!(%device, "the session with a device runs on post-quantum keys");
                }
                if handle(net, channel, session, &bytes).await? && until_in_sync {
                    return Ok(());
                }
            }
            Ok(()) = changed.changed() => {
                let replies = ask_core(&net.core, |reply| DeviceOp::Push { session, reply })
                    .await
                    .unwrap_or_default();
                send_all(channel, replies).await?;
            }
            Ok(()) = link.changed() => {
                let still = match &*link.borrow_and_update() {
                    DevicesLink::On(l) => l.others.iter().any(|d| d.id == device),
                    DevicesLink::Off => false,
                };
                if !still && !until_in_sync {
                    return Ok(());
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() >= QUIET {
                    return Err("the other device went quiet".into());
                }
                send_all(channel, vec![DeviceMessage::Ping]).await?;
            }
            () = cancelled => return Ok(()),
        }
    }
}
