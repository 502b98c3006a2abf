//! Two paired laptops on a [`Lan`], and the few things every couple test asks of them:
//! wait for a connection, propose, read an agreement's status as the CLI shows it.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::time::Duration;

use crate::lan::{eventually, pair, Lan};
use crate::Home;

pub const SOON: Duration = Duration::from_secs(20);

pub fn connected(h: &Home) -> bool {
    h.json(&["status", "--json"])["connected"] == Value::Bool(true)
}

pub fn agreement(h: &Home, id: &str) -> Option<Value> {
    let out = h.run(&["agree", "show", id, "--json"]);
    (out.code == 0).then(|| serde_json::from_str(&out.stdout).expect("json"))
}

pub fn status_of(h: &Home, id: &str) -> Option<String> {
    agreement(h, id).map(|a| a["status"].as_str().unwrap_or_default().to_string())
}

pub fn wait_status(h: &Home, id: &str, want: &str) {
    eventually(&format!("agreement {id} to be {want}"), SOON, || {
        (status_of(h, id).as_deref() == Some(want)).then_some(())
    });
}

pub fn paired_pair(lan: &Lan) -> (Home, Home) {
    let a = lan.laptop(0, "Maya");
    let b = lan.laptop(1, "Sam");
    pair(&a, &b);
    eventually("both laptops to connect", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
    (a, b)
}

/// Proposes an agreement through the CLI; returns its id.
pub fn propose(h: &Home, title: &str, text: &str) -> String {
    h.ok(&["agree", "propose", title, "--text", text])
        .trim()
        .to_string()
}

pub fn log_of(h: &Home) -> String {
    std::fs::read_to_string(h.home.join("havend.log")).unwrap_or_default()
}

/// The `sent_bytes` of every session the daemon ended, in order.
pub fn sessions_sent(h: &Home) -> Vec<u64> {
    log_of(h)
        .lines()
        .filter(|l| l.contains("from the partner") || l.contains("with the partner"))
        .filter_map(|l| l.split("sent_bytes=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}
