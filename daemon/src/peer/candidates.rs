//! Where the partner may be, and which of those addresses to dial next.
//!
//! The static addresses (`haven partner address`) and the last one the partner was reached
//! at are kept for good. Addresses heard on mDNS are only claims: anyone on the LAN can
//! copy the partner's current name into an advertisement of their own, with addresses that
//! never answer. So at most [`MAX_HEARD`] of them are kept (the least recently heard goes
//! first), one not heard again for [`STALE`] is forgotten, and dials run side by side, at
//! most [`MAX_DIALS`] at once, known addresses and the most recently heard first: a dozen
//! addresses that swallow packets cannot hold up the one that answers.

use std::time::Duration;
use tokio::time::Instant;

/// The most mDNS-heard addresses kept at once.
pub const MAX_HEARD: usize = 16;
/// The most dials in flight at once.
pub const MAX_DIALS: usize = 4;
/// An address heard on mDNS and not heard again for this long is forgotten. Browses
/// repeat every 30 s while not connected, so the partner's real address is heard again.
pub const STALE: Duration = Duration::from_secs(5 * 60);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

struct Candidate {
    addr: String,
    /// A static or last-known address: never dropped.
    pinned: bool,
    heard: Instant,
    next_try: Instant,
    backoff: Duration,
    dialling: bool,
}

#[derive(Default)]
pub struct Candidates {
    list: Vec<Candidate>,
}

impl Candidates {
    pub fn new(pinned: impl IntoIterator<Item = String>, now: Instant) -> Candidates {
        let mut c = Candidates::default();
        for addr in pinned {
            if !c.list.iter().any(|x| x.addr == addr) {
                c.list.push(Candidate {
                    addr,
                    pinned: true,
                    heard: now,
                    next_try: now,
                    backoff: FIRST_BACKOFF,
                    dialling: false,
                });
            }
        }
        c
    }

    /// mDNS named `addr` under the partner's name: worth a dial now.
    pub fn heard(&mut self, addr: String, now: Instant) {
        if let Some(c) = self.list.iter_mut().find(|c| c.addr == addr) {
            c.heard = now;
            c.next_try = c.next_try.min(now);
            c.backoff = FIRST_BACKOFF;
            return;
        }
        let heard = self.list.iter().filter(|c| !c.pinned).count();
        if heard >= MAX_HEARD {
            // Make room by dropping the least recently heard one not being dialled.
            let oldest = self
                .list
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.pinned && !c.dialling)
                .min_by_key(|(_, c)| c.heard)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => {
                    self.list.swap_remove(i);
                }
                None => return,
            }
        }
        self.list.push(Candidate {
            addr,
            pinned: false,
            heard: now,
            next_try: now,
            backoff: FIRST_BACKOFF,
            dialling: false,
        });
    }

    /// The addresses to dial now, given `in_flight` dials already running; they count
    /// as in flight until [`Candidates::finished`].
    pub fn due(&mut self, now: Instant, in_flight: usize) -> Vec<String> {
        self.list
            .retain(|c| c.pinned || c.dialling || now.duration_since(c.heard) < STALE);
        let mut ready: Vec<&mut Candidate> = self
            .list
            .iter_mut()
            .filter(|c| !c.dialling && c.next_try <= now)
            .collect();
        ready.sort_by_key(|c| (!c.pinned, std::cmp::Reverse(c.heard)));
        ready
            .into_iter()
            .take(MAX_DIALS.saturating_sub(in_flight))
            .map(|c| {
                c.dialling = true;
                c.addr.clone()
            })
            .collect()
    }

    /// A dial to `addr` ended; a failure backs that address off.
    pub fn finished(&mut self, addr: &str, ok: bool, now: Instant) {
        if let Some(c) = self.list.iter_mut().find(|c| c.addr == addr) {
            c.dialling = false;
            if ok {
                c.backoff = FIRST_BACKOFF;
                c.next_try = now;
            } else {
                c.next_try = now + c.backoff;
                c.backoff = (c.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.list.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: usize) -> String {
        format!("10.88.0.{i}:4000")
    }

    #[test]
    fn dials_run_side_by_side_and_known_addresses_go_first() {
        let now = Instant::now();
        let mut c = Candidates::new([addr(2)], now);
        for i in 10..20 {
            c.heard(addr(i), now + Duration::from_millis(i as u64));
        }
        let first = c.due(now + Duration::from_secs(1), 0);
        assert_eq!(first.len(), MAX_DIALS);
        assert_eq!(first[0], addr(2), "the known address first");
        assert_eq!(first[1], addr(19), "then the most recently heard");
        assert!(
            c.due(now + Duration::from_secs(1), MAX_DIALS).is_empty(),
            "no more than MAX_DIALS at once"
        );
        let again = c.due(now + Duration::from_secs(1), 2);
        assert_eq!(again.len(), 2);
        assert!(
            again.iter().all(|a| !first.contains(a)),
            "none dialled twice"
        );
    }

    #[test]
    fn a_failed_address_backs_off_and_one_heard_again_is_tried_at_once() {
        let now = Instant::now();
        let mut c = Candidates::new([], now);
        c.heard(addr(5), now);
        assert_eq!(c.due(now, 0), vec![addr(5)]);
        c.finished(&addr(5), false, now);
        assert!(c.due(now, 0).is_empty(), "backing off");
        assert_eq!(c.due(now + Duration::from_secs(1), 0), vec![addr(5)]);
        c.finished(&addr(5), false, now + Duration::from_secs(1));
        assert!(c.due(now + Duration::from_secs(2), 0).is_empty(), "2 s now");
        c.heard(addr(5), now + Duration::from_secs(2));
        assert_eq!(c.due(now + Duration::from_secs(2), 0), vec![addr(5)]);
    }

    #[test]
    fn a_flood_of_heard_addresses_is_capped_and_never_evicts_a_known_one() {
        let now = Instant::now();
        let mut c = Candidates::new([addr(2), addr(3)], now);
        for i in 0..1000 {
            c.heard(format!("10.88.{}.{}:4000", i / 250, i % 250), now);
        }
        assert_eq!(c.len(), 2 + MAX_HEARD);
        let due = c.due(now, 0);
        assert!(due.contains(&addr(2)) && due.contains(&addr(3)));
    }

    #[test]
    fn an_address_not_heard_again_is_forgotten() {
        let now = Instant::now();
        let mut c = Candidates::new([addr(2)], now);
        c.heard(addr(7), now);
        c.due(now + STALE + Duration::from_secs(1), MAX_DIALS);
        assert_eq!(c.len(), 1, "the stale heard address is gone");
        let later = now + STALE * 3;
        assert_eq!(c.due(later, 0), vec![addr(2)], "the known one stays");
    }
}
