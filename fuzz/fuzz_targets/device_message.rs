//! What another of the person's devices sends about the journal: decoded, and planned
//! against an empty journal and against one holding what arrived.
#![no_main]
use haven_shared::devices::journal_sync::{plan, DeviceMessage, Marks};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(DeviceMessage::Changes(changes)) = DeviceMessage::decode(data) {
        let (apply, _) = plan(&Marks::default(), changes.clone(), |_| None);
        // What is taken twice is taken once.
        let marks = Marks::new(apply.put.iter(), apply.delete.clone(), apply.purge.clone());
        let (again, _) = plan(&marks, changes, |id| apply.put.iter().find(|e| e.id == id));
        assert!(again.put.is_empty() && again.delete.is_empty(), "{again:?}");
    }
});
