//! The `haven pair` requests: they wait on the network (up to the code's five minutes),
//! so they are served here, beside the IPC connection, never on the core thread.
//!
//! A code lives only while someone waits for it: when the `haven pair` that showed it goes
//! away (Ctrl-C, a closed terminal), its IPC connection closes and the code is withdrawn
//! at once. The joiner tries each laptop that announces the nameplate, at most
//! [`MAX_JOIN_TRIES`]: anyone may announce one, and each try is one guess for whoever
//! answers.

use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::Instant;

use haven_shared::ipc::{ErrorKind, ErrorReply, PairCode, Paired, PairingCall, Reply};

use super::connections::DIAL_TIMEOUT;
use super::discovery::NameplateBrowse;
use super::pairing::{self, Code, Outcome, PairError};
use super::{discovery, Net};
use crate::contract::{ask, PeerOp};

fn pairing_error(e: PairError) -> ErrorReply {
    let hint = match &e {
        PairError::WrongCode => "the code is used up: run `haven pair` again for a new one",
        PairError::CodeTried => {
            "run `haven pair` again for a new code; if your partner did not just type a wrong one, someone else on this network tried it"
        }
        PairError::BadCode(_) => "type the code exactly as the other laptop shows it",
        PairError::Protocol(_) | PairError::Timeout => {
            "run `haven pair` again on both laptops, on the same network"
        }
        PairError::Unreachable(_) => "check that no firewall blocks Haven between the two laptops",
    };
    ErrorReply::new(ErrorKind::Pairing, e.to_string()).hint(hint)
}

fn no_mdns() -> ErrorReply {
    ErrorReply::new(
        ErrorKind::Pairing,
        "mDNS is not available, so the other laptop cannot be found",
    )
    .hint("run `haven doctor` for the network checks")
}

/// `haven pair` and `haven pair CODE`, which wait on the network, not on the core.
pub async fn handle_pairing(net: &Arc<Net>, call: PairingCall) -> Reply {
    match call {
        PairingCall::PairStart(_) => start(net).await.map(Into::into),
        PairingCall::PairWait(c) => wait(net, &c.code).await.map(Into::into),
        PairingCall::PairJoin(c) => join(net, &c.code.0).await.map(Into::into),
    }
}

