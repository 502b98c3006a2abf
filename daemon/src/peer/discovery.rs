//! Finding the partner on the LAN with mDNS (`_haven._tcp.local.`), privately.
//!
//! Nothing in an advertisement names a person or stays stable: the instance name is an
//! HMAC, keyed by the discovery secret from pairing, of the advertiser's Noise key and the
//! current 15-minute window (the partner checks the neighbouring windows too, for clock
//! skew); the host name is random per start; TXT is `v=1`; the port is whatever the
//! listener got. Only the partner can tell that two names a day apart are the same laptop.
//!
//! mdns-sd facts handled here: a browse re-queries at 1, 2, 4, 8 s… so a missed answer
//! can hide a peer for minutes, hence a fresh browse every 30 s while not connected; a
//! daemon sees its own instance, which never matches the partner's name (it is keyed by
//! the advertiser's own key). Only IPv4 is used.

use hmac::{Hmac, Mac};
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::mpsc;

pub const SERVICE: &str = "_haven._tcp.local.";
/// Pairing's own short-lived service; the instance name is the code's nameplate number.
pub const PAIR_SERVICE: &str = "_haven-pair._tcp.local.";
const WINDOW_SECS: u64 = 15 * 60;
/// While not connected, browse afresh this often.
pub const REBROWSE: Duration = Duration::from_secs(30);

/// The mDNS responder, restricted to one interface when asked (`--mdns-interface`).
pub fn start(interface: Option<&str>) -> anyhow::Result<ServiceDaemon> {
    let mdns = ServiceDaemon::new().map_err(|e| anyhow::anyhow!("cannot start mDNS: {e}"))?;
    if let Some(name) = interface {
        mdns.disable_interface(IfKind::All)
            .and_then(|()| mdns.enable_interface(IfKind::Name(name.to_string())))
            .map_err(|e| anyhow::anyhow!("mDNS on {name}: {e}"))?;
    }
    // Last: in mdns-sd the last rule that matches an address wins, and enabling an
    // interface by name enables its IPv6 addresses too. A link-local IPv6 address can
    // carry the MAC address, a stable id that would link the rotating names.
    mdns.disable_interface(IfKind::IPv6)
        .map_err(|e| anyhow::anyhow!("mDNS: {e}"))?;
    Ok(mdns)
}

pub fn current_window() -> u64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    secs / WINDOW_SECS
}

/// The instance name a device with Noise key `advertiser` uses during `window`.
pub fn instance_name(secret: &[u8; 32], advertiser: &[u8; 32], window: u64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"haven instance v1");
    mac.update(advertiser);
    mac.update(&window.to_be_bytes());
    hex::encode(&mac.finalize().into_bytes()[..12])
}

fn random_label() -> String {
    hex::encode(haven_shared::crypto::random_bytes::<8>())
}

/// An advertisement, withdrawn when dropped.
pub struct Advert {
    mdns: ServiceDaemon,
    fullname: String,
}

impl Drop for Advert {
    fn drop(&mut self) {
        let _ = self.mdns.unregister(&self.fullname);
    }
}

/// Advertises `instance` of `service` on `port`, from a random host name.
pub fn advertise(
    mdns: &ServiceDaemon,
    service: &str,
    instance: &str,
    port: u16,
) -> anyhow::Result<Advert> {
    let host = format!("{}.local.", random_label());
    let info = ServiceInfo::new(service, instance, &host, "", port, &[("v", "1")][..])
        .map_err(|e| anyhow::anyhow!("mDNS: {e}"))?
        .enable_addr_auto();
    let fullname = info.get_fullname().to_string();
    mdns.register(info)
        .map_err(|e| anyhow::anyhow!("mDNS: {e}"))?;
    Ok(Advert {
        mdns: mdns.clone(),
        fullname,
    })
}

/// What an unpaired daemon shows: a random name, so paired and unpaired look alike.
pub fn advertise_unpaired(mdns: &ServiceDaemon, port: u16) -> anyhow::Result<Advert> {
    advertise(mdns, SERVICE, &random_label(), port)
}

fn instance_of<'a>(fullname: &'a str, service: &str) -> Option<&'a str> {
    fullname.strip_suffix(service)?.strip_suffix('.')
}

