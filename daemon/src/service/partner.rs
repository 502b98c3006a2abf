//! The core's half of the partner: `haven partner` and its calls (addresses, the relay,
//! unpairing), pinning a partner after pairing, the `Link` published to the network, and
//! the network's `PeerOp`s. The sync itself is `partner_sync`'s.
//!
//! Only the couple document is ever handed to the sync protocol; the journal has no path
//! to the network. Whatever arrives is merged, persisted (sealed) before the session is
//! told it may answer, and shown through the keyring: a consent counts only if it verifies
//! against the key pinned at pairing.

use std::sync::Arc;
use tokio::sync::watch;
use zeroize::Zeroizing;

use haven_shared::ipc::{ErrorKind, ErrorReply, PartnerCall, PartnerInfo, Reply, Unpaired};
use haven_shared::partner_record::Partner;

use super::Service;
use crate::contract::{Apart, Farewell, Intro, Link, Material, NetView, PairedLink, PeerOp};
use crate::vault::{home_error, Unlocked, Vault};
use haven_shared::words::safety_words;

/// The core's ends of the channels to the network tasks.
pub struct PeerLinks {
    pub link: watch::Sender<Link>,
    /// Bumped after every change to the couple document, so a session pushes it at once.
    pub changed: watch::Sender<u64>,
    /// What the network knows of the session in place.
    pub net: Arc<dyn NetView>,
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
/// a relay, the partner's iroh key from its member record, and this laptop's introduction
/// to the relay, signed with `signing`.
fn apart_of(
    partner_endpoint: Option<[u8; 32]>,
    p: &Partner,
    signing: &haven_shared::ed25519_dalek::SigningKey,
) -> Option<Apart> {
    let relay = haven_shared::relay_url::RelayUrl::parse(p.relay.as_deref()?).ok()?;
    let secret = p.endpoint_secret.clone()?;
    let endpoint = *iroh::SecretKey::from_bytes(secret.bytes())
        .public()
        .as_bytes();
    let introduction = haven_shared::relay_introduction::auth_token(
        &relay.token,
        signing,
        &p.verifying_key()?,
        &endpoint,
    );
    Some(Apart {
        secret,
        partner: partner_endpoint,
        relay,
        introduction,
    })
}

/// The partner's iroh key the document names now.
fn newest_endpoint(u: &Unlocked) -> Option<[u8; 32]> {
    u.partner()
        .and_then(|p| u.home.couple.endpoint_of(&p.member_id))
}

/// Makes this laptop's iroh key for the pairing if it has none, and names its public half
/// in our member record, so the partner can dial us once apart. True when the couple
/// document changed (the partner should hear of it).
pub(super) fn ensure_endpoint(u: &mut Unlocked) -> bool {
    let Some(p) = u.partner_record_mut() else {
        return false;
    };
    let secret = match &p.endpoint_secret {
        Some(s) => s.clone(),
        None => {
            let mut bytes = [0u8; 32];
            if getrandom::getrandom(&mut bytes).is_err() {
                return false;
            }
            let made = haven_shared::partner_record::Key32::new(bytes);
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

impl Service {
    /// Tells the network tasks what to do now (after unlock, lock, pair, unpair).
    /// Keeps a session's post-quantum secret and hands it to the network side.
    fn keep_pq_secret(&mut self, opened: u32, ss: &[u8; 32]) -> bool {
        let kept = match &mut self.vault {
            Vault::Unlocked(u) => keep_pq_secret(u, opened, ss),
            Vault::Locked => false,
        };
        if kept {
            self.share_pq_secrets();
        }
        kept
    }

    /// Hands the network side the post-quantum secrets its handshakes use.
    fn share_pq_secrets(&self) {
        let pq = match &self.vault {
            Vault::Unlocked(u) => u.partner().and_then(|p| p.pq.clone()),
            Vault::Locked => None,
        };
        self.peer.net.set_post_quantum(pq);
    }

    pub(super) fn publish_link(&mut self) {
        self.share_pq_secrets();
        let mut followed = None;
        if let Vault::Unlocked(u) = &mut self.vault {
            if ensure_endpoint(u) {
                self.couple_changed();
            }
        }
        if let Vault::Unlocked(u) = &mut self.vault {
            let newest = newest_endpoint(u);
            followed = u.endpoint.follow(newest, std::time::Instant::now());
        }
        let link = match &self.vault {
            Vault::Locked => Link::Off,
            Vault::Unlocked(u) => match u.partner() {
                None => Link::Unpaired(u.farewell().map(|former| {
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
                        let apart = apart_of(followed, p, u.home.identity.signing_key());
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
        self.publish_devices();
        // Who the partner is may have changed (paired, unpaired): the sessions with this
        // person's other devices say so.
        self.journal_changed();
    }

    /// The couple document changed: the partner's session and the sessions with this
    /// person's other devices push it.
    pub(super) fn couple_changed(&self) {
        self.peer.changed.send_modify(|v| *v += 1);
        self.journal_changed();
    }

    /// `haven partner …`: who, how connected, addresses, the relay, unpairing.
    pub(super) fn partner(&mut self, call: PartnerCall) -> Reply {
        match call {
            PartnerCall::Partner(_) => self.partner_info().map(Into::into),
            PartnerCall::PartnerAddress(c) => self.partner_address(&c.address).map(Into::into),
            PartnerCall::PartnerRelay(c) => self
                .partner_relay(c.url.as_ref().map(|u| u.0.as_str()))
                .map(Into::into),
            PartnerCall::PartnerUnpair(c) => self.unpair(c.wipe).map(Into::into),
            PartnerCall::Leave(c) => self.leave(&c).map(Into::into),
        }
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
                    Vault::Unlocked(u) if u.partner().is_some() => {
                        u.sync_start(session);
                        if let Some(p) = u.partner_record_mut() {
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
                    Vault::Unlocked(u) => u.sync_next(session),
                    Vault::Locked => None,
                };
                let _ = reply.send(message);
            }
            PeerOp::Receive(session, bytes, reply) => {
                // What arrived is noticed on the next tick (within a second), off this path:
                // the session answers the partner first.
                let before = self.couple_heads();
                let _ = reply.send(self.receive(session, &bytes));
                if self.couple_heads() != before {
                    // On to the person's other devices (the partner's session answers by
                    // itself).
                    self.journal_changed();
                }
                self.follow_partner_endpoint();
            }
            PeerOp::Disconnected => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    if let Some(p) = u.partner_record_mut() {
                        p.last_seen = Some(haven_shared::when::now());
                    }
                    save_partner(u);
                }
            }
            PeerOp::PqSecret { opened, ss, reply } => {
                let _ = reply.send(self.keep_pq_secret(opened, &ss));
            }
            PeerOp::PartnerLeft => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    let name = u.partner().map(|p| p.name.clone());
                    // The partner left: nothing to tell it later.
                    if let Err(e) = u.home.forget_partner(None) {
                        tracing::warn!(error = %e, "could not forget the partner who unpaired");
                    }
                    u.set_partner(None);
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
    /// After the couple document changed, and on every tick: notes the partner's iroh key
    /// and republishes the link when a new one is due (one per pause, see
    /// `partner_endpoint`).
    pub(super) fn follow_partner_endpoint(&mut self) {
        let linked = match &*self.peer.link.borrow() {
            Link::Paired(l) => l.apart.as_ref().map(|a| a.partner),
            _ => None,
        };
        let Vault::Unlocked(u) = &mut self.vault else {
            return;
        };
        if u.partner().is_none_or(|p| p.relay.is_none()) {
            return;
        }
        let now = std::time::Instant::now();
        let newest = newest_endpoint(u);
        u.endpoint.observe(newest, now);
        if linked.is_some_and(|linked| linked != newest) && u.endpoint.due(newest, now) {
            self.publish_link();
        }
    }

    fn pairing_material(&mut self) -> Result<Material, ErrorReply> {
        let u = self.unlocked()?;
        if let Some(p) = u.partner() {
            return Err(ErrorReply::new(
                ErrorKind::Pairing,
                format!("this laptop is already paired with {}", p.name),
            )
            .hint("to pair again, first run `haven partner unpair`"));
        }
        if let Some(card) = u.partner_card() {
            return Err(ErrorReply::new(
                ErrorKind::Pairing,
                format!(
                    "{} is paired on another of your devices; this one acts in the couple through it",
                    card.name
                ),
            )
            .hint("agreements, notes and answers work here as they are; `haven partner` shows it"));
        }
        let identity = &u.home.identity;
        Ok(Material {
            intro: Intro {
                name: u.name.clone(),
                // The person's member, named by their first device's key: on another of
                // their devices, its own key signs in that name (the partner follows the
                // device list from the first key).
                member_id: u.home.member_id(),
                signing_key: member_key(u),
            },
            noise_static: Zeroizing::new(*identity.noise_static()),
            noise_public: identity.noise_public(),
        })
    }

    fn pin(&mut self, partner: Partner) -> Result<(), ErrorReply> {
        let u = self.unlocked()?;
        if u.partner().is_some() {
            return Err(ErrorReply::new(ErrorKind::Pairing, "already paired"));
        }
        // A new pairing ends any farewell to a former partner.
        u.home.forget_partner(None).map_err(home_error)?;
        u.home.save_partner(&partner).map_err(home_error)?;
        u.pin_partner(partner);
        self.publish_link();
        Ok(())
    }

    /// A message from the partner: merged and saved (see `PartnerSync::receive`) before
    /// the session may answer; then what it calls for here.
    fn receive(&mut self, session: u64, bytes: &[u8]) -> Result<(), String> {
        let Vault::Unlocked(u) = &mut self.vault else {
            return Err("locked".into());
        };
        if u.sync_receive(session, bytes)? {
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
            // The partner linked or revoked a device: whose signatures count follows.
            u.follow_partner_devices();
            // The partner answered the weekly question too: our answer may go now.
            super::together::reveal_due(u);
        }
        Ok(())
    }

    fn partner_info(&mut self) -> Result<PartnerInfo, ErrorReply> {
        let address = self.peer.net.connected_address();
        let path = self.peer.net.path();
        let problem = self.peer.net.hello_problem();
        let post_quantum = address.is_some() && self.peer.net.post_quantum();
        let u = self.unlocked()?;
        if let Some(problem) = u.partner_problem() {
            return Err(untrusted_partner(problem));
        }
        let Some(p) = u.partner().cloned() else {
            // Paired on another of the person's devices: who, and that it goes through it.
            return Ok(PartnerInfo {
                name: u.partner_card().map(|c| c.name),
                through_another_device: u.partner_card().is_some(),
                ..PartnerInfo::default()
            });
        };
        let waiting = u.sync_waiting();
        let standing = u.sync_standing();
        let connected = address.is_some();
        let identity = &u.home.identity;
        let words = p.noise_public().map(|theirs| {
            safety_words(
                &identity.noise_public(),
                &theirs,
                &member_key(u),
                &p.signing_key,
            )
        });
        Ok(PartnerInfo {
            paired: true,
            name: Some(p.name),
            member_id: Some(p.member_id),
            connected,
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
            problem,
            post_quantum,
            // What the partner said in an earlier session may be out of date by now.
            in_sync: connected && standing.in_sync,
            heads: standing.ours,
            partner_heads: standing.theirs.filter(|_| connected),
            devices: crate::vault::partner_devices(p.devices.as_deref())
                .map(|l| {
                    l.devices
                        .into_iter()
                        .map(|d| haven_shared::ipc::PartnerDevice {
                            revoked: d.revoked.is_some(),
                            name: d.name,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            through_another_device: false,
        })
    }

    /// `haven partner relay URL` / `--remove`.
    fn partner_relay(&mut self, url: Option<&str>) -> Result<PartnerInfo, ErrorReply> {
        let parsed = match url {
            Some(text) => Some(
                haven_shared::relay_url::RelayUrl::parse(text)
                    .map_err(|e| ErrorReply::new(ErrorKind::InvalidInput, e.to_string()))?,
            ),
            None => None,
        };
        let u = self.unlocked()?;
        let Some(p) = u.partner_record_mut() else {
            return Err(not_paired());
        };
        p.relay = parsed.map(|r| r.to_string());
        let p = p.clone();
        u.home.save_partner(&p).map_err(home_error)?;
        self.publish_link();
        self.partner_info()
    }

    fn partner_address(&mut self, address: &str) -> Result<PartnerInfo, ErrorReply> {
        let address = address.trim();
        if !plausible_address(address) {
            return Err(ErrorReply::new(
                ErrorKind::InvalidInput,
                format!("{address:?} is not an address: give HOST:PORT, e.g. 192.168.1.20:47000"),
            ));
        }
        let u = self.unlocked()?;
        let Some(p) = u.partner_record_mut() else {
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

    pub(super) fn unpair(&mut self, wipe: bool) -> Result<Unpaired, ErrorReply> {
        let u = self.unlocked()?;
        let (name, former) = match (u.partner_problem(), u.partner()) {
            // Rows someone else wrote: forget them all; there is nobody to tell.
            (Some(_), _) => ("the partner record that did not verify".to_string(), None),
            (None, Some(p)) => (
                p.name.clone(),
                p.noise_public().map(|k| {
                    use sha2::Digest;
                    haven_shared::partner_record::FormerPartner {
                        key_hash: sha2::Sha256::digest(k).into(),
                        pairing: p.pairing_id(),
                    }
                }),
            ),
            // Unpaired already: `--wipe` deletes the copy (again, after a wipe that failed).
            (None, None) if wipe => {
                u.home.wipe_couple().map_err(home_error)?;
                u.set_partner(None);
                return Ok(Unpaired {
                    partner: String::new(),
                    wiped: true,
                    already: true,
                });
            }
            (None, None) => return Err(not_paired()),
        };
        u.home.forget_partner(former).map_err(home_error)?;
        u.unpin_partner(former);
        let wiped = if wipe {
            u.home.wipe_couple().map_err(|e| {
                let e = home_error(e);
                ErrorReply::new(
                    e.kind,
                    format!("unpaired from {name}, but this laptop's copy of the agreements is not deleted yet: {}", e.message),
                )
                .hint("close whatever holds haven.db open (a backup?), then run `haven partner unpair --wipe` again")
            })
        } else {
            Ok(())
        };
        if wipe && wiped.is_ok() {
            // Unpaired, the keyring reads the members the document still names: none now.
            u.set_partner(None);
        }
        tracing::info!(wipe, "unpaired");
        // Whatever the wipe did: the session stops at once and tells the partner on its way
        // out, and nobody is dialled any more.
        self.publish_link();
        wiped?;
        Ok(Unpaired {
            partner: name,
            wiped: wipe,
            already: false,
        })
    }
}

/// Saves the partner's last-seen facts; a failure costs only those facts.
fn save_partner(u: &mut Unlocked) {
    if let Err(e) = u.save_partner_record() {
        tracing::warn!(error = %e, "could not save when the partner was last seen");
    }
}

/// Stores the secret a session's post-quantum exchange made, derived from the secret the
/// session was opened with (see `haven_shared::crypto::pq`).
fn keep_pq_secret(u: &mut Unlocked, opened: u32, ss: &[u8; 32]) -> bool {
    use haven_shared::crypto::pq;
    use haven_shared::partner_record::{Key32, PqEpoch, PqSecrets};
    let Some(p) = u.partner_record_mut() else {
        return false;
    };
    let base = match opened {
        0 => Some(p.psk.clone()),
        epoch => p.pq.as_ref().and_then(|q| q.of(epoch)).cloned(),
    };
    let Some(base) = base else {
        return false;
    };
    let now = haven_shared::when::now();
    let epoch = PqEpoch {
        epoch: pq::epoch_of(ss),
        secret: Key32::new(*pq::next_secret(base.bytes(), ss)),
    };
    let mut secrets = p.pq.take().unwrap_or(PqSecrets {
        epochs: Vec::new(),
        made_at: now,
    });
    secrets.push(epoch, pq::KEEP, now);
    p.pq = Some(secrets);
    save_partner(u);
    true
}

/// The key the person's member id is made from (hex): their first device's.
fn member_key(u: &Unlocked) -> String {
    u.devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok())
        .and_then(|l| l.devices.into_iter().next())
        .map(|d| d.key)
        .unwrap_or_else(|| hex::encode(u.home.identity.verifying_key().as_bytes()))
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
