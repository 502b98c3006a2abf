//! Desktop notifications through a real session D-Bus (`dbus-daemon --session`, watched by
//! `dbus-monitor`): neutral by default, detailed when configured and made safe, none in
//! quiet hours or when off, and a missing or hanging bus costs a logged warning only.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use haven_tests::couple::{log_of, propose, SOON};
use haven_tests::dbus::SessionBus;
use haven_tests::lan::{eventually, pair, Lan};
use haven_tests::Home;

/// A home (in the test's own network namespace) whose commands and daemon see `env`, with
/// `config` as its config.toml; unlocked.
fn home_with(env: &[(&str, &str)], config: &str) -> Home {
    let mut h = Home::new();
    h.env
        .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    h.ok(&["init", "--name", "Maya"]);
    std::fs::write(h.home.join("config.toml"), config).unwrap();
    h.ok(&["unlock"]);
    h
}

/// A home whose daemon talks to `address` as its session bus, where a pause minute lasts
/// one second.
fn on_bus(address: &str, config: &str) -> Home {
    home_with(
        &[
            ("DBUS_SESSION_BUS_ADDRESS", address),
            ("HAVEN_TEST_MINUTE_SECS", "1"),
        ],
        config,
    )
}

/// Starts a pause of one (test) minute, which lasts one second.
fn short_pause(h: &Home) {
    let out = h.run_stdin(&["pause", "--for", "1m", "--message", "-"], "are you ok?");
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn wait_log(h: &Home, needle: &str) {
    eventually(&format!("{needle:?} in the daemon's log"), SOON, || {
        log_of(h).contains(needle).then_some(())
    });
}

#[test]
fn a_pause_ending_notifies_neutrally_through_the_session_bus() {
    let bus = SessionBus::start();
    let h = on_bus(&bus.address, "");
    short_pause(&h);
    let call = eventually("a Notify call", SOON, || bus.notifications().pop());
    assert!(call.contains("string \"Haven\""), "{call}");
    assert!(call.contains("your pause has ended"), "{call}");
    assert!(
        !call.contains("are you ok"),
        "the message stays private: {call}"
    );
    // It is also waiting in status, once, with the command that ends it.
    let status = h.json(&["status", "--json"]);
    assert_eq!(status["waiting"][0]["kind"], "pause_ended");
    // One notification for one pause, even over many ticks: the log says so.
    wait_log(
        &h,
        "no notification: the session bus or its notification service",
    );
    assert_eq!(bus.notifications().len(), 1);
}

#[test]
fn quiet_hours_and_off_send_nothing() {
    let now = chrono::Local::now();
    let quiet = format!(
        "quiet_hours = \"{}-{}\"\n",
        (now - chrono::Duration::hours(1)).format("%H:%M"),
        (now + chrono::Duration::hours(1)).format("%H:%M")
    );
    for (config, said) in [
        (quiet.as_str(), "quiet hours: no notification"),
        ("notify = \"off\"\n", "notify = \"off\": no notification"),
    ] {
        let bus = SessionBus::start();
        let h = on_bus(&bus.address, config);
        short_pause(&h);
        // The daemon decided (the log says so): and the bus saw no call.
        wait_log(&h, said);
        assert!(bus.notifications().is_empty(), "{config}: {}", bus.seen());
    }
}

#[test]
fn a_missing_or_hanging_bus_is_a_warning_and_the_daemon_serves_on() {
    // No bus at that address.
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix:path={}", dir.path().join("nobody").display());
    let h = on_bus(&missing, "");
    short_pause(&h);
    wait_log(
        &h,
        "no notification: the session bus or its notification service is not there",
    );
    assert_eq!(h.json(&["status", "--json"])["locked"], false);

    // A bus that accepts the connection and never says a word.
    let socket = dir.path().join("hangs");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        while let Ok((conn, _)) = listener.accept() {
            kept.push(conn);
        }
    });
    let hanging = format!("unix:path={}", socket.display());
    let h = on_bus(&hanging, "");
    short_pause(&h);
    // While the notifier waits on the silent bus, the daemon answers at once.
    wait_log(&h, "something new is waiting");
    let started = std::time::Instant::now();
    h.ok(&["journal", "write", "still here"]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a write waited on the notification"
    );
    wait_log(&h, "the notification service did not answer in time");
}

#[test]
fn the_partners_changes_notify_neutrally_by_default_and_detailed_made_safe() {
    let lan = Lan::new(2);
    let (maya_bus, sam_bus) = (SessionBus::start(), SessionBus::start());
    let maya = lan.laptop_with(
        0,
        "Maya",
        &[("DBUS_SESSION_BUS_ADDRESS", &maya_bus.address)],
        Some("notify = \"detailed\"\n"),
    );
    let sam = lan.laptop_with(
        1,
        "Sam",
        &[("DBUS_SESSION_BUS_ADDRESS", &sam_bus.address)],
        None,
    );
    pair(&maya, &sam);
    // Maya proposes: Sam's notification says nothing private.
    propose(&maya, "Private title 5e1f", "a private text");
    let call = eventually("Sam's notification", SOON, || sam_bus.notifications().pop());
    assert!(call.contains("a change in your agreements"), "{call}");
    assert!(!call.contains("Private title"), "{call}");
    // A thank-you is called a thank-you, not a change in the agreements: for a partner
    // prone to checking, the neutral text must not read as an alarm.
    maya.ok(&["thanks", "Private thanks 7c2a for the tea"]);
    let call = eventually("Sam's thank-you notification", SOON, || {
        sam_bus
            .notifications()
            .into_iter()
            .find(|c| c.contains("a thank-you"))
    });
    assert!(
        !call.contains("Private thanks") && !call.contains("Maya"),
        "{call}"
    );
    // Sam proposes a title with markup and a terminal escape: Maya's detailed notification
    // names it, escaped, and without the control characters.
    propose(&sam, "<b>Texts</b>\u{1b}]52;c;aGk=\u{7} at night", "x");
    let call = eventually("Maya's notification", SOON, || {
        maya_bus
            .notifications()
            .into_iter()
            .find(|c| c.contains("Sam proposed"))
    });
    assert!(
        call.contains("Sam proposed “&lt;b&gt;Texts&lt;/b&gt;]52;c;aGk= at night”"),
        "{call}"
    );
    assert!(
        !call.contains('\u{1b}') && !call.contains('\u{7}'),
        "{call:?}"
    );
    assert!(!call.contains("<b>"), "{call}");
}

