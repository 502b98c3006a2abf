//! The terminating signals (a hang-up, TERM, INT) while Haven owns parts of them: a
//! guided screen puts the terminal back before it ends, and the editor scrubs its temp
//! file. Both go through signal-hook, and neither may reset a signal to `SIG_DFL` by hand
//! afterwards: signal-hook would still think its handler installed, and the next one to
//! register (the editor's scrubbing) would never run, leaving a message in plain text in
//! the temp folder. So once signal-hook holds a signal, its default action is emulated
//! through a flag: on between the two, off while one of them handles it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The signals that end a command.
pub const TERMINATING: [i32; 3] = [libc::SIGHUP, libc::SIGTERM, libc::SIGINT];

static DEFAULT: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Whether the default action (end the process) runs for [`TERMINATING`] signals: false
/// while a screen or the editor handles them, true otherwise.
pub fn default_action(on: bool) {
    let flag = DEFAULT.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(true));
        for sig in TERMINATING {
            // Failing to register leaves the OS default, which is what it emulates.
            let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&flag));
        }
        flag
    });
    flag.store(on, Ordering::SeqCst);
}
