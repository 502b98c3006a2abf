//! Pairing two laptops once, side by side: answered by the daemon's network side, not by
//! its core, since it waits on the LAN for the other laptop.

use serde::{Deserialize, Serialize};

use super::SecretText;

/// `haven pair`: make a code and wait for the partner on the LAN (answered at once with
/// the code; `PairWait` then waits for the partner).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct PairStart {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairWait {
    pub code: String,
}

/// `haven pair CODE`: find the laptop showing CODE and pair with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairJoin {
    pub code: SecretText,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairCode {
    pub code: String,
    pub expires_in_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Paired {
    pub partner: String,
    /// The same words print on both laptops; different words mean someone in between.
    pub safety_words: String,
}
