//! Everything between this daemon and the partner's: pairing, discovery, the Noise
//! transport and the sync session.
//!
//! The core thread decides *whether* to be on the network and with whom (the [`Link`] it
//! publishes: off while locked, unpaired, or paired with pinned keys); this module keeps a
//! connection up while it says so: it listens, advertises, browses, re-dials the last
//! known and the static addresses with backoff, and runs one session at a time. Two
//! sessions at once (both sides dialled) are settled by one rule both sides apply: keep the
//! one whose initiator has the lower Noise static key. A session on another path (the LAN,
//! or iroh: `apart`) replaces the current one; the LAN comes first because a laptop on
//! iroh keeps looking for it, and dials iroh only when it has no session at all.

pub mod admission;
pub mod apart;
pub mod candidates;
pub mod connections;
pub mod discovery;
pub mod noise;
pub mod pair_requests;
pub mod pairing;
pub mod session;

pub use connections::{accept_loop, keep_linked};
pub use pair_requests::handle_pairing;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

use haven_shared::ipc::{ErrorReply, Paired};
use haven_shared::partner_record::PqSecrets;

use crate::contract::{CoreMsg, Link, NetView, Path, RelayHealth};

/// What carries a session.
#[derive(Clone)]
pub enum Via {
    /// TCP on the LAN.
    Lan,
    /// An iroh connection: through the relay, or direct once hole punching succeeded.
    Iroh(iroh::endpoint::Connection),
}

impl Via {
    fn is_lan(&self) -> bool {
        matches!(self, Via::Lan)
    }

    /// The path now: iroh moves a connection from the relay to a direct path (and back)
    /// by itself, so this is read when asked.
    fn path(&self) -> Path {
        match self {
            Via::Lan => Path::Lan,
            Via::Iroh(conn) => {
                let direct = conn.paths().iter().any(|p| p.is_selected() && p.is_ip());
                if direct {
                    Path::Direct
                } else {
                    Path::Relayed
                }
            }
        }
    }
}

/// The session in place, if any.
struct Current {
    id: u64,
    initiator: [u8; 32],
    address: String,
    via: Via,
    cancel: oneshot::Sender<()>,
    since: Instant,
    /// Switched to its post-quantum keys.
    post_quantum: bool,
}

/// Two sessions admitted this close together are the two laptops dialling each other at
/// once, and the initiator rule picks one of them. Later, the partner dialling means it has
/// no session: ours is stale (it crashed or restarted, and QUIC, unlike TCP, hears nothing
/// of that until its idle timeout). A restarted laptop dials through iroh no sooner than
/// `apart::LAN_FIRST` after it started, which is no shorter than this.
const SIMULTANEOUS: Duration = Duration::from_secs(2);
const _: () = assert!(SIMULTANEOUS.as_millis() <= apart::LAN_FIRST.as_millis());

/// What the core reads for `status` and `haven partner`.
#[derive(Default)]
pub struct Registry {
    current: Option<Current>,
    next_id: u64,
    /// How the relay answers, while an iroh endpoint is up.
    pub relay: Option<RelayHealth>,
    /// Why the last session with the partner ended at its hello (another peer protocol),
    /// for `haven partner` and `doctor`; cleared by a session that starts.
    hello_problem: Option<String>,
    /// The post-quantum secrets a handshake uses (`haven_shared::crypto::pq`), as the core
    /// last stored them with the partner.
    pq: Option<PqSecrets>,
}

impl Registry {
    pub fn connected_address(&self) -> Option<String> {
        self.current.as_ref().map(|c| c.address.clone())
    }

    /// How the session in place reaches the partner.
    pub fn path(&self) -> Option<Path> {
        self.current.as_ref().map(|c| c.via.path())
    }

