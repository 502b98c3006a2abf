//! Keeping the link up: listening for the partner for the daemon's whole life, and
//! while paired, advertising, browsing and dialling the known addresses with backoff.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::noise::{self, LinkKeys};
use super::{discovery, Link, Net, PairedLink, PeerOp};
use crate::service::core::CoreMsg;

/// Listens for the partner for the daemon's whole life; refuses everyone while locked or
/// unpaired, and any key but the partner's.
pub async fn accept_loop(net: Arc<Net>, listener: TcpListener) {
    let quiet = &net.admission.quiet;
    loop {
        let (stream, addr) = match listener.accept().await {
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
        let link = net.link.borrow().clone();
        let p = match link {
            Link::Paired(p) => p,
            Link::Unpaired(Some(f)) => {
                let net = net.clone();
                tokio::spawn(async move {
                    let _ticket = ticket;
                    match noise::farewell(
                        stream,
                        &f.own_static,
                        &f.own_public,
                        &f.former,
                        &f.signing,
                    )
                    .await
                    {
                        Ok(()) => tracing::info!(%addr, "told the former partner it was unpaired"),
                        Err(e) => net.admission.quiet.refused(addr, &e),
                    }
                });
                continue;
            }
            _ => {
                tracing::debug!(%addr, "refused a connection: not paired or locked");
                continue;
            }
        };
        let net = net.clone();
        tokio::spawn(async move {
            let ticket = ticket;
            let keys = LinkKeys {
                own_static: &p.own_static,
                partner_public: &p.partner_public,
                psk: p.psk.bytes(),
            };
            net.last_handshake
                .fetch_max(p.last_handshake, Ordering::SeqCst);
            let result = noise::respond(stream, keys, &net.last_handshake).await;
            // The slot is for the handshake only; a session lives outside the cap.
            drop(ticket);
            match result {
                Ok(channel) => {
                    let callback = channel.callback.clone();
                    net.start_session(channel, p.partner_public, p.partner_public, callback)
                }
                Err(e) => net.admission.quiet.refused(addr, &e),
            }
        });
    }
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
                    let _advert = net
                        .mdns
                        .as_ref()
                        .and_then(|m| discovery::advertise_unpaired(m, net.port).ok());
                    std::future::pending::<()>().await
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

/// One address to dial, with its backoff.
struct Candidate {
    addr: String,
    next_try: Instant,
    backoff: Duration,
}

pub const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

async fn stay_connected(net: &Arc<Net>, p: Arc<PairedLink>) {
    let (found_tx, mut found_rx) = mpsc::channel::<SocketAddr>(16);
    let discovery = async {
        match &net.mdns {
            Some(mdns) => {
                let probe = net.clone();
                discovery::run(
                    mdns.clone(),
                    *p.discovery.bytes(),
                    p.own_public,
                    p.partner_public,
                    net.port,
                    found_tx,
                    move || probe.connected(),
                )
                .await
            }
            None => std::future::pending().await,
        }
    };
    let dialer = async {
        let now = Instant::now();
        let mut candidates: Vec<Candidate> = p
            .dial
            .iter()
            .map(|addr| Candidate {
                addr: addr.clone(),
                next_try: now,
                backoff: Duration::from_secs(1),
            })
            .collect();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                Some(addr) = found_rx.recv() => {
                    let addr = addr.to_string();
                    match candidates.iter_mut().find(|c| c.addr == addr) {
                        Some(c) => { c.next_try = Instant::now(); c.backoff = Duration::from_secs(1); }
                        None => candidates.push(Candidate { addr, next_try: Instant::now(), backoff: Duration::from_secs(1) }),
                    }
                }
                _ = tick.tick() => {}
            }
            if net.connected() {
                continue;
            }
            let now = Instant::now();
            for c in candidates.iter_mut().filter(|c| c.next_try <= now) {
                match dial(net, &p, &c.addr).await {
                    Ok(()) => {
                        c.backoff = Duration::from_secs(1);
                        c.next_try = now;
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(addr = %c.addr, error = %e, "could not reach the partner");
                        c.next_try = Instant::now() + c.backoff;
                        c.backoff = (c.backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    };
    tokio::join!(discovery, dialer);
}

async fn dial(net: &Arc<Net>, p: &PairedLink, addr: &str) -> anyhow::Result<()> {
    let stream = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await??;
    let keys = LinkKeys {
        own_static: &p.own_static,
        partner_public: &p.partner_public,
        psk: p.psk.bytes(),
    };
    let channel = match noise::initiate(stream, keys, net.port).await {
        Err(noise::ChannelError::Farewell(frame)) => {
            let statement = noise::farewell_statement(&p.own_public, &p.partner_public);
            let signed = frame
                .get(noise::FAREWELL_MAGIC.len()..)
                .and_then(|s| haven_shared::ed25519_dalek::Signature::from_slice(s).ok())
                .is_some_and(|sig| p.partner_signing.verify_strict(&statement, &sig).is_ok());
            if signed {
                tracing::info!(%addr, "the partner unpaired while we were apart");
                let _ = net.core.send(CoreMsg::Peer(PeerOp::PartnerLeft)).await;
            }
            anyhow::bail!(
                "a farewell{}",
                if signed { "" } else { " with a bad signature" }
            );
        }
        other => other?,
    };
    net.start_session(
        channel,
        p.own_public,
        p.partner_public,
        Some(addr.to_string()),
    );
    Ok(())
}
