//! Keeping a session with each of the person's other devices on the LAN: the listener,
//! the rotating mDNS name, the browse, and dialling.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

use mdns_sd::ServiceEvent;

use super::session::{self, Until};
use super::{handshake, OwnNet, SERVICE};
use crate::contract::{DevicesLink, OtherDevice, OwnLink};
use crate::peer::discovery::{self, LocalNets};

/// How often the known addresses of unconnected devices are dialled again, and the
/// browse started again (mdns-sd's own re-queries back off to an hour).
const AGAIN: Duration = Duration::from_secs(10);
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
/// How many of the devices' secrets a call tries, newest first.
const SECRETS_TRIED: usize = 3;

/// Answers the person's other devices.
pub async fn accept_loop(net: Arc<OwnNet>, listener: TcpListener) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a device's connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let DevicesLink::On(link) = net.link.borrow().clone() else {
            // Nothing is said to a caller while no other device is linked.
            continue;
        };
        let net = net.clone();
        tokio::spawn(async move {
            match handshake::respond(stream, &link, &net.stamps).await {
                Ok((channel, caller, port)) => {
                    let Some(device) = link.others.iter().find(|d| d.noise_public == caller) else {
                        return;
                    };
                    let address = SocketAddr::new(addr.ip(), port).to_string();
                    live(&net, channel, device, caller, Some(address)).await;
                }
                Err(e) => tracing::info!(%addr, error = %e, "refused a device's handshake"),
            }
        });
    }
}

/// A session with `device` for as long as it lasts, as the one in place.
async fn live(
    net: &OwnNet,
    channel: crate::peer::noise::Channel,
    device: &OtherDevice,
    caller: [u8; 32],
    address: Option<String>,
) {
    let mut channel = channel;
    if let Err(e) = session::post_quantum(&mut channel).await {
        tracing::info!(device = %device.name, error = %e, "a device's session ended at its post-quantum exchange");
        return;
    }
    let Some((token, cancel)) = net.register(&device.id, caller) else {
        tracing::debug!(device = %device.name, "both dialled at once; the other session stays");
        return;
    };
    tracing::info!(device = %device.name, "in session with another of this person's devices");
    let ended = session::run(
        net,
        channel,
        device.id.clone(),
        address,
        Until::Cancelled(cancel),
    )
    .await;
    net.unregister(&device.id, token);
    match ended {
        Ok(()) => tracing::info!(device = %device.name, "the session with a device ended"),
        Err(e) => {
            tracing::info!(device = %device.name, error = %e, "the session with a device ended")
        }
    }
}

/// Dials `device` at `addrs` unless a session with it is up or a dial is under way.
async fn dial(net: Arc<OwnNet>, link: Arc<OwnLink>, device: OtherDevice, addrs: Vec<SocketAddr>) {
    if net.has_session(&device.id) {
        return;
    }
    let first = net
        .dialling
        .lock()
        .map(|mut d| d.insert(device.id.clone()))
        .unwrap_or(false);
    if !first {
        return;
    }
    let port = net.port.load(Ordering::Relaxed);
    // The current secret first; an older one for a device that was away when the secret
    // was replaced (it is given the new one in session).
    let tries = link.psks.len().min(SECRETS_TRIED);
    for addr in addrs {
        for nth in 0..tries {
            let Ok(Ok(stream)) = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await
            else {
                break;
            };
            match handshake::initiate(stream, &link, &device.noise_public, port, nth).await {
                Ok(channel) => {
                    if let Ok(mut d) = net.dialling.lock() {
                        d.remove(&device.id);
                    }
                    live(
                        &net,
                        channel,
                        &device,
                        link.own_public,
                        Some(addr.to_string()),
                    )
                    .await;
                    return;
                }
                Err(e) => {
                    tracing::info!(%addr, error = %e, "a device did not answer the handshake")
                }
            }
        }
    }
    if let Ok(mut d) = net.dialling.lock() {
        d.remove(&device.id);
    }
}

