//! The core's half of partner sync: pinning a partner, unpairing, the automerge sync
//! state, and what `haven partner` shows.
//!
//! Only the couple document is ever handed to the sync protocol here; the journal has no
//! path to the network. Whatever arrives is merged, persisted (sealed) before the session
//! is told it may answer, and shown through the keyring: a consent counts only if it
//! verifies against the key pinned at pairing.

use automerge::sync;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use zeroize::Zeroizing;

use haven_shared::couple_sync::CoupleSync;
use haven_shared::ipc::{Check, ErrorKind, ErrorReply, PartnerInfo, Reply, Response};
use haven_shared::model::Keyring;
use haven_shared::partner::Partner;

use super::Service;
use crate::peer::pairing::{safety_words, Intro, Material};
use crate::peer::{Farewell, Link, PairedLink, PeerOp, Registry};
use crate::vault::{home_error, Unlocked, Vault};

/// The core's ends of the channels to the network tasks.
pub struct PeerLinks {
    pub link: watch::Sender<Link>,
    /// Bumped after every change to the couple document, so a session pushes it at once.
    pub changed: watch::Sender<u64>,
    pub registry: Arc<Mutex<Registry>>,
    pub facts: NetFacts,
}

/// How the daemon's network side started, for `haven doctor`.
pub struct NetFacts {
    pub listen_ip: std::net::IpAddr,
    /// The partner listener's port now (it changes with the network).
    pub port: watch::Receiver<u16>,
    pub mdns_interface: Option<String>,
    /// Why mDNS could not start, if it could not.
    pub mdns_error: Option<String>,
}

impl PeerLinks {
    pub fn connected_address(&self) -> Option<String> {
        self.registry
            .lock()
            .ok()
            .and_then(|r| r.connected_address())
    }

    pub fn path(&self) -> Option<crate::peer::Path> {
        self.registry.lock().ok().and_then(|r| r.path())
    }

    pub fn relay_health(&self) -> Option<crate::peer::apart::RelayHealth> {
        self.registry.lock().ok().and_then(|r| r.relay.clone())
    }
}

/// `HOST:PORT` with an IP address or a well-formed host name, checked without a name
/// lookup: the core thread must never wait on DNS (the dialler resolves it, off the core).
fn plausible_address(address: &str) -> bool {
    if address.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    port_ok && host_ok
}

/// `haven partner` when the partner's rows do not verify (see `Unlocked::partner_problem`).
fn untrusted_partner(problem: &str) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::Corrupt,
        format!("the partner record in haven.db was changed outside Haven ({problem}); Haven connects to nobody"),
    )
    .hint("`haven partner unpair` forgets it, then pair again side by side; or restore a backup (`haven restore FILE`)")
}

fn not_paired() -> ErrorReply {
    ErrorReply::new(
        ErrorKind::NotFound,
        "this laptop is not paired with a partner",
    )
    .hint("pair with `haven pair` on one laptop and `haven pair CODE` on the other")
}

/// What meeting across networks needs, when all of it is there: this laptop's iroh key,
/// a relay, and the partner's iroh key from its member record.
fn apart_of(u: &Unlocked, p: &Partner) -> Option<crate::peer::apart::Apart> {
    let relay = haven_shared::relay_url::RelayUrl::parse(p.relay.as_deref()?).ok()?;
    Some(crate::peer::apart::Apart {
        secret: p.endpoint_secret.clone()?,
        partner: u.home.couple.endpoint_of(&p.member_id),
        relay,
    })
}

/// Makes this laptop's iroh key for the pairing if it has none, and names its public half
/// in our member record, so the partner can dial us once apart. True when the couple
/// document changed (the partner should hear of it).
pub(super) fn ensure_endpoint(u: &mut Unlocked) -> bool {
    let Some(p) = &mut u.partner else {
        return false;
    };
    let secret = match &p.endpoint_secret {
        Some(s) => s.clone(),
        None => {
            let mut bytes = [0u8; 32];
            if getrandom::getrandom(&mut bytes).is_err() {
                return false;
            }
            let made = haven_shared::partner::Key32::new(bytes);
            p.endpoint_secret = Some(made.clone());
            save_partner(u);
            made
        }
    };
    let public = *iroh::SecretKey::from_bytes(secret.bytes())
        .public()
        .as_bytes();
    match u.home.publish_endpoint(&public) {
        Ok(changed) => changed,
        Err(e) => {
            tracing::warn!(error = %e, "cannot name this laptop's iroh key in the couple document");
            false
        }
    }
}

