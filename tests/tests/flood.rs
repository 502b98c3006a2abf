//! A stranger on the LAN floods the peer port from 200 addresses at once: a third laptop
//! opens 2,000 idle connections, then for 30 s keeps sending half-handshakes, first frames
//! of garbage with the length of a real one (each costing a Diffie–Hellman until the port
//! is under load) and ones with MACs that do not match. Meanwhile the flooded laptop
//! answers its own CLI, its partner's proposal still arrives (also over a session that must
//! be made anew during the flood, through a cookie), and the daemon's memory and log stay
//! bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use haven_tests::couple::{connected, paired_pair, propose, wait_status, SOON};
use haven_tests::lan::{eventually, Lan};
use haven_tests::rogue::listening_address;

const FLOOD: Duration = Duration::from_secs(30);
/// The flood goes on until the checks are done, but never longer than this.
const AT_MOST: Duration = Duration::from_secs(120);
/// Connections opened in all, at most (the loop is bounded in count as well as in time).
const MOST: usize = 40_000;
/// The flood's source addresses: 10.88.0.50 to 10.88.0.249 on the third laptop.
const ADDRESSES: usize = 200;

fn source(i: usize) -> std::net::IpAddr {
    format!("10.88.0.{}", 50 + i % ADDRESSES).parse().unwrap()
}

/// A connection from the flood's `i`-th address.
fn connect_from(i: usize, target: &std::net::SocketAddr, wait: Duration) -> Option<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    socket
        .bind(&std::net::SocketAddr::new(source(i), 0).into())
        .ok()?;
    socket.connect_timeout(&(*target).into(), wait).ok()?;
    Some(socket.into())
}

fn rss_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn raise_file_limit() {
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

#[test]
fn a_flood_on_the_peer_port_stops_nothing() {
    let lan = Lan::new(3);
    for i in 0..ADDRESSES {
        let ok = std::process::Command::new("ip")
            .args([
                "-n",
                &lan.nodes[2],
                "addr",
                "add",
                &format!("{}/24", source(i)),
                "dev",
                "eth0",
            ])
            .status()
            .unwrap();
        assert!(
            ok.success(),
            "cannot give the third laptop address {}",
            source(i)
        );
    }
    let (maya, sam) = paired_pair(&lan);
    let target = listening_address(&lan, 0, &maya);
    let to: std::net::SocketAddr = target.parse().unwrap();
    let pid = maya.daemon_pid().expect("Maya's daemon");
    let log_before = std::fs::metadata(maya.home.join("havend.log"))
        .unwrap()
        .len();
    let rss_before = rss_kb(pid);

    // Set once the checks below are done: the flood lasts at least FLOOD and until then.
    let checked = AtomicBool::new(false);
    let opened = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let flood = scope.spawn(|| {
            lan.enter(2);
            raise_file_limit();
            let started = Instant::now();
            // 2,000 connections that say nothing, ten from each address, held throughout.
            let mut idle = Vec::new();
            for i in 0..2000 {
                if let Some(s) = connect_from(i, &to, Duration::from_secs(2)) {
                    idle.push(s);
                }
            }
            opened.fetch_add(idle.len(), Ordering::SeqCst);
            // Then, round the addresses: half-handshakes (a header promising 200 bytes,
            // and 50 of them), first frames of garbage as long as a real one from an older
            // Haven (110 bytes: a Diffie–Hellman each while the port is calm), and as long
            // as a real one with MACs (142 bytes, the MACs wrong).
            let mut half = std::collections::VecDeque::new();
            let mut i = 0;
            while (started.elapsed() < FLOOD || !checked.load(Ordering::SeqCst))
                && started.elapsed() < AT_MOST
                && opened.load(Ordering::SeqCst) < MOST
            {
                i += 1;
                if let Some(mut s) = connect_from(i, &to, Duration::from_millis(500)) {
                    match i % 3 {
                        0 => {
                            let _ = s.write_all(&[0, 200]);
                            let _ = s.write_all(&[0x42; 50]);
                        }
                        1 => {
                            let _ = s.write_all(&[0, 110]);
                            let _ = s.write_all(&[i as u8; 110]);
                        }
                        _ => {
                            let _ = s.write_all(&[0, 142]);
                            let _ = s.write_all(&[i as u8; 142]);
                        }
                    }
                    half.push_back(s);
                    opened.fetch_add(1, Ordering::SeqCst);
                }
                if half.len() > 500 {
                    half.pop_front();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            (idle.len(), started.elapsed())
        });

        // While it floods: Maya's own commands answer, and Sam's proposals arrive.
        eventually("the flood to be under way", SOON, || {
            (opened.load(Ordering::SeqCst) >= 2000).then_some(())
        });
        let written = maya.write(&["written during the flood"]);
        assert!(maya
            .ok(&["journal", "show", &written])
            .contains("during the flood"));
        let first = propose(&sam, "Check-in", "A quick text once a day.");
        wait_status(&maya, &first, "proposed");
        // A session made anew during the flood: Sam's laptop restarts.
        sam.ok(&["daemon", "stop"]);
        sam.ok(&["unlock"]);
        let unlocked = Instant::now();
        eventually("Sam to connect again during the flood", SOON, || {
            (connected(&maya) && connected(&sam)).then_some(())
        });
        let reconnected = unlocked.elapsed();
        let second = propose(&sam, "Sunday", "We talk about the week on Sunday.");
        wait_status(&maya, &second, "proposed");
        checked.store(true, Ordering::SeqCst);
        let (idle, lasted) = flood.join().unwrap();
        assert!(
            lasted < AT_MOST && opened.load(Ordering::SeqCst) < MOST,
            "the checks ran while the flood had stopped ({lasted:?})"
        );
        assert!(idle >= 1900, "only {idle} idle connections were opened");
        let total = opened.load(Ordering::SeqCst);
        let rss_after = rss_kb(pid);
        let log_after = std::fs::metadata(maya.home.join("havend.log"))
            .unwrap()
            .len();
        eprintln!(
            "flood: {total} connections from {ADDRESSES} addresses in {lasted:?}; Sam connected \
             {reconnected:?} after his unlock; havend RSS {rss_before} kB -> {rss_after} kB; \
             log +{} bytes",
            log_after - log_before
        );
        assert!(
            rss_after < rss_before + 64 * 1024,
            "havend grew from {rss_before} kB to {rss_after} kB"
        );
        // A few lines a minute, plus what the restart and the proposals logged.
        assert!(
            log_after - log_before < 32 * 1024,
            "the log grew by {} bytes during the flood",
            log_after - log_before
        );
        // The port was under load, and said why it closed callers.
        let log = haven_tests::couple::log_of(&maya);
        eprintln!(
            "flood: Sam was asked for a cookie {} times",
            log.matches("the partner was asked for a cookie").count()
        );
        assert!(
            log.contains("the port is busy") || log.contains("does not carry this laptop's MAC"),
            "no first frame was refused by its MACs:\n{log}"
        );
    });
    assert!(connected(&maya), "the partner's session survived the flood");
}
