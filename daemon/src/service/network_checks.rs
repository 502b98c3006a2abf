//! The network half of `haven doctor`: mDNS, the interface it uses, the listener, the
//! rows of haven.db, what in the shared document does not count, the partner, and the
//! couple's relay. Each check says what is wrong and the command that fixes it.

use haven_shared::ipc::Check;

use super::Service;
use crate::vault::{Unlocked, Vault};

impl Service {
    /// mDNS, the interface it uses, the listener, and the partner's reachability.
    pub(super) fn network_checks(&mut self) -> Vec<Check> {
        let facts = &self.peer.facts;
        let by_address = "add the partner's address instead: `haven partner address HOST:PORT`";
        let mut out = vec![match &facts.mdns_error {
            None => check(
                "mDNS",
                true,
                format!(
                    "advertising and browsing on {}",
                    facts.mdns_interface.as_deref().unwrap_or("every interface")
                ),
                None,
            ),
            Some(e) => check("mDNS", false, format!("mDNS is off: {e}"), Some(by_address)),
        }];
        out.push(interface_check(facts.mdns_interface.as_deref()));
        out.push(check(
            "partner listener",
            true,
            format!(
                "listening on {}",
                std::net::SocketAddr::new(facts.listen_ip, *facts.port.borrow())
            ),
            None,
        ));
        if let Some(why) = &self.tampered {
            out.push(check(
                "database rows",
                false,
                format!("the last unlock refused haven.db: {why}"),
                Some(crate::vault::RESTORE_HINT),
            ));
        }
        if let Vault::Unlocked(u) = &self.vault {
            out.push(check(
                "database rows",
                true,
                "every row of haven.db verifies against this home's key".into(),
                None,
            ));
            out.push(generation_check(u));
            out.push(shared_document_check(u));
            if let Some(c) = super::devices::restored_check(u) {
                out.push(c);
            }
            if let Some(c) = super::devices::two_homes_check(u) {
                out.push(c);
            }
            if let Some(problem) = u.partner_problem() {
                out.push(check(
                    "partner record",
                    false,
                    format!("haven.db was changed outside Haven: {problem}; Haven connects to nobody"),
                    Some("`haven partner unpair` forgets it; pair again side by side, or restore a backup (`haven restore FILE`)"),
                ));
            }
        }
        out.push(self.partner_check());
        if let Some(c) = self.endpoint_churn_check() {
            out.push(c);
        }
        if let Some(c) = self.relay_check() {
            out.push(c);
        }
        out
    }

    /// Whether the partner is connected, and if not, why that may be.
    fn partner_check(&self) -> Check {
        if let Some(problem) = self.peer.net.hello_problem() {
            return check(
                "partner",
                false,
                problem,
                Some("install the same Haven on both laptops; nothing is lost meanwhile, and they sync once both are updated"),
            );
        }
        let address = self.peer.net.connected_address();
        match &self.vault {
        Vault::Locked => check(
            "partner",
            false,
            "locked: a locked laptop does not connect".into(),
            Some("run `haven unlock`"),
        ),
        Vault::Unlocked(u) => match (u.partner(), address) {
            (None, _) => check("partner", true, "not paired".into(), None),
            (Some(p), Some(a)) => {
                check("partner", true, format!("connected to {} at {a}", p.name), None)
            }
            (Some(p), None) => check(
                "partner",
                false,
                format!(
                    "{} is not reachable (last seen {})",
                    p.name,
                    p.last_seen
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_else(|| "never".into())
                ),
                Some("both laptops must be unlocked on the same network; if it blocks multicast, use `haven partner address HOST:PORT`"),
            ),
        },
    }
    }

    /// A partner's laptop that keeps naming new iroh keys (see `partner_endpoint`).
    fn endpoint_churn_check(&self) -> Option<Check> {
        let Vault::Unlocked(u) = &self.vault else {
            return None;
        };
        let now = std::time::Instant::now();
        let changes = u.endpoint.changes_in_the_last_hour(now);
        (changes > crate::partner_endpoint::TOO_MANY).then(|| {
            check(
                "partner's iroh key",
                false,
                format!(
                    "the partner's laptop named {changes} new iroh keys in the last hour; Haven follows at most one every 10 minutes{}",
                    if u.endpoint.deferred(now) { ", and the newest waits" } else { "" }
                ),
                Some("a reinstalled laptop does this once; if nobody reinstalled it, their laptop may run modified software: compare `haven partner` on both laptops"),
            )
        })
    }