/// The keyring for this member and, when paired, the partner's pinned key.
pub fn keyring(u: &Unlocked) -> Keyring {
    let mut keyring = Keyring::new().with(&u.name, u.home.identity.verifying_key());
    if let Some((p, key)) = u
        .partner
        .as_ref()
        .and_then(|p| Some((p, p.verifying_key()?)))
    {
        keyring.add(&p.name, key);
    } else {
        // Unpaired (before pairing, or after `unpair` without --wipe): the agreements made
        // together stay readable, signed by the member keys the couple document names. A
        // key counts only under the id derived from it, and this member's own key is never
        // taken from the document, so nothing read this way can speak for this member.
        let me = u.home.identity.member_id();
        for m in u.home.couple.members().unwrap_or_default() {
            let key = hex::decode(&m.signing_key)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .and_then(|b| haven_shared::ed25519_dalek::VerifyingKey::from_bytes(&b).ok());
            if let Some(key) = key {
                if m.id != me && haven_shared::model::agreement::member_id_of(&key) == m.id {
                    keyring.add(&m.name, key);
                }
            }
        }
    }
    keyring
}

impl Service {
    /// Tells the network tasks what to do now (after unlock, lock, pair, unpair).
    pub(super) fn publish_link(&mut self) {
        if let Vault::Unlocked(u) = &mut self.vault {
            if ensure_endpoint(u) {
                self.couple_changed();
            }
        }
        let link = match &self.vault {
            Vault::Locked => Link::Off,
            Vault::Unlocked(u) => match &u.partner {
                None => Link::Unpaired(u.farewell.map(|former| {
                    Arc::new(Farewell {
                        former: former.key_hash,
                        pairing: former.pairing,
                        own_static: Zeroizing::new(*u.home.identity.noise_static()),
                        own_public: u.home.identity.noise_public(),
                        signing: u.home.identity.signing_key().clone(),
                    })
                })),
                Some(p) => match (p.noise_public(), p.verifying_key()) {
                    (Some(partner_public), Some(partner_signing)) => {
                        let mut dial: Vec<String> = p.last_address.iter().cloned().collect();
                        dial.extend(p.addresses.iter().cloned());
                        let apart = apart_of(u, p);
                        Link::Paired(Arc::new(PairedLink {
                            own_static: Zeroizing::new(*u.home.identity.noise_static()),
                            own_public: u.home.identity.noise_public(),
                            partner_public,
                            partner_signing,
                            psk: p.psk.clone(),
                            discovery: p.discovery.clone(),
                            pairing: p.pairing_id(),
                            last_handshake: p.last_handshake,
                            dial,
                            apart,
                        }))
                    }
                    _ => {
                        tracing::warn!("the partner record holds a malformed key; not connecting");
                        Link::Unpaired(None)
                    }
                },
            },
        };
        self.peer.link.send_replace(link);
    }

    pub(super) fn couple_changed(&self) {
        self.peer.changed.send_modify(|v| *v += 1);
    }

