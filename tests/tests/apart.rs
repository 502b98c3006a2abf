//! Apart: the laptops pair side by side on a LAN, then each goes home behind its own NAT
//! (see `haven_tests::internet`), and the agreements keep syncing through iroh: through
//! the couple's own relay, or directly where the NATs let hole punching through.
//! Real daemons, a real `havend relay`, real nftables NATs; no packet leaves the lab.

use serde_json::Value;
use std::process::Command;
use std::time::Duration;

use haven_tests::couple::{connected, log_of, paired_pair, propose, wait_status, SOON};
use haven_tests::internet::{Internet, Nat};
use haven_tests::lan::{eventually, eventually_explained, show_code_with};
use haven_tests::{bin_dir, Home, Out};

const CANARY: &str = "CANARY-apart-never-leaves-41c9";
/// Leaving the LAN is noticed within 5 s (the link is no longer running), then iroh
/// dials through the relay. Well under the 45 s of silence that would end a dead session
/// anyway, so a test that passes only on that would fail here.
const APART: Duration = Duration::from_secs(30);
/// A laptop that stops says so; its partner hears it in a round trip, well before QUIC's
/// idle timeout (15 s at the least) would end the session.
const GOODBYE: Duration = Duration::from_secs(5);

fn relay_check(h: &Home) -> Option<Value> {
    let out = h.run(&["doctor", "--json"]);
    let checks: Value = serde_json::from_str(&out.stdout).ok()?;
    checks
        .as_array()?
        .iter()
        .find(|c| c["name"] == "relay")
        .cloned()
}

fn relay_ok(h: &Home) -> bool {
    relay_check(h).is_some_and(|c| c["ok"] == true)
}

fn path(h: &Home) -> Option<String> {
    let info = h.json(&["partner", "--json"]);
    info["path"].as_str().map(str::to_string)
}

/// Pairs on the LAN, gives both laptops the relay, and waits until each can meet the
/// other apart (connected to the relay, the partner's iroh key known).
fn paired_with_relay(lab: &Internet) -> (Home, Home) {
    let (maya, sam) = paired_pair(&lab.lan);
    for h in [&maya, &sam] {
        let shown = h.ok(&["partner", "relay", &lab.relay_url]);
        assert!(shown.contains("relay        203.0.113.10:7443"), "{shown}");
        assert!(
            !shown.contains("token"),
            "the token is never shown: {shown}"
        );
    }
    ready_apart(&maya, &sam);
    (maya, sam)
}

/// Waits until each laptop can meet the other apart: connected to the relay, the
/// partner's iroh key known.
fn ready_apart(maya: &Home, sam: &Home) {
    eventually_explained(
        SOON,
        || (relay_ok(maya) && relay_ok(sam)).then_some(()),
        || {
            format!(
                "both laptops ready to meet apart: {:?} {:?}",
                relay_check(maya),
                relay_check(sam)
            )
        },
    );
}

/// Waits until `haven doctor`'s relay check fails with a detail and a fix containing
/// these words.
fn wait_relay_refusal(h: &Home, detail: &str, fix: &str) {
    eventually_explained(
        SOON,
        || {
            relay_check(h)
                .filter(|c| {
                    c["ok"] == false
                        && c["detail"].as_str().unwrap_or("").contains(detail)
                        && c["fix"].as_str().unwrap_or("").contains(fix)
                })
                .map(|_| ())
        },
        || {
            format!(
                "doctor's relay check to say {detail:?} / {fix:?}: {:?}",
                relay_check(h)
            )
        },
    );
}

fn wait_path(h: &Home, want: &str) {
    eventually_explained(
        APART,
        || (path(h).as_deref() == Some(want)).then_some(()),
        || format!("path {want}; it is {:?}\n{}", path(h), log_of(h)),
    );
}

#[test]
fn apart_behind_strict_nats_the_agreements_sync_through_the_couples_relay() {
    let mut lab = Internet::new([Nat::Strict, Nat::Strict]);
    let (maya, sam) = paired_with_relay(&lab);
    maya.write(&[&format!("the story I told myself {CANARY}")]);
    assert_eq!(path(&maya).as_deref(), Some("lan"), "side by side, the LAN");

    lab.apart(0);
    lab.apart(1);
    wait_path(&maya, "relayed");
    wait_path(&sam, "relayed");
    let id = propose(&maya, "Check-in", "A quick check-in text once a day");
    wait_status(&sam, &id, "proposed");
    sam.ok(&["agree", "accept", &id]);
    wait_status(&maya, &id, "active");
    assert!(sam
        .ok(&["partner"])
        .contains("yes, through the relay (relayed)"));

    // The relay restarted mid-sync: the laptops come back through it by themselves. With
    // the couple joined, it no longer prints its token (to a service's journal, say).
    assert!(
        lab.relay_said.starts_with("relay URL: "),
        "{}",
        lab.relay_said
    );
    lab.stop_relay();
    let second = propose(&sam, "Evenings", "Phones away after ten");
    lab.start_relay();
    assert!(
        lab.relay_said
            .starts_with("The relay serves its couple's laptops; its URL, with the token, is in"),
        "{}",
        lab.relay_said
    );
    let (_, token) = lab.relay_url.split_once("token=").expect("token");
    assert!(!lab.relay_said.contains(token) && !lab.relay_log().contains(token));
    wait_status(&maya, &second, "proposed");
    wait_path(&maya, "relayed");

    // The journal never left Maya's laptop: not on Sam's, not on the relay, not in logs.
    assert!(Home::grep(sam.tmp.path(), CANARY).is_empty());
    assert!(Home::grep(lab.relay_home(), CANARY).is_empty());
    let shared = sam.json(&["agree", "list", "--json"]).to_string() + &sam.ok(&["notes", "--json"]);
    assert!(!shared.contains(CANARY), "{shared}");
    assert_eq!(lab.packets_through_host(), 0, "no packet left the lab");
}

