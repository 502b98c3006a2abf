//! One live connection with the partner: a hello, then the automerge sync protocol on the
//! couple document until either side goes away.
//!
//! The session never touches a document itself: it asks the core thread for the next sync
//! message and hands it what arrives, so the couple document has one owner and the journal
//! is out of reach by construction. A local change wakes the session at once (no timer);
//! a ping every 15 s keeps a quiet link honest and 45 s of silence ends it.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

use haven_shared::crypto::pq;
use haven_shared::wire::Message;

use super::noise::{Channel, ChannelError};
use super::Net;
use crate::contract::{ask, Link, PeerOp};

/// 2: agreements as signed items (consent v2); a laptop still on 1 is told to update.
/// 3: after the hellos, chunks padded to size buckets and keys that change every 2
/// minutes (`noise::RekeyPolicy`); a laptop on 2 is told to update, as before.
const PROTOCOL: u16 = 3;
const PING_EVERY: Duration = Duration::from_secs(15);
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// Why a session ended, for the log.
enum End {
    Closed(&'static str),
    Error(String),
    /// The partner speaks another peer protocol: shown under `haven partner` too.
    Outdated(String),
}

pub async fn run(
    net: Arc<Net>,
    mut channel: Channel,
    id: u64,
    partner_key: [u8; 32],
    dialled: Option<String>,
    mut cancel: oneshot::Receiver<()>,
) {
    let address = channel
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|| "through iroh".into());
    let handshake = if channel.opened_epoch == 0 {
        "X25519 and the pairing's key"
    } else {
        "post-quantum epoch"
    };
    tracing::info!(%address, handshake, "connected to the partner");
    let end = drive(&net, &mut channel, id, dialled, partner_key, &mut cancel).await;
    match &end {
        End::Closed(why) => {
            tracing::info!(%address, why, sent_bytes = channel.bytes_sent, rekeys_sent = channel.rekeys_sent, rekeys_received = channel.rekeys_received, "disconnected from the partner")
        }
        End::Error(e) | End::Outdated(e) => {
            tracing::warn!(%address, error = %e, sent_bytes = channel.bytes_sent, rekeys_sent = channel.rekeys_sent, rekeys_received = channel.rekeys_received, "dropped the connection with the partner")
        }
    }
    net.registry_leave(id);
    let _ = net
        .core
        .send(crate::contract::CoreMsg::Peer(PeerOp::Disconnected))
        .await;
}

fn err(e: ChannelError) -> End {
    match e {
        ChannelError::Closed => End::Closed("the partner closed the connection"),
        other => End::Error(other.to_string()),
    }
}

/// The first message each way: the peer protocol's version.
async fn hello(channel: &mut Channel) -> Result<(), End> {
    channel
        .send(&Message::Hello { version: PROTOCOL })
        .await
        .map_err(err)?;
    match tokio::time::timeout(Duration::from_secs(10), channel.recv()).await {
        Ok(Ok(Message::Hello { version })) if version == PROTOCOL => {
            channel.start_padding_and_rekeying();
            Ok(())
        }
        Ok(Ok(Message::Hello { version })) => Err(End::Outdated(format!(
            "the partner's laptop speaks peer protocol {version} and this one {PROTOCOL}: update Haven on both laptops"
        ))),
        Ok(Ok(_)) => Err(End::Error("the partner did not start with a hello".into())),
        Ok(Err(e)) => Err(err(e)),
        Err(_) => Err(End::Error("no hello within 10 s".into())),
    }
}

/// The hellos, then the core is told: what a session does before its post-quantum
/// exchange. The handshake's timestamp is kept from here on (replay protection), also if
/// the exchange fails.
async fn open(
    net: &Net,
    channel: &mut Channel,
    id: u64,
    dialled: Option<String>,
) -> Result<(), End> {
    match hello(channel).await {
        Err(End::Outdated(why)) => {
            net.set_hello_problem(Some(why.clone()));
            return Err(End::Error(why));
        }
        Err(end) => return Err(end),
        Ok(()) => net.set_hello_problem(None),
    }
    let handshake_stamp = channel.handshake_stamp;
    if !ask(&net.core, |reply| PeerOp::Connected {
        session: id,
        dialled,
        handshake_stamp,
        reply,
    })
    .await
    .unwrap_or(false)
    {
        return Err(End::Closed("no longer paired"));
    }
    post_quantum(net, channel).await
}