    pub fn peer_op(&mut self, op: PeerOp) {
        match op {
            PeerOp::PairingMaterial(reply) => {
                let _ = reply.send(self.pairing_material());
            }
            PeerOp::Paired(partner, reply) => {
                let _ = reply.send(self.pin(*partner));
            }
            PeerOp::Connected {
                session,
                dialled,
                handshake_stamp,
                reply,
            } => {
                let ok = match &mut self.vault {
                    Vault::Unlocked(u) if u.partner.is_some() => {
                        u.sync = load_sync_state(u);
                        u.sync_session = session;
                        if let Some(p) = &mut u.partner {
                            if dialled.is_some() {
                                p.last_address = dialled;
                            }
                            if let Some(stamp) = handshake_stamp {
                                p.last_handshake = p.last_handshake.max(stamp);
                            }
                            p.last_seen = Some(haven_shared::when::now());
                        }
                        save_partner(u);
                        true
                    }
                    _ => false,
                };
                let _ = reply.send(ok);
            }
            PeerOp::Generate(session, reply) => {
                let message = match &mut self.vault {
                    Vault::Unlocked(u) if u.partner.is_some() && u.sync_session == session => {
                        CoupleSync::new(&mut u.home.couple, &mut u.sync).next_message()
                    }
                    _ => None,
                };
                let _ = reply.send(message);
            }
            PeerOp::Receive(session, bytes, reply) => {
                // What arrived is noticed on the next tick (within a second), off this path:
                // the session answers the partner first.
                let current =
                    matches!(&self.vault, Vault::Unlocked(u) if u.sync_session == session);
                let _ = reply.send(if current {
                    self.receive(&bytes)
                } else {
                    Err("a newer session with the partner took over".into())
                });
                if self.partner_endpoint_changed() {
                    self.publish_link();
                }
            }
            PeerOp::Disconnected => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    if let Some(p) = &mut u.partner {
                        p.last_seen = Some(haven_shared::when::now());
                    }
                    save_partner(u);
                }
            }
            PeerOp::PartnerLeft => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    let name = u.partner.as_ref().map(|p| p.name.clone());
                    // The partner left: nothing to tell it later.
                    if let Err(e) = u.home.forget_partner(None) {
                        tracing::warn!(error = %e, "could not forget the partner who unpaired");
                    }
                    u.partner = None;
                    u.keyring = keyring(u);
                    u.waiting_cache = None;
                    tracing::info!(
                        partner = name.is_some(),
                        "the partner unpaired; keys forgotten"
                    );
                }
                self.publish_link();
            }
        }
    }

    /// Whether the partner's iroh key in the couple document differs from the one the
    /// network side has (it arrived, or the partner's laptop made a new one).
    fn partner_endpoint_changed(&self) -> bool {
        let Vault::Unlocked(u) = &self.vault else {
            return false;
        };
        let Some(p) = &u.partner else { return false };
        if p.relay.is_none() {
            return false;
        }
        let now = u.home.couple.endpoint_of(&p.member_id);
        match &*self.peer.link.borrow() {
            Link::Paired(l) => l.apart.as_ref().is_some_and(|a| a.partner != now),
            _ => false,
        }
    }

    fn pairing_material(&mut self) -> Result<Material, ErrorReply> {
        let u = self.unlocked()?;
        if let Some(p) = &u.partner {
            return Err(ErrorReply::new(
                ErrorKind::Pairing,
                format!("this laptop is already paired with {}", p.name),
            )
            .hint("to pair again, first run `haven partner unpair`"));
        }
        let identity = &u.home.identity;
        Ok(Material {
            intro: Intro {
                name: u.name.clone(),
                member_id: identity.member_id(),
                signing_key: hex::encode(identity.verifying_key().as_bytes()),
            },
            noise_static: Zeroizing::new(*identity.noise_static()),
            noise_public: identity.noise_public(),
        })
    }

    fn pin(&mut self, partner: Partner) -> Result<(), ErrorReply> {
        let u = self.unlocked()?;
        if u.partner.is_some() {
            return Err(ErrorReply::new(ErrorKind::Pairing, "already paired"));
        }
        // A new pairing ends any farewell to a former partner.
        u.home.forget_partner(None).map_err(home_error)?;
        u.partner_problem = None;
        u.home.save_partner(&partner).map_err(home_error)?;
        u.farewell = None;
        u.partner = Some(partner);
        u.sync = sync::State::new();
        u.keyring = keyring(u);
        u.waiting_cache = None;
        self.publish_link();
        Ok(())
    }

    fn receive(&mut self, bytes: &[u8]) -> Result<(), String> {
        let Vault::Unlocked(u) = &mut self.vault else {
            return Err("locked".into());
        };
        if u.partner.is_none() {
            return Err("not paired".into());
        }
        let changed = CoupleSync::new(&mut u.home.couple, &mut u.sync)
            .receive(bytes)
            .map_err(|e| e.to_string())?;
        if changed {
            // On disk before anything is acknowledged to the partner.
            u.home.persist_couple().map_err(|e| e.to_string())?;
            // The partner's device may have deleted what we signed: put it back, so it
            // travels again (our own laptop shows it either way).
            match u.home.republish_own() {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    items = n,
                    "the partner's document lacked agreement items of ours; put them back"
                ),
                Err(e) => tracing::warn!(error = %e, "could not put back our agreement items"),
            }
            if let Some(p) = &mut u.partner {
                p.last_synced = Some(haven_shared::when::now());
            }
            save_partner(u);
            // The partner answered the weekly question too: our answer may go now.
            super::together::reveal_due(u);
        }
        if let Err(e) = u.home.save_sync_state(&u.sync.encode()) {
            tracing::warn!(error = %e, "could not save the sync state; the next sync sends more");
        }
        Ok(())
    }

    pub(super) fn partner_info(&mut self) -> Reply {
        let address = self.peer.connected_address();
        let path = self.peer.path();
        let u = self.unlocked()?;
        if let Some(problem) = &u.partner_problem {
            return Err(untrusted_partner(problem));
        }
        let Some(p) = u.partner.clone() else {
            return Ok(Response::Partner(PartnerInfo::default()));
        };
        let waiting = CoupleSync::new(&mut u.home.couple, &mut u.sync).waiting();
        let identity = &u.home.identity;
        let words = p.noise_public().map(|theirs| {
            safety_words(
                &identity.noise_public(),
                &theirs,
                &hex::encode(identity.verifying_key().as_bytes()),
                &p.signing_key,
            )
        });
        Ok(Response::Partner(PartnerInfo {
            paired: true,
            name: Some(p.name),
            member_id: Some(p.member_id),
            connected: address.is_some(),
            address: address.or(p.last_address),
            last_seen: p.last_seen,
            last_synced: p.last_synced,
            waiting,
            addresses: p.addresses,
            safety_words: words,
            path: path.map(|p| p.as_str().to_string()),
            relay: p
                .relay
                .as_deref()
                .and_then(|r| haven_shared::relay_url::RelayUrl::parse(r).ok())
                .map(|r| r.authority),
        }))
    }

    /// `haven partner relay URL` / `--remove`.
    pub(super) fn partner_relay(&mut self, url: Option<&str>) -> Reply {
        let parsed = match url {
            Some(text) => Some(
                haven_shared::relay_url::RelayUrl::parse(text)
                    .map_err(|e| ErrorReply::new(ErrorKind::InvalidInput, e.to_string()))?,
            ),
            None => None,
        };
        let u = self.unlocked()?;
        let Some(p) = &mut u.partner else {
            return Err(not_paired());
        };
        p.relay = parsed.map(|r| r.to_string());
        let p = p.clone();
        u.home.save_partner(&p).map_err(home_error)?;
        self.publish_link();
        self.partner_info()
    }

    pub(super) fn partner_address(&mut self, address: &str) -> Reply {
        let address = address.trim();
        if !plausible_address(address) {
            return Err(ErrorReply::new(
                ErrorKind::InvalidInput,
                format!("{address:?} is not an address: give HOST:PORT, e.g. 192.168.1.20:47000"),
            ));
        }
        let u = self.unlocked()?;
        let Some(p) = &mut u.partner else {
            return Err(not_paired());
        };
        if !p.addresses.iter().any(|a| a == address) {
            p.addresses.push(address.to_string());
        }
        let p = p.clone();
        u.home.save_partner(&p).map_err(home_error)?;
        self.publish_link();
        self.partner_info()
    }

    pub(super) fn unpair(&mut self, wipe: bool) -> Reply {
        let u = self.unlocked()?;
        let (name, former) = match (&u.partner_problem, &u.partner) {
            // Rows someone else wrote: forget them all; there is nobody to tell.
            (Some(_), _) => ("the partner record that did not verify".to_string(), None),
            (None, Some(p)) => (
                p.name.clone(),
                p.noise_public().map(|k| {
                    use sha2::Digest;
                    haven_shared::partner::FormerPartner {
                        key_hash: sha2::Sha256::digest(k).into(),
                        pairing: p.pairing_id(),
                    }
                }),
            ),
            (None, None) => return Err(not_paired()),
        };
        u.home.forget_partner(former).map_err(home_error)?;
        u.partner_problem = None;
        u.partner = None;
        u.farewell = former;
        u.sync = sync::State::new();
        if wipe {
            u.home.wipe_couple().map_err(home_error)?;
        }
        u.keyring = keyring(u);
        u.waiting_cache = None;
        tracing::info!(wipe, "unpaired");
        // Stops the session at once; it tells the partner on its way out.
        self.publish_link();
        Ok(Response::Unpaired {
            partner: name,
            wiped: wipe,
        })
    }
}