/// Pairs with `haven pair --relay URL` on both laptops, and waits as [`paired_with_relay`].
fn paired_by_pair_relay(lab: &Internet) -> (Home, Home) {
    let (maya, sam) = (lab.lan.laptop(0, "Maya"), lab.lan.laptop(1, "Sam"));
    // A damaged URL is refused before any pairing: one line, exit 2, the code unspent.
    let (shown, code) = show_code_with(&maya, &["--relay", &lab.relay_url]);
    let damaged = sam.run(&["pair", &code, "--relay", "https://203.0.113.10:7443/"]);
    assert_eq!(damaged.code, 2, "{}", damaged.stderr);
    assert!(
        damaged.stderr.contains("certificate fingerprint"),
        "{}",
        damaged.stderr
    );
    let joined = sam.ok(&["pair", &code, "--relay", &lab.relay_url]);
    let hosted =
        String::from_utf8_lossy(&shown.wait_with_output().expect("pair").stdout).into_owned();
    for out in [&joined, &hosted] {
        assert!(
            out.contains("Apart, you meet through your relay at 203.0.113.10:7443."),
            "{out}"
        );
    }
    ready_apart(&maya, &sam);
    (maya, sam)
}

#[test]
fn apart_behind_easy_nats_the_laptops_punch_through_and_go_direct() {
    let lab = Internet::new([Nat::Easy, Nat::Easy]);
    let (maya, sam) = paired_by_pair_relay(&lab);
    lab.apart(0);
    lab.apart(1);
    wait_path(&maya, "direct");
    let id = propose(&sam, "Check-in", "A quick check-in text once a day");
    wait_status(&maya, &id, "proposed");
    // Maya's laptop off while Sam proposes: it merges when she is back, still apart. Her
    // endpoint says it closes, so Sam's laptop lets the session go at once, not at QUIC's
    // idle timeout (15 to 30 s).
    maya.ok(&["daemon", "stop"]);
    eventually("Sam's laptop to let the session go", GOODBYE, || {
        (!connected(&sam)).then_some(())
    });
    let second = propose(&sam, "Evenings", "Phones away after ten");
    maya.ok(&["unlock"]);
    wait_status(&maya, &second, "proposed");
    // Her laptop crashes, saying nothing: back, it replaces the session Sam's laptop still
    // holds, whichever laptop dialled it.
    maya.kill_daemon(libc::SIGKILL);
    let third = propose(&sam, "Mornings", "A kiss before work");
    maya.ok(&["unlock"]);
    wait_status(&maya, &third, "proposed");
    assert_eq!(lab.packets_through_host(), 0, "no packet left the lab");
}

#[test]
fn back_on_the_lan_the_session_moves_there_and_apart_again_it_moves_back() {
    let lab = Internet::new([Nat::Strict, Nat::Strict]);
    let (maya, sam) = paired_with_relay(&lab);
    lab.apart(0);
    wait_path(&maya, "relayed");
    lab.together(0);
    wait_path(&maya, "lan");
    let id = propose(&maya, "Check-in", "A quick check-in text once a day");
    wait_status(&sam, &id, "proposed");
    lab.apart(0);
    wait_path(&maya, "relayed");
    let second = propose(&sam, "Evenings", "Phones away after ten");
    wait_status(&maya, &second, "proposed");
}

