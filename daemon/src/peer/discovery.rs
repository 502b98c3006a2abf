//! Finding the partner on the LAN with mDNS (`_haven._tcp.local.`), privately.
//!
//! Nothing in an advertisement names a person or stays stable: the instance name is an
//! HMAC, keyed by the discovery secret from pairing, of the advertiser's Noise key and the
//! current 15-minute window (the partner checks the neighbouring windows too, for clock
//! skew); the host name is random per start; TXT is `v=1`; the port is a random one,
//! new on each network (`connections::accept_loop`). Only the partner can tell that two
//! names a day apart are the same laptop.
//!
//! mdns-sd facts handled here: a browse re-queries at 1, 2, 4, 8 s… so a missed answer
//! can hide a peer for minutes, hence a fresh browse every 30 s while not connected; a
//! daemon sees its own instance, which never matches the partner's name (it is keyed by
//! the advertiser's own key); a name conflict renames an advertisement to `NAME (2)`
//! (`DaemonEvent::NameChange`), so the partner's name is matched with or without that
//! suffix. Only IPv4 is used.
//!
//! Anyone on the LAN can copy the partner's current name into an advertisement of their
//! own, with any addresses and ports. So an address is only a candidate to dial, never
//! trusted (the Noise handshake decides who is the partner), and only a plausible one is
//! passed on: on a subnet of the interface, not loopback, not this laptop, not a network
//! or broadcast address. The browse loop never waits on the dialler (`try_send`): a busy
//! dialler drops an address, which comes again at the next browse.

use hmac::{Hmac, Mac};
use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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

/// The instance name without the ` (N)` mdns-sd appends when it renames one after a
/// conflict (someone else, perhaps on purpose, announced the same name first).
fn base_instance(instance: &str) -> &str {
    instance
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once(" ("))
        .filter(|(_, n)| n.parse::<u32>().is_ok())
        .map_or(instance, |(base, _)| base)
}

/// The IPv4 networks this laptop is on: the mDNS interface's, or every non-loopback one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalNets {
    /// This laptop's address and the netmask of its network.
    nets: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl LocalNets {
    /// Interfaces that lost their link (a cable pulled, Wi-Fi gone) keep their addresses;
    /// they do not count (not RUNNING), so leaving a network is noticed at once.
    pub fn read(interface: Option<&str>) -> LocalNets {
        let nets = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| !i.is_loopback() && interface.is_none_or(|name| i.name == name))
            .filter(|i| i.is_oper_up())
            .filter_map(|i| match i.addr {
                if_addrs::IfAddr::V4(v4) => Some((v4.ip, v4.netmask)),
                if_addrs::IfAddr::V6(_) => None,
            })
            .collect();
        LocalNets { nets }
    }

    #[cfg(test)]
    fn of(nets: &[(&str, &str)]) -> LocalNets {
        LocalNets {
            nets: nets
                .iter()
                .map(|(a, m)| (a.parse().expect("ip"), m.parse().expect("mask")))
                .collect(),
        }
    }

    /// Whether the partner could be at `addr`: a host on one of our networks, not us.
    pub fn plausible(&self, addr: &SocketAddr) -> bool {
        let SocketAddr::V4(v4) = addr else {
            return false;
        };
        let ip = *v4.ip();
        if v4.port() == 0 || ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
            return false;
        }
        self.nets.iter().any(|&(own, mask)| {
            let (ip, own, mask) = (u32::from(ip), u32::from(own), u32::from(mask));
            let host = ip & !mask;
            // On a /31 both addresses are hosts; on larger networks the first and last
            // are the network and its broadcast.
            let host_ok = mask >= 0xffff_fffe || (host != 0 && host != !mask);
            ip != own && ip & mask == own & mask && host_ok
        })
    }
}

fn v4_addresses(info: &mdns_sd::ResolvedService) -> Vec<SocketAddr> {
    info.get_addresses_v4()
        .into_iter()
        .map(|ip| SocketAddr::new(IpAddr::V4(ip), info.get_port()))
        .collect()
}

