//! `identity.age` as someone with the disk could write it. The first byte chooses: the
//! bytes as the file itself (age's armor and header, then the scrypt stanza, which fuzzing
//! builds accept only at a cheap work factor), or as the plaintext behind the passphrase,
//! given straight to the parser (decrypting costs ~8 ms an input in age's scrypt set-up).
#![no_main]
use haven_shared::crypto::{Identity, Passphrase};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = Identity::unseal(rest, &Passphrase::from("fuzz".to_string()));
    } else if let Ok(text) = std::str::from_utf8(rest) {
        let _ = Identity::parse(text);
    }
});
