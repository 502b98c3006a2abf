//! Keeping the link up: listening for the partner for the daemon's whole life, and
//! while paired, advertising, browsing and dialling the partner's candidate addresses
//! (see `candidates`) side by side, with backoff.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::admission::Ticket;
use super::candidates::Candidates;
use super::noise::{self, LinkKeys};
use super::{discovery, Net};
use crate::contract::CoreMsg;
use crate::contract::{Link, PairedLink, PeerOp};

/// How often the listener checks whether the laptop moved to another network.
pub const NETWORK_CHECK: Duration = Duration::from_secs(5);

/// Listens for the partner for the daemon's whole life; refuses everyone while locked or
/// unpaired, and any key but the partner's.
///
/// On a new network (the interface's IPv4 addresses change) it moves to a new random port,
/// so a port seen at a café and one seen at home cannot link the rotating names; the
/// advertisement follows, and the partner finds the new port on mDNS. A port fixed with
/// `--listen` stays.
pub async fn accept_loop(net: Arc<Net>, mut listener: TcpListener) {
    let quiet = &net.admission.quiet;
    let mut networks = discovery::LocalNets::read(net.mdns_interface.as_deref());
    let mut check = tokio::time::interval(NETWORK_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = check.tick() => {
                follow_network(&net, &mut networks, &mut listener).await;
                continue;
            }
        };
        let (stream, addr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors under a flood: wait for some to close.
                if quiet.allow().is_some() {
                    tracing::warn!(error = %e, "accepting a peer connection failed");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Dropping the stream closes it: nothing is sent to a connection that gets no slot.
        let Some(ticket) = net.admission.admit(addr.ip()) else {
            quiet.refused(addr, &"too many handshakes at once");
            continue;
        };
        answer(&net, stream, addr, ticket);
    }
}

/// On every tick: a LAN session with a partner no longer on our networks is gone, ended
/// now rather than after 45 s of silence, so iroh takes over. Checked on every tick, not
/// only on a change: a cable plugged in and pulled again between two ticks leaves the
/// networks as they were, and the session made meanwhile would be missed. On a new
/// network the listener moves to a new port.
async fn follow_network(
    net: &Net,
    networks: &mut discovery::LocalNets,
    listener: &mut TcpListener,
) {
    let now = discovery::LocalNets::read(net.mdns_interface.as_deref());
    net.end_lan_session_off(&now);
    if now != *networks && !net.fixed_port {
        match TcpListener::bind((net.listen_ip, 0)).await {
            Ok(moved) => {
                *listener = moved;
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                net.port.send_replace(port);
                tracing::info!(
                    port,
                    "the network changed: listening for the partner on a new port"
                );
            }
            Err(e) => tracing::warn!(
                error = %e,
                "the network changed, but no new port could be opened; keeping the old one"
            ),
        }
    }
    *networks = now;
}

/// One admitted connection: the partner's handshake while paired, the farewell to a
/// former partner after an unpair, nothing otherwise (the stream is dropped).
fn answer(net: &Arc<Net>, stream: TcpStream, addr: SocketAddr, mut ticket: Ticket) {
    let link = net.link.borrow().clone();
    let p = match link {
        Link::Paired(p) => p,
        Link::Unpaired(Some(f)) => {
            let net = net.clone();
            tokio::spawn(async move {
                match noise::farewell(
                    stream,
                    &f.own_static,
                    &f.own_public,
                    &f.former,
                    &f.pairing,
                    &f.signing,
                    &mut ticket,
                )
                .await
                {
                    Ok(()) => tracing::info!(%addr, "told the former partner it was unpaired"),
                    Err(e) => net.admission.quiet.refused(addr, &e),
                }
            });
            return;
        }
        _ => {
            tracing::debug!(%addr, "refused a connection: not paired or locked");
            return;
        }
    };
    let net = net.clone();
    tokio::spawn(async move {
        let mut ticket = ticket;
        let pq = net.pq_secrets();
        let keys = LinkKeys {
            own_static: &p.own_static,
            partner_public: &p.partner_public,
            psk: p.psk.bytes(),
            pq: pq.as_ref(),
        };
        net.last_handshake
            .fetch_max(p.last_handshake, Ordering::SeqCst);
        let result = noise::respond(stream, keys, &net.last_handshake, Some(&mut ticket)).await;
        // The slot is for the handshake only; a session lives outside the cap.
        drop(ticket);
        match result {
            Ok(channel) => {
                let callback = channel.callback.clone();
                net.start_session(
                    channel,
                    p.partner_public,
                    p.partner_public,
                    callback,
                    super::Via::Lan,
                    addr.to_string(),
                )
            }
            Err(e) => net.admission.quiet.refused(addr, &e),
        }
    });
}

/// Follows the core's [`Link`]: advertises, browses and dials while paired and unlocked.
pub async fn keep_linked(net: Arc<Net>) {
    let mut link = net.link.clone();
    loop {
        let current = link.borrow_and_update().clone();
        let work = async {
            match current {
                Link::Off => std::future::pending::<()>().await,
                Link::Unpaired(_) => {
                    let mut port = net.port_changes();
                    loop {
                        let _advert = net.mdns.as_ref().and_then(|m| {
                            discovery::advertise_unpaired(m, *port.borrow_and_update()).ok()
                        });
                        if port.changed().await.is_err() {
                            std::future::pending::<()>().await
                        }
                    }
                }
                Link::Paired(p) => stay_connected(&net, p).await,
            }
        };
        tokio::select! {
            _ = work => {}
            r = link.changed() => if r.is_err() { return },
        }
    }
}

pub const DIAL_TIMEOUT: Duration = Duration::from_secs(3);

async fn stay_connected(net: &Arc<Net>, p: Arc<PairedLink>) {
    let (found_tx, mut found_rx) = mpsc::channel::<SocketAddr>(16);
    let discovery = async {
        match &net.mdns {
            Some(mdns) => discovery::run(mdns.clone(), net, &p, found_tx).await,
            None => std::future::pending().await,
        }
    };
    let dialer = async {
        let mut candidates = Candidates::new(p.dial.iter().cloned(), Instant::now());
        let mut dials: JoinSet<anyhow::Result<noise::Channel>> = JoinSet::new();
        let mut dialling: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                Some(addr) = found_rx.recv() => candidates.heard(addr.to_string(), Instant::now()),
                Some(done) = dials.join_next_with_id() => {
                    let (id, result) = match done {
                        Ok((id, result)) => (id, result),
                        Err(e) => (e.id(), Err(anyhow::anyhow!("the dial failed: {e}"))),
                    };
                    let Some(addr) = dialling.remove(&id) else { continue };
                    match result {
                        Ok(channel) => {
                            candidates.finished(&addr, true, Instant::now());
                            if net.connected_on_lan() {
                                tracing::debug!(%addr, "already connected: closed the extra connection");
                            } else {
                                let peer = channel.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                                net.start_session(channel, p.own_public, p.partner_public, Some(addr), super::Via::Lan, peer);
                            }
                        }
                        Err(e) => {
                            tracing::debug!(%addr, error = %e, "could not reach the partner");
                            candidates.finished(&addr, false, Instant::now());
                        }
                    }
                }
                _ = tick.tick() => {}
            }
            // Through iroh, the LAN is still worth finding: it replaces that session.
            if net.connected_on_lan() {
                continue;
            }
            for addr in candidates.due(Instant::now(), dials.len()) {
                let (net, p) = (net.clone(), p.clone());
                let task = dials.spawn({
                    let addr = addr.clone();
                    async move { dial(&net, &p, &addr).await }
                });
                dialling.insert(task.id(), addr);
            }
        }
    };
    tokio::join!(discovery, dialer);
}

