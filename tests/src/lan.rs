//! Laptops on one LAN, made of network namespaces: each node is a namespace with `eth0`
//! (10.88.0.N/24), joined by veth pairs to a bridge in a namespace of its own. Nothing
//! here touches the host's interfaces, so mDNS stays between the nodes. Dropping a [`Lan`]
//! deletes every namespace it made, also when the test failed.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::Home;

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Lan {
    pub nodes: Vec<String>,
    bridge: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {} (the LAN tests need root, or `unshare --user --map-root-user --net`)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Lan {
    pub fn new(nodes: usize) -> Lan {
        let tag = format!(
            "hvt{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let bridge = format!("{tag}br");
        let mut lan = Lan {
            nodes: Vec::new(),
            bridge: bridge.clone(),
        };
        ip(&["netns", "add", &bridge]);
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge, "link", "set", "br0", "up"]);
        for i in 0..nodes {
            let ns = format!("{tag}n{i}");
            ip(&["netns", "add", &ns]);
            lan.nodes.push(ns.clone());
            let port = format!("p{i}");
            ip(&[
                "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &bridge,
            ]);
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0"]);
            ip(&["-n", &bridge, "link", "set", &port, "up"]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.88.0.{}/24", i + 1),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        lan
    }

    /// An initialised home on node `i`, its daemon started and unlocked.
    pub fn laptop(&self, i: usize, name: &str) -> Home {
        self.laptop_with(i, name, &[], None)
    }

    /// [`Lan::laptop`] with more environment for every command (and so for the daemon they
    /// start) and, if given, a `config.toml` written before the daemon starts.
    pub fn laptop_with(
        &self,
        i: usize,
        name: &str,
        env: &[(&str, &str)],
        config: Option<&str>,
    ) -> Home {
        let mut h = Home::in_netns(&self.nodes[i], "eth0");
        h.env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h.ok(&["init", "--name", name]);
        if let Some(config) = config {
            std::fs::write(h.home.join("config.toml"), config).expect("config.toml");
        }
        h.ok(&["unlock"]);
        h
    }

    /// A copy of the home folder `from` on node `i` (not started).
    pub fn laptop_from(&self, i: usize, from: &std::path::Path) -> Home {
        let h = Home::in_netns(&self.nodes[i], "eth0");
        h.copy_home_from(from);
        h
    }

    pub fn address(&self, i: usize) -> String {
        format!("10.88.0.{}", i + 1)
    }

    /// Cuts node `i` off the LAN (its cable pulled) or plugs it back.
    pub fn set_link(&self, i: usize, up: bool) {
        ip(&[
            "-n",
            &self.bridge,
            "link",
            "set",
            &format!("p{i}"),
            if up { "up" } else { "down" },
        ]);
    }

    /// Moves the calling thread into node `i`'s namespace (for raw sockets in a test).
    pub fn enter(&self, i: usize) {
        let path = format!("/var/run/netns/{}", self.nodes[i]);
        let f = std::fs::File::open(&path).expect("open netns");
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a namespace file we opened; it affects only this thread.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.nodes.iter().chain(std::iter::once(&self.bridge)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Polls `check` until it returns `Some` or `within` passes; panics naming `what`.
pub fn eventually<T>(what: &str, within: Duration, check: impl FnMut() -> Option<T>) -> T {
    eventually_explained(within, check, || format!("timed out waiting for {what}"))
}

/// Like [`eventually`], with the panic message made only on a timeout (say, daemon logs).
pub fn eventually_explained<T>(
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
    explain: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("{}", explain());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `haven pair` on `host`; returns the running command and the code it shows.
pub fn show_code(host: &Home) -> (std::process::Child, String) {
    show_code_with(host, &[])
}

/// [`show_code`] with more arguments to `haven pair`.
pub fn show_code_with(host: &Home, more: &[&str]) -> (std::process::Child, String) {
    let mut shown = host
        .command("haven")
        .arg("pair")
        .args(more)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("haven pair");
    let code = read_code(shown.stdout.as_mut().expect("stdout"), "haven pair ");
    (shown, code)
}

/// Pairs two laptops through the real CLI; returns both outputs.
pub fn pair(host: &Home, joiner: &Home) -> (String, String) {
    let (shown, code) = show_code(host);
    let joined = joiner.ok(&["pair", &code]);
    let out = shown.wait_with_output().expect("wait");
    let rest = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "haven pair on the host failed: {rest}"
    );
    (rest, joined)
}

/// Reads a command's output up to the code it shows after `prefix` (`haven pair `,
/// `haven device add `).
pub fn read_code(stdout: &mut impl std::io::Read, prefix: &str) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(line) = text.lines().find(|l| l.trim_start().starts_with(prefix)) {
            if text.contains("Waiting") {
                return line.trim().trim_start_matches(prefix).to_string();
            }
        }
        match stdout.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => panic!("the command ended without a code: {text}"),
        }
    }
}

/// Registers `services` with `mdns` and returns once mdns-sd has announced every one of
/// them (after its probing), so a test knows the names are on the network instead of
/// guessing how long that takes. Panics after `within`.
pub fn register_announced(
    mdns: &mdns_sd::ServiceDaemon,
    services: Vec<mdns_sd::ServiceInfo>,
    within: Duration,
) {
    let events = mdns.monitor().expect("monitor the mDNS daemon");
    let mut waiting: std::collections::BTreeSet<String> = services
        .iter()
        .map(|s| s.get_fullname().to_string())
        .collect();
    for service in services {
        mdns.register(service).expect("register a service");
    }
    let deadline = Instant::now() + within;
    while !waiting.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(mdns_sd::DaemonEvent::Announce(name, _)) => {
                waiting.remove(&name);
            }
            Ok(_) => {}
            Err(_) => panic!("mDNS did not announce {waiting:?} within {within:?}"),
        }
    }
}
