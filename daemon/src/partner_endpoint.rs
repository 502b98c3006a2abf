//! Following the partner's iroh key, at most one change every [`PAUSE`].
//!
//! The partner's laptop names its iroh key in its member record of the couple document;
//! a new key restarts this laptop's iroh endpoint (the endpoint is made for that key). A
//! partner's device that keeps changing it, honest (reinstalled twice) or modified, would
//! restart the endpoint on every sync. So a new key is followed at once only if the last
//! one was followed at least [`PAUSE`] ago; otherwise the newest waits out the pause, and
//! the changes seen in the last hour are counted for `haven doctor`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The shortest time between two keys followed.
pub const PAUSE: Duration = Duration::from_secs(10 * 60);
/// How far back changes are counted.
const WINDOW: Duration = Duration::from_secs(3600);
/// More changes than this in an hour is what `haven doctor` names.
pub const TOO_MANY: usize = 2;

#[derive(Debug, Default)]
pub struct EndpointFollow {
    /// The key the endpoint is made for.
    followed: Option<[u8; 32]>,
    followed_at: Option<Instant>,
    /// The newest key seen in the document, followed or not.
    newest: Option<[u8; 32]>,
    /// When a new key was seen, over the last hour.
    changes: VecDeque<Instant>,
}

impl EndpointFollow {
    /// The key to use now, given the newest the document names.
    pub fn follow(&mut self, newest: Option<[u8; 32]>, now: Instant) -> Option<[u8; 32]> {
        self.observe(newest, now);
        if newest != self.followed && !self.waiting(now) {
            if self.followed.is_some() || self.followed_at.is_some() {
                tracing::info!(
                    changes_in_the_last_hour = self.changes.len(),
                    "following the partner's new iroh key"
                );
            }
            self.followed = newest;
            self.followed_at = Some(now);
        }
        self.followed
    }

    /// Notes the newest key the document names (counted, and said in the log when it
    /// has to wait).
    pub fn observe(&mut self, newest: Option<[u8; 32]>, now: Instant) {
        if newest != self.newest {
            if self.newest.is_some() {
                self.changes.push_back(now);
                if self.waiting(now) {
                    tracing::warn!(
                        changes_in_the_last_hour = self.changes.len(),
                        "the partner's laptop named another iroh key within 10 minutes; the newest is followed once the pause is over"
                    );
                }
            }
            self.newest = newest;
        }
        while self
            .changes
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
        {
            self.changes.pop_front();
        }
    }

    /// A newer key waits for the pause to end.
    fn waiting(&self, now: Instant) -> bool {
        self.followed.is_some()
            && self
                .followed_at
                .is_some_and(|t| now.saturating_duration_since(t) < PAUSE)
    }

    /// The document names a key this laptop does not follow yet, and may now.
    pub fn due(&self, newest: Option<[u8; 32]>, now: Instant) -> bool {
        newest != self.followed && !self.waiting(now)
    }

    /// A newer key is waiting for the pause to end.
    pub fn deferred(&self, now: Instant) -> bool {
        self.newest != self.followed && self.waiting(now)
    }

    /// How many new keys the partner's laptop named in the last hour.
    pub fn changes_in_the_last_hour(&self, now: Instant) -> usize {
        self.changes
            .iter()
            .filter(|t| now.saturating_duration_since(**t) <= WINDOW)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_keeps_changing_is_followed_once_per_pause_and_the_newest_wins() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mut f = EndpointFollow::default();
        assert_eq!(
            f.follow(Some([1; 32]), at(0)),
            Some([1; 32]),
            "the first at once"
        );
        // Three new keys within a minute: none followed yet.
        for (i, key) in [[2; 32], [3; 32], [4; 32]].into_iter().enumerate() {
            assert_eq!(f.follow(Some(key), at(10 + i as u64)), Some([1; 32]));
        }
        assert!(f.deferred(at(20)));
        assert!(!f.due(Some([4; 32]), at(20)));
        assert_eq!(f.changes_in_the_last_hour(at(20)), 3);
        // The pause over: the newest, not the ones between.
        assert!(f.due(Some([4; 32]), at(601)));
        assert_eq!(f.follow(Some([4; 32]), at(601)), Some([4; 32]));
        assert!(!f.deferred(at(602)));
        // An hour later the count has gone.
        assert_eq!(f.changes_in_the_last_hour(at(4000)), 0);
        // A quiet partner's one change after a long time is followed at once.
        assert_eq!(f.follow(Some([5; 32]), at(5000)), Some([5; 32]));
    }
}
