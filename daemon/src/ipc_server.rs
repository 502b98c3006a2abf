//! The Unix socket the CLI talks to: one JSON request per line, one reply per request.
//!
//! The socket is 0600 in a 0700 folder, and the peer's uid is checked (SO_PEERCRED) on
//! every connection. A line is capped at `MAX_REQUEST_BYTES`; garbage gets a `bad_request`
//! reply and the connection stays usable; an oversized or half-written request closes that
//! connection only. Whatever a client does, the daemon keeps serving the others.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use zeroize::Zeroize;

use crate::peer::Net;
use crate::service::core::{CoreMsg, Job};
use haven_shared::ipc::{
    decode_line, encode_line, ErrorKind, ErrorReply, Reply, Request, MAX_REQUEST_BYTES,
};

/// How long a stop waits for the core to finish the request in hand.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long a connection may sit idle between requests.
const IDLE: Duration = Duration::from_secs(300);

/// `shutdown` is told once a shutdown request has been answered on its socket: stopping
/// any earlier would cancel the task before the reply is written.
pub async fn serve(
    listener: UnixListener,
    net: Arc<Net>,
    core: mpsc::Sender<CoreMsg>,
    shutdown: mpsc::UnboundedSender<()>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, net.clone(), core.clone(), shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

async fn connection(
    stream: UnixStream,
    net: Arc<Net>,
    core: mpsc::Sender<CoreMsg>,
    shutdown: mpsc::UnboundedSender<()>,
) {
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == me => {}
        Ok(cred) => {
            tracing::warn!(uid = cred.uid(), "refused a connection from another user");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the peer's credentials; refused");
            return;
        }
    }
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        let limit = MAX_REQUEST_BYTES as u64 + 1;
        let read =
            tokio::time::timeout(IDLE, (&mut reader).take(limit).read_until(b'\n', &mut line))
                .await;
        match read {
            Ok(Ok(0)) | Err(_) => return,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "connection read failed");
                return;
            }
            Ok(Ok(_)) => {}
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_REQUEST_BYTES {
                tracing::warn!(
                    bytes = line.len(),
                    "refused an oversized request; connection closed"
                );
                let reply: Reply = Err(ErrorReply::new(
                    ErrorKind::TooLarge,
                    format!("the request is larger than {} MiB", MAX_REQUEST_BYTES >> 20),
                ));
                let _ = write.write_all(&encode_line(&reply)).await;
            } else {
                tracing::warn!("a client closed the connection in the middle of a request");
            }
            line.zeroize();
            return;
        }
        let decoded = decode_line::<Request>(&line);
        line.zeroize();
        let shutting_down = matches!(decoded, Ok(Request::Shutdown));
        let reply = match decoded {
            // The `haven pair` waiting for its code goes away (Ctrl-C, a closed terminal):
            // the connection closes, and dropping the wait withdraws the code.
            Ok(request @ Request::PairWait { .. }) => tokio::select! {
                reply = crate::peer::handle_pairing(&net, request) => reply,
                () = closed_by_client(&mut reader) => {
                    tracing::info!("the `haven pair` that showed a code went away");
                    return;
                }
            },
            Ok(request @ (Request::PairStart | Request::PairJoin { .. })) => {
                crate::peer::handle_pairing(&net, request).await
            }
            // A stop must work whatever state the core is in: if it does not answer in
            // time (wedged, or gone after a failure), the daemon stops all the same; every
            // acknowledged write is already committed to SQLite.
            Ok(Request::Shutdown) => {
                match tokio::time::timeout(SHUTDOWN_GRACE, dispatch(&core, Request::Shutdown)).await
                {
                    Ok(Ok(done)) => Ok(done),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e.message, "the core did not take the stop; stopping anyway");
                        Ok(haven_shared::ipc::Response::Done)
                    }
                    Err(_) => {
                        tracing::warn!("the core did not answer the stop in time; stopping anyway");
                        Ok(haven_shared::ipc::Response::Done)
                    }
                }
            }
            Ok(request) => dispatch(&core, request).await,
            Err(e) => {
                // serde's message can quote a value from the request (an entry's text):
                // log only its category and position; the client gets the whole message.
                tracing::warn!(kind = ?e.classify(), column = e.column(), "a request could not be decoded");
                Err(
                    ErrorReply::new(ErrorKind::BadRequest, format!("not a Haven request: {e}"))
                        .hint("is haven the same version as havend? (`haven --version`)"),
                )
            }
        };
        let line = encode_line(&reply);
        let written = write.write_all(&line).await;
        if line.len() > LARGE_REPLY {
            // A search over the whole journal answers with megabytes, freed just now.
            drop(line);
            crate::lifecycle::give_back_freed_memory();
        }
        if shutting_down && reply.is_ok() {
            let _ = write.flush().await;
            let _ = shutdown.send(());
            return;
        }
        if written.is_err() {
            return;
        }
    }
}

/// A reply this large leaves megabytes of freed buffers behind it.
const LARGE_REPLY: usize = 1024 * 1024;

/// Resolves when the client closes its end (or, against the protocol, sends more while
/// it should be waiting for a reply).
async fn closed_by_client(reader: &mut (impl tokio::io::AsyncRead + Unpin)) {
    let mut byte = [0u8; 1];
    let _ = reader.read(&mut byte).await;
}

async fn dispatch(core: &mpsc::Sender<CoreMsg>, request: Request) -> Reply {
    let (tx, rx) = oneshot::channel();
    let gone = || {
        ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
            .hint("run the command again")
    };
    if core
        .send(CoreMsg::Job(Box::new(Job { request, reply: tx })))
        .await
        .is_err()
    {
        return Err(gone());
    }
    rx.await.unwrap_or_else(|_| Err(gone()))
}
