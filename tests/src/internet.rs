//! A small internet of network namespaces, for the laptops apart:
//!
//! ```text
//!   relay 203.0.113.10 ──┐
//!                        ├── inet (a bridge: "the internet")
//!   router0 203.0.113.1 ─┤        router1 203.0.113.2 ─┘
//!     NAT │ 10.1.0.0/24             NAT │ 10.2.0.0/24
//!   laptop 0 (home0)                laptop 1 (home0)
//!        └──────── eth0: the LAN they pair on (10.88.0.0/24, see `Lan`) ────────┘
//! ```
//!
//! Each router masquerades its home behind its public address and drops unsolicited
//! inbound packets (nftables). An `Easy` NAT keeps a flow's source port, so hole punching
//! works; a `Strict` one picks a random port per destination (a symmetric NAT), so it
//! cannot. The lab has no link to the host: a counter in the host's own nftables proves
//! that no packet from a lab address passed through it. Dropping it ends the relay (by its
//! pid) and deletes every namespace and the host counter, also when a test failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::lan::Lan;

static NEXT: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Nat {
    /// Port-preserving masquerade: hole punching gets through.
    Easy,
    /// A random source port per destination: hole punching cannot.
    Strict,
}

pub const RELAY_ADDR: &str = "203.0.113.10";
pub const RELAY_PORT: u16 = 7443;

pub struct Internet {
    /// The pairing LAN; laptop `i` lives in `lan.nodes[i]`.
    pub lan: Lan,
    namespaces: Vec<String>,
    host_table: String,
    pub relay_ns: String,
    relay_home: tempfile::TempDir,
    relay: Option<Child>,
    pub relay_url: String,
    /// The first line the relay printed at its latest start.
    pub relay_said: String,
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) {
    let mut c = Command::new(program);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        c.stdin(Stdio::piped());
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e} (.ci/run installs it)"));
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {}: {} (the internet lab needs root and nftables)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

fn ip(args: &[&str]) {
    run("ip", args, None);
}

/// Source ranges of the lab, for the host's counter.
const LAB: &str = "{ 10.1.0.0/16, 10.2.0.0/16, 10.88.0.0/16, 203.0.113.0/24 }";