/// Makes a code, advertises its nameplate and hosts the one pairing it allows.
async fn start(net: &Arc<Net>) -> Result<PairCode, ErrorReply> {
    let material = ask(&net.core, PeerOp::PairingMaterial)
        .await
        .ok_or_else(stopping)??;
    let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
    let code = Code::generate();
    let listener = TcpListener::bind((net.listen_ip, 0)).await.map_err(|e| {
        ErrorReply::new(
            ErrorKind::Pairing,
            format!("cannot listen for the partner: {e}"),
        )
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let advert = discovery::advertise(
        &mdns,
        discovery::PAIR_SERVICE,
        &code.nameplate.to_string(),
        port,
    )
    .map_err(|e| ErrorReply::new(ErrorKind::Pairing, e.to_string()))?;
    let (mut tx, rx) = oneshot::channel();
    if let Ok(mut pending) = net.pending.lock() {
        pending.insert(code.to_string(), rx);
    }
    let net2 = net.clone();
    tokio::spawn(async move {
        let hosting = tokio::time::timeout(pairing::CODE_LIFETIME, async {
            // One connection per code: whatever it says, the code is spent.
            let (stream, addr) = listener
                .accept()
                .await
                .map_err(|e| PairError::Protocol(e.to_string()))?;
            drop(listener);
            drop(advert);
            tracing::info!(%addr, "a laptop is pairing with the code");
            pairing::host(stream, &code, &material)
                .await
                .map_err(|e| match e {
                    PairError::WrongCode => PairError::CodeTried,
                    other => other,
                })
        });
        // Nobody waits for the code any more: withdraw it (the listener and the
        // advertisement go with this task).
        let result = tokio::select! {
            r = hosting => r.unwrap_or(Err(PairError::Timeout)),
            () = tx.closed() => {
                tracing::info!("pairing cancelled: the code is withdrawn");
                return;
            }
        };
        let _ = tx.send(finish_pairing(&net2, result).await);
    });
    // `haven pair` asks to wait at once; a code nobody waits for is withdrawn.
    let net3 = net.clone();
    let shown = code.to_string();
    tokio::spawn(async move {
        tokio::time::sleep(WAIT_FOR_WAITER).await;
        if let Ok(mut pending) = net3.pending.lock() {
            pending.remove(&shown);
        }
    });
    Ok(PairCode {
        code: code.to_string(),
        expires_in_secs: pairing::CODE_LIFETIME.as_secs(),
    })
}

/// Waits for the partner to type the code `haven pair` showed.
async fn wait(net: &Net, code: &str) -> Result<Paired, ErrorReply> {
    let rx = net
        .pending
        .lock()
        .ok()
        .and_then(|mut p| p.remove(code))
        .ok_or_else(|| {
            ErrorReply::new(ErrorKind::Pairing, "that code is not waiting here")
                .hint("run `haven pair` again")
        })?;
    rx.await.unwrap_or_else(|_| Err(stopping()))
}

/// Finds the laptop showing `code` and pairs with it.
async fn join(net: &Net, code: &str) -> Result<Paired, ErrorReply> {
    let code = Code::parse(code).map_err(pairing_error)?;
    let material = ask(&net.core, PeerOp::PairingMaterial)
        .await
        .ok_or_else(stopping)??;
    let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
    let mut browse = NameplateBrowse::start(&mdns, code.nameplate, net.mdns_interface.as_deref());
    let worst = match each_announcing(&mut browse, |addrs| join_at(addrs, &code, &material)).await {
        Ok(outcome) => return finish_pairing(net, Ok(outcome)).await,
        Err(worst) => worst,
    };
    Err(match worst {
        Some(e) => pairing_error(e),
        None => ErrorReply::new(
            ErrorKind::Pairing,
            format!(
                "no laptop on this network shows a code starting with {}",
                code.nameplate
            ),
        )
        .hint("check that both laptops are on the same network and the code is still on screen"),
    })
}

/// Tries each device announcing a code's nameplate in turn, at most [`MAX_JOIN_TRIES`]
/// (anyone may announce one, and each try is one guess for whoever answers), until one
/// answers. Else the most telling failure: a code that did not match, else the last one;
/// none if nobody announced it.
pub async fn each_announcing<T, F, Fut>(
    browse: &mut NameplateBrowse<'_>,
    mut attempt: F,
) -> Result<T, Option<PairError>>
where
    F: FnMut(Vec<std::net::SocketAddr>) -> Fut,
    Fut: std::future::Future<Output = Result<T, PairError>>,
{
    let mut deadline = Instant::now() + FIND_CODE;
    let mut failures = Vec::new();
    while failures.len() < MAX_JOIN_TRIES {
        let Some(addrs) = browse.next(deadline).await else {
            break;
        };
        match attempt(addrs).await {
            Ok(done) => return Ok(done),
            Err(e) => {
                tracing::warn!(error = %e, "a device showing the nameplate did not answer the code");
                failures.push(e);
                // Another device announcing the nameplate may be the right one.
                deadline = deadline.max(Instant::now() + Duration::from_secs(2));
            }
        }
    }
    let worst = failures
        .iter()
        .position(|e| matches!(e, PairError::WrongCode))
        .or(failures.len().checked_sub(1))
        .map(|i| failures.swap_remove(i));
    Err(worst)
}

/// How long the joiner looks for the laptop showing the code.
const FIND_CODE: Duration = Duration::from_secs(10);
/// How many laptops announcing the nameplate the joiner tries.
pub const MAX_JOIN_TRIES: usize = 3;
/// How long a shown code waits for `haven pair` to ask for the outcome.
const WAIT_FOR_WAITER: Duration = Duration::from_secs(15);

/// One try at one laptop announcing the nameplate: the first of its addresses that
/// answers gets the pairing exchange.
async fn join_at(
    addrs: Vec<std::net::SocketAddr>,
    code: &Code,
    material: &pairing::Material,
) -> Result<Outcome, PairError> {
    let mut last_error = String::from("no address");
    for addr in &addrs {
        match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return pairing::join(stream, code, material).await,
            Ok(Err(e)) => last_error = e.to_string(),
            Err(_) => last_error = "timed out".into(),
        }
    }
    Err(PairError::Unreachable(last_error))
}

fn stopping() -> ErrorReply {
    ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
        .hint("run the command again")
}

async fn finish_pairing(
    net: &Net,
    result: Result<Outcome, PairError>,
) -> Result<Paired, ErrorReply> {
    let outcome = result.map_err(|e| {
        tracing::warn!(error = %e, "pairing failed");
        pairing_error(e)
    })?;
    let name = outcome.partner.name.clone();
    ask(&net.core, |reply| {
        PeerOp::Paired(Box::new(outcome.partner), reply)
    })
    .await
    .ok_or_else(stopping)??;
    tracing::info!("paired");
    Ok(Paired {
        partner: name,
        safety_words: outcome.safety_words,
    })
}