    fn connected_on_lan(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.via.is_lan())
    }

    /// Admits a new session or refuses it, by the duplicate rule.
    fn admit(
        &mut self,
        initiator: [u8; 32],
        address: String,
        via: Via,
        now: Instant,
    ) -> Option<(u64, oneshot::Receiver<()>)> {
        if let Some(current) = &self.current {
            // Another path replaces the current one: a laptop dials through iroh only
            // when it has no session at all, so a LAN session it no longer has is stale
            // (its cable was pulled: TCP would take 45 s to say so); and a laptop on
            // iroh keeps looking for the LAN, so the LAN comes back first. On one path:
            // the same side dialled again, the older connection is the stale one; two
            // sides dialled each other at once, the initiator with the lower key wins, on
            // both; the other side dialled later, ours is stale (see SIMULTANEOUS).
            let keep_current = current.via.is_lan() == via.is_lan()
                && now.saturating_duration_since(current.since) < SIMULTANEOUS
                && current.initiator != initiator
                && current.initiator < initiator;
            if keep_current {
                return None;
            }
            if let Some(old) = self.current.take() {
                let _ = old.cancel.send(());
            }
        }
        self.next_id += 1;
        let (cancel, cancelled) = oneshot::channel();
        self.current = Some(Current {
            post_quantum: false,
            id: self.next_id,
            initiator,
            address,
            via,
            cancel,
            since: now,
        });
        Some((self.next_id, cancelled))
    }
}

impl NetView for Mutex<Registry> {
    fn connected_address(&self) -> Option<String> {
        self.lock().ok().and_then(|r| r.connected_address())
    }

    fn path(&self) -> Option<Path> {
        self.lock().ok().and_then(|r| r.path())
    }

    fn relay_health(&self) -> Option<RelayHealth> {
        self.lock().ok().and_then(|r| r.relay.clone())
    }

    fn hello_problem(&self) -> Option<String> {
        self.lock().ok().and_then(|r| r.hello_problem.clone())
    }

    fn set_post_quantum(&self, pq: Option<PqSecrets>) {
        if let Ok(mut r) = self.lock() {
            r.pq = pq;
        }
    }

    fn post_quantum(&self) -> bool {
        self.lock()
            .ok()
            .and_then(|r| r.current.as_ref().map(|c| c.post_quantum))
            .unwrap_or(false)
    }
}

/// Where the partner listener is, as the command line set it up.
pub struct Listen {
    /// The address the listener is bound to (its port the one it got).
    pub bound: std::net::SocketAddr,
    /// `--listen` named a port: keep it whatever the network.
    pub fixed_port: bool,
    /// `--mdns-interface`.
    pub mdns_interface: Option<String>,
}

/// Shared by the network tasks.
pub struct Net {
    pub core: mpsc::Sender<CoreMsg>,
    pub link: watch::Receiver<Link>,
    /// Bumped by the core after every local change to the couple document.
    pub changed: watch::Receiver<u64>,
    pub registry: Arc<Mutex<Registry>>,
    pub mdns: Option<mdns_sd::ServiceDaemon>,
    /// The port the partner listener is on now: a new one on each network (see
    /// `connections::accept_loop`), unless `--listen` fixed it.
    port: watch::Sender<u16>,
    /// `--listen` named a port: keep it whatever the network.
    fixed_port: bool,
    /// The address `--listen` named (pairing listens on it too, on a random port).
    listen_ip: std::net::IpAddr,
    /// `--mdns-interface`: only addresses on its networks are dialled.
    pub mdns_interface: Option<String>,
    /// The newest handshake timestamp accepted (replay protection).
    last_handshake: AtomicU64,
    /// Codes shown by `haven pair`, waiting for the partner.
    pending: Mutex<HashMap<String, oneshot::Receiver<Result<Paired, ErrorReply>>>>,
    /// Handshake slots on the peer port, and the budget of refusal log lines.
    pub admission: Arc<admission::Admission>,
    /// What the next handshake this laptop makes leaves out after unanswered ones.
    fallback: DialFallback,
}

/// What a handshake this laptop makes leaves out after unanswered ones, so that a partner
/// who cannot read the newest form still answers one of the next tries. Unanswered tries
/// walk through the four forms in turn: the post-quantum epoch named or not (every other
/// try), the first frame's MACs sent or not (every other pair of tries). Each dial takes
/// the form at its start and moves it on only if it is still the current one, so dials
/// that fail side by side (several addresses, the LAN and iroh) skip no form; a form that
/// is answered stays.
#[derive(Default)]
pub struct DialFallback {
    unanswered: AtomicU8,
}

/// One of the four forms of [`DialFallback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialForm(u8);

impl DialForm {
    /// `true`: name no post-quantum epoch (epoch 0 is always answered). A partner that
    /// lost the epochs this laptop names (a reply cut three times, a restored backup) then
    /// still answers, and the session's own exchange makes an epoch both keep.
    pub fn without_pq(self) -> bool {
        self.0 & 1 == 1
    }

