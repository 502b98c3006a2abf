//! The `haven pair` requests: they wait on the network (up to the code's five minutes),
//! so they are served here, beside the IPC connection, never on the core thread.

use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use haven_shared::ipc::{ErrorKind, ErrorReply, Reply, Request, Response};

use super::connections::DIAL_TIMEOUT;
use super::pairing::{self, Code, Outcome, PairError};
use super::{ask, discovery, Net, PeerOp};

fn pairing_error(e: PairError) -> ErrorReply {
    let hint = match &e {
        PairError::WrongCode => "the code is used up: run `haven pair` again for a new one",
        PairError::BadCode(_) => "type the code exactly as the other laptop shows it",
        PairError::Protocol(_) | PairError::Timeout => {
            "run `haven pair` again on both laptops, on the same network"
        }
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
pub async fn handle_pairing(net: &Arc<Net>, request: Request) -> Reply {
    match request {
        Request::PairStart => {
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
            let (tx, rx) = oneshot::channel();
            if let Ok(mut pending) = net.pending.lock() {
                pending.insert(code.to_string(), rx);
            }
            let net2 = net.clone();
            tokio::spawn(async move {
                let result = tokio::time::timeout(pairing::CODE_LIFETIME, async {
                    // One connection per code: whatever it says, the code is spent.
                    let (stream, addr) = listener
                        .accept()
                        .await
                        .map_err(|e| PairError::Protocol(e.to_string()))?;
                    drop(listener);
                    drop(advert);
                    tracing::info!(%addr, "a laptop is pairing with the code");
                    pairing::host(stream, &code, &material).await
                })
                .await
                .unwrap_or(Err(PairError::Timeout));
                let _ = tx.send(finish_pairing(&net2, result).await);
            });
            Ok(Response::PairCode {
                code: code.to_string(),
                expires_in_secs: pairing::CODE_LIFETIME.as_secs(),
            })
        }
        Request::PairWait { code } => {
            let rx = net
                .pending
                .lock()
                .ok()
                .and_then(|mut p| p.remove(&code))
                .ok_or_else(|| {
                    ErrorReply::new(ErrorKind::Pairing, "that code is not waiting here")
                        .hint("run `haven pair` again")
                })?;
            rx.await.unwrap_or_else(|_| Err(stopping()))
        }
        Request::PairJoin { code } => {
            let code = Code::parse(&code.0).map_err(pairing_error)?;
            let material = ask(&net.core, PeerOp::PairingMaterial)
                .await
                .ok_or_else(stopping)??;
            let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
            let addrs = discovery::find_nameplate(&mdns, code.nameplate, Duration::from_secs(10))
                .await
                .ok_or_else(|| {
                    ErrorReply::new(ErrorKind::Pairing, format!("no laptop on this network shows a code starting with {}", code.nameplate))
                        .hint("check that both laptops are on the same network and the code is still on screen")
                })?;
            let mut last_error = None;
            for addr in addrs {
                match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => {
                        let result = pairing::join(stream, &code, &material).await;
                        return finish_pairing(net, result).await;
                    }
                    Ok(Err(e)) => last_error = Some(e.to_string()),
                    Err(_) => last_error = Some("timed out".into()),
                }
            }
            Err(ErrorReply::new(
                ErrorKind::Pairing,
                format!(
                    "cannot reach the laptop showing the code: {}",
                    last_error.unwrap_or_default()
                ),
            )
            .hint("check that no firewall blocks Haven between the two laptops"))
        }
        _ => Err(ErrorReply::new(
            ErrorKind::Internal,
            "not a pairing request",
        )),
    }
}

fn stopping() -> ErrorReply {
    ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
        .hint("run the command again")
}

async fn finish_pairing(net: &Net, result: Result<Outcome, PairError>) -> Reply {
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
    Ok(Response::Paired {
        partner: name,
        safety_words: outcome.safety_words,
    })
}
