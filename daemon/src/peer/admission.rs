//! Who may start a handshake on the peer port, and how often a refusal is logged.
//!
//! Anyone on the LAN can open connections to the port. Without limits, 2,000 idle ones
//! would hold 2,000 tasks and buffers until their handshake timeout, and a flood of
//! half-handshakes would write a log line each. So at most [`MAX_PENDING`] handshakes run
//! at once and at most [`PER_ADDRESS`] from one address; the first frame must arrive within
//! `noise::FIRST_FRAME`; everyone else is closed at once, with no byte sent (a stranger
//! learns nothing it would not learn from a closed port). The partner's dialler retries
//! with backoff, so a flood from one address delays it by at most that backoff; one from
//! many addresses at once can hold the slots while it lasts (named in the README).
//! Refusals are logged at most [`LOG_PER_MINUTE`] times a minute, then counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MAX_PENDING: usize = 16;
pub const PER_ADDRESS: usize = 4;
pub const LOG_PER_MINUTE: u32 = 5;

#[derive(Default)]
pub struct Admission {
    pending: Mutex<HashMap<IpAddr, usize>>,
    pub quiet: Quiet,
}

/// A handshake slot; freed when dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    /// A slot for a handshake from `ip`, or `None` when the port is full or `ip` has its
    /// share already.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = pending.values().sum();
        let mine = pending.entry(ip).or_insert(0);
        if total >= MAX_PENDING || *mine >= PER_ADDRESS {
            return None;
        }
        *mine += 1;
        Some(Ticket {
            admission: self.clone(),
            ip,
        })
    }

    #[cfg(test)]
    fn pending(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut pending = self
            .admission
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pending.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                pending.remove(&self.ip);
            }
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

    #[test]
    fn slots_are_capped_in_all_and_per_address_and_freed_on_drop() {
        let admission = Arc::new(Admission::default());
        let a: IpAddr = "10.0.0.2".parse().expect("ip");
        let mut held: Vec<Ticket> = (0..PER_ADDRESS)
            .map(|_| admission.admit(a).expect("a slot"))
            .collect();
        assert!(admission.admit(a).is_none(), "one address has its share");
        for i in 0..(MAX_PENDING - PER_ADDRESS) {
            let ip: IpAddr = format!("10.0.1.{i}").parse().expect("ip");
            held.push(admission.admit(ip).expect("a slot"));
        }
        let partner: IpAddr = "10.0.9.9".parse().expect("ip");
        assert!(admission.admit(partner).is_none(), "the port is full");
        held.pop();
        assert!(
            admission.admit(partner).is_some(),
            "a freed slot is taken again"
        );
        drop(held);
        assert_eq!(admission.pending(), 0);
    }

    #[test]
    fn a_flood_is_logged_a_few_times_a_minute() {
        let quiet = Quiet::default();
        let logged = (0..1000).filter(|_| quiet.allow().is_some()).count();
        assert_eq!(logged, LOG_PER_MINUTE as usize);
    }
}