#[test]
fn a_laptop_without_the_couples_token_is_refused_by_the_relay_and_says_so() {
    let lab = Internet::new([Nat::Strict, Nat::Strict]);
    let (maya, _sam) = paired_with_relay(&lab);
    assert_eq!(
        lab.relay_log().matches("introduced itself").count(),
        2,
        "the relay admitted exactly the two laptops: {}",
        lab.relay_log()
    );
    // The same relay with a token that is not the couple's: refused before anything is
    // relayed, and `haven doctor` says why.
    let (head, _) = lab.relay_url.split_once("token=").expect("token");
    let forged = format!("{head}token={}", "ee".repeat(32));
    maya.ok(&["partner", "relay", &forged]);
    wait_relay_refusal(&maya, "never introduced", "");
    assert!(
        lab.relay_log().contains("refused a key"),
        "{}",
        lab.relay_log()
    );
    // A certificate fingerprint that is not the relay's: someone posing as the relay is
    // not trusted; doctor says it is not connected and what to check (iroh does not
    // always say why, so it cannot always name the certificate).
    let (head, tail) = lab.relay_url.split_once("cert=").expect("cert");
    let (_, after) = tail.split_once('&').expect("token after cert");
    let other_cert = format!("{head}cert={}&{after}", "ab".repeat(32));
    maya.ok(&["partner", "relay", &other_cert]);
    wait_relay_refusal(&maya, "not connected", "certificate");
    // A laptop that is not paired cannot set a relay at all.
    let eve = Home::init("Eve");
    let refused = eve.run(&["partner", "relay", &lab.relay_url]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("not paired"), "{}", refused.stderr);
}

/// The relay's first finding from issue 23: it used to admit the first two keys with the
/// token, so a stranger who saw the URL before Sam joined took Sam's place. Now Maya's
/// introduction names the couple, and the stranger, URL and all, is refused.
#[test]
fn strangers_with_the_couples_whole_url_are_refused_once_one_laptop_joined() {
    let lab = Internet::new([Nat::Strict, Nat::Strict]);
    let (maya, sam) = paired_pair(&lab.lan);
    maya.ok(&["partner", "relay", &lab.relay_url]);
    eventually("Maya to join the relay", SOON, || {
        lab.relay_log()
            .contains("the relay serves this couple and nobody else")
            .then_some(())
    });
    // Another pair on the same LAN learnt the couple's URL, token and all.
    let eve = Home::in_netns(&lab.lan.nodes[0], "eth0");
    eve.ok(&["init", "--name", "Eve"]);
    eve.ok(&["unlock"]);
    let frank = Home::in_netns(&lab.lan.nodes[1], "eth0");
    frank.ok(&["init", "--name", "Frank"]);
    frank.ok(&["unlock"]);
    haven_tests::lan::pair(&eve, &frank);
    eve.ok(&["partner", "relay", &lab.relay_url]);
    wait_relay_refusal(
        &eve,
        "serves another couple's laptops; to start over, run `havend relay --forget`",
        "",
    );
    // Sam joins after the stranger tried, and is let in.
    sam.ok(&["partner", "relay", &lab.relay_url]);
    ready_apart(&maya, &sam);
    assert_eq!(
        lab.relay_log().matches("introduced itself").count(),
        2,
        "only the couple's two laptops: {}",
        lab.relay_log()
    );
}

/// Where a laptop's iroh endpoint listens, from its log: its key and its IPv4 port.
fn iroh_socket(h: &Home) -> (String, u16) {
    let log = log_of(h);
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("ready to meet the partner across networks"))
        .unwrap_or_else(|| panic!("no iroh endpoint in the log:\n{log}"));
    let field = |name: &str| {
        line.split(&format!("{name}="))
            .nth(1)
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
    };
    let endpoint = field("endpoint").unwrap_or_else(|| panic!("no key: {line}"));
    let sockets = line.split("sockets=").nth(1).unwrap_or("");
    let port = sockets
        .split(&['[', ',', ' ', ']'][..])
        .filter(|part| part.contains('.'))
        .find_map(|part| part.rsplit_once(':')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no IPv4 socket: {line}"));
    (endpoint, port)
}

/// Someone on Sam's network found his laptop's iroh socket and knocks with keys of their
/// own (the `stranger` example, run on the LAN beside him): Sam's havend itself refuses
/// every one right after the QUIC handshake, with no relay in the way; a flood of garbage
/// datagrams changes nothing; the couple still syncs apart.
#[test]
fn a_strangers_keys_are_refused_by_the_daemon_and_a_flood_of_datagrams_stops_nothing() {
    let lab = Internet::new([Nat::Strict, Nat::Strict]);
    let (maya, sam) = paired_with_relay(&lab);
    let (endpoint, port) = iroh_socket(&sam);
    let knocked = Command::new("ip")
        .args(["netns", "exec", &lab.lan.nodes[0]])
        .arg(bin_dir().join("examples").join("stranger"))
        .args([&endpoint, &format!("{}:{port}", lab.lan.address(1))])
        .args(["--attempts", "20", "--garbage", "20000"])
        .output()
        .expect("run the stranger (built by `cargo test --workspace`)");
    let knocked = Out::from(knocked);
    assert_eq!(knocked.code, 0, "{}", knocked.stderr);
    assert_eq!(
        knocked.stdout,
        "10 refused: not Haven's protocol\n10 refused: not the partner\nsent 20000 garbage datagrams\n"
    );
    lab.apart(0);
    lab.apart(1);
    wait_path(&maya, "relayed");
    let id = propose(&maya, "Check-in", "A quick check-in text once a day");
    wait_status(&sam, &id, "proposed");
    assert!(!log_of(&sam).contains("panicked"), "{}", log_of(&sam));
    assert_eq!(lab.packets_through_host(), 0, "no packet left the lab");
}