/// Whether a service resolved on `service` carries the rotating name that `secret` gives
/// the device with Noise key `key`, this window or either next to it.
pub fn named_by(
    info: &mdns_sd::ResolvedService,
    service: &str,
    secret: &[u8; 32],
    key: &[u8; 32],
) -> bool {
    let Some(instance) = instance_of(info.get_fullname(), service) else {
        return false;
    };
    let instance = base_instance(instance);
    let now = current_window();
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .any(|w| instance_name(secret, key, w) == instance)
}

/// A resolved service's IPv4 addresses that lie on this laptop's networks.
pub fn addresses_on(info: &mdns_sd::ResolvedService, nets: &LocalNets) -> Vec<SocketAddr> {
    v4_addresses(info)
        .into_iter()
        .filter(|a| nets.plausible(a))
        .collect()
}

/// A service resolved on mDNS: if it is the partner's rotating name (this window or
/// either next to it), its addresses on our networks go to the dialler.
fn report_partner(
    info: &mdns_sd::ResolvedService,
    secret: &[u8; 32],
    partner_key: &[u8; 32],
    nets: &LocalNets,
    found: &mpsc::Sender<SocketAddr>,
) {
    if !named_by(info, SERVICE, secret, partner_key) {
        return;
    }
    for addr in v4_addresses(info) {
        if !nets.plausible(&addr) {
            tracing::debug!(%addr, "ignored an address off this network advertised under the partner's name");
            continue;
        }
        match found.try_send(addr) {
            Ok(()) => tracing::debug!(%addr, "found the partner on mDNS"),
            Err(_) => {
                tracing::debug!(%addr, "the dialler is busy; the address comes again at the next browse")
            }
        }
    }
}

