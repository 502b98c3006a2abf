//! Who may start a handshake on the peer port, what it may cost, and how often a refusal
//! is logged.
//!
//! Anyone on the LAN can open connections to the port. Three stages bound what they cost:
//!
//! - **Waiting for a first frame**: at most [`WAITING`] connections in all and
//!   [`PER_ADDRESS`] from one address, each for at most `noise::FIRST_FRAME`. When all are
//!   taken, the oldest is let go for the newcomer: idle connections from many addresses
//!   cannot hold the port, and the partner, whose first frame follows its connection at
//!   once, gets in.
//! - **A handshake** (one Diffie–Hellman and more): at most [`MAX_PENDING`] at once.
//! - **Under load** (more than [`LOAD_PER_SECOND`] handshakes begun in a second, or half
//!   the handshake slots taken), a first frame costs a Diffie–Hellman only with MACs that
//!   prove the caller knows this laptop's public key and holds a cookie for its address
//!   (`haven_shared::wire::cookie`): a stranger's frame is closed, and even the partner
//!   first gets a cookie and asks again. A laptop on an older Haven, whose first frame
//!   carries no MACs, is answered only when the port is not under load.
//!
//! Everyone refused is closed with no byte sent. Refusals are logged at most
//! [`LOG_PER_MINUTE`] times a minute, then counted.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haven_shared::wire::cookie::{self, MAC_LEN};
use tokio::sync::Notify;

pub const WAITING: usize = 128;
pub const PER_ADDRESS: usize = 4;
pub const MAX_PENDING: usize = 16;
pub const LOAD_PER_SECOND: u32 = 8;
pub const LOG_PER_MINUTE: u32 = 5;
/// How long one cookie secret lasts (WireGuard's figure).
pub const COOKIE_LIFE: Duration = Duration::from_secs(120);

struct State {
    /// Connections waiting for their first frame, oldest first.
    waiting: VecDeque<(u64, IpAddr, Arc<Notify>)>,
    per_address: HashMap<IpAddr, usize>,
    handshakes: usize,
    /// Handshakes begun in the current second.
    second: (Instant, u32),
    secret: ([u8; 32], Instant),
    next: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            waiting: VecDeque::new(),
            per_address: HashMap::new(),
            handshakes: 0,
            second: (Instant::now(), 0),
            secret: (random_secret(), Instant::now()),
            next: 0,
        }
    }
}

fn random_secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    // Without randomness the cookie is still a MAC over the address, only predictable.
    let _ = getrandom::getrandom(&mut s);
    s
}

#[derive(Default)]
pub struct Admission {
    state: Mutex<State>,
    pub quiet: Quiet,
    /// First frames refused under load (no MACs, or a cookie that does not match).
    pub refused_under_load: AtomicU64,
    /// Cookie replies sent.
    pub cookies_sent: AtomicU64,
}

/// A connection's place at the port; given back when dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
    id: u64,
    evicted: Arc<Notify>,
    handshaking: bool,
}

impl Admission {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a connection from `ip` to send its first frame, or `None` when `ip`
    /// has its share already. A full port lets its oldest waiting connection go.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let evicted = Arc::new(Notify::new());
        let id = enqueue(&mut self.state(), ip, &evicted)?;
        Some(Ticket {
            admission: self.clone(),
            ip,
            id,
            evicted,
            handshaking: false,
        })
    }

    /// Connections waiting for a first frame, and handshakes under way.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (usize, usize) {
        let s = self.state();
        (s.waiting.len(), s.handshakes)
    }
}

/// A waiting place for `ip`, letting the oldest waiting connection go when all are
/// taken; `None` when `ip` has its share.
fn enqueue(s: &mut State, ip: IpAddr, evicted: &Arc<Notify>) -> Option<u64> {
    if s.per_address.get(&ip).copied().unwrap_or(0) >= PER_ADDRESS {
        return None;
    }
    if s.waiting.len() >= WAITING {
        if let Some((_, old_ip, old)) = s.waiting.pop_front() {
            unwait(s, old_ip);
            old.notify_one();
        }
    }
    s.next += 1;
    s.waiting.push_back((s.next, ip, evicted.clone()));
    *s.per_address.entry(ip).or_insert(0) += 1;
    Some(s.next)
}

