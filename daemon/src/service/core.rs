//! The core thread: the one owner of the vault, fed by the IPC connections, the partner
//! sessions and a timer through one channel.
//!
//! Whatever one request or one partner message does, the core keeps serving: each message
//! is handled inside `catch_unwind`. A panic may have left a document half-changed in
//! memory, so afterwards the documents are reloaded from disk (which holds only whole,
//! committed writes) and the sync state with the partner starts afresh; if even that fails,
//! the vault locks. The request gets an internal error, a partner session simply ends (its
//! reply channel is dropped), and the log says which.

use std::panic::{catch_unwind, AssertUnwindSafe};
use tokio::sync::mpsc;

use haven_shared::ipc::{ErrorKind, ErrorReply};

use super::Service;
use crate::contract::CoreMsg;

/// Runs until a shutdown request has been answered or every sender is gone.
pub fn run(mut service: Service, mut inbox: mpsc::Receiver<CoreMsg>) {
    while let Some(msg) = inbox.blocking_recv() {
        match msg {
            CoreMsg::Tick => {
                if catch_unwind(AssertUnwindSafe(|| {
                    service.lock_if_idle();
                    service.notice_new();
                    service.follow_partner_endpoint();
                }))
                .is_err()
                {
                    service.recover("the timer");
                }
            }
            CoreMsg::Peer(op) => {
                let what = op.name();
                if catch_unwind(AssertUnwindSafe(|| {
                    service.peer_op(op);
                }))
                .is_err()
                {
                    service.recover(what);
                }
            }
            CoreMsg::Device(op) => {
                let what = op.name();
                if catch_unwind(AssertUnwindSafe(|| {
                    service.device_op(op);
                }))
                .is_err()
                {
                    service.recover(what);
                }
            }
            CoreMsg::Job(job) => {
                let job = *job;
                let shutdown = job.call.is_shutdown();
                let what = job.call.name();
                let reply = catch_unwind(AssertUnwindSafe(|| {
                    panic_for_tests(what);
                    service.handle(job.call)
                }))
                    .unwrap_or_else(|_| {
                        service.recover(what);
                        Err(ErrorReply::new(
                            ErrorKind::Internal,
                            format!("Haven hit an internal error in `{what}`; nothing saved before it was lost"),
                        )
                        .hint("try again; if it happens again, run `haven doctor` and report it"))
                    });
                let _ = job.reply.send(reply);
                if shutdown {
                    // The connection that asked signals the stop once the reply is out.
                    return;
                }
            }
        }
    }
}

/// Debug builds only: `HAVEN_TEST_PANIC=<request name>` makes that request panic, and
/// `HAVEN_TEST_HANG=<request name>` makes it never return, so the end-to-end tests can
/// prove the daemon survives a panic it does not know of yet and stops even with a wedged
/// core. Compiled out of release builds.
fn panic_for_tests(what: &str) {
    #[cfg(debug_assertions)]
    {
        if std::env::var("HAVEN_TEST_PANIC").is_ok_and(|name| name == what) {
            panic!("HAVEN_TEST_PANIC asked {what} to panic");
        }
        if std::env::var("HAVEN_TEST_HANG").is_ok_and(|name| name == what) {
            tracing::warn!(what, "HAVEN_TEST_HANG: the core hangs here");
            loop {
                std::thread::park();
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = what;
}

/// Debug builds only: `HAVEN_TEST_FAIL=<step>` makes that step fail as a full disk would,
/// for the steps whose failure midway a test has to see (`leave_forget`, `leave_keys`). Always `false` in
/// release builds.
pub(super) fn fail_for_tests(step: &str) -> bool {
    cfg!(debug_assertions) && std::env::var("HAVEN_TEST_FAIL").is_ok_and(|s| s == step)
}
