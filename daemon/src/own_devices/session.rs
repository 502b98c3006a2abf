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
    let (first, close) = first;
    let result = if close {
        // This device left: it only tells the other so.
        send_all(&mut channel, first).await
    } else {
        exchange(net, &mut channel, session, &device, first, until).await
    };
    let _ = net
        .core
        .send(CoreMsg::Device(DeviceOp::Closed { session }))
        .await;
    result
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
                let message = DeviceMessage::decode(&bytes).map_err(|e| e.to_string())?;
                match message {
                    DeviceMessage::Ping => {
                        send_all(channel, vec![DeviceMessage::Pong]).await?;
                        continue;
                    }
                    DeviceMessage::Pong => continue,
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
                if until_in_sync && in_sync {
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