/// The post-quantum exchange (`haven_shared::crypto::pq`), before anything of the couple
/// document moves: the side that dialled offers an ML-KEM key, the other answers; both
/// switch to keys derived from the shared secret and keep a secret for the next
/// handshakes.
async fn post_quantum(net: &Net, channel: &mut Channel) -> Result<(), End> {
    let opened = channel.opened_epoch;
    let wait = Duration::from_secs(10);
    let ss = if channel.initiator {
        let (offer, key) = pq::offer();
        channel
            .send(&Message::PqOffer { epoch: opened, key })
            .await
            .map_err(err)?;
        match tokio::time::timeout(wait, channel.recv()).await {
            Ok(Ok(Message::PqReply { epoch, ciphertext })) => pq::finish(&offer, &ciphertext)
                .filter(|ss| pq::epoch_of(ss) == epoch)
                .ok_or_else(|| {
                    End::Error("a post-quantum reply that does not answer our offer".into())
                })?,
            Ok(Ok(_)) => {
                return Err(End::Error(
                    "the partner did not answer the post-quantum offer".into(),
                ))
            }
            Ok(Err(e)) => return Err(err(e)),
            Err(_) => return Err(End::Error("no post-quantum reply within 10 s".into())),
        }
    } else {
        match tokio::time::timeout(wait, channel.recv()).await {
            Ok(Ok(Message::PqOffer { epoch, key })) if epoch == opened => {
                let (ciphertext, ss) = pq::answer(&key).ok_or_else(|| {
                    End::Error("a post-quantum offer whose key is not one".into())
                })?;
                let epoch = pq::epoch_of(&ss);
                channel
                    .send(&Message::PqReply { epoch, ciphertext })
                    .await
                    .map_err(err)?;
                ss
            }
            Ok(Ok(Message::PqOffer { .. })) => {
                return Err(End::Error(
                    "a post-quantum offer for an epoch the handshake did not name".into(),
                ))
            }
            Ok(Ok(_)) => {
                return Err(End::Error(
                    "the partner did not start the post-quantum exchange".into(),
                ))
            }
            Ok(Err(e)) => return Err(err(e)),
            Err(_) => return Err(End::Error("no post-quantum offer within 10 s".into())),
        }
    };
    channel.switch_to_post_quantum(&ss).await.map_err(err)?;
    // Kept for the next handshakes; a failure to keep it costs only that the next one
    // names the epoch before.
    if ask(&net.core, |reply| PeerOp::PqSecret {
        opened,
        ss: ss.clone(),
        reply,
    })
    .await
        != Some(true)
    {
        tracing::warn!("the post-quantum secret of this session was not kept");
    }
    Ok(())
}

/// One message from the partner. `Ok(true)`: something was merged, so there may be
/// something to send back.
async fn take(
    net: &Net,
    channel: &mut Channel,
    id: u64,
    received: Result<Message, ChannelError>,
) -> Result<bool, End> {
    match received {
        // The partner's switch flag comes before its first sync message: nothing of the
        // couple document is taken under X25519 alone.
        Ok(Message::Sync(_)) if !channel.post_quantum => Err(End::Error(
            "a sync message before the partner's post-quantum switch".into(),
        )),
        Ok(Message::Sync(bytes)) => {
            net.mark_post_quantum(id);
            match ask(&net.core, |reply| PeerOp::Receive(id, bytes, reply)).await {
                Some(Ok(())) => Ok(true),
                Some(Err(e)) => Err(End::Error(format!("a bad sync message: {e}"))),
                // The core dropped the reply: stopping, or it failed on this message (and
                // said so in the log).
                None => Err(End::Closed("the daemon did not take the message")),
            }
        }
        Ok(Message::Ping) => channel
            .send(&Message::Pong)
            .await
            .map(|_| false)
            .map_err(err),
        Ok(Message::Pong) => Ok(false),
        Ok(Message::Bye) => Err(End::Closed("the partner said goodbye")),
        Ok(Message::Unpaired) => {
            let _ = net
                .core
                .send(crate::contract::CoreMsg::Peer(PeerOp::PartnerLeft))
                .await;
            Err(End::Closed("the partner unpaired"))
        }
        Ok(Message::Hello { .. }) => Err(End::Error("a second hello".into())),
        Ok(Message::PqOffer { .. } | Message::PqReply { .. }) => Err(End::Error(
            "a second post-quantum exchange in one session".into(),
        )),
        Err(e) => Err(err(e)),
    }
}

/// The core's link changed: the session goes on only while paired with this partner;
/// it says why it ends to the partner on its way out.
async fn follow_link(channel: &mut Channel, now: Link, partner_key: &[u8; 32]) -> Option<End> {
    match now {
        Link::Paired(p) if p.partner_public == *partner_key => None,
        Link::Unpaired(_) => {
            let _ = channel.send(&Message::Unpaired).await;
            Some(End::Closed("we unpaired"))
        }
        _ => {
            let _ = channel.send(&Message::Bye).await;
            Some(End::Closed("locked or stopping"))
        }
    }
}

async fn drive(
    net: &Net,
    channel: &mut Channel,
    id: u64,
    dialled: Option<String>,
    partner_key: [u8; 32],
    cancel: &mut oneshot::Receiver<()>,
) -> End {
    if let Err(end) = open(net, channel, id, dialled).await {
        return end;
    }
    let mut link = net.link.clone();
    let mut changed = net.changed.clone();
    changed.borrow_and_update();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let mut generate = true;
    loop {
        if generate {
            generate = false;
            match ask(&net.core, |reply| PeerOp::Generate(id, reply)).await {
                Some(Some(bytes)) => {
                    if let Err(e) = channel.send(&Message::Sync(bytes)).await {
                        return err(e);
                    }
                }
                Some(None) => {}
                None => return End::Closed("the daemon is stopping"),
            }
        }
        tokio::select! {
            received = channel.recv() => {
                last_heard = Instant::now();
                match take(net, channel, id, received).await {
                    Ok(more) => generate |= more,
                    Err(end) => return end,
                }
            }
            r = changed.changed() => {
                if r.is_err() {
                    return End::Closed("the daemon is stopping");
                }
                generate = true;
            }
            r = link.changed() => {
                let now = if r.is_err() { Link::Off } else { link.borrow_and_update().clone() };
                if let Some(end) = follow_link(channel, now, &partner_key).await {
                    return end;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_LIMIT {
                    return End::Error(format!("nothing heard for {} s", IDLE_LIMIT.as_secs()));
                }
                if let Err(e) = channel.send(&Message::Ping).await {
                    return err(e);
                }
            }
            _ = &mut *cancel => return End::Closed("a duplicate connection"),
        }
    }
}