fn v4_addresses(info: &mdns_sd::ResolvedService) -> Vec<SocketAddr> {
    info.get_addresses_v4()
        .into_iter()
        .map(|ip| SocketAddr::new(IpAddr::V4(ip), info.get_port()))
        .collect()
}

/// Advertises this device under its rotating name and reports where the partner is found.
/// Runs until cancelled; the advertisement goes with it.
pub async fn run(
    mdns: ServiceDaemon,
    secret: [u8; 32],
    own_key: [u8; 32],
    partner_key: [u8; 32],
    port: u16,
    found: mpsc::Sender<SocketAddr>,
    connected: impl Fn() -> bool,
) {
    let mut window = current_window();
    let mut advert = advertise(
        &mdns,
        SERVICE,
        &instance_name(&secret, &own_key, window),
        port,
    );
    if let Err(e) = &advert {
        tracing::warn!(error = %e, "cannot advertise on mDNS; the partner can still dial us");
    }
    let mut browse = mdns.browse(SERVICE).ok();
    let mut rebrowse = tokio::time::interval(REBROWSE);
    rebrowse.tick().await;
    loop {
        let event = async {
            match &browse {
                Some(rx) => rx.recv_async().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = event => match event {
                Some(ServiceEvent::ServiceResolved(info)) => {
                    let Some(instance) = instance_of(info.get_fullname(), SERVICE) else { continue };
                    let now = current_window();
                    let partner = [now.saturating_sub(1), now, now + 1]
                        .into_iter()
                        .any(|w| instance_name(&secret, &partner_key, w) == instance);
                    if partner {
                        for addr in v4_addresses(&info) {
                            tracing::debug!(%addr, "found the partner on mDNS");
                            let _ = found.send(addr).await;
                        }
                    }
                }
                Some(_) => {}
                None => {
                    // A dropped browse ends silently in mdns-sd: start another.
                    tracing::debug!("the mDNS browse ended; browsing again");
                    let _ = mdns.stop_browse(SERVICE);
                    browse = mdns.browse(SERVICE).ok();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = rebrowse.tick() => {
                if current_window() != window {
                    window = current_window();
                    drop(advert);
                    advert = advertise(&mdns, SERVICE, &instance_name(&secret, &own_key, window), port);
                }
                if !connected() {
                    let _ = mdns.stop_browse(SERVICE);
                    browse = mdns.browse(SERVICE).ok();
                }
            }
        }
    }
}

/// Looks for the pairing service with `nameplate` until `deadline`.
pub async fn find_nameplate(
    mdns: &ServiceDaemon,
    nameplate: u8,
    wait: Duration,
) -> Option<Vec<SocketAddr>> {
    let rx = mdns.browse(PAIR_SERVICE).ok()?;
    let wanted = nameplate.to_string();
    let result = tokio::time::timeout(wait, async {
        while let Ok(event) = rx.recv_async().await {
            if let ServiceEvent::ServiceResolved(info) = event {
                if instance_of(info.get_fullname(), PAIR_SERVICE) == Some(wanted.as_str()) {
                    let addrs = v4_addresses(&info);
                    if !addrs.is_empty() {
                        return Some(addrs);
                    }
                }
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let _ = mdns.stop_browse(PAIR_SERVICE);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_rotate_differ_per_device_and_reveal_nothing() {
        let secret = [9u8; 32];
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let n = instance_name(&secret, &a, 100);
        assert_eq!(n.len(), 24);
        assert!(n.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(n, instance_name(&secret, &a, 100));
        assert_ne!(
            n,
            instance_name(&secret, &a, 101),
            "a new window, a new name"
        );
        assert_ne!(
            n,
            instance_name(&secret, &b, 100),
            "each device its own name"
        );
        assert_ne!(
            n,
            instance_name(&[8u8; 32], &a, 100),
            "another couple, another name"
        );
    }

    #[test]
    fn instances_are_cut_from_full_names() {
        assert_eq!(instance_of("abc._haven._tcp.local.", SERVICE), Some("abc"));
        assert_eq!(
            instance_of("7._haven-pair._tcp.local.", PAIR_SERVICE),
            Some("7")
        );
        assert_eq!(instance_of("abc._other._tcp.local.", SERVICE), None);
    }
}