impl Service {
    /// mDNS, the interface it uses, the listener, and the partner's reachability.
    pub(super) fn network_checks(&mut self) -> Vec<Check> {
        let facts = &self.peer.facts;
        let check = |name: &str, ok: bool, detail: String, fix: Option<&str>| Check {
            name: name.into(),
            ok,
            detail,
            fix: fix.map(str::to_string),
        };
        let by_address = "add the partner's address instead: `haven partner address HOST:PORT`";
        let mut out = vec![match &facts.mdns_error {
            None => check(
                "mDNS",
                true,
                format!(
                    "advertising and browsing on {}",
                    facts.mdns_interface.as_deref().unwrap_or("every interface")
                ),
                None,
            ),
            Some(e) => check("mDNS", false, format!("mDNS is off: {e}"), Some(by_address)),
        }];
        out.push(interface_check(facts.mdns_interface.as_deref()));
        out.push(check(
            "partner listener",
            true,
            format!(
                "listening on {}",
                std::net::SocketAddr::new(facts.listen_ip, *facts.port.borrow())
            ),
            None,
        ));
        if let Some(why) = &self.tampered {
            out.push(check(
                "database rows",
                false,
                format!("the last unlock refused haven.db: {why}"),
                Some(crate::vault::RESTORE_HINT),
            ));
        }
        if let Vault::Unlocked(u) = &self.vault {
            out.push(check(
                "database rows",
                true,
                "every row of haven.db verifies against this home's key".into(),
                None,
            ));
            out.push(shared_document_check(u));
            if let Some(problem) = &u.partner_problem {
                out.push(check(
                    "partner record",
                    false,
                    format!("haven.db was changed outside Haven: {problem}; Haven connects to nobody"),
                    Some("`haven partner unpair` forgets it; pair again side by side, or restore a backup (`haven restore FILE`)"),
                ));
            }
        }
        let address = self.peer.connected_address();
        out.push(match &self.vault {
            Vault::Locked => check(
                "partner",
                false,
                "locked: a locked laptop does not connect".into(),
                Some("run `haven unlock`"),
            ),
            Vault::Unlocked(u) => match (&u.partner, address) {
                (None, _) => check("partner", true, "not paired".into(), None),
                (Some(p), Some(a)) => {
                    check("partner", true, format!("connected to {} at {a}", p.name), None)
                }
                (Some(p), None) => check(
                    "partner",
                    false,
                    format!(
                        "{} is not reachable (last seen {})",
                        p.name,
                        p.last_seen
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "never".into())
                    ),
                    Some("both laptops must be unlocked on the same network; if it blocks multicast, use `haven partner address HOST:PORT`"),
                ),
            },
        });
        if let Some(c) = self.relay_check() {
            out.push(c);
        }
        out
    }

    /// The couple's relay, when one is set: reachable, its certificate the pinned one,
    /// this laptop admitted; and whether the partner's iroh key is known yet.
    fn relay_check(&self) -> Option<Check> {
        let Vault::Unlocked(u) = &self.vault else {
            return None;
        };
        let p = u.partner.as_ref()?;
        let relay = haven_shared::relay_url::RelayUrl::parse(p.relay.as_deref()?).ok()?;
        let at = &relay.authority;
        let (ok, detail, fix) = match self.peer.relay_health() {
            Some(h) if h.denied.is_some() => (
                false,
                format!("the relay at {at} refused this laptop: {}", h.denied.unwrap_or_default()),
                None,
            ),
            Some(h) if h.connected && u.home.couple.endpoint_of(&p.member_id).is_none() => (
                false,
                format!("connected to the relay at {at}, but {}'s laptop has not named its iroh key yet", p.name),
                Some("let the laptops sync once side by side on the same network (any Haven since this one)"),
            ),
            Some(h) if h.connected => (
                true,
                format!("connected to the relay at {at}: certificate pinned, this laptop admitted"),
                None,
            ),
            Some(h) => match h.error {
                Some(e) if e.contains("certificate") || e.contains("Certificate") => (
                    false,
                    format!("the relay at {at} shows another certificate than its URL pins: {e}"),
                    Some("copy the relay URL again from `havend relay` on the relay machine"),
                ),
                Some(e) => (
                    false,
                    format!("cannot reach the relay at {at}: {e}"),
                    Some("is `havend relay` running there, and its port open (TCP and UDP)?"),
                ),
                // iroh does not always surface why (a certificate other than the
                // pinned one shows up here too): say what to look at.
                None => (
                    false,
                    format!("not connected to the relay at {at}"),
                    Some(NOT_REACHED),
                ),
            },
            None => (false, format!("not reaching the relay at {at} yet"), Some(NOT_REACHED)),
        };
        Some(Check {
            name: "relay".into(),
            ok,
            detail,
            fix: fix.map(str::to_string),
        })
    }
}

