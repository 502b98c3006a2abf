//! A person's signed device list, as another of their devices (later the partner's) sends
//! it: decoded, opened (its rules and signature), and checked as an update of a list.
#![no_main]
use haven_shared::devices::{DeviceList, SignedDeviceList, Update};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
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
    }
});
