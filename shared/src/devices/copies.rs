//! Catching one device that runs in two homes: a home folder copied by hand (or a backup
//! restored without `haven restore`) and started beside the original. Both copies hold the
//! same device key, so no handshake can tell them apart; what tells them apart is history.
//!
//! At every session each device gives the other a fresh mark, numbered one more than the
//! last it gave, and remembers it; the other keeps it and shows it at the start of the next
//! session. A copy was made at some moment and holds that moment's marks, so once the
//! original has gone on, two things show it, one on each side of the copy's first session:
//! - the copy shows an **older** mark than the one the other device gave since: the other
//!   device knows the copy for what it is;
//! - the other device shows the copy a mark the copy never gave (a newer number, from the
//!   original): the copy knows **it** is the copy.
//!
//! So the copy is caught the first time it calls, however the two copies take turns, and
//! knows it. A device that crashed before keeping its newest mark still shows the one
//! before, which is accepted until the newest is known to be kept (it said so, or it
//! showed it): no false alarm from a pulled plug. A home moved (copied, then the original
//! never run again) is never caught: it is one device.

use serde::{Deserialize, Serialize};

/// The marks this device gave another one: `<number>-<random>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    /// The newest mark the other is known to hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
    /// A newer mark sent to it, not yet known to be kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
}