/// Connects and runs the handshake; the caller decides whether to start a session.
async fn dial(net: &Arc<Net>, p: &PairedLink, addr: &str) -> anyhow::Result<noise::Channel> {
    let stream = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await??;
    let form = net.dial_form();
    let pq = net.pq_for_dialling(form);
    let keys = LinkKeys {
        own_static: &p.own_static,
        partner_public: &p.partner_public,
        psk: p.psk.bytes(),
        pq: pq.as_ref(),
    };
    // The partner answers at once; an address that accepts and then stalls is not it.
    let answered = tokio::time::timeout(
        DIAL_TIMEOUT,
        noise::initiate(stream, keys, net.port(), form.first_frame()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no answer to the handshake"));
    if !matches!(
        answered,
        Ok(Ok(_)) | Ok(Err(noise::ChannelError::Farewell(_)))
    ) {
        net.dial_unanswered(form);
    }
    let answered = answered?;
    match answered {
        Err(noise::ChannelError::Farewell(frame)) => {
            let statement = noise::farewell_statement(&p.own_public, &p.partner_public, &p.pairing);
            let signed = noise::farewell_is_signed(&frame, &statement, &p.partner_signing);
            if signed {
                tracing::info!(%addr, "the partner unpaired while we were apart");
                let _ = net.core.send(CoreMsg::Peer(PeerOp::PartnerLeft)).await;
            }
            anyhow::bail!(
                "a farewell{}",
                if signed { "" } else { " with a bad signature" }
            );
        }
        other => Ok(other?),
    }
}