/// What to look at when the relay is not reached and iroh says nothing more.
const NOT_REACHED: &str = "is `havend relay` running there, its port open (TCP and UDP), and is this the URL it printed? A relay whose certificate is not the one the URL pins is refused";

/// Whether some interface mDNS may use is up, multicast-capable and has an IPv4 address.
fn interface_check(only: Option<&str>) -> Check {
    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;
    const IFF_MULTICAST: u32 = 0x1000;
    let flags = |name: &str| {
        std::fs::read_to_string(format!("/sys/class/net/{name}/flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
    };
    let names: Vec<String> = match only {
        Some(name) => vec![name.to_string()],
        None => std::fs::read_dir("/sys/class/net")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let usable: Vec<&String> = names
        .iter()
        .filter(|n| {
            flags(n)
                .is_some_and(|f| f & IFF_UP != 0 && f & IFF_MULTICAST != 0 && f & IFF_LOOPBACK == 0)
        })
        .collect();
    let ok = !usable.is_empty();
    Check {
        name: "multicast interface".into(),
        ok,
        detail: if ok {
            format!(
                "{} up with multicast",
                usable
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            match only {
                Some(name) => format!("{name} is missing, down, or cannot multicast"),
                None => "no interface is up with multicast".into(),
            }
        },
        fix: (!ok).then(|| {
            "connect to a network, or pick another interface with `havend --mdns-interface IFACE`"
                .into()
        }),
    }
}

fn load_sync_state(u: &Unlocked) -> sync::State {
    match u.home.sync_state() {
        Ok(Some(bytes)) => sync::State::decode(&bytes).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the saved sync state is unreadable; starting afresh");
            sync::State::new()
        }),
        Ok(None) => sync::State::new(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the sync state; starting afresh");
            sync::State::new()
        }
    }
}

/// Saves the partner's last-seen facts; a failure costs only those facts.
fn save_partner(u: &mut Unlocked) {
    if let Some(p) = &u.partner {
        if let Err(e) = u.home.save_partner(p) {
            tracing::warn!(error = %e, "could not save when the partner was last seen");
        }
    }
}

/// What in the couple document does not count: malformed keys, and items whose signature
/// does not verify (a buggy or modified device on the other side).
fn shared_document_check(u: &Unlocked) -> Check {
    let (malformed, unverified) = match u.home.agreement_sources() {
        Ok(sources) => {
            let book = haven_shared::model::agreement::assemble(&sources, &u.keyring);
            let unverified: usize = book.agreements.values().map(|a| a.unverified.len()).sum();
            // Notes and the weekly question's items count too.
            let items = u.home.together_items();
            let board = haven_shared::model::notes::assemble(&items, &u.keyring);
            let ask = haven_shared::model::ask::assemble(&items, &u.keyring);
            (
                book.malformed + board.malformed + ask.ignored,
                unverified + board.unverified.len(),
            )
        }
        Err(e) => {
            return Check {
                name: "shared document".into(),
                ok: false,
                detail: format!("cannot read it: {e}"),
                fix: Some("restore from a backup (`haven restore`)".into()),
            }
        }
    };
    let ok = malformed == 0 && unverified == 0;
    Check {
        name: "shared document".into(),
        ok,
        detail: if ok {
            "every agreement, note and answer is well-formed and signed".into()
        } else {
            format!(
                "{malformed} malformed item(s) and {unverified} item(s) without a valid signature are ignored; they change nothing here"
            )
        },
        fix: (!ok).then(|| {
            "nothing to repair on this laptop; if it persists, ask your partner to update Haven (`haven agree show ID` names the items)".into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_address;

    #[test]
    fn addresses_are_checked_without_a_lookup() {
        for ok in [
            "10.0.0.2:47000",
            "[fe80::1]:47000",
            "maya-laptop.local:47000",
            "box:1",
        ] {
            assert!(plausible_address(ok), "{ok}");
        }
        for bad in [
            "",
            "10.0.0.2",
            "host:0",
            "host:70000",
            ":47000",
            "a..b:1",
            "-a:1",
            "a b:1",
            "é:1",
        ] {
            assert!(!plausible_address(bad), "{bad}");
        }
    }
}