/// Whether a mark another device gives should replace the one kept from it: only a newer
/// one (a mark sent twice, or one from an older session still on its way, changes nothing).
pub fn replaces(held: Option<&str>, new: &str) -> bool {
    match (held.and_then(number), number(new)) {
        (Some(held), Some(new)) => new > held,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// What the mark another device showed says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The one it should hold (or none was ever given): the same device as last time.
    Same,
    /// An older one than it should hold: it is a copy, and another copy of it holds the
    /// newer.
    Older,
    /// One this device never gave: another copy of *this* device gave it, so this one runs
    /// in two homes.
    NotMine,
}

fn number(mark: &str) -> Option<u64> {
    mark.split_once('-')?.0.parse().ok()
}

impl Given {
    /// Checks the mark the other device showed (`None`: it holds none from this one).
    pub fn check(&mut self, shown: Option<&str>) -> Shown {
        let Some(shown) = shown else {
            // None held: older than a mark it is known to hold; otherwise it may never have
            // received one (the first session, a Haven from before marks, a lost message).
            return if self.kept.is_some() {
                Shown::Older
            } else {
                Shown::Same
            };
        };
        if self.sent.as_deref() == Some(shown) {
            // It kept the newer one, though its word about it never arrived.
            self.kept = self.sent.take();
            return Shown::Same;
        }
        if self.kept.as_deref() == Some(shown) {
            return Shown::Same;
        }
        match (number(shown), self.kept.as_deref().and_then(number)) {
            (Some(theirs), Some(kept)) if theirs < kept => Shown::Older,
            _ => Shown::NotMine,
        }
    }

    /// A fresh mark to send, numbered after every one given before; remembered as sent
    /// (save before sending it).
    pub fn give(&mut self) -> String {
        // One mark at a time: while one is on its way, it is sent again, so two sessions
        // overlapping cannot leave the other holding a mark this one forgot.
        if let Some(sent) = &self.sent {
            return sent.clone();
        }
        let last = [&self.kept, &self.sent]
            .into_iter()
            .flatten()
            .filter_map(|m| number(m))
            .max()
            .unwrap_or(0);
        let mark = format!(
            "{}-{}",
            last.saturating_add(1),
            hex::encode(crate::crypto::random_bytes::<16>())
        );
        self.sent = Some(mark.clone());
        mark
    }

    /// The other device said it kept `mark`. True when that moved what it holds.
    pub fn kept(&mut self, mark: &str) -> bool {
        if self.sent.as_deref() == Some(mark) {
            self.kept = self.sent.take();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One session between this device (`given`) and another that holds `held`.
    fn session(given: &mut Given, held: &mut Option<String>, keeps: bool) -> Shown {
        let shown = given.check(held.as_deref());
        if shown == Shown::Same {
            let mark = given.give();
            *held = Some(mark.clone());
            if keeps {
                given.kept(&mark);
            }
        }
        shown
    }

    /// Two sessions overlapping: the mark on its way is given again, and the other keeps
    /// only a newer one, so it never holds one this device forgot.
    #[test]
    fn overlapping_sessions_never_leave_a_forgotten_mark() {
        let mut given = Given::default();
        let mut held: Option<String> = None;
        session(&mut given, &mut held, true);
        let (a, b) = (given.give(), given.give());
        assert_eq!(a, b, "one mark at a time");
        for m in [&b, &a] {
            if replaces(held.as_deref(), m) {
                held = Some(m.clone());
            }
        }
        assert_eq!(given.check(held.as_deref()), Shown::Same);
        assert!(!replaces(Some("5-aa"), "4-bb"));
        assert!(!replaces(Some("5-aa"), "junk"));
        assert!(replaces(None, "1-aa"));
    }

    #[test]
    fn the_same_device_is_always_the_same_even_when_its_word_is_lost() {
        let mut given = Given::default();
        let mut held = None;
        for round in 0..10 {
            // Every other session ends before "kept" arrives.
            assert_eq!(session(&mut given, &mut held, round % 2 == 0), Shown::Same);
        }
    }

    #[test]
    fn a_device_that_crashed_before_keeping_its_newest_mark_is_not_taken_for_a_copy() {
        let mut given = Given::default();
        let mut held = None;
        session(&mut given, &mut held, true);
        let before = held.clone();
        // A new mark is sent; the device crashes before it stores it.
        given.check(held.as_deref());
        given.give();
        assert_eq!(given.check(before.as_deref()), Shown::Same);
    }

    /// The laptop (`given`, what it gave the desk) and the desk; the desk is copied, then
    /// the two copies take turns. Also from the copy's side: what the desk gave the laptop
    /// (`desk_gave`, as each copy remembers it) against what the laptop holds.
    #[test]
    fn a_copy_is_caught_on_both_sides_however_the_two_take_turns() {
        for copy_first in [false, true] {
            let mut laptop_gave = Given::default();
            let mut laptop_holds = None;
            let mut original_holds = None;
            let mut original_gave = Given::default();
            session(&mut laptop_gave, &mut original_holds, true);
            session(&mut original_gave, &mut laptop_holds, true);
            // The home is copied now: the copy holds and remembers the same.
            let (mut copy_holds, mut copy_gave) = (original_holds.clone(), original_gave.clone());
            let (first, second) = if copy_first {
                (
                    (&mut copy_holds, &mut copy_gave),
                    (&mut original_holds, &mut original_gave),
                )
            } else {
                (
                    (&mut original_holds, &mut original_gave),
                    (&mut copy_holds, &mut copy_gave),
                )
            };
            // The first to call again goes on as the device.
            assert_eq!(session(&mut laptop_gave, first.0, true), Shown::Same);
            assert_eq!(session(first.1, &mut laptop_holds, true), Shown::Same);
            // The second shows an older mark, and is shown one it never gave.
            assert_eq!(laptop_gave.check(second.0.as_deref()), Shown::Older);
            assert_eq!(second.1.check(laptop_holds.as_deref()), Shown::NotMine);
        }
    }

    #[test]
    fn a_copy_made_before_any_mark_is_caught_once_the_original_has_one() {
        let mut given = Given::default();
        let mut original = None;
        let mut copy = None;
        assert_eq!(session(&mut given, &mut original, true), Shown::Same);
        assert_eq!(session(&mut given, &mut copy, true), Shown::Older);
    }

    /// A copy made long ago is still older, however many marks were given since: marks
    /// are numbered, nothing depends on remembering them all.
    #[test]
    fn a_copy_from_long_ago_is_older_not_unknown() {
        let mut given = Given::default();
        let mut original = None;
        session(&mut given, &mut original, true);
        let copy = original.clone();
        for _ in 0..100 {
            session(&mut given, &mut original, true);
        }
        assert_eq!(given.check(copy.as_deref()), Shown::Older);
    }

    #[test]
    fn a_mark_never_given_is_not_mine_and_a_stray_kept_changes_nothing() {
        let mut given = Given::default();
        let mut held = None;
        session(&mut given, &mut held, true);
        assert!(!given.kept("00"));
        assert_eq!(Given::default().check(Some("1-abcd")), Shown::NotMine);
        assert_eq!(Given::default().check(None), Shown::Same);
        assert_eq!(given.check(Some("ffff")), Shown::NotMine);
        assert_eq!(given.check(Some("9-abcd")), Shown::NotMine);
        assert_eq!(given.check(held.as_deref()), Shown::Same);
    }
}
