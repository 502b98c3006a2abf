//! A person's own devices, as network namespaces on one LAN: linking a new device with
//! `haven init --join` and `haven device add`, the journal's first sync to it, and every
//! change after carried both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use haven_tests::couple::log_of;
use haven_tests::lan::{eventually_explained, read_code, Lan};
use haven_tests::Home;

const SOON: Duration = Duration::from_secs(20);

/// Runs `haven init --join --name NAME` on `new` and `haven device add CODE --yes` on
/// `existing`; returns both outputs.
fn link(existing: &Home, new: &Home, name: &str) -> (String, String) {
    let mut joining = new
        .command("haven")
        .args(["init", "--join", "--name", name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("haven init --join");
    let code = read_code(
        joining.stdout.as_mut().expect("stdout"),
        "haven device add ",
    );
    let added = existing.ok(&["device", "add", &code, "--yes", "--name", "laptop"]);
    let out = joining.wait_with_output().expect("wait");
    let joined = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "init --join failed: {joined}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        log_of(new)
    );
    (added, joined)
}

fn bodies(h: &Home) -> Vec<String> {
    let list = h.json(&["journal", "list", "--json"]);
    let mut out: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

fn wait_for(h: &Home, what: &str, check: impl Fn(&[String]) -> bool) {
    eventually_explained(
        SOON,
        || check(&bodies(h)).then_some(()),
        || format!("{what}: {:?}\n{}", bodies(h), log_of(h)),
    );
}

#[test]
fn a_linked_device_gets_the_journal_and_every_change_after_travels_both_ways() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["the first entry"]);
    laptop.write(&["DEVICE-CANARY-ONE"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    let (added, joined) = link(&laptop, &desk, "desk");
    assert!(added.contains("Linked desk."), "{added}");
    assert!(added.contains("(2 entries)"), "{added}");
    assert!(
        joined.contains("Both screens show these words:"),
        "{joined}"
    );
    assert!(joined.contains("Linked to Maya's devices"), "{joined}");
    assert_eq!(bodies(&desk), ["DEVICE-CANARY-ONE", "the first entry"]);

    // Live, both ways, on the LAN, once the two are in session (which starts after the
    // first sync, with both holding the same journal).
    for h in [&laptop, &desk] {
        eventually_explained(
            SOON,
            || {
                h.json(&["device", "list", "--json"])
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["path"] == "lan")
                    .then_some(())
            },
            || format!("never in session:\n{}", log_of(h)),
        );
    }
    // The link itself, and every session with another device after it, runs on
    // post-quantum keys.
    for h in [&laptop, &desk] {
        let log = log_of(h);
        assert!(
            log.contains("the link runs on post-quantum keys before anything secret travels"),
            "{log}"
        );
        assert!(
            log.contains("the session with a device runs on post-quantum keys"),
            "{log}"
        );
        assert!(!log.contains("ended at its post-quantum exchange"), "{log}");
    }
    laptop.write(&["written on the laptop after"]);
    wait_for(&desk, "the laptop's new entry on the desk", |b| {
        b.iter().any(|x| x == "written on the laptop after")
    });
    let id = desk.write(&["written on the desk"]);
    wait_for(&laptop, "the desk's entry on the laptop", |b| {
        b.iter().any(|x| x == "written on the desk")
    });
    desk.ok(&["journal", "delete", &id, "--yes"]);
    wait_for(&laptop, "the deletion on the laptop", |b| {
        !b.iter().any(|x| x == "written on the desk")
    });

    // Both say they hold the same journal, with the same fingerprint.
    let listed = eventually_explained(
        SOON,
        || {
            let l = laptop.json(&["device", "list", "--json"]);
            let d = desk.json(&["device", "list", "--json"]);
            let in_sync =
                |v: &serde_json::Value| v.as_array().unwrap().iter().all(|d| d["in_sync"] == true);
            (in_sync(&l) && in_sync(&d)).then_some((l, d))
        },
        || "the two devices never said they were in sync".into(),
    );
    let (l, d) = listed;
    assert_eq!(l.as_array().unwrap().len(), 2);
    let heads = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["heads"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let all: Vec<String> = heads(&l).into_iter().chain(heads(&d)).collect();
    assert!(all.iter().all(|h| h == &all[0] && !h.is_empty()), "{all:?}");
    let names: Vec<&str> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["laptop", "desk"],
        "the laptop took the name it was given"
    );
    assert_eq!(
        desk.json(&["status", "--json"])["name"],
        "Maya",
        "the desk acts for Maya"
    );
}

const CANARY: &str = "CANARY-OWN-DEVICE-7731";

/// Maya's laptop is paired with Sam's; she links her desk. What she writes on the desk
/// reaches her laptop, and nothing of it reaches Sam's: not his disk, not his log, not the
/// couple document he holds (everything he ever received is merged into it). The couple
/// goes on as before, and Sam's laptop cannot join Maya's devices.
#[test]
fn the_partner_never_receives_a_journal_byte_from_either_of_my_devices() {
    let lan = Lan::new(3);
    let (laptop, sam) = haven_tests::couple::paired_pair(&lan);
    // A paired laptop has a partner: it cannot be one of another person's devices.
    let out = sam.run(&["init", "--join", "--name", "sams-desk"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("paired with a partner"),
        "{}",
        out.stderr
    );
    let desk = Home::in_netns(&lan.nodes[2], "eth0");
    link(&laptop, &desk, "desk");
    desk.write(&[&format!("{CANARY} written on the desk")]);
    laptop.write(&[&format!("{CANARY} written on the laptop")]);
    wait_for(&laptop, "the desk's entry on the laptop", |b| {
        b.iter().any(|x| x.contains("written on the desk"))
    });
    wait_for(&desk, "the laptop's entry on the desk", |b| {
        b.iter().any(|x| x.contains("written on the laptop"))
    });
    assert!(
        desk.ok(&["status"])
            .contains("device      desk, linked with 1 other device\n"),
        "{}",
        desk.ok(&["status"])
    );
    // The couple works as before, from the laptop.
    let id = haven_tests::couple::propose(&laptop, "Check-in", "A quick check-in text");
    haven_tests::couple::wait_status(&sam, &id, "proposed");

    assert_eq!(
        sam.json(&["journal", "list", "--json"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert!(
        !log_of(&sam).contains("this person's devices"),
        "{}",
        log_of(&sam)
    );
    sam.ok(&["daemon", "stop"]);
    assert_eq!(
        Home::grep(sam.tmp.path(), CANARY),
        Vec::<std::path::PathBuf>::new()
    );
    let mut home = sam.open_directly();
    let received = home.couple.automerge_mut().save_nocompress();
    assert!(!received
        .windows(CANARY.len())
        .any(|w| w == CANARY.as_bytes()));
    assert!(received
        .windows(b"A quick check-in".len())
        .any(|w| w == b"A quick check-in"));
    // Nor in plaintext on either of Maya's devices.
    for h in [&laptop, &desk] {
        assert_eq!(
            Home::grep(h.tmp.path(), CANARY),
            Vec::<std::path::PathBuf>::new()
        );
    }
}

/// The couple from a second device: the desk (never paired itself) gets the couple
/// document and who the partner is from the laptop, accepts Sam's proposal and thanks Sam
/// in Maya's name with its own key, and Sam's laptop counts both through Maya's device
/// list, which it followed in the couple document from the key it pinned at pairing; then
/// learns, through the list's next version, that Maya revoked the desk.
#[test]
fn an_agreement_accepted_on_my_second_device_is_active_on_the_partners_laptop() {
    let lan = Lan::new(3);
    let (laptop, sam) = haven_tests::couple::paired_pair(&lan);
    let desk = Home::in_netns(&lan.nodes[2], "eth0");
    link(&laptop, &desk, "desk");
    let id = haven_tests::couple::propose(&sam, "Check-in", "A quick check-in text each day");
    haven_tests::couple::wait_status(&laptop, &id, "proposed");
    // The desk gets it from the laptop, and knows whose proposal it is.
    eventually_explained(
        SOON,
        || {
            haven_tests::couple::agreement(&desk, &id)
                .filter(|a| a.to_string().contains("Sam"))
                .map(|_| ())
        },
        || {
            format!(
                "the proposal on the desk
{}",
                log_of(&desk)
            )
        },
    );
    // The desk says who the partner is and how it reaches them, and does not pair again.
    assert_eq!(
        desk.ok(&["partner"]),
        "partner      Sam, paired on another of your devices: this one acts in the couple through it\n"
    );
    let out = desk.run(&["pair"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains(
            "Sam is paired on another of your devices; this one acts in the couple through it"
        ),
        "{}",
        out.stderr
    );
    desk.ok(&["agree", "accept", &id]);
    for (who, h) in [("desk", &desk), ("laptop", &laptop), ("Sam", &sam)] {
        eventually_explained(
            SOON,
            || (haven_tests::couple::status_of(h, &id).as_deref() == Some("active")).then_some(()),
            || {
                format!(
                    "the agreement active on {who}: {:?}
{}",
                    haven_tests::couple::agreement(h, &id),
                    log_of(h)
                )
            },
        );
    }
    assert!(
        log_of(&sam).contains("took a newer list of the partner's devices"),
        "{}",
        log_of(&sam)
    );
    // On Sam's laptop the consent is Maya's, with no word about a device or a key.
    let shown = sam.ok(&["agree", "show", &id]);
    assert!(shown.contains("Maya"), "{shown}");
    assert!(!shown.contains("unknown member"), "{shown}");
    assert!(!shown.contains("no valid signature"), "{shown}");
    // A thank-you from the desk reaches Sam as Maya's, through the laptop.
    desk.ok(&["thanks", "Thank you for the tea, from the desk"]);
    eventually_explained(
        SOON,
        || {
            let notes = sam.json(&["notes", "--json"]);
            notes.as_array()?.iter().find(|n| {
                n["text"] == "Thank you for the tea, from the desk" && n["by"] == "Maya"
            })?;
            Some(())
        },
        || {
            format!(
                "the desk's thanks on Sam's laptop: {}\n{}",
                sam.json(&["notes", "--json"]),
                log_of(&sam)
            )
        },
    );
    let partner = sam.ok(&["partner"]);
    assert!(
        partner.contains("\ndevices      laptop, desk\n"),
        "{partner}"
    );
    // Maya revokes the desk: Sam's laptop learns it through the next version of her list.
    laptop.ok(&["device", "revoke", "desk", "--yes"]);
    eventually_explained(
        SOON,
        || {
            let info = sam.json(&["partner", "--json"]);
            (info["devices"][1]["revoked"] == serde_json::json!(true)).then_some(())
        },
        || {
            format!(
                "Sam's laptop to learn the desk was revoked\n{}",
                log_of(&sam)
            )
        },
    );
    assert!(sam
        .ok(&["partner"])
        .contains("\ndevices      laptop, desk (revoked)\n"));
    // What the desk signed before its revocation still counts.
    assert_eq!(
        haven_tests::couple::status_of(&sam, &id).as_deref(),
        Some("active")
    );
}

/// Starts `haven init --join` on `new`; returns the running command and its code.
fn show_link_code(new: &Home, name: &str) -> (std::process::Child, String) {
    let mut joining = new
        .command("haven")
        .args(["init", "--join", "--name", name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("haven init --join");
    let code = read_code(
        joining.stdout.as_mut().expect("stdout"),
        "haven device add ",
    );
    (joining, code)
}

fn device_names(h: &Home) -> Vec<String> {
    h.json(&["device", "list", "--json"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A mistyped code, and a yes that never came: one clear line on each side, nothing
/// linked, nothing sent; then the same two devices link with a new code.
#[test]
fn a_wrong_code_or_no_yes_links_nothing_and_a_new_code_still_works() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&[CANARY]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");

    let (joining, code) = show_link_code(&desk, "desk");
    let (nameplate, _) = code.split_once('-').expect("a code");
    let wrong = if code.ends_with("-harbor-violet") {
        format!("{nameplate}-amber-violet")
    } else {
        format!("{nameplate}-harbor-violet")
    };
    let out = laptop.run(&["device", "add", &wrong, "--yes"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("the code did not match"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.lines().next().map(|l| l.starts_with("error: ")),
        Some(true)
    );
    let out = joining.wait_with_output().expect("wait");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("tried the code and it did not match"),
        "{said}"
    );

    // No terminal and no --yes: the laptop says no, and the desk hears it.
    let (joining, code) = show_link_code(&desk, "desk");
    let out = laptop.run(&["device", "add", &code]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("linking needs a yes"), "{}", out.stderr);
    let out = joining.wait_with_output().expect("wait");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("nothing was linked"), "{said}");
    assert_eq!(
        desk.entry_count(),
        0,
        "the desk got the journal without a yes"
    );
    assert_eq!(device_names(&laptop).len(), 1);

    // The same desk (its home kept) links with a new code.
    link(&laptop, &desk, "desk");
    assert_eq!(bodies(&desk), [CANARY]);
    assert_eq!(device_names(&desk).len(), 2);
    // And a second link of the same device is refused.
    let out = desk.run(&["init", "--join", "--name", "desk"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("linked already"), "{}", out.stderr);
}

fn own_port(h: &Home) -> u16 {
    eventually_explained(
        SOON,
        || {
            log_of(h)
                .lines()
                .find(|l| l.contains("listening for this person's other devices"))
                .and_then(|l| l.split("port=").nth(1))
                .and_then(|p| p.split_whitespace().next()?.parse().ok())
        },
        || format!("no port in the log:\n{}", log_of(h)),
    )
}

/// Someone on the LAN calls the own-device port: garbage, a huge length, a Noise
/// handshake from a key the list does not name, and a replay of nothing. Each is refused,
/// and the two devices go on syncing.
#[test]
fn strangers_on_the_own_device_port_get_nothing_and_the_devices_keep_syncing() {
    use std::io::{Read, Write};
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    let port = own_port(&laptop);
    let target = format!("{}:{port}", lan.address(0));
    let attacks: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![0xff, 0xff],
        vec![0x00, 0x60].into_iter().chain([7u8; 96]).collect(),
        {
            // A real IKpsk2 first message, from a key the list does not name, with a
            // guessed PSK.
            let kp = snow::Builder::new("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".parse().unwrap())
                .generate_keypair()
                .unwrap();
            let mut hs =
                snow::Builder::new("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".parse().unwrap())
                    .prologue(b"haven/1 own devices")
                    .unwrap()
                    .local_private_key(&kp.private)
                    .unwrap()
                    .remote_public_key(&laptop.identity().noise_public())
                    .unwrap()
                    .psk(2, &[0u8; 32])
                    .unwrap()
                    .build_initiator()
                    .unwrap();
            let mut buf = vec![0u8; 1024];
            let n = hs.write_message(&[0u8; 10], &mut buf).unwrap();
            let mut framed = (n as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&buf[..n]);
            framed
        },
    ];
    let stranger = std::thread::scope(|s| {
        s.spawn(|| {
            lan.enter(2);
            let mut answers = Vec::new();
            for attack in &attacks {
                let mut c = std::net::TcpStream::connect(&target).expect("connect");
                c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
                let _ = c.write_all(attack);
                let _ = c.shutdown(std::net::Shutdown::Write);
                let mut got = Vec::new();
                let _ = c.read_to_end(&mut got);
                answers.push(got);
            }
            answers
        })
        .join()
        .expect("the stranger's thread")
    });
    for (attack, answer) in attacks.iter().zip(&stranger) {
        assert!(
            answer.is_empty(),
            "the laptop answered a stranger's {} bytes with {} bytes",
            attack.len(),
            answer.len()
        );
    }
    assert!(
        log_of(&laptop).contains("refused a device's handshake"),
        "{}",
        log_of(&laptop)
    );
    laptop.write(&["still syncing after the strangers"]);
    wait_for(&desk, "the laptop's entry on the desk", |b| {
        b.iter().any(|x| x == "still syncing after the strangers")
    });
}

/// What a person reads, pinned whole in `tests/snapshots/devices.txt` (`[..]` stands for a
/// code, the words, a date, a fingerprint). `SNAPSHOTS=overwrite` rewrites it.
#[test]
fn what_a_person_reads_about_their_devices_is_pinned() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["Late reply; I told myself the worst."]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    let alone = laptop.json(&["device", "list", "--json"]);
    assert_eq!(alone.as_array().map(Vec::len), Some(1), "{alone}");
    assert_eq!(alone[0]["this_device"], true);
    let mut out = String::new();
    let (added, joined) = link(&laptop, &desk, "desk");
    out.push_str(&format!("$ haven init --join --name desk\n{joined}\n"));
    out.push_str(&format!(
        "$ haven device add CODE --yes --name laptop\n{added}\n"
    ));
    eventually_explained(
        SOON,
        || {
            let l = laptop.json(&["device", "list", "--json"]);
            l.as_array()
                .unwrap()
                .iter()
                .all(|d| d["in_sync"] == true && (d["this_device"] == true || d["path"] == "lan"))
                .then_some(())
        },
        || "never in session and in sync".into(),
    );
    let mut run = |h: &Home, args: &[&str]| {
        out.push_str(&format!("$ haven {}\n{}\n", args.join(" "), h.ok(args)));
    };
    run(&laptop, &["device", "list"]);
    run(&desk, &["status"]);
    run(&laptop, &["device", "revoke", "desk", "--yes"]);
    for (h, args, code) in [
        (&laptop, vec!["device", "add", "7-harbor"], 1),
        (&laptop, vec!["device", "add", "7-harbor-nope"], 1),
        (
            &laptop,
            vec!["device", "add", "7-harbor-violet", "--name", "a\tb"],
            2,
        ),
        (&desk, vec!["init", "--join", "--name", "desk"], 1),
        (&laptop, vec!["init", "--join", "--name", ""], 2),
        (&laptop, vec!["device", "revoke", "desk", "--yes"], 3),
        (&laptop, vec!["device", "revoke", "laptop", "--yes"], 2),
        (&laptop, vec!["device", "revoke", "desk"], 2),
    ] {
        out.push_str(&format!(
            "$ haven {}\n{}\n",
            args.join(" "),
            h.fails(&args, code)
        ));
    }
    snapbox::assert_data_eq!(out, snapbox::file!["../snapshots/devices.txt"]);
}

/// Stops every daemon, then unlocks each again (a daemon starts with the unlock).
fn restart(homes: &[&Home]) {
    for h in homes {
        h.ok(&["daemon", "stop"]);
    }
    for h in homes {
        h.ok(&["unlock"]);
    }
}

/// The device `h` calls `name`, as its `device list --json` shows it.
fn device_named(h: &Home, name: &str) -> serde_json::Value {
    h.json(&["device", "list", "--json"])
        .as_array()
        .expect("a list")
        .iter()
        .find(|d| d["name"] == name)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

fn in_session_with(h: &Home, name: &str) -> bool {
    device_named(h, name)["path"] == "lan"
}

fn wait_until(what: &str, h: &Home, check: impl Fn() -> bool) {
    eventually_explained(
        SOON,
        || check().then_some(()),
        || format!("timed out waiting for {what}\n{}", log_of(h)),
    );
}

/// Three devices; the desk is lost and revoked from the laptop. The tablet learns it, the
/// laptop and the tablet take a new secret and go on syncing (also after both restart),
/// and nothing new reaches the desk or comes from it.
#[test]
fn a_revoked_device_gets_nothing_new_and_the_others_go_on() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    let tablet = Home::in_netns(&lan.nodes[2], "eth0");
    link(&laptop, &desk, "desk");
    link(&laptop, &tablet, "tablet");
    wait_until("the tablet in session with the desk", &tablet, || {
        in_session_with(&tablet, "desk") && in_session_with(&tablet, "laptop")
    });
    laptop.write(&["before the desk was lost"]);
    wait_for(&desk, "the entry on the desk", |b| b.len() == 1);

    let out = laptop.run(&["device", "revoke", "desk"]);
    assert_eq!(out.code, 2, "no terminal, no --yes: {}", out.stdout);
    assert!(
        out.stderr.contains("revoking needs a yes"),
        "{}",
        out.stderr
    );
    let said = laptop.ok(&["device", "revoke", "desk", "--yes"]);
    assert!(
        said.starts_with("Revoked desk. From now on it gets nothing new"),
        "{said}"
    );
    assert!(said.contains("What desk already holds, it keeps"), "{said}");
    wait_until("the tablet to learn of the revocation", &tablet, || {
        !device_named(&tablet, "desk")["revoked"].is_null() && !in_session_with(&tablet, "desk")
    });
    wait_until("the desk's sessions to end", &desk, || {
        !in_session_with(&desk, "laptop") && !in_session_with(&desk, "tablet")
    });
    assert!(
        log_of(&tablet).contains("took the devices' new secret"),
        "{}",
        log_of(&tablet)
    );
    // The desk was in session when it was revoked: it got neither the new list nor the
    // new secret.
    assert!(
        !log_of(&desk).contains("took the devices' new secret"),
        "{}",
        log_of(&desk)
    );
    assert!(device_named(&desk, "desk")["revoked"].is_null());

    desk.write(&["DESK-AFTER-REVOCATION"]);
    laptop.write(&["LAPTOP-AFTER-REVOCATION"]);
    wait_for(&tablet, "the laptop's entry on the tablet", |b| {
        b.iter().any(|x| x == "LAPTOP-AFTER-REVOCATION")
    });
    // Both restart: they meet again on the new secret.
    restart(&[&laptop, &tablet]);
    tablet.write(&["TABLET-AFTER-RESTART"]);
    wait_for(
        &laptop,
        "the tablet's entry on the laptop after a restart",
        |b| b.iter().any(|x| x == "TABLET-AFTER-RESTART"),
    );
    // The desk dialled, or was dialled, all this time: nothing travelled either way.
    for (h, not) in [
        (&laptop, "DESK-AFTER-REVOCATION"),
        (&tablet, "DESK-AFTER-REVOCATION"),
        (&desk, "LAPTOP-AFTER-REVOCATION"),
        (&desk, "TABLET-AFTER-RESTART"),
    ] {
        assert!(!bodies(h).iter().any(|x| x == not), "{not} arrived");
    }
    let out = laptop.run(&["device", "revoke", "desk", "--yes"]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stderr.contains("no linked device is named \"desk\""),
        "{}",
        out.stderr
    );
    let out = laptop.run(&["device", "revoke", "laptop", "--yes"]);
    assert!(
        out.stderr.contains("run `haven device leave`"),
        "{}",
        out.stderr
    );
}

/// The tablet is off when the desk is revoked: it still meets the laptop on the secret it
/// holds, is given the list and the new one, and from then on the two use the new one.
#[test]
fn a_device_away_at_a_revocation_is_given_the_new_secret() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    let tablet = Home::in_netns(&lan.nodes[2], "eth0");
    link(&laptop, &desk, "desk");
    link(&laptop, &tablet, "tablet");
    tablet.ok(&["daemon", "stop"]);
    laptop.ok(&["device", "revoke", "desk", "--yes"]);
    laptop.write(&["WRITTEN-WHILE-THE-TABLET-WAS-OFF"]);
    tablet.ok(&["unlock"]);
    wait_for(&tablet, "the laptop's entry on the tablet", |b| {
        b.iter().any(|x| x == "WRITTEN-WHILE-THE-TABLET-WAS-OFF")
    });
    wait_until("the tablet to take the new list", &tablet, || {
        !device_named(&tablet, "desk")["revoked"].is_null()
    });
    assert!(log_of(&tablet).contains("took the devices' new secret"));
    restart(&[&laptop, &tablet]);
    laptop.write(&["AFTER-BOTH-RESTARTED"]);
    wait_for(&tablet, "the laptop's entry after both restarted", |b| {
        b.iter().any(|x| x == "AFTER-BOTH-RESTARTED")
    });
}

/// `device leave` on the desk: the laptop is told at their next meeting, and nothing
/// travels after; the desk keeps its journal.
#[test]
fn a_device_that_leaves_tells_the_others_and_keeps_its_journal() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["written before the desk left"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    let said = desk.ok(&["device", "leave", "--yes"]);
    assert!(said.starts_with("This device left your devices."), "{said}");
    wait_until("the laptop to learn the desk left", &laptop, || {
        !device_named(&laptop, "desk")["revoked"].is_null()
    });
    assert_eq!(bodies(&desk), ["written before the desk left"]);
    desk.write(&["DESK-AFTER-LEAVING"]);
    let out = desk.run(&["device", "leave", "--yes"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("already left"), "{}", out.stderr);
    let out = desk.run(&["init", "--join", "--name", "desk"]);
    assert!(
        out.stderr.contains("to link it again, make a new home"),
        "{}",
        out.stderr
    );
    // The laptop, told, has no session with the desk: its entry never comes.
    wait_until("no session on the laptop", &laptop, || {
        !in_session_with(&laptop, "desk")
    });
    laptop.ok(&["daemon", "stop"]);
    laptop.ok(&["unlock"]);
    laptop.write(&["a marker after the restart"]);
    assert!(!bodies(&laptop).iter().any(|x| x == "DESK-AFTER-LEAVING"));
}

/// A backup of the desk restored into another home: it holds the journal the backup held,
/// but never syncs as the desk (which still exists), and `doctor` says what to do.
#[test]
fn a_restored_copy_of_a_linked_device_does_not_act_as_it() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["in the backup"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    let file = desk.tmp.path().join("desk.backup");
    desk.ok(&["backup", "-o", file.to_str().unwrap()]);
    let copy = Home::in_netns(&lan.nodes[2], "eth0");
    let out = copy.run(&["restore", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("was one of your linked devices"),
        "{}",
        out.stderr
    );
    copy.ok(&["unlock"]);
    assert_eq!(bodies(&copy), ["in the backup"]);
    laptop.write(&["AFTER-THE-RESTORE"]);
    wait_for(&desk, "the laptop's entry on the desk", |b| {
        b.iter().any(|x| x == "AFTER-THE-RESTORE")
    });
    let doctor = copy.run(&["doctor"]);
    assert_ne!(doctor.code, 0);
    assert!(
        doctor.stdout.contains("restored from a backup"),
        "{}",
        doctor.stdout
    );
    assert!(
        doctor.stdout.contains("haven device revoke desk"),
        "{}",
        doctor.stdout
    );
    assert!(copy.ok(&["status"]).contains(
        "device      desk, restored from a backup: not syncing (`haven doctor` says why)\n"
    ));
    // The laptop and the desk went on together all along; the copy never joined in.
    assert!(!bodies(&copy).iter().any(|x| x == "AFTER-THE-RESTORE"));
    assert!(
        !log_of(&copy).contains("in session with another of this person's devices"),
        "{}",
        log_of(&copy)
    );
}

/// Pairing from a second device: the desk pairs with Sam in Maya's name (her member, made
/// from the laptop's key), so Sam's laptop counts what the laptop signs through Maya's
/// device list, and the laptop, never paired itself, acts in the couple through the desk.
/// Pairing and unpairing leave the desk linked, also after a restart.
#[test]
fn a_second_device_can_be_the_one_that_pairs() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    let sam = lan.laptop(2, "Sam");
    haven_tests::lan::pair(&desk, &sam);
    let maya = sam.json(&["partner", "--json"]);
    assert_eq!(maya["name"], "Maya");
    assert_eq!(
        maya["member_id"],
        laptop.json(&["device", "list", "--json"])[0]["id"],
        "Sam pinned Maya's member, not the desk's own id"
    );
    // Proposed on the laptop, through the desk to Sam; accepted there, back to the laptop.
    let id = haven_tests::couple::propose(&laptop, "Check-in", "A text when plans change");
    haven_tests::couple::wait_status(&sam, &id, "proposed");
    sam.ok(&["agree", "accept", &id]);
    for (who, h) in [("laptop", &laptop), ("desk", &desk), ("Sam", &sam)] {
        eventually_explained(
            SOON,
            || (haven_tests::couple::status_of(h, &id).as_deref() == Some("active")).then_some(()),
            || {
                format!(
                    "the agreement active on {who}: {:?}\n{}",
                    haven_tests::couple::agreement(h, &id),
                    log_of(h)
                )
            },
        );
    }
    assert!(laptop
        .ok(&["partner"])
        .starts_with("partner      Sam, paired on another of your devices"));
    // Pairing left the desk linked, on disk too: after a restart the two meet again (a
    // pairing used to clear the whole peer table, the device list with it).
    restart(&[&laptop, &desk]);
    wait_until(
        "the laptop and the desk to meet after a restart",
        &laptop,
        || in_session_with(&laptop, "desk"),
    );
    // The desk unpairs: the laptop forgets the card the desk gave.
    desk.ok(&["partner", "unpair"]);
    eventually_explained(
        SOON,
        || {
            laptop
                .ok(&["partner"])
                .starts_with("not paired")
                .then_some(())
        },
        || format!("the laptop to forget Sam\n{}", log_of(&laptop)),
    );
    // Unpairing left them linked too, and the card does not come back.
    restart(&[&laptop, &desk]);
    desk.write(&["after the unpair"]);
    wait_for(&laptop, "the desk's entry after the unpair", |b| {
        b.iter().any(|x| x == "after the unpair")
    });
    assert!(laptop.ok(&["partner"]).starts_with("not paired"));
    assert!(laptop.ok(&["partner"]).starts_with("not paired"));
    // Stopping a daemon ends its mDNS side once, not in a loop of failed advertisements.
    for h in [&laptop, &desk] {
        assert!(
            !log_of(h).contains("cannot advertise to this person's devices"),
            "{}",
            log_of(h)
        );
    }
}

/// One of Maya's own devices running modified software: it holds the desk's real keys and,
/// in valid sessions, sends couple sync bytes that are not hex, a sync message that is not
/// one, a forged partner card, an oversized mark, and bytes that are no message. Each
/// session ends with its reason in the laptop's log; the laptop keeps serving and loses
/// nothing, and the real desk syncs with it again after.
#[test]
fn a_rogue_device_of_mine_gets_its_session_ended_and_nothing_else() {
    use haven_shared::devices::journal_sync::{DeviceMessage, PartnerCard};
    use haven_tests::rogue_device::{device_keys, RogueSession};
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["before the rogue"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    let desk_id = desk.json(&["device", "list", "--json"])[1]["id"]
        .as_str()
        .expect("the desk's id")
        .to_string();
    let keys = device_keys(&desk);
    let target = format!("{}:{}", lan.address(0), own_port(&laptop));
    let laptop_key = laptop.identity().noise_public();
    let hello = DeviceMessage::Hello {
        protocol: haven_shared::devices::journal_sync::PROTOCOL,
        digest: String::new(),
        list_version: 0,
        generation: keys.generation,
        couple: true,
        marks: false,
    }
    .encode();
    let sam = haven_shared::ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
    let forged = PartnerCard {
        name: "Sam".into(),
        member_id: "0123456789abcdef".into(),
        signing_key: hex::encode(sam.as_bytes()),
        devices: None,
        from: desk_id,
    };
    let garbage = b"\x00\xffnot json".to_vec();
    // What the rogue sends after its hello, and what the laptop's log then says.
    let attacks: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "a couple sync message that is not hex",
            vec![DeviceMessage::Couple { sync: "zz".into() }.encode()],
        ),
        (
            "a couple sync message refused",
            vec![DeviceMessage::Couple {
                sync: hex::encode([7u8; 5000]),
            }
            .encode()],
        ),
        (
            // Left aside without ending the session: the bytes after it end it.
            "the partner's member id is not made from their key",
            vec![
                DeviceMessage::Partner { card: forged }.encode(),
                garbage.clone(),
            ],
        ),
        (
            "a mark longer than Haven makes them",
            vec![DeviceMessage::NewMark {
                mark: "9".repeat(100_000),
            }
            .encode()],
        ),
        ("a malformed message", vec![garbage]),
    ];
    let ended = |h: &Home| log_of(h).matches("the session with a device ended").count();
    for (why, attack) in attacks {
        let before = ended(&laptop);
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    lan.enter(1);
                    let mut rogue = RogueSession::open(&target, &keys, &laptop_key);
                    rogue.send_bytes(&hello);
                    for m in &attack {
                        rogue.send_bytes(m);
                    }
                    rogue.until_closed();
                })
                .join()
                .expect("the rogue device");
        });
        eventually_explained(
            SOON,
            || (ended(&laptop) > before && log_of(&laptop).contains(why)).then_some(()),
            || {
                format!(
                    "the laptop to end the session over {why:?}\n{}",
                    log_of(&laptop)
                )
            },
        );
        assert!(laptop.ok(&["status"]).contains("journal     1 entry\n"));
    }
    // The forged card was not taken.
    assert!(laptop.ok(&["partner"]).starts_with("not paired"));
    assert_eq!(bodies(&laptop), ["before the rogue"]);
    assert!(laptop.ok(&["status"]).contains("agreements  0\n"));
    // The real desk, back, syncs as before: nothing the rogue sent stuck.
    desk.ok(&["unlock"]);
    desk.write(&["after the rogue"]);
    wait_for(&laptop, "the desk's entry on the laptop", |b| {
        b.iter().any(|x| x == "after the rogue")
    });
    assert!(!laptop.run(&["doctor"]).stdout.contains("two homes"));
}

/// How many times `h`'s log says another device kept a new mark from it.
fn marks_kept(h: &Home) -> usize {
    log_of(h)
        .matches("the other device keeps a new mark")
        .count()
}

/// A home folder copied by hand (not `backup` and `restore`) and run beside the original:
/// the copy shows the laptop an older mark than the original kept, the laptop refuses both
/// copies, each is told, and `doctor` on every one of them says what happened and what to
/// do. Nothing written on either copy is lost, and nothing from the copy reaches the laptop.
#[test]
fn a_device_running_in_two_homes_is_caught_and_both_copies_keep_their_journals() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    wait_until("the desk to keep a mark from the laptop", &laptop, || {
        marks_kept(&laptop) >= 1
    });
    desk.ok(&["daemon", "stop"]);
    let copy = Home::in_netns(&lan.nodes[2], "eth0");
    copy.copy_home_from(&desk.home);
    // The original goes on, and keeps a newer mark.
    desk.write(&["on the desk after the copy"]);
    wait_until("the desk to keep a second mark", &laptop, || {
        marks_kept(&laptop) >= 2
    });
    wait_for(&laptop, "the desk's entry on the laptop", |b| {
        b.iter().any(|x| x == "on the desk after the copy")
    });
    desk.ok(&["daemon", "stop"]);
    // The copy runs: it shows the mark it was copied with.
    copy.write(&["on the copy"]);
    wait_until("the copy to be told it runs in two homes", &copy, || {
        copy.ok(&["status"]).contains(
            "device      desk, running in two homes: not syncing (`haven doctor` says why)\n",
        )
    });
    assert!(
        log_of(&laptop).contains("one of this person's devices runs in two homes"),
        "{}",
        log_of(&laptop)
    );
    assert!(
        log_of(&copy).contains("this device runs in two homes"),
        "{}",
        log_of(&laptop)
    );
    // The original, back, is refused too, and told.
    desk.ok(&["unlock"]);
    wait_until("the desk to be told it runs in two homes", &desk, || {
        desk.ok(&["status"]).contains("running in two homes")
    });
    for (who, h) in [("copy", &copy), ("desk", &desk)] {
        let doctor = h.run(&["doctor"]);
        assert_ne!(doctor.code, 0, "{who}");
        // The lines the README shows, exactly (the date aside).
        assert!(
            doctor.stdout.contains("\nFAIL devices                    desk runs in two homes (found ")
                && doctor.stdout.contains("): this home folder was copied and both copies ran, so your devices refuse both and this one no longer syncs with them\n                                fix: from one of your other devices, revoke it (`haven device revoke desk`); then link each computer you keep again from a new home (`haven --home NEW_DIR init --join`). Each copy keeps the journal it holds\n"),
            "{who}: {}",
            doctor.stdout
        );
    }
    let doctor = laptop.run(&["doctor"]);
    assert_ne!(doctor.code, 0);
    assert!(
        doctor.stdout.contains("desk runs in two homes"),
        "{}",
        doctor.stdout
    );
    // Nothing lost on either copy; the copy's entry never reached the laptop.
    assert!(bodies(&copy).iter().any(|x| x == "on the copy"));
    assert!(bodies(&desk)
        .iter()
        .any(|x| x == "on the desk after the copy"));
    assert!(!bodies(&laptop).iter().any(|x| x == "on the copy"));
    // Revoking the desk, as doctor says, ends it: the laptop's doctor is calm again.
    laptop.ok(&["device", "revoke", "desk", "--yes"]);
    assert!(!laptop.run(&["doctor"]).stdout.contains("two homes"));
}

/// The desk's cable is pulled: the laptop stops showing it on the LAN (the session's
/// pings go unanswered) and says "not known"; both write and delete apart; plugged back,
/// they meet again and merge, the deletion winning over the other side's edit.
#[test]
fn devices_apart_merge_when_they_meet_again_and_a_pulled_cable_is_noticed() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    let shared = laptop.write(&["written before, edited apart on the laptop"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    wait_until("in session", &laptop, || in_session_with(&laptop, "desk"));
    lan.set_link(1, false);
    eventually_explained(
        Duration::from_secs(90),
        || (!in_session_with(&laptop, "desk")).then_some(()),
        || {
            format!(
                "the laptop still shows the desk on the LAN\n{}",
                log_of(&laptop)
            )
        },
    );
    assert_eq!(device_named(&laptop, "desk")["in_sync"], false);
    laptop.write(&["written on the laptop apart"]);
    laptop.ok(&[
        "journal",
        "edit",
        &shared,
        "--text",
        "the laptop's edit, made apart",
    ]);
    desk.write(&["written on the desk apart"]);
    desk.ok(&["journal", "delete", &shared, "--yes"]);
    lan.set_link(1, true);
    let want = ["written on the desk apart", "written on the laptop apart"];
    for h in [&laptop, &desk] {
        eventually_explained(
            Duration::from_secs(60),
            || (bodies(h) == want).then_some(()),
            || format!("{:?}\n{}", bodies(h), log_of(h)),
        );
    }
}

/// The laptop and the desk revoke each other, neither having heard of the other's
/// revocation (the desk was off when the laptop revoked it, and the laptop refuses it
/// from then on, so it never learns): each ends up revoked in the other's list, neither
/// calls the other, both keep their journals and go on serving.
#[test]
fn two_devices_that_revoke_each_other_each_go_on_alone() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["written before the two parted"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &desk, "desk");
    wait_for(&desk, "the laptop's entry on the desk", |b| b.len() == 1);
    desk.ok(&["daemon", "stop"]);
    laptop.ok(&["device", "revoke", "desk", "--yes"]);
    desk.ok(&["unlock"]);
    let said = desk.ok(&["device", "revoke", "laptop", "--yes"]);
    assert!(said.starts_with("Revoked laptop."), "{said}");
    for (h, other) in [(&laptop, "desk"), (&desk, "laptop")] {
        assert!(
            !device_named(h, other)["revoked"].is_null(),
            "{other} is revoked on the other"
        );
        let status = h.ok(&["status"]);
        assert!(status.contains("linked with 0 other devices"), "{status}");
    }
    // Neither lists the other as active, so neither calls: nothing travels either way.
    laptop.write(&["LAPTOP-ALONE"]);
    desk.write(&["DESK-ALONE"]);
    assert_eq!(
        bodies(&laptop),
        ["LAPTOP-ALONE", "written before the two parted"]
    );
    assert_eq!(
        bodies(&desk),
        ["DESK-ALONE", "written before the two parted"]
    );
    let out = desk.run(&["device", "revoke", "laptop", "--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
}

/// The laptop and the tablet answer the desk's code at the same moment: one links it,
/// the other is told plainly, and all three end with the same list.
#[test]
fn two_devices_answering_one_code_link_it_once() {
    let lan = Lan::new(3);
    let laptop = lan.laptop(0, "Maya");
    let tablet = Home::in_netns(&lan.nodes[1], "eth0");
    link(&laptop, &tablet, "tablet");
    let desk = Home::in_netns(&lan.nodes[2], "eth0");
    let (joining, code) = show_link_code(&desk, "desk");
    let answer = |h: &Home| {
        h.command("haven")
            .args(["device", "add", &code, "--yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("haven device add")
    };
    let (a, b) = (answer(&laptop), answer(&tablet));
    let outs = [a, b].map(|c| c.wait_with_output().expect("wait"));
    let joined = joining.wait_with_output().expect("wait");
    assert!(joined.status.success(), "{joined:?}\n{}", log_of(&desk));
    let won: Vec<bool> = outs.iter().map(|o| o.status.success()).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{outs:?}");
    let lost = outs.iter().find(|o| !o.status.success()).expect("one lost");
    let said = String::from_utf8_lossy(&lost.stderr);
    assert!(said.starts_with("error: "), "{said}");
    assert!(
        said.contains("another of your devices may have answered it first")
            || said.contains("the code is used up"),
        "{said}"
    );
    for h in [&laptop, &tablet, &desk] {
        eventually_explained(
            SOON,
            || (device_names(h).len() == 3).then_some(()),
            || format!("{:?}\n{}", device_names(h), log_of(h)),
        );
    }
}
