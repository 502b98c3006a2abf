//! What a stranger on the LAN hears of a Haven laptop on mDNS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use haven_tests::lan::Lan;

/// With `--mdns-interface`, the advertisement carries the interface's IPv4 address and no
/// IPv6 one: a link-local IPv6 address can carry the MAC, a stable id.
#[test]
fn the_advertisement_names_no_ipv6_address() {
    let lan = Lan::new(2);
    let maya = lan.laptop(0, "Maya");
    let ipv6 = std::process::Command::new("ip")
        .args(["-n", &lan.nodes[0], "-6", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    let ipv6 = String::from_utf8_lossy(&ipv6.stdout).into_owned();
    assert!(
        ipv6.contains("inet6 fe80"),
        "the test needs a link-local IPv6 address on Maya's eth0 to be meaningful:\n{ipv6}"
    );
    lan.enter(1);
    let listener = mdns_sd::ServiceDaemon::new().unwrap();
    let events = listener.browse("_haven._tcp.local.").unwrap();
    // Until the IPv4 address is heard, then a few seconds more: an address of another
    // family may come in a later answer (on the IPv6 group).
    let mut deadline = Instant::now() + Duration::from_secs(20);
    let mut heard = std::collections::BTreeSet::new();
    let mut more = false;
    while Instant::now() < deadline {
        if let Ok(mdns_sd::ServiceEvent::ServiceResolved(info)) =
            events.recv_timeout(Duration::from_millis(200))
        {
            heard.extend(info.get_addresses().iter().map(|a| a.to_ip_addr()));
        }
        if !more && heard.iter().any(|a| a.to_string() == lan.address(0)) {
            more = true;
            deadline = Instant::now() + Duration::from_secs(5);
        }
    }
    let _ = listener.shutdown();
    assert!(
        heard.iter().any(|a| a.to_string() == lan.address(0)),
        "Maya's advertisement was not heard with her address: {heard:?}"
    );
    assert!(
        heard.iter().all(|a| a.is_ipv4()),
        "the advertisement names an IPv6 address: {heard:?}"
    );
    drop(maya);
}

/// A laptop that joins another network moves its partner listener to a new random port,
/// and its advertisement follows: a port seen on one network does not link the rotating
/// names seen on the next. The old port is closed.
#[test]
fn on_a_new_network_the_partner_port_changes_and_the_advertisement_follows() {
    let lan = Lan::new(3);
    let (maya, _sam) = haven_tests::couple::paired_pair(&lan);
    let before = haven_tests::rogue::listening_address(&lan, 0, &maya);
    let old_port: u16 = before.rsplit(':').next().unwrap().parse().unwrap();
    // A second network appears on Maya's interface (a new DHCP lease, say).
    let out = std::process::Command::new("ip")
        .args([
            "-n",
            &lan.nodes[0],
            "addr",
            "add",
            "10.88.7.1/24",
            "dev",
            "eth0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = || haven_tests::couple::log_of(&maya);
    let new_port: u16 = haven_tests::lan::eventually_explained(
        Duration::from_secs(30),
        || {
            log()
                .lines()
                .rfind(|l| l.contains("listening for the partner on a new port"))
                .and_then(|l| l.split("port=").nth(1))
                .and_then(|p| p.split_whitespace().next()?.parse().ok())
        },
        || format!("the port did not change:\n{}", log()),
    );
    assert_ne!(new_port, old_port);
    lan.enter(2);
    assert!(
        std::net::TcpStream::connect(&before).is_err(),
        "the old port {before} still answers"
    );
    let listener = mdns_sd::ServiceDaemon::new().unwrap();
    let events = listener.browse("_haven._tcp.local.").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut heard = Vec::new();
    let found = loop {
        if Instant::now() >= deadline {
            break false;
        }
        if let Ok(mdns_sd::ServiceEvent::ServiceResolved(info)) =
            events.recv_timeout(Duration::from_millis(200))
        {
            let at_maya = info
                .get_addresses_v4()
                .iter()
                .any(|a| a.to_string() == lan.address(0));
            heard.push(info.get_port());
            if at_maya && info.get_port() == new_port {
                break true;
            }
        }
    };
    let _ = listener.shutdown();
    assert!(
        found,
        "Maya's advertisement never named port {new_port}: heard {heard:?}"
    );
}