fn unwait(s: &mut State, ip: IpAddr) {
    if let Some(n) = s.per_address.get_mut(&ip) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            s.per_address.remove(&ip);
        }
    }
}

/// What the port says of a first frame that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Calm,
    /// MACs and a cookie are needed before a Diffie–Hellman.
    Heavy,
}

impl Ticket {
    /// Resolves when the port let this connection go for a newer one.
    pub async fn evicted(&self) {
        self.evicted.notified().await
    }

    /// The first frame arrived: a handshake slot, and whether the port is under load;
    /// `None` when every handshake slot is taken.
    pub fn first_frame(&mut self) -> Option<Load> {
        let mut s = self.admission.state();
        if !self.handshaking {
            if let Some(at) = s.waiting.iter().position(|(id, _, _)| *id == self.id) {
                s.waiting.remove(at);
                unwait(&mut s, self.ip);
            }
        }
        if s.handshakes >= MAX_PENDING {
            return None;
        }
        if !self.handshaking {
            s.handshakes += 1;
            self.handshaking = true;
        }
        let now = Instant::now();
        if now.duration_since(s.second.0) >= Duration::from_secs(1) {
            s.second = (now, 0);
        }
        let heavy = s.second.1 >= LOAD_PER_SECOND || s.handshakes > MAX_PENDING / 2;
        Some(if heavy { Load::Heavy } else { Load::Calm })
    }

    /// A Diffie–Hellman is about to be spent on this caller.
    pub fn spend(&self) {
        let mut s = self.admission.state();
        s.second.1 = s.second.1.saturating_add(1);
    }

    /// This caller's cookie: a MAC over its address under the current secret.
    pub fn cookie(&self) -> [u8; MAC_LEN] {
        let mut s = self.admission.state();
        if s.secret.1.elapsed() >= COOKIE_LIFE {
            s.secret = (random_secret(), Instant::now());
        }
        cookie::cookie_of(&s.secret.0, &self.ip)
    }

    /// A cookie was sent and the caller has to ask again: the handshake slot is given
    /// back and the connection waits for its next frame like a newcomer, so replayed
    /// first frames cannot hold slots. `false` when its address has no place left.
    pub fn wait_again(&mut self) -> bool {
        let mut s = self.admission.state();
        if self.handshaking {
            s.handshakes = s.handshakes.saturating_sub(1);
            self.handshaking = false;
        }
        // A fresh signal: one left from an eviction that raced the first frame must not
        // end this wait.
        self.evicted = Arc::new(Notify::new());
        match enqueue(&mut s, self.ip, &self.evicted) {
            Some(id) => {
                self.id = id;
                true
            }
            None => {
                // Not waiting and not handshaking: dropping the ticket gives back nothing.
                self.id = 0;
                false
            }
        }
    }

    pub fn refused_under_load(&self) {
        self.admission
            .refused_under_load
            .fetch_add(1, Ordering::Relaxed);
    }

    pub fn cookie_sent(&self) {
        self.admission.cookies_sent.fetch_add(1, Ordering::Relaxed);
        if self.admission.quiet.allow().is_some() {
            tracing::info!("the peer port is under load: a caller was asked for a cookie");
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut s = self.admission.state();
        if self.handshaking {
            s.handshakes = s.handshakes.saturating_sub(1);
        } else if let Some(at) = s.waiting.iter().position(|(id, _, _)| *id == self.id) {
            s.waiting.remove(at);
            unwait(&mut s, self.ip);
        }
    }
}

/// A log line budget per minute.
pub struct Quiet {
    state: Mutex<(Instant, u32, u64)>,
}

impl Default for Quiet {
    fn default() -> Self {
        Quiet {
            state: Mutex::new((Instant::now(), 0, 0)),
        }
    }
}

impl Quiet {
    /// `Some(n)`: log this one, after saying that `n` were left unlogged in the minute
    /// before; `None`: count it silently.
    pub fn allow(&self) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (start, logged, skipped) = &mut *s;
        if start.elapsed() >= Duration::from_secs(60) {
            let before = *skipped;
            *s = (Instant::now(), 1, 0);
            return Some(before);
        }
        if *logged < LOG_PER_MINUTE {
            *logged += 1;
            return Some(0);
        }
        *skipped += 1;
        None
    }