/// Keeps sessions with the other devices while the core says so.
pub async fn keep_linked(net: Arc<OwnNet>) {
    let mut link = net.link.clone();
    loop {
        let current = link.borrow_and_update().clone();
        match current {
            DevicesLink::Off => {}
            DevicesLink::On(l) => {
                tokio::select! {
                    () = linked(&net, l) => {}
                    changed = link.changed() => {
                        // The core is gone (shutting down): nothing to follow. Going round
                        // again would start the mDNS side afresh each time, in a tight loop.
                        if changed.is_err() {
                            return;
                        }
                        continue;
                    }
                }
            }
        }
        if link.changed().await.is_err() {
            return;
        }
    }
}

/// A service resolved on mDNS: if it is one of the other devices, under a name from any
/// secret this device knows, it is dialled.
fn found(
    net: &Arc<OwnNet>,
    link: &Arc<OwnLink>,
    info: &mdns_sd::ResolvedService,
    interface: Option<&str>,
) {
    let nets = LocalNets::read(interface);
    for d in &link.others {
        let named = link
            .discovery
            .iter()
            .any(|k| discovery::named_by(info, SERVICE, k.bytes(), &d.noise_public));
        if named {
            let addrs = discovery::addresses_on(info, &nets);
            tokio::spawn(dial(net.clone(), link.clone(), d.clone(), addrs));
        }
    }
}

/// Dials each device with no session at its last address; true if any has none.
fn dial_known(net: &Arc<OwnNet>, link: &Arc<OwnLink>) -> bool {
    let missing: Vec<&OtherDevice> = link
        .others
        .iter()
        .filter(|d| !net.has_session(&d.id))
        .collect();
    for d in &missing {
        let addrs: Vec<SocketAddr> = d.address.iter().filter_map(|a| a.parse().ok()).collect();
        if !addrs.is_empty() {
            tokio::spawn(dial(net.clone(), link.clone(), (*d).clone(), addrs));
        }
    }
    !missing.is_empty()
}

/// Advertises this device's rotating name (made from the current secret) and dials the
/// other devices, found on mDNS (under a name from any secret this device knows: one that
/// was away when the secret was replaced still uses the old one) or at their last address.
async fn linked(net: &Arc<OwnNet>, link: Arc<OwnLink>) {
    let interface = net.mdns_interface.as_deref();
    let Some(secret) = link.discovery.first().map(|k| *k.bytes()) else {
        return;
    };
    let mdns = net.mdns.clone();
    let mut window = discovery::current_window();
    let advertise = |window: u64| {
        mdns.as_ref().and_then(|m| {
            discovery::advertise(
                m,
                SERVICE,
                &discovery::instance_name(&secret, &link.own_public, window),
                net.port.load(Ordering::Relaxed),
            )
            .map_err(|e| tracing::warn!(error = %e, "cannot advertise to this person's devices"))
            .ok()
        })
    };
    let mut advert = advertise(window);
    let browse = |m: &mdns_sd::ServiceDaemon| m.browse(SERVICE).ok();
    let mut events = mdns.as_ref().and_then(browse);
    let mut again = tokio::time::interval(AGAIN);
    loop {
        let event = async {
            match &events {
                Some(rx) => rx.recv_async().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = event => match event {
                Some(ServiceEvent::ServiceResolved(info)) => found(net, &link, &info, interface),
                Some(_) => {}
                None => {
                    // A dropped browse ends silently in mdns-sd: start another.
                    if let Some(m) = &mdns {
                        let _ = m.stop_browse(SERVICE);
                        events = browse(m);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = again.tick() => {
                if discovery::current_window() != window {
                    window = discovery::current_window();
                    drop(advert);
                    advert = advertise(window);
                }
                if dial_known(net, &link) {
                    if let Some(m) = &mdns {
                        let _ = m.stop_browse(SERVICE);
                        events = browse(m);
                    }
                }
            }
        }
    }
}
