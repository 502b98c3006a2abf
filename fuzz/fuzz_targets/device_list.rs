//! A person's signed device list, as another of their devices (or the couple document, to
//! the partner's) brings it: decoded, opened (its rules and signature), checked as an
//! update of a list, and followed from a member key as the partner's laptop does.
#![no_main]
use haven_shared::devices::list::follow;
use haven_shared::devices::{DeviceList, SignedDeviceList, Update};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // As versions in the couple document: the input split at newlines, followed from
    // nothing and from each piece that opens. Nothing may panic; what is returned opens.
    let text = String::from_utf8_lossy(data);
    let published: Vec<String> = text.split('\n').map(str::to_string).collect();
    let member_key = "00".repeat(32);
    if let Some(newest) = follow(&member_key, None, &published) {
        assert!(newest.open().is_ok());
    }
    let Ok(signed) = SignedDeviceList::decode(data) else {
        return;
    };
    if let Ok(list) = signed.open() {
        // Only a list whose signer it names, with a valid signature, gets here.
        assert!(list.find(&signed.signer).is_some());
        assert_eq!(signed.update_of(&list), Ok(Update::Same));
        let older = DeviceList {
            version: list.version.saturating_sub(1),
            ..list.clone()
        };
        let _ = signed.update_of(&older);
        let key = list.devices[0].key.clone();
        if let Some(newest) = follow(&key, Some(&signed), &published) {
            assert!(newest.open().is_ok());
        }
        let _ = follow(&key, None, &published);
    }
});
