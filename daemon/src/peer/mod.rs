//! Everything between this daemon and the partner's: pairing, discovery, the Noise
//! transport and the sync session.
//!
//! The core thread decides *whether* to be on the network and with whom (the [`Link`] it
//! publishes: off while locked, unpaired, or paired with pinned keys); this module keeps a
//! connection up while it says so: it listens, advertises, browses, re-dials the last
//! known and the static addresses with backoff, and runs one session at a time. Two
//! sessions at once (both sides dialled) are settled by one rule both sides apply: keep the
//! one whose initiator has the lower Noise static key.

pub mod discovery;
pub mod noise;
pub mod pairing;
pub mod session;
pub mod words;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use zeroize::Zeroizing;

use haven_shared::ipc::{ErrorKind, ErrorReply, Reply, Request, Response};
use haven_shared::partner::{Key32, Partner};

use crate::ipc_server::CoreMsg;
use noise::LinkKeys;
use pairing::{Code, Material, Outcome, PairError};

/// Whether and with whom to keep a connection: published by the core thread.
#[derive(Clone)]
pub enum Link {
    /// Locked: no keys in memory, nothing on the network.
    Off,
    /// Unlocked and unpaired: a random advertisement, no sessions; a former partner who
    /// calls is told it was unpaired.
    Unpaired(Option<Arc<Farewell>>),
    Paired(Arc<PairedLink>),
}

/// What answering a former partner needs.
pub struct Farewell {
    /// SHA-256 of the former partner's Noise key.
    pub former: [u8; 32],
    pub own_static: Zeroizing<[u8; 32]>,
    pub own_public: [u8; 32],
    pub signing: haven_shared::ed25519_dalek::SigningKey,
}

pub struct PairedLink {
    pub own_static: Zeroizing<[u8; 32]>,
    pub own_public: [u8; 32],
    pub partner_public: [u8; 32],
    /// The partner's signing key: a farewell must carry its signature.
    pub partner_signing: haven_shared::ed25519_dalek::VerifyingKey,
    pub psk: Key32,
    pub discovery: Key32,
    /// The newest handshake timestamp accepted before this start (replay protection).
    pub last_handshake: u64,
    /// The last address the partner was reached at and the static ones, dialled as well
    /// as anything mDNS finds.
    pub dial: Vec<String>,
}

/// Requests from the network tasks to the core thread, which owns the documents.
pub enum PeerOp {
    /// What pairing needs: this device's introduction and Noise key. Fails while locked
    /// or already paired.
    PairingMaterial(oneshot::Sender<Result<Material, ErrorReply>>),
    /// Pairing succeeded: pin this partner.
    Paired(Box<Partner>, oneshot::Sender<Result<(), ErrorReply>>),
    /// A session is up: load its sync state. `dialled` is the partner's listening address
    /// (the one dialled, or the one the partner named in its handshake), worth re-dialling
    /// later. `false`: no longer paired.
    Connected {
        dialled: Option<String>,
        /// The timestamp of the handshake this side answered, to be remembered.
        handshake_stamp: Option<u64>,
        reply: oneshot::Sender<bool>,
    },
    /// The next sync message for the partner, if there is anything to say.
    Generate(oneshot::Sender<Option<Vec<u8>>>),
    /// A sync message from the partner; an error closes the connection.
    Receive(Vec<u8>, oneshot::Sender<Result<(), String>>),
    Disconnected,
    /// The partner ran `haven partner unpair`.
    PartnerLeft,
}

/// Sends `op` to the core and waits for its answer; `None` if the core has stopped.
pub async fn ask<T>(
    core: &mpsc::Sender<CoreMsg>,
    op: impl FnOnce(oneshot::Sender<T>) -> PeerOp,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    core.send(CoreMsg::Peer(op(tx))).await.ok()?;
    rx.await.ok()
}

/// The session in place, if any.
struct Current {
    id: u64,
    initiator: [u8; 32],
    address: String,
    cancel: oneshot::Sender<()>,
}

/// What the core reads for `status` and `haven partner`.
#[derive(Default)]
pub struct Registry {
    current: Option<Current>,
    next_id: u64,
}

impl Registry {
    pub fn connected_address(&self) -> Option<String> {
        self.current.as_ref().map(|c| c.address.clone())
    }