    /// Logs a refused connection within the budget.
    pub fn refused(&self, addr: std::net::SocketAddr, why: &dyn std::fmt::Display) {
        if let Some(skipped) = self.allow() {
            if skipped > 0 {
                tracing::warn!(skipped, "refused more connections in the last minute");
            }
            tracing::warn!(%addr, error = %why, "refused a connection");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(i: usize) -> IpAddr {
        format!("10.0.{}.{}", i / 250, i % 250 + 1)
            .parse()
            .expect("ip")
    }

    #[tokio::test]
    async fn idle_connections_from_many_addresses_cannot_hold_the_port() {
        let admission = Arc::new(Admission::default());
        let a = ip(0);
        let mut held: Vec<Ticket> = (0..PER_ADDRESS)
            .map(|_| admission.admit(a).expect("a place"))
            .collect();
        assert!(admission.admit(a).is_none(), "one address has its share");
        // 200 addresses, four idle connections each: the oldest are let go.
        for i in 1..=200 {
            for _ in 0..PER_ADDRESS {
                held.push(admission.admit(ip(i)).expect("a place"));
            }
        }
        assert_eq!(admission.counts().0, WAITING);
        // The very first is told, and its place is free again.
        tokio::time::timeout(Duration::from_secs(1), held[0].evicted())
            .await
            .expect("the oldest was let go");
        let partner = ip(999);
        let mut sam = admission.admit(partner).expect("the partner gets in");
        assert_eq!(sam.first_frame(), Some(Load::Calm));
        assert_eq!(admission.counts(), (WAITING - 1, 1));
        drop(held);
        drop(sam);
        assert_eq!(admission.counts(), (0, 0));
        assert!(admission.state().per_address.is_empty());
    }

    #[test]
    fn handshakes_are_capped_and_a_burst_puts_the_port_under_load() {
        let admission = Arc::new(Admission::default());
        let mut busy = Vec::new();
        for i in 0..MAX_PENDING {
            let mut t = admission.admit(ip(i)).expect("a place");
            let load = t.first_frame().expect("a handshake slot");
            assert_eq!(
                load == Load::Heavy,
                i > MAX_PENDING / 2 - 1 || i >= LOAD_PER_SECOND as usize
            );
            t.spend();
            busy.push(t);
        }
        let mut late = admission.admit(ip(500)).expect("a place to wait");
        assert_eq!(late.first_frame(), None, "every handshake slot is taken");
        drop(busy);
        // Slots free again; the burst of handshakes this second still counts.
        let mut next = admission.admit(ip(501)).expect("a place");
        assert_eq!(next.first_frame(), Some(Load::Heavy));
        // One cookie per address, the same until the secret changes.
        assert_eq!(next.cookie(), next.cookie());
        assert_ne!(next.cookie(), late.cookie());
    }

    /// A caller sent a cookie gives its handshake slot back and waits like a newcomer:
    /// evictable, and within its address's share.
    #[tokio::test]
    async fn a_caller_asked_for_a_cookie_holds_no_handshake_slot() {
        let admission = Arc::new(Admission::default());
        let a = ip(0);
        let mut asked = admission.admit(a).expect("a place");
        asked.first_frame().expect("a slot");
        assert_eq!(admission.counts(), (0, 1));
        assert!(asked.wait_again());
        assert_eq!(admission.counts(), (1, 0));
        // Newcomers push it out like any idle connection.
        let others: Vec<Ticket> = (1..=WAITING)
            .map(|i| admission.admit(ip(i)).expect("a place"))
            .collect();
        tokio::time::timeout(Duration::from_secs(1), asked.evicted())
            .await
            .expect("the caller asked for a cookie was let go");
        drop(others);
        drop(asked);
        assert_eq!(admission.counts(), (0, 0));
        // An address with its share taken gets no second wait.
        let mut full: Vec<Ticket> = (0..PER_ADDRESS)
            .map(|_| admission.admit(a).expect("a place"))
            .collect();
        let mut first = full.remove(0);
        first.first_frame().expect("a slot");
        full.push(admission.admit(a).expect("the place it left"));
        assert!(!first.wait_again());
        drop(first);
        assert_eq!(admission.counts(), (PER_ADDRESS, 0));
    }

    #[test]
    fn a_flood_is_logged_a_few_times_a_minute() {
        let quiet = Quiet::default();
        let logged = (0..1000).filter(|_| quiet.allow().is_some()).count();
        assert_eq!(logged, LOG_PER_MINUTE as usize);
    }
}