/// Advertises this device under its rotating name and reports where the partner is found.
/// Runs until cancelled; the advertisement goes with it.
pub async fn run(
    mdns: ServiceDaemon,
    net: &super::Net,
    link: &crate::contract::PairedLink,
    found: mpsc::Sender<SocketAddr>,
) {
    let (secret, own_key, partner_key) = (
        *link.discovery.bytes(),
        link.own_public,
        link.partner_public,
    );
    let interface = net.mdns_interface.as_deref();
    let mut port = net.port_changes();
    let mut nets = LocalNets::read(interface);
    let monitor = mdns.monitor().ok();
    let mut window = current_window();
    let advertise_now = |window: u64, port: u16| {
        advertise(
            &mdns,
            SERVICE,
            &instance_name(&secret, &own_key, window),
            port,
        )
    };
    let mut advert = advertise_now(window, *port.borrow_and_update());
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
        let renamed = async {
            match &monitor {
                Some(rx) => rx.recv_async().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = event => match event {
                Some(ServiceEvent::ServiceResolved(info)) => {
                    report_partner(&info, &secret, &partner_key, &nets, &found);
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
            Some(event) = renamed => {
                if let DaemonEvent::NameChange(_) = event {
                    tracing::info!("mDNS renamed our advertisement after a name conflict (another device announced the same name); the partner still recognises it");
                }
            }
            Ok(()) = port.changed() => {
                // A new network, a new port: say so, and look for the partner there.
                nets = LocalNets::read(interface);
                drop(advert);
                advert = advertise_now(window, *port.borrow_and_update());
                let _ = mdns.stop_browse(SERVICE);
                browse = mdns.browse(SERVICE).ok();
            }
            _ = rebrowse.tick() => {
                nets = LocalNets::read(interface);
                if current_window() != window {
                    window = current_window();
                    drop(advert);
                    advert = advertise_now(window, *port.borrow());
                }
                // Through iroh, the LAN is still worth finding: it replaces that session.
                if !net.connected_on_lan() {
                    let _ = mdns.stop_browse(SERVICE);
                    browse = mdns.browse(SERVICE).ok();
                }
            }
        }
    }
}

/// The laptops showing a pairing code with one nameplate, one at a time: anyone can
/// announce a nameplate, so the joiner tries each instance it hears in turn (each try is
/// one guess for whoever answers, so the joiner limits how many it makes).
pub struct NameplateBrowse<'a> {
    mdns: &'a ServiceDaemon,
    rx: Option<mdns_sd::Receiver<ServiceEvent>>,
    wanted: String,
    nets: LocalNets,
    tried: Vec<(String, Vec<SocketAddr>)>,
}

impl<'a> NameplateBrowse<'a> {
    pub fn start(mdns: &'a ServiceDaemon, nameplate: u8, interface: Option<&str>) -> Self {
        Self::start_named(mdns, nameplate.to_string(), interface)
    }

    /// Looks for instances named `wanted` (a link code's nameplate is `link-7`).
    pub fn start_named(mdns: &'a ServiceDaemon, wanted: String, interface: Option<&str>) -> Self {
        NameplateBrowse {
            mdns,
            rx: mdns.browse(PAIR_SERVICE).ok(),
            wanted,
            nets: LocalNets::read(interface),
            tried: Vec::new(),
        }
    }

    /// The addresses of the next instance with the nameplate not yet returned, waiting
    /// until `deadline` at most.
    pub async fn next(&mut self, deadline: tokio::time::Instant) -> Option<Vec<SocketAddr>> {
        let rx = self.rx.as_ref()?;
        tokio::time::timeout_at(deadline, async {
            while let Ok(event) = rx.recv_async().await {
                let ServiceEvent::ServiceResolved(info) = event else {
                    continue;
                };
                let fullname = info.get_fullname().to_string();
                let instance = instance_of(&fullname, PAIR_SERVICE).map(base_instance);
                if instance != Some(self.wanted.as_str()) {
                    continue;
                }
                let addrs: Vec<SocketAddr> = v4_addresses(&info)
                    .into_iter()
                    .filter(|a| self.nets.plausible(a))
                    .collect();
                // The same instance resolves again when it re-announces: one try each.
                if addrs.is_empty()
                    || self
                        .tried
                        .iter()
                        .any(|(n, a)| *n == fullname && *a == addrs)
                {
                    continue;
                }
                self.tried.push((fullname, addrs.clone()));
                return Some(addrs);
            }
            None
        })
        .await
        .ok()
        .flatten()
    }
}

impl Drop for NameplateBrowse<'_> {
    fn drop(&mut self) {
        let _ = self.mdns.stop_browse(PAIR_SERVICE);
    }
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
    fn a_renamed_instance_is_still_recognised() {
        assert_eq!(base_instance("abc (2)"), "abc");
        assert_eq!(base_instance("abc (17)"), "abc");
        assert_eq!(base_instance("abc"), "abc");
        assert_eq!(base_instance("abc (x)"), "abc (x)");
        assert_eq!(base_instance("abc (2) "), "abc (2) ");
        assert_eq!(base_instance(" (2)"), "");
    }

    #[test]
    fn only_hosts_on_our_networks_are_plausible() {
        let nets = LocalNets::of(&[("10.88.0.1", "255.255.255.0")]);
        let ok = |a: &str| nets.plausible(&a.parse().expect("addr"));
        assert!(ok("10.88.0.2:4000"));
        assert!(ok("10.88.0.254:1"));
        for bad in [
            "10.88.0.1:4000",   // this laptop
            "10.88.0.0:4000",   // the network
            "10.88.0.255:4000", // its broadcast
            "10.88.1.2:4000",   // another subnet
            "127.0.0.1:4000",
            "0.0.0.0:4000",
            "224.0.0.251:5353",
            "255.255.255.255:4000",
            "10.88.0.2:0",
            "[fe80::1]:4000",
        ] {
            assert!(!ok(bad), "{bad} should not be dialled");
        }
        assert!(!LocalNets::default().plausible(&"10.88.0.2:4000".parse().expect("addr")));
        let p2p = LocalNets::of(&[("192.168.5.0", "255.255.255.254")]);
        assert!(p2p.plausible(&"192.168.5.1:4000".parse().expect("addr")));
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