    /// The first frame's form: a laptop on Haven before the MACs reads a frame with them
    /// as a bad handshake, and answers a bare one while its port is calm.
    pub fn first_frame(self) -> noise::FirstFrameForm {
        if self.0 & 2 == 2 {
            noise::FirstFrameForm::Bare
        } else {
            noise::FirstFrameForm::WithMacs
        }
    }
}

impl DialFallback {
    /// The form for a dial starting now.
    pub fn form(&self) -> DialForm {
        DialForm(self.unanswered.load(Ordering::Relaxed))
    }

    /// A dial in `used` form went unanswered: the next dial takes the next form, unless
    /// another dial moved it on already.
    pub fn unanswered(&self, used: DialForm) {
        let _ = self.unanswered.compare_exchange(
            used.0,
            (used.0 + 1) & 3,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The session switched to post-quantum keys: the partner reads epochs.
    fn post_quantum(&self) {
        let _ = self
            .unanswered
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n & !1));
    }
}

impl Net {
    pub fn new(
        core: mpsc::Sender<CoreMsg>,
        link: watch::Receiver<Link>,
        changed: watch::Receiver<u64>,
        registry: Arc<Mutex<Registry>>,
        mdns: Option<mdns_sd::ServiceDaemon>,
        listen: Listen,
    ) -> Net {
        Net {
            core,
            link,
            changed,
            registry,
            mdns,
            port: watch::Sender::new(listen.bound.port()),
            fixed_port: listen.fixed_port,
            listen_ip: listen.bound.ip(),
            mdns_interface: listen.mdns_interface,
            last_handshake: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
            admission: Arc::default(),
            fallback: DialFallback::default(),
        }
    }

    /// The post-quantum secrets for the next handshake this laptop answers.
    pub fn pq_secrets(&self) -> Option<PqSecrets> {
        self.registry.lock().ok().and_then(|r| r.pq.clone())
    }

    /// The form for a handshake this laptop starts now (see [`DialFallback`]).
    pub fn dial_form(&self) -> DialForm {
        self.fallback.form()
    }

    /// The post-quantum secrets a handshake in `form` names: none in the fallback forms.
    pub fn pq_for_dialling(&self, form: DialForm) -> Option<PqSecrets> {
        if form.without_pq() {
            return None;
        }
        self.pq_secrets()
    }

    /// A handshake this laptop made in `form` went unanswered.
    pub fn dial_unanswered(&self, form: DialForm) {
        self.fallback.unanswered(form);
    }

    /// The session in place switched to its post-quantum keys (both sides).
    fn mark_post_quantum(&self, id: u64) {
        self.fallback.post_quantum();
        if let Ok(mut r) = self.registry.lock() {
            if let Some(c) = r.current.as_mut().filter(|c| c.id == id) {
                c.post_quantum = true;
            }
        }
    }

    /// See [`Registry::hello_problem`].
    fn set_hello_problem(&self, problem: Option<String>) {
        if let Ok(mut r) = self.registry.lock() {
            r.hello_problem = problem;
        }
    }

    /// The port the partner listener is on now.
    pub fn port(&self) -> u16 {
        *self.port.borrow()
    }

    /// Changes of [`Net::port`], for whatever advertises it.
    pub fn port_changes(&self) -> watch::Receiver<u16> {
        self.port.subscribe()
    }

    fn registry_leave(&self, id: u64) {
        if let Ok(mut r) = self.registry.lock() {
            if r.current.as_ref().map(|c| c.id) == Some(id) {
                r.current = None;
            }
        }
    }

    fn connected(&self) -> bool {
        self.registry
            .lock()
            .map(|r| r.current.is_some())
            .unwrap_or(false)
    }

    fn connected_on_lan(&self) -> bool {
        self.registry
            .lock()
            .map(|r| r.connected_on_lan())
            .unwrap_or(false)
    }

    /// Ends the LAN session if the partner's address is on none of `nets` any more.
    fn end_lan_session_off(&self, nets: &discovery::LocalNets) {
        let Ok(mut r) = self.registry.lock() else {
            return;
        };
        let gone = r.current.as_ref().is_some_and(|c| {
            c.via.is_lan()
                && c.address
                    .parse::<std::net::SocketAddr>()
                    .is_ok_and(|a| !nets.plausible(&a))
        });
        if gone {
            if let Some(old) = r.current.take() {
                tracing::info!(address = %old.address, "left the partner's network: ended the LAN session");
                let _ = old.cancel.send(());
            }
        }
    }

