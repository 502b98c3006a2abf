//! What this person has seen of the partner's items and what a desktop notification
//! already went out for: state only, kept on this laptop (see `model::waiting`). The
//! service (`service/waiting.rs`) decides what is waiting; this type keeps the rules of
//! the marks themselves: the first look after an upgrade marks everything as seen, the
//! first look after an unlock notifies nothing, the partner's part is cached per couple
//! heads and day.

use std::collections::BTreeSet;

use automerge::ChangeHash;
use chrono::NaiveDate;
use haven_shared::model::waiting::{self, Waiting};

#[derive(Default)]
pub struct SeenMarks {
    seen: BTreeSet<String>,
    notified: BTreeSet<String>,
    /// No seen marks were stored yet: the first look marks everything there is as seen.
    seen_baseline_due: bool,
    /// Freshly unlocked: the first look takes what is waiting as already notified.
    notice_baseline_due: bool,
    /// The partner's part of what is waiting, for these couple heads and this day.
    cache: Option<(Vec<ChangeHash>, NaiveDate, Vec<Waiting>)>,
}

impl SeenMarks {
    /// At unlock: the marks stored before, or `None` the first time (an upgrade), when
    /// everything there is at the first look counts as seen.
    pub fn at_unlock(stored: Option<BTreeSet<String>>) -> Self {
        Self {
            seen_baseline_due: stored.is_none(),
            seen: stored.unwrap_or_default(),
            notice_baseline_due: true,
            ..Self::default()
        }
    }

    /// The marks to store.
    pub fn seen(&self) -> &BTreeSet<String> {
        &self.seen
    }

    /// The partner's part of what is waiting, if cached for these heads and this day.
    pub fn cached(&self, heads: &[ChangeHash], today: NaiveDate) -> Option<&[Waiting]> {
        match &self.cache {
            Some((h, d, w)) if h == heads && *d == today => Some(w),
            _ => None,
        }
    }

    pub fn cache(&mut self, heads: Vec<ChangeHash>, today: NaiveDate, items: Vec<Waiting>) {
        self.cache = Some((heads, today, items));
    }

    /// The partner, the keyring or the documents changed: compute the list anew.
    pub fn forget_cache(&mut self) {
        self.cache = None;
    }

    /// What of `items` is not seen yet, after taking the baselines due. True in the second
    /// place when the seen marks changed (and should be stored).
    pub fn unseen(&mut self, items: Vec<Waiting>) -> (Vec<Waiting>, bool) {
        let mut changed = false;
        if self.seen_baseline_due {
            self.seen_baseline_due = false;
            self.seen.extend(
                items
                    .iter()
                    .filter(|w| w.area().is_some())
                    .map(|w| w.key.clone()),
            );
            changed = true;
        }
        let items = waiting::unseen(items, &self.seen);
        if self.notice_baseline_due {
            // Nothing waiting when the laptop was unlocked is news: the person is there.
            self.notice_baseline_due = false;
            self.notified = items.iter().map(|w| w.key.clone()).collect();
        }
        (items, changed)
    }

    /// Marks what was shown as seen. True when something new was marked.
    pub fn mark(&mut self, shown: impl IntoIterator<Item = Waiting>) -> bool {
        let before = self.seen.len();
        self.seen.extend(
            shown
                .into_iter()
                .filter(|w| w.area().is_some())
                .map(|w| w.key),
        );
        self.seen.len() != before
    }

    /// Of `items`, those not notified yet; remembered as notified from now on.
    pub fn not_notified(&mut self, items: Vec<Waiting>) -> Vec<Waiting> {
        let fresh: Vec<Waiting> = items
            .into_iter()
            .filter(|w| !self.notified.contains(&w.key))
            .collect();
        self.notified.extend(fresh.iter().map(|w| w.key.clone()));
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_shared::model::waiting::WaitingKind;

    fn item(key: &str, kind: WaitingKind) -> Waiting {
        Waiting {
            key: key.into(),
            kind,
            about: "a".into(),
            what: "Sam proposed 'Phones at dinner'".into(),
            command: "haven agree show a".into(),
            at: haven_shared::when::now(),
            needs_answer: false,
        }
    }

    #[test]
    fn the_first_look_after_an_upgrade_counts_everything_as_seen_but_a_pause() {
        let mut marks = SeenMarks::at_unlock(None);
        let (left, changed) = marks.unseen(vec![
            item("p:1", WaitingKind::Proposed),
            item("pause:1", WaitingKind::PauseEnded),
        ]);
        assert!(changed, "the baseline must be stored");
        let keys: Vec<_> = left.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["pause:1"]);
        // Later items are news.
        let (left, changed) = marks.unseen(vec![item("p:2", WaitingKind::Proposed)]);
        assert!(!changed);
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn nothing_waiting_at_unlock_is_notified_but_what_comes_later_is_once() {
        let mut marks = SeenMarks::at_unlock(Some(BTreeSet::new()));
        let (now, _) = marks.unseen(vec![item("n:1", WaitingKind::Note)]);
        assert_eq!(now.len(), 1, "still waiting, only not notified");
        assert!(marks.not_notified(now).is_empty());
        let (later, _) = marks.unseen(vec![
            item("n:1", WaitingKind::Note),
            item("n:2", WaitingKind::Note),
        ]);
        let fresh = marks.not_notified(later.clone());
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].key, "n:2");
        assert!(marks.not_notified(later).is_empty(), "notified once");
    }

    #[test]
    fn marking_says_whether_anything_new_was_seen_and_the_cache_keys_on_heads_and_day() {
        let mut marks = SeenMarks::at_unlock(Some(BTreeSet::new()));
        assert!(marks.mark([item("a:1", WaitingKind::Accepted)]));
        assert!(!marks.mark([item("a:1", WaitingKind::Accepted)]));
        assert!(
            !marks.mark([item("r:1", WaitingKind::ReviewDue)]),
            "not markable"
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
        marks.cache(Vec::new(), day, vec![item("a:2", WaitingKind::Accepted)]);
        assert_eq!(marks.cached(&[], day).map(<[Waiting]>::len), Some(1));
        assert!(marks.cached(&[], day.succ_opt().expect("a day")).is_none());
        marks.forget_cache();
        assert!(marks.cached(&[], day).is_none());
    }
}
