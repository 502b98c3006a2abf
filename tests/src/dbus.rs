//! A real session D-Bus for the notification tests: `dbus-daemon --session` on a socket in
//! a temporary folder, and `dbus-monitor` recording every call to the freedesktop
//! notification service (Debian's `dbus-daemon` and `dbus-bin`). No notification server
//! owns the name, so each call is answered with an error by the bus: the monitor still sees
//! it, and the daemon's log says it could not notify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::lan::eventually;

pub struct SessionBus {
    pub address: String,
    daemon: Child,
    monitor: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl SessionBus {
    pub fn start() -> SessionBus {
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("bus");
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian: apt-get install dbus-daemon dbus-bin)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the bus address");
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "no bus address: {address:?}");
        let log = dir.path().join("monitor.log");
        let monitor = Command::new("dbus-monitor")
            .args(["--address", &address])
            .arg("type='method_call',interface='org.freedesktop.Notifications'")
            .stdout(std::fs::File::create(&log).expect("log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor");
        let bus = SessionBus {
            address,
            daemon,
            monitor,
            log,
            _dir: dir,
        };
        // The monitor is in place once the bus took its name away (it became a monitor).
        eventually("dbus-monitor to start", Duration::from_secs(10), || {
            bus.seen().contains("NameLost").then_some(())
        });
        bus
    }

    /// What the monitor recorded so far.
    pub fn seen(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `Notify` calls recorded so far, each as the monitor printed it.
    pub fn notifications(&self) -> Vec<String> {
        self.seen()
            .split("method call ")
            .filter(|call| call.contains("member=Notify"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        for child in [&mut self.monitor, &mut self.daemon] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A notification service that owns `org.freedesktop.Notifications` on `bus` and never
/// answers: it takes the name, then stops reading its socket. Calls to it wait forever.
pub struct SilentService {
    _conn: zbus::Connection,
    _runtime: tokio::runtime::Runtime,
}

impl SilentService {
    pub fn start(bus: &SessionBus) -> SilentService {
        // A current-thread runtime that is never driven again after the name is taken:
        // nothing reads the connection, so no call is ever answered.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conn = runtime.block_on(async {
            zbus::connection::Builder::address(bus.address.as_str())
                .expect("address")
                .name("org.freedesktop.Notifications")
                .expect("name")
                .build()
                .await
                .expect("take the notification service's name")
        });
        SilentService {
            _conn: conn,
            _runtime: runtime,
        }
    }
}
