//! The word list for pairing codes and safety words: 256 short, distinct, easily typed
//! words, so each word carries 8 bits. Safety words live here, not with pairing, because
//! both the pairing and `haven partner` (in the core) show them.

use sha2::{Digest, Sha256};

pub const WORDS: [&str; 256] = [
    "acorn",
    "amber",
    "anchor",
    "apple",
    "april",
    "arrow",
    "aspen",
    "autumn",
    "badge",
    "bakery",
    "bamboo",
    "banjo",
    "barley",
    "basil",
    "beacon",
    "beaver",
    "berry",
    "birch",
    "biscuit",
    "blossom",
    "bonnet",
    "border",
    "bramble",
    "breeze",
    "brick",
    "bridge",
    "brook",
    "bubble",
    "bucket",
    "button",
    "cabin",
    "cactus",
    "camel",
    "candle",
    "canoe",
    "canyon",
    "carpet",
    "castle",
    "cedar",
    "cello",
    "chalk",
    "cherry",
    "chess",
    "cider",
    "cinema",
    "circle",
    "citrus",
    "clover",
    "cobalt",
    "comet",
    "copper",
    "coral",
    "cotton",
    "cradle",
    "crane",
    "crayon",
    "cricket",
    "crystal",
    "cuckoo",
    "daisy",
    "dawn",
    "delta",
    "denim",
    "desert",
    "dingo",
    "dolphin",
    "donkey",
    "dragon",
    "drum",
    "dune",
    "eagle",
    "ember",
    "emerald",
    "engine",
    "falcon",
    "fable",
    "feather",
    "fennel",
    "fern",
    "ferry",
    "fiddle",
    "finch",
    "flannel",
    "flute",
    "forest",
    "fossil",
    "fox",
    "galaxy",
    "garden",
    "garnet",
    "ginger",
    "glacier",
    "globe",
    "gravel",
    "guitar",
    "harbor",
    "hazel",
    "heron",
    "hickory",
    "honey",
    "horizon",
    "husky",
    "iceberg",
    "igloo",
    "indigo",
    "iris",
    "island",
    "ivory",
    "jacket",
    "jade",
    "jasmine",
    "jelly",
    "jigsaw",
    "juniper",
    "kayak",
    "kettle",
    "kiwi",
    "koala",
    "ladder",
    "lagoon",
    "lantern",
    "lemon",
    "lily",
    "linen",
    "lizard",
    "lotus",
    "magnet",
    "mango",
    "maple",
    "marble",
    "meadow",
    "melon",
    "meteor",
    "mint",
    "mirror",
    "mitten",
    "monsoon",
    "moss",
    "muffin",
    "nectar",
    "needle",
    "nutmeg",
    "oasis",
    "ocean",
    "olive",
    "onion",
    "opal",
    "orchid",
    "otter",
    "owl",
    "paddle",
    "panda",
    "pebble",
    "pepper",
    "piano",
    "pigeon",
    "pillow",
    "pine",
    "planet",
    "plum",
    "pocket",
    "pony",
    "poppy",
    "prairie",
    "puffin",
    "pumpkin",
    "quail",
    "quartz",
    "quill",
    "rabbit",
    "radish",
    "rain",
    "raven",
    "reef",
    "ribbon",
    "river",
    "robin",
    "rocket",
    "saffron",
    "salmon",
    "sandal",
    "satin",
    "sequoia",
    "shell",
    "silver",
    "sketch",
    "sparrow",
    "spruce",
    "squash",
    "starling",
    "stone",
    "sugar",
    "summit",
    "sunset",
    "swan",
    "tangerine",
    "teapot",
    "thistle",
    "thunder",
    "tiger",
    "timber",
    "toast",
    "topaz",
    "tulip",
    "tundra",
    "turtle",
    "umbrella",
    "valley",
    "velvet",
    "violet",
    "violin",
    "walnut",
    "walrus",
    "willow",
    "window",
    "winter",
    "wren",
    "yarrow",
    "yogurt",
    "zebra",
    "zenith",
    "zephyr",
    "acre",
    "alpine",
    "atlas",
    "bagel",
    "basin",
    "bison",
    "bloom",
    "cameo",
    "canal",
    "caramel",
    "cashew",
    "chime",
    "cobble",
    "dahlia",
    "apron",
    "aster",
    "bayou",
    "beetle",
    "blanket",
    "bongo",
    "cabbage",
    "candy",
    "cargo",
    "chapel",
    "cocoa",
    "compass",
    "cookie",
    "cosmos",
    "cupola",
    "dew",
    "easel",
    "elbow",
    "elm",
    "fjord",
];

/// The index of `word` in the list (case-insensitive).
pub fn index_of(word: &str) -> Option<u8> {
    let word = word.to_ascii_lowercase();
    WORDS
        .iter()
        .position(|w| *w == word)
        .and_then(|i| u8::try_from(i).ok())
}

/// How many safety words: five of 8 bits each, 40 bits. Someone in the middle of a
/// pairing who wants both laptops to show the same words must find keys whose hashes
/// agree in 40 bits while the pairing waits, and gets one try per pairing. Pairings made
/// when there were four words show the same four, then a fifth.
pub const SAFETY_WORDS: usize = 5;

/// [`SAFETY_WORDS`] words from both devices' public keys, in an order both sides agree
/// on: the same on both laptops unless someone sat in the middle.
pub fn safety_words(a_noise: &[u8; 32], b_noise: &[u8; 32], a_sign: &str, b_sign: &str) -> String {
    let (first, second) = if a_noise <= b_noise {
        ((a_noise, a_sign), (b_noise, b_sign))
    } else {
        ((b_noise, b_sign), (a_noise, a_sign))
    };
    let mut h = Sha256::new();
    h.update(b"haven safety words v1");
    h.update(first.0);
    h.update(first.1.as_bytes());
    h.update(second.0);
    h.update(second.1.as_bytes());
    let digest = h.finalize();
    digest[..SAFETY_WORDS]
        .iter()
        .map(|b| WORDS[usize::from(*b)])
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_plain() {
        let mut seen = std::collections::HashSet::new();
        for (i, w) in WORDS.iter().enumerate() {
            assert!(seen.insert(*w), "{w} twice");
            assert!(w.chars().all(|c| c.is_ascii_lowercase()), "{w}");
            assert_eq!(index_of(w), u8::try_from(i).ok());
        }
        assert_eq!(index_of("HARBOR"), index_of("harbor"));
        assert_eq!(index_of("nope-not-a-word"), None);
    }

    #[test]
    fn safety_words_carry_forty_bits_and_keep_the_four_shown_before() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let words = safety_words(&a, &b, "aa", "bb");
        let list: Vec<&str> = words.split(' ').collect();
        assert_eq!(list.len(), 5, "{words}");
        assert!(list.iter().all(|w| index_of(w).is_some()));
        // The first four are what a pairing made with four words showed.
        let mut h = Sha256::new();
        h.update(b"haven safety words v1");
        for part in [&a[..], b"aa", &b[..], b"bb"] {
            h.update(part);
        }
        let four: Vec<&str> = h.finalize()[..4]
            .iter()
            .map(|b| WORDS[usize::from(*b)])
            .collect();
        assert_eq!(list[..4], four[..]);
    }
}