    /// Admits a new session or refuses it, by the duplicate rule.
    fn admit(
        &mut self,
        initiator: [u8; 32],
        address: String,
    ) -> Option<(u64, oneshot::Receiver<()>)> {
        if let Some(current) = &self.current {
            // The same side dialled again: the older connection is the stale one. Two
            // sides dialled each other: the initiator with the lower key wins, on both.
            let keep_current = current.initiator != initiator && current.initiator < initiator;
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
            id: self.next_id,
            initiator,
            address,
            cancel,
        });
        Some((self.next_id, cancelled))
    }
}

/// Shared by the network tasks.
pub struct Net {
    pub core: mpsc::Sender<CoreMsg>,
    pub link: watch::Receiver<Link>,
    /// Bumped by the core after every local change to the couple document.
    pub changed: watch::Receiver<u64>,
    pub registry: Arc<Mutex<Registry>>,
    pub mdns: Option<mdns_sd::ServiceDaemon>,
    pub port: u16,
    /// The address `--listen` named (pairing listens on it too, on a random port).
    listen_ip: std::net::IpAddr,
    /// The newest handshake timestamp accepted (replay protection).
    last_handshake: AtomicU64,
    /// Codes shown by `haven pair`, waiting for the partner.
    pending: Mutex<HashMap<String, oneshot::Receiver<Reply>>>,
}

