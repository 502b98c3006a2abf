//! A backup archive as anyone could hand it to `haven restore`: the first byte chooses the
//! bytes as the archive itself, or as the plaintext behind the passphrase, given straight
//! to the parser (as for the identity file).
#![no_main]
use haven_shared::backup;
use haven_shared::crypto::Passphrase;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = backup::unpack(rest, &Passphrase::from("fuzz".to_string()));
    } else {
        let _ = backup::parse(rest);
    }
});