    /// The couple's relay, when one is set: reachable, its certificate the pinned one,
    /// this laptop admitted; and whether the partner's iroh key is known yet.
    fn relay_check(&self) -> Option<Check> {
        let Vault::Unlocked(u) = &self.vault else {
            return None;
        };
        let p = u.partner()?;
        let relay = haven_shared::relay_url::RelayUrl::parse(p.relay.as_deref()?).ok()?;
        let at = &relay.authority;
        let (ok, detail, fix) = match self.peer.net.relay_health() {
            Some(h) if h.denied.is_some() => (
                false,
                format!("the relay at {at} refused this laptop: {}", h.denied.unwrap_or_default()),
                None,
            ),
            Some(h) if h.connected && u.home.couple.endpoint_of(&p.member_id).is_none() => (
                false,
                format!("connected to the relay at {at}, but {}'s laptop has not named its iroh key yet", p.name),
                Some("let the laptops sync once side by side on the same network (any Haven since this one)"),
            ),
            Some(h) if h.connected => (
                true,
                format!("connected to the relay at {at}: certificate pinned, this laptop admitted"),
                None,
            ),
            Some(h) => match h.error {
                Some(e) if e.contains("certificate") || e.contains("Certificate") => (
                    false,
                    format!("the relay at {at} shows another certificate than its URL pins: {e}"),
                    Some("copy the relay URL again from `havend relay` on the relay machine"),
                ),
                Some(e) => (
                    false,
                    format!("cannot reach the relay at {at}: {e}"),
                    Some("is `havend relay` running there, and its port open (TCP and UDP)?"),
                ),
                // iroh does not always surface why (a certificate other than the
                // pinned one shows up here too): say what to look at.
                None => (
                    false,
                    format!("not connected to the relay at {at}"),
                    Some(NOT_REACHED),
                ),
            },
            None => (false, format!("not reaching the relay at {at} yet"), Some(NOT_REACHED)),
        };
        Some(Check {
            name: "relay".into(),
            ok,
            detail,
            fix: fix.map(str::to_string),
        })
    }
}

/// What to look at when the relay is not reached and iroh says nothing more.
const NOT_REACHED: &str = "is `havend relay` running there, its port open (TCP and UDP), and is this the URL it printed? A relay whose certificate is not the one the URL pins is refused";

/// Whether some interface mDNS may use is up, multicast-capable and has an IPv4 address.
fn interface_check(only: Option<&str>) -> Check {
    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;
    const IFF_MULTICAST: u32 = 0x1000;
    let flags = |name: &str| {
        std::fs::read_to_string(format!("/sys/class/net/{name}/flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
    };
    let names: Vec<String> = match only {
        Some(name) => vec![name.to_string()],
        None => std::fs::read_dir("/sys/class/net")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let usable: Vec<&String> = names
        .iter()
        .filter(|n| {
            flags(n)
                .is_some_and(|f| f & IFF_UP != 0 && f & IFF_MULTICAST != 0 && f & IFF_LOOPBACK == 0)
        })
        .collect();
    let ok = !usable.is_empty();
    Check {
        name: "multicast interface".into(),
        ok,
        detail: if ok {
            format!(
                "{} up with multicast",
                usable
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            match only {
                Some(name) => format!("{name} is missing, down, or cannot multicast"),
                None => "no interface is up with multicast".into(),
            }
        },
        fix: (!ok).then(|| {
            "connect to a network, or pick another interface with `havend --mdns-interface IFACE`"
                .into()
        }),
    }
}

/// What in the couple document does not count: malformed keys, and items whose signature
/// does not verify (a buggy or modified device on the other side).
fn shared_document_check(u: &Unlocked) -> Check {
    let (malformed, unverified) = match u.home.agreement_sources() {
        Ok(sources) => {
            let book = haven_shared::model::agreement::assemble(&sources, u.keyring());
            let unverified: usize = book.agreements.values().map(|a| a.unverified.len()).sum();
            // Notes and the weekly question's items count too.
            let items = u.home.together_items();
            let board = haven_shared::model::notes::assemble(&items, u.keyring());
            let ask = haven_shared::model::ask::assemble(&items, u.keyring());
            (
                book.malformed + board.malformed + ask.ignored,
                unverified + board.unverified.len(),
            )
        }
        Err(e) => {
            return Check {
                name: "shared document".into(),
                ok: false,
                detail: format!("cannot read it: {e}"),
                fix: Some("restore from a backup (`haven restore`)".into()),
            }
        }
    };
    let ok = malformed == 0 && unverified == 0;
    Check {
        name: "shared document".into(),
        ok,
        detail: if ok {
            "every agreement, note and answer is well-formed and signed".into()
        } else {
            format!(
                "{malformed} malformed item(s) and {unverified} item(s) without a valid signature are ignored; they change nothing here"
            )
        },
        fix: (!ok).then(|| {
            "nothing to repair on this laptop; if it persists, ask your partner to update Haven (`haven agree show ID` names the items)".into()
        }),
    }
}

fn check(name: &str, ok: bool, detail: String, fix: Option<&str>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail,
        fix: fix.map(str::to_string),
    }
}

/// Whether haven.db is the newest copy this laptop has seen (`store::witness`).
fn generation_check(u: &Unlocked) -> Check {
    let store = &u.home.store;
    if let Some(r) = store.rollback() {
        return check(
            "database age",
            false,
            format!(
                "haven.db is older than the newest copy this laptop has seen (generation {}; the newest was {}, noticed {}): what you wrote or deleted since may be missing or back",
                r.found,
                r.newest,
                r.noticed.format("%-d %B %Y %H:%M")
            ),
            Some("if you did not put it back yourself, restore your latest backup into a new home (`haven --home NEW_DIR restore FILE`); if you did, `haven doctor --accept-older` makes this copy the newest"),
        );
    }
    if let Some(notice) = store.witness_notice() {
        return check(
            "database age",
            false,
            notice.to_string(),
            Some("expected once after you moved or restored your home yourself; Haven counts again from this copy"),
        );
    }
    check(
        "database age",
        true,
        format!(
            "haven.db is the newest copy this laptop has seen (generation {})",
            store.generation()
        ),
        None,
    )
}