    /// Starts a session on an established channel, unless the duplicate rule refuses it.
    /// `address` names the partner for `haven partner`: its socket address on the LAN.
    fn start_session(
        self: &Arc<Self>,
        channel: noise::Channel,
        initiator: [u8; 32],
        partner: [u8; 32],
        dialled: Option<String>,
        via: Via,
        address: String,
    ) {
        let admitted = match self.registry.lock() {
            Ok(mut r) => r.admit(initiator, address, via, Instant::now()),
            Err(_) => None,
        };
        match admitted {
            Some((id, cancel)) => {
                tokio::spawn(session::run(
                    self.clone(),
                    channel,
                    id,
                    partner,
                    dialled,
                    cancel,
                ));
            }
            None => tracing::debug!("closed a duplicate connection"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four unanswered tries cover every form, so a partner on an older Haven (no MACs,
    /// or no epochs) is reached within them; a post-quantum session keeps the MAC choice.
    #[test]
    fn unanswered_handshakes_walk_through_every_form() {
        use noise::FirstFrameForm::{Bare, WithMacs};
        let f = DialFallback::default();
        let mut seen = Vec::new();
        for _ in 0..5 {
            let form = f.form();
            seen.push((form.without_pq(), form.first_frame()));
            // Two dials of one round (two addresses) fail in the same form: one step.
            f.unanswered(form);
            f.unanswered(form);
        }
        assert_eq!(
            seen,
            [
                (false, WithMacs),
                (true, WithMacs),
                (false, Bare),
                (true, Bare),
                (false, WithMacs)
            ]
        );
        f.unanswered(f.form());
        f.unanswered(f.form());
        let form = f.form();
        assert_eq!((form.without_pq(), form.first_frame()), (true, Bare));
        f.post_quantum();
        let form = f.form();
        assert_eq!((form.without_pq(), form.first_frame()), (false, Bare));
    }

    #[test]
    fn duplicate_sessions_keep_the_lower_initiator_on_both_sides() {
        let (low, high) = ([1u8; 32], [2u8; 32]);
        let t0 = Instant::now();
        // One side sees the high initiator's connection first, the other the low one's.
        let mut first_high = Registry::default();
        let (_, mut cancelled) = first_high
            .admit(high, "x".into(), Via::Lan, t0)
            .expect("first");
        assert!(
            first_high.admit(low, "y".into(), Via::Lan, t0).is_some(),
            "the low initiator wins"
        );
        assert!(
            cancelled.try_recv().is_ok(),
            "the high initiator's session is told to go"
        );
        let mut first_low = Registry::default();
        first_low
            .admit(low, "y".into(), Via::Lan, t0)
            .expect("first");
        assert!(
            first_low.admit(high, "x".into(), Via::Lan, t0).is_none(),
            "the high initiator loses"
        );
        assert_eq!(
            first_high.connected_address(),
            first_low.connected_address()
        );
    }

    #[test]
    fn the_same_side_dialling_again_replaces_its_stale_session() {
        let t0 = Instant::now();
        let mut r = Registry::default();
        let (first, mut cancelled) = r.admit([3u8; 32], "a".into(), Via::Lan, t0).expect("first");
        let (second, _) = r
            .admit([3u8; 32], "b".into(), Via::Lan, t0)
            .expect("second");
        assert_ne!(first, second);
        assert!(cancelled.try_recv().is_ok());
        assert_eq!(r.connected_address().as_deref(), Some("b"));
    }

    /// The partner restarted (or crashed) and dials again: the session we dialled before
    /// is stale, whoever has the lower key. QUIC would tell us only at its idle timeout.
    #[test]
    fn the_partner_dialling_later_replaces_the_session_we_dialled() {
        let (low, high) = ([1u8; 32], [2u8; 32]);
        let t0 = Instant::now();
        let mut r = Registry::default();
        let (_, mut cancelled) = r.admit(low, "ours".into(), Via::Lan, t0).expect("first");
        assert!(
            r.admit(high, "early".into(), Via::Lan, t0 + Duration::from_secs(1))
                .is_none(),
            "at once: the lower initiator keeps it"
        );
        assert!(
            r.admit(high, "theirs".into(), Via::Lan, t0 + SIMULTANEOUS)
                .is_some(),
            "later: the partner's new session replaces ours"
        );
        assert!(cancelled.try_recv().is_ok(), "ours is told to go");
        assert_eq!(r.connected_address().as_deref(), Some("theirs"));
    }
}
