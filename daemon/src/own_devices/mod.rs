//! The network side of the person's own devices: linking a new one (`link`), and a
//! session with each of the others on the LAN (`connections`, `handshake`, `session`),
//! over which the journal syncs.
//!
//! This is the one network path the journal takes, and it leads only to devices the
//! person's signed list names, each authenticated by its own Noise key and the secret the
//! person's devices share. `peer/`, the partner's path, cannot name the journal.
//!
//! Each device dials the others it finds (on mDNS, or at their last address) and has no
//! session with. Two sessions with one device opened within [`SIMULTANEOUS`] of each other
//! are the two dialling at once: both sides keep the one whose caller has the lower Noise
//! key. Later, a new session replaces the old (a device that restarted dials again, and
//! its old session is dead).

pub mod connections;
pub mod handshake;
pub mod link;
pub mod session;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

use haven_shared::ipc::{ErrorReply, LinkStep};

use crate::contract::{CoreMsg, DevicesLink};

/// The mDNS service the person's devices find each other by: not the partner's, so the
/// two browses never share one (mdns-sd keeps one browse per service type).
pub const SERVICE: &str = "_haven-dev._tcp.local.";

/// What `init --join`'s waits read: the words, then the outcome.
type Steps = Arc<tokio::sync::Mutex<mpsc::Receiver<Result<LinkStep, ErrorReply>>>>;

/// Two sessions with one device this close together were dialled at once.
const SIMULTANEOUS: std::time::Duration = std::time::Duration::from_secs(2);

/// The session in place with one device: a token, how to end it, who called, and when.
struct Registered {
    token: u64,
    cancel: oneshot::Sender<()>,
    caller: [u8; 32],
    since: std::time::Instant,
}

pub struct OwnNet {
    pub core: mpsc::Sender<CoreMsg>,
    pub link: watch::Receiver<DevicesLink>,
    pub journal_changed: watch::Receiver<u64>,
    pub mdns: Option<mdns_sd::ServiceDaemon>,
    pub listen_ip: IpAddr,
    pub mdns_interface: Option<String>,
    /// The port the own-device listener is on.
    pub port: AtomicU16,
    next_session: AtomicU64,
    /// The session with each device, by id.
    sessions: Mutex<HashMap<String, Registered>>,
    /// Devices being dialled now, so a burst of mDNS answers makes one dial.
    dialling: Mutex<std::collections::HashSet<String>>,
    /// The newest handshake timestamp accepted from each device (replay protection).
    stamps: Mutex<HashMap<[u8; 32], u64>>,
    /// Codes `init --join` showed, by code.
    shown: Mutex<HashMap<String, Steps>>,
    /// `device add`'s offers waiting for the person to compare the words, by token.
    offers: Mutex<HashMap<String, link::Offer>>,
}

impl OwnNet {
    pub fn new(
        core: mpsc::Sender<CoreMsg>,
        link: watch::Receiver<DevicesLink>,
        journal_changed: watch::Receiver<u64>,
        mdns: Option<mdns_sd::ServiceDaemon>,
        listen_ip: IpAddr,
        mdns_interface: Option<String>,
    ) -> OwnNet {
        OwnNet {
            core,
            link,
            journal_changed,
            mdns,
            listen_ip,
            mdns_interface,
            port: AtomicU16::new(0),
            next_session: AtomicU64::new(1),
            sessions: Mutex::default(),
            dialling: Mutex::default(),
            stamps: Mutex::default(),
            shown: Mutex::default(),
            offers: Mutex::default(),
        }
    }

    /// A session id the core tells sessions apart by.
    fn session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes a session with `device`, called by the device with key `caller`, the one in
    /// place, ending an older one; `None`: the one in place stays (see [`SIMULTANEOUS`]).
    fn register(&self, device: &str, caller: [u8; 32]) -> Option<(u64, oneshot::Receiver<()>)> {
        let token = self.session_id();
        let (tx, rx) = oneshot::channel();
        let mut sessions = self.sessions.lock().ok()?;
        if let Some(old) = sessions.get(device) {
            let dialled_at_once = old.since.elapsed() < SIMULTANEOUS
                && !old.cancel.is_closed()
                && old.caller != caller;
            if dialled_at_once && old.caller < caller {
                return None;
            }
        }
        // The old sender dropped here ends the old session.
        sessions.insert(
            device.to_string(),
            Registered {
                token,
                cancel: tx,
                caller,
                since: std::time::Instant::now(),
            },
        );
        Some((token, rx))
    }

    fn unregister(&self, device: &str, token: u64) {
        if let Ok(mut s) = self.sessions.lock() {
            if s.get(device).is_some_and(|r| r.token == token) {
                s.remove(device);
            }
        }
    }

    fn has_session(&self, device: &str) -> bool {
        self.sessions
            .lock()
            .map(|s| s.get(device).is_some_and(|r| !r.cancel.is_closed()))
            .unwrap_or(false)
    }
}