/// A notification service that owns the name and never answers: the call goes out (the
/// monitor sees it), the daemon gives up after its timeout, and serves on meanwhile.
#[test]
fn a_notification_service_that_never_answers_costs_a_warning() {
    let bus = SessionBus::start();
    let _silent = haven_tests::dbus::SilentService::start(&bus);
    let h = on_bus(&bus.address, "");
    short_pause(&h);
    let call = eventually("the Notify call", SOON, || bus.notifications().pop());
    assert!(call.contains("your pause has ended"), "{call}");
    let started = std::time::Instant::now();
    h.ok(&["journal", "write", "still here"]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a write waited on the notification"
    );
    wait_log(&h, "the notification service did not answer in time");
    assert_eq!(h.json(&["status", "--json"])["locked"], false);
}

/// Reminders, opt in: each configured one goes out through the bus in neutral words, also
/// while the journal is locked; quiet hours send none; a time that cannot be read stops
/// the daemon from starting with one clear line. (`HAVEN_TEST_REMINDERS_NOW`, debug
/// builds only, fires them at start, so the test waits on no time of day.)
#[test]
fn reminders_are_offers_sent_when_asked_for_locked_or_not_and_never_in_quiet_hours() {
    let bus = SessionBus::start();
    let config = "[reminders]\ncheckin = \"20:30\"\ninsights = \"sunday 18:00\"\n";
    let h = home_with(
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
            ("HAVEN_TEST_REMINDERS_NOW", "1"),
        ],
        config,
    );
    h.write(&["CANARY-REMINDER private"]);
    let calls = eventually("two reminders", SOON, || {
        let calls = bus.notifications();
        (calls.len() >= 2).then_some(calls)
    });
    let all = calls.join("\n");
    assert!(
        all.contains("A moment to check in, if you want one: `haven checkin`.")
            && all.contains("The week's insights are there when you want them"),
        "{all}"
    );
    assert!(!all.contains("missed") && !all.contains("CANARY"), "{all}");
    assert_eq!(calls.len(), 2, "the question was not asked for: {all}");

    // Locked, a fresh daemon reminds all the same, in the same words.
    h.ok(&["lock"]);
    h.ok(&["daemon", "stop"]);
    h.ok(&["daemon", "start"]);
    eventually("the reminders again, locked", SOON, || {
        (bus.notifications().len() >= 4).then_some(())
    });
    assert_eq!(h.json(&["status", "--json"])["locked"], true);

    // Quiet hours: none, and the log says why.
    let now = chrono::Local::now();
    let quiet = format!(
        "quiet_hours = \"{}-{}\"\n{config}",
        (now - chrono::Duration::hours(1)).format("%H:%M"),
        (now + chrono::Duration::hours(1)).format("%H:%M")
    );
    let quiet_bus = SessionBus::start();
    let q = home_with(
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &quiet_bus.address),
            ("HAVEN_TEST_REMINDERS_NOW", "1"),
        ],
        &quiet,
    );
    wait_log(&q, "quiet hours: no reminder");
    assert!(quiet_bus.notifications().is_empty(), "{}", quiet_bus.seen());

    // A time that cannot be read: one line, and no daemon.
    std::fs::write(
        q.home.join("config.toml"),
        "[reminders]\ncheckin = \"25:00\"\n",
    )
    .unwrap();
    q.ok(&["daemon", "stop"]);
    let out = q.run(&["unlock"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("reminders.checkin must look like \"20:30\", not \"25:00\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_backup_reminder_says_how_long_ago_and_stops_once_there_is_a_recent_backup() {
    let bus = SessionBus::start();
    let h = home_with(
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
            ("HAVEN_TEST_REMINDERS_NOW", "1"),
        ],
        "[reminders]\nbackup = 14\n",
    );
    let call = eventually("the backup reminder", SOON, || bus.notifications().pop());
    assert!(
        call.contains("There is no backup yet. A backup keeps the journal if the laptop is lost"),
        "{call}"
    );
    let doctor = h.ok(&["doctor"]);
    assert!(doctor.contains("no backup yet"), "{doctor}");
    assert!(
        !h.ok(&["status"]).contains("backup "),
        "no line before a first backup"
    );

    let file = h.tmp.path().join("haven.backup");
    h.ok(&["backup", "-o", file.to_str().unwrap()]);
    assert!(h.ok(&["status"]).contains("backup      last today\n"));
    assert!(h.ok(&["doctor"]).contains("last backup today"));
    // A fresh daemon looks again, and finds the backup recent.
    h.ok(&["daemon", "stop"]);
    h.ok(&["unlock"]);
    wait_log(&h, "the last backup is recent: no reminder");
    assert_eq!(bus.notifications().len(), 1, "{}", bus.seen());
}