impl Internet {
    pub fn new(nats: [Nat; 2]) -> Internet {
        let lan = Lan::new(2);
        let tag = format!(
            "hvi{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let inet = format!("{tag}inet");
        let relay_ns = format!("{tag}relay");
        let host_table = format!("{tag}host");
        let mut net = Internet {
            lan,
            namespaces: vec![inet.clone(), relay_ns.clone()],
            host_table: host_table.clone(),
            relay_ns: relay_ns.clone(),
            relay_home: tempfile::tempdir().expect("relay home"),
            relay: None,
            relay_url: String::new(),
            relay_said: String::new(),
        };
        // The host's counter first, so it sees the whole life of the lab.
        run(
            "nft",
            &["-f", "-"],
            Some(&format!(
                "table inet {host_table} {{\n\
                 chain lab_forward {{ type filter hook forward priority 0; policy accept; ip saddr {LAB} counter; }}\n\
                 chain lab_output {{ type filter hook output priority 0; policy accept; ip saddr {LAB} counter; }}\n\
                 }}\n"
            )),
        );
        ip(&["netns", "add", &inet]);
        ip(&["-n", &inet, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &inet, "link", "set", "br0", "up"]);
        ip(&["netns", "add", &relay_ns]);
        net.plug_into_internet(&relay_ns, "eth0", "r", &format!("{RELAY_ADDR}/24"));
        for (i, nat) in nats.iter().enumerate() {
            let router = format!("{tag}rt{i}");
            ip(&["netns", "add", &router]);
            net.namespaces.push(router.clone());
            net.plug_into_internet(
                &router,
                "wan",
                &format!("w{i}"),
                &format!("203.0.113.{}/24", i + 1),
            );
            let laptop = net.lan.nodes[i].clone();
            ip(&[
                "link", "add", "lan0", "netns", &router, "type", "veth", "peer", "name", "home0",
                "netns", &laptop,
            ]);
            ip(&[
                "-n",
                &router,
                "addr",
                "add",
                &format!("10.{}.0.1/24", i + 1),
                "dev",
                "lan0",
            ]);
            ip(&["-n", &router, "link", "set", "lan0", "up"]);
            ip(&[
                "-n",
                &laptop,
                "addr",
                "add",
                &format!("10.{}.0.2/24", i + 1),
                "dev",
                "home0",
            ]);
            ip(&["-n", &laptop, "link", "set", "home0", "up"]);
            ip(&[
                "-n",
                &laptop,
                "route",
                "add",
                "default",
                "via",
                &format!("10.{}.0.1", i + 1),
            ]);
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &router,
                    "sysctl",
                    "-qw",
                    "net.ipv4.ip_forward=1",
                ],
                None,
            );
            let random = if *nat == Nat::Strict { " random" } else { "" };
            run(
                "ip",
                &["netns", "exec", &router, "nft", "-f", "-"],
                Some(&format!(
                    "table ip nat {{\n\
                     chain lab_post {{ type nat hook postrouting priority 100; oifname \"wan\" masquerade{random}; }}\n\
                     }}\n\
                     table inet filter {{\n\
                     chain lab_forward {{ type filter hook forward priority 0; policy drop;\n\
                       ct state established,related accept\n\
                       iifname \"lan0\" oifname \"wan\" accept; }}\n\
                     chain lab_input {{ type filter hook input priority 0; policy drop;\n\
                       ct state established,related accept\n\
                       iifname \"lan0\" accept; }}\n\
                     }}\n"
                )),
            );
        }
        net.start_relay();
        net
    }

    fn plug_into_internet(&self, ns: &str, inside: &str, port: &str, addr: &str) {
        let inet = &self.namespaces[0];
        ip(&[
            "link", "add", inside, "netns", ns, "type", "veth", "peer", "name", port, "netns", inet,
        ]);
        ip(&["-n", inet, "link", "set", port, "master", "br0"]);
        ip(&["-n", inet, "link", "set", port, "up"]);
        ip(&["-n", ns, "addr", "add", addr, "dev", inside]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        ip(&["-n", ns, "link", "set", inside, "up"]);
    }

    /// Starts `havend relay` in its namespace, waits for its first line and reads the URL
    /// it keeps (it prints the URL only until the couple joined).
    pub fn start_relay(&mut self) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.relay_ns])
            .arg(crate::bin_dir().join("havend"))
            .args([
                "relay",
                "--listen",
                &format!("{RELAY_ADDR}:{RELAY_PORT}"),
                "--home",
            ])
            .arg(self.relay_home.path())
            .env("HAVEN_LOG", "info,iroh=warn,iroh_relay=warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.relay_log_path()).expect("relay log"))
            .spawn()
            .expect("start havend relay");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let said = match lines.next() {
            Some(Ok(line)) => line,
            _ => panic!("havend relay ended without a word: {}", self.relay_log()),
        };
        let kept = self.relay_home.path().join("relay").join("url");
        let url = std::fs::read_to_string(&kept)
            .unwrap_or_else(|e| panic!("{}: {e}", kept.display()))
            .trim()
            .to_string();
        if let Some(printed) = said.strip_prefix("relay URL: ") {
            assert_eq!(printed, url, "the URL printed is the URL kept");
        }
        // Keep reading what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.relay = Some(child);
        self.relay_url = url;
        self.relay_said = said;
    }

    /// Ends the relay (SIGTERM, by its pid) and waits for it.
    pub fn stop_relay(&mut self) {
        if let Some(mut child) = self.relay.take() {
            // `ip netns exec` execs havend, so the pid is the relay's own.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    fn relay_log_path(&self) -> std::path::PathBuf {
        self.relay_home.path().join("relay.log")
    }

    /// Everything the relay keeps: its certificate, token, admitted keys and its log.
    pub fn relay_home(&self) -> &std::path::Path {
        self.relay_home.path()
    }

    pub fn relay_log(&self) -> String {
        std::fs::read_to_string(self.relay_log_path()).unwrap_or_default()
    }

    /// Laptop `i` leaves the LAN (its cable pulled): only its home network is left.
    pub fn apart(&self, i: usize) {
        self.lan.set_link(i, false);
    }

    /// Laptop `i` is back on the LAN.
    pub fn together(&self, i: usize) {
        self.lan.set_link(i, true);
    }

    /// Packets from a lab address that the host's own stack saw.
    pub fn packets_through_host(&self) -> u64 {
        let out = Command::new("nft")
            .args(["list", "table", "inet", &self.host_table])
            .output()
            .expect("nft");
        String::from_utf8_lossy(&out.stdout)
            .split("counter packets ")
            .skip(1)
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Internet {
    fn drop(&mut self) {
        self.stop_relay();
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.host_table])
            .output();
    }
}