impl Net {
    pub fn new(
        core: mpsc::Sender<CoreMsg>,
        link: watch::Receiver<Link>,
        changed: watch::Receiver<u64>,
        registry: Arc<Mutex<Registry>>,
        mdns: Option<mdns_sd::ServiceDaemon>,
        port: u16,
        listen_ip: std::net::IpAddr,
    ) -> Net {
        Net {
            core,
            link,
            changed,
            registry,
            mdns,
            port,
            listen_ip,
            last_handshake: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
        }
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

    /// Starts a session on an established channel, unless the duplicate rule refuses it.
    fn start_session(
        self: &Arc<Self>,
        channel: noise::Channel,
        initiator: [u8; 32],
        partner: [u8; 32],
        dialled: Option<String>,
    ) {
        let address = channel
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let admitted = match self.registry.lock() {
            Ok(mut r) => r.admit(initiator, address),
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

/// Listens for the partner for the daemon's whole life; refuses everyone while locked or
/// unpaired, and any key but the partner's.
pub async fn accept_loop(net: Arc<Net>, listener: TcpListener) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a peer connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let link = net.link.borrow().clone();
        let p = match link {
            Link::Paired(p) => p,
            Link::Unpaired(Some(f)) => {
                tokio::spawn(async move {
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
                        Err(e) => tracing::warn!(%addr, error = %e, "refused a connection"),
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
            let keys = LinkKeys {
                own_static: &p.own_static,
                partner_public: &p.partner_public,
                psk: p.psk.bytes(),
            };
            net.last_handshake
                .fetch_max(p.last_handshake, Ordering::SeqCst);
            match noise::respond(stream, keys, &net.last_handshake).await {
                Ok(channel) => {
                    let callback = channel.callback.clone();
                    net.start_session(channel, p.partner_public, p.partner_public, callback)
                }
                Err(e) => tracing::warn!(%addr, error = %e, "refused a connection"),
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

const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
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

fn pairing_error(e: PairError) -> ErrorReply {
    let hint = match &e {
        PairError::WrongCode => "the code is used up: run `haven pair` again for a new one",
        PairError::BadCode(_) => "type the code exactly as the other laptop shows it",
        PairError::Protocol(_) | PairError::Timeout => {
            "run `haven pair` again on both laptops, on the same network"
        }
    };
    ErrorReply::new(ErrorKind::Pairing, e.to_string()).hint(hint)
}

fn no_mdns() -> ErrorReply {
    ErrorReply::new(
        ErrorKind::Pairing,
        "mDNS is not available, so the other laptop cannot be found",
    )
    .hint("run `haven doctor` for the network checks")
}

/// `haven pair` and `haven pair CODE`, which wait on the network, not on the core.
pub async fn handle_pairing(net: &Arc<Net>, request: Request) -> Reply {
    match request {
        Request::PairStart => {
            let material = ask(&net.core, PeerOp::PairingMaterial)
                .await
                .ok_or_else(stopping)??;
            let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
            let code = Code::generate();
            let listener = TcpListener::bind((net.listen_ip, 0)).await.map_err(|e| {
                ErrorReply::new(
                    ErrorKind::Pairing,
                    format!("cannot listen for the partner: {e}"),
                )
            })?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            let advert = discovery::advertise(
                &mdns,
                discovery::PAIR_SERVICE,
                &code.nameplate.to_string(),
                port,
            )
            .map_err(|e| ErrorReply::new(ErrorKind::Pairing, e.to_string()))?;
            let (tx, rx) = oneshot::channel();
            if let Ok(mut pending) = net.pending.lock() {
                pending.insert(code.to_string(), rx);
            }
            let net2 = net.clone();
            tokio::spawn(async move {
                let result = tokio::time::timeout(pairing::CODE_LIFETIME, async {
                    // One connection per code: whatever it says, the code is spent.
                    let (stream, addr) = listener
                        .accept()
                        .await
                        .map_err(|e| PairError::Protocol(e.to_string()))?;
                    drop(listener);
                    drop(advert);
                    tracing::info!(%addr, "a laptop is pairing with the code");
                    pairing::host(stream, &code, &material).await
                })
                .await
                .unwrap_or(Err(PairError::Timeout));
                let _ = tx.send(finish_pairing(&net2, result).await);
            });
            Ok(Response::PairCode {
                code: code.to_string(),
                expires_in_secs: pairing::CODE_LIFETIME.as_secs(),
            })
        }
        Request::PairWait { code } => {
            let rx = net
                .pending
                .lock()
                .ok()
                .and_then(|mut p| p.remove(&code))
                .ok_or_else(|| {
                    ErrorReply::new(ErrorKind::Pairing, "that code is not waiting here")
                        .hint("run `haven pair` again")
                })?;
            rx.await.unwrap_or_else(|_| Err(stopping()))
        }
        Request::PairJoin { code } => {
            let code = Code::parse(&code.0).map_err(pairing_error)?;
            let material = ask(&net.core, PeerOp::PairingMaterial)
                .await
                .ok_or_else(stopping)??;
            let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
            let addrs = discovery::find_nameplate(&mdns, code.nameplate, Duration::from_secs(10))
                .await
                .ok_or_else(|| {
                    ErrorReply::new(ErrorKind::Pairing, format!("no laptop on this network shows a code starting with {}", code.nameplate))
                        .hint("check that both laptops are on the same network and the code is still on screen")
                })?;
            let mut last_error = None;
            for addr in addrs {
                match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => {
                        let result = pairing::join(stream, &code, &material).await;
                        return finish_pairing(net, result).await;
                    }
                    Ok(Err(e)) => last_error = Some(e.to_string()),
                    Err(_) => last_error = Some("timed out".into()),
                }
            }
            Err(ErrorReply::new(
                ErrorKind::Pairing,
                format!(
                    "cannot reach the laptop showing the code: {}",
                    last_error.unwrap_or_default()
                ),
            )
            .hint("check that no firewall blocks Haven between the two laptops"))
        }
        _ => Err(ErrorReply::new(
            ErrorKind::Internal,
            "not a pairing request",
        )),
    }
}

fn stopping() -> ErrorReply {
    ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
        .hint("run the command again")
}

async fn finish_pairing(net: &Net, result: Result<Outcome, PairError>) -> Reply {
    let outcome = result.map_err(|e| {
        tracing::warn!(error = %e, "pairing failed");
        pairing_error(e)
    })?;
    let name = outcome.partner.name.clone();
    ask(&net.core, |reply| {
        PeerOp::Paired(Box::new(outcome.partner), reply)
    })
    .await
    .ok_or_else(stopping)??;
    tracing::info!("paired");
    Ok(Response::Paired {
        partner: name,
        safety_words: outcome.safety_words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_sessions_keep_the_lower_initiator_on_both_sides() {
        let (low, high) = ([1u8; 32], [2u8; 32]);
        // One side sees the high initiator's connection first, the other the low one's.
        let mut first_high = Registry::default();
        let (_, mut cancelled) = first_high.admit(high, "x".into()).expect("first");
        assert!(
            first_high.admit(low, "y".into()).is_some(),
            "the low initiator wins"
        );
        assert!(
            cancelled.try_recv().is_ok(),
            "the high initiator's session is told to go"
        );
        let mut first_low = Registry::default();
        first_low.admit(low, "y".into()).expect("first");
        assert!(
            first_low.admit(high, "x".into()).is_none(),
            "the high initiator loses"
        );
        assert_eq!(
            first_high.connected_address(),
            first_low.connected_address()
        );
    }

    #[test]
    fn the_same_side_dialling_again_replaces_its_stale_session() {
        let mut r = Registry::default();
        let (first, mut cancelled) = r.admit([3u8; 32], "a".into()).expect("first");
        let (second, _) = r.admit([3u8; 32], "b".into()).expect("second");
        assert_ne!(first, second);
        assert!(cancelled.try_recv().is_ok());
        assert_eq!(r.connected_address().as_deref(), Some("b"));
    }
}
