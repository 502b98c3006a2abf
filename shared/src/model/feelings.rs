//! The named feelings a check-in offers (`haven checkin --feeling WORD`): a small
//! vocabulary in four groups, energy high or low, pleasant or unpleasant, as the mood
//! meter of emotional-literacy work arranges them. Naming a feeling precisely is part of
//! the practice; a fixed list also lets `insights` count them.

use serde::{Deserialize, Serialize};

use super::error::ModelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    HighUnpleasant,
    LowUnpleasant,
    HighPleasant,
    LowPleasant,
}

impl Group {
    pub fn words(self) -> &'static str {
        match self {
            Group::HighUnpleasant => "high energy, unpleasant",
            Group::LowUnpleasant => "low energy, unpleasant",
            Group::HighPleasant => "high energy, pleasant",
            Group::LowPleasant => "low energy, pleasant",
        }
    }
}

/// Every word, by group.
pub const FEELINGS: [(Group, [&str; 10]); 4] = [
    (
        Group::HighUnpleasant,
        [
            "anxious",
            "angry",
            "afraid",
            "frustrated",
            "jealous",
            "overwhelmed",
            "panicked",
            "restless",
            "irritated",
            "tense",
        ],
    ),
    (
        Group::LowUnpleasant,
        [
            "sad",
            "lonely",
            "tired",
            "hopeless",
            "hurt",
            "ashamed",
            "disappointed",
            "empty",
            "numb",
            "guilty",
        ],
    ),
    (
        Group::HighPleasant,
        [
            "excited",
            "hopeful",
            "proud",
            "joyful",
            "grateful",
            "energised",
            "playful",
            "confident",
            "loved",
            "inspired",
        ],
    ),
    (
        Group::LowPleasant,
        [
            "calm",
            "content",
            "relieved",
            "safe",
            "peaceful",
            "relaxed",
            "secure",
            "connected",
            "tender",
            "rested",
        ],
    ),
];

/// The group of a word of the vocabulary.
pub fn group_of(word: &str) -> Option<Group> {
    FEELINGS
        .iter()
        .find(|(_, words)| words.contains(&word))
        .map(|(g, _)| *g)
}

/// A word as given, checked against the vocabulary (any case, spaces around); an unknown
/// one is refused with the nearest word suggested.
pub fn checked(word: &str) -> Result<String, ModelError> {
    let w = word.trim().to_lowercase();
    if group_of(&w).is_some() {
        return Ok(w);
    }
    let nearest = FEELINGS
        .iter()
        .flat_map(|(_, words)| words.iter())
        .min_by_key(|candidate| strsim::levenshtein(&w, candidate))
        .copied()
        .unwrap_or("calm");
    Err(ModelError::UnknownFeeling(word.to_string(), nearest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_found_in_any_case_and_a_typo_gets_the_nearest() {
        assert_eq!(checked(" Anxious "), Ok("anxious".to_string()));
        assert_eq!(group_of("calm"), Some(Group::LowPleasant));
        assert_eq!(
            checked("lonley"),
            Err(ModelError::UnknownFeeling("lonley".into(), "lonely"))
        );
        assert!(checked("").is_err());
        let all: Vec<&str> = FEELINGS
            .iter()
            .flat_map(|(_, w)| w.iter().copied())
            .collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 40, "no word in two groups");
    }
}
