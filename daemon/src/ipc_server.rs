//! The Unix socket the CLI talks to: a hello each way, then one JSON request per line and
//! one reply per request.
//!
//! The first line must be the client's hello (`ipc::Hello`); the daemon answers with its
//! own. A client of another protocol, or an older one that sends a request first, can
//! still stop the daemon (so `haven daemon stop` works across an upgrade) and gets one
//! line saying what to do for anything else; then the connection closes.
//!
//! The socket is 0600 in a 0700 folder, and the peer's uid is checked (SO_PEERCRED) on
//! every connection. A line is capped at `MAX_REQUEST_BYTES`; garbage gets a `bad_request`
//! reply and the connection stays usable; an oversized or half-written request closes that
//! connection only. Whatever a client does, the daemon keeps serving the others.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use zeroize::Zeroize;

use crate::contract::{CoreCall, CoreMsg, Job, Route};
use crate::own_devices::{link, OwnNet};
use crate::peer::Net;
use haven_shared::ipc::{
    decode_line, encode_line, Done, ErrorKind, ErrorReply, Hello, LinkingCall, PairingCall, Reply,
    Request, SessionCall, MAX_REQUEST_BYTES,
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
    own: Arc<OwnNet>,
    core: mpsc::Sender<CoreMsg>,
    shutdown: mpsc::UnboundedSender<()>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(
                        stream,
                        (net.clone(), own.clone()),
                        core.clone(),
                        shutdown.clone(),
                    ));
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
    (net, own): (Arc<Net>, Arc<OwnNet>),
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
    let Some((agreed, mut pending)) = greet(&mut reader, &mut write).await else {
        return;
    };
    loop {
        let line = match pending.take() {
            Some(line) => line,
            None => match next_line(&mut reader, &mut write).await {
                Some(line) => line,
                None => return,
            },
        };
        let request = match admit(line, agreed, &mut write).await {
            Some(Ok(request)) => request,
            Some(Err(())) => continue,
            None => return,
        };
        let shutting_down = is_shutdown(&request);
        let Some(reply) = route(&net, &own, &core, request, shutting_down, &mut reader).await
        else {
            return;
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

/// Answers one request where its route says; `None`: the client went away while a code
/// it showed was waiting, and the code is withdrawn.
async fn route(
    net: &Arc<Net>,
    own: &Arc<OwnNet>,
    core: &mpsc::Sender<CoreMsg>,
    request: Request,
    shutting_down: bool,
    reader: &mut BufReader<OwnedReadHalf>,
) -> Option<Reply> {
    Some(match Route::of(request) {
        // The `haven pair` waiting for its code goes away (Ctrl-C, a closed terminal):
        // the connection closes, and dropping the wait withdraws the code.
        Route::Pairing(call @ PairingCall::PairWait(_)) => tokio::select! {
            reply = crate::peer::handle_pairing(net, call) => reply,
            () = closed_by_client(reader) => {
                tracing::info!("the `haven pair` that showed a code went away");
                return None;
            }
        },
        Route::Pairing(call) => crate::peer::handle_pairing(net, call).await,
        // Likewise for `init --join`.
        Route::Linking(LinkingCall::LinkWait(wait)) => {
            let code = wait.code.clone();
            tokio::select! {
                reply = link::handle(own, LinkingCall::LinkWait(wait)) => reply,
                () = closed_by_client(reader) => {
                    tracing::info!("the `haven init --join` that showed a code went away");
                    link::withdraw(own, &code);
                    return None;
                }
            }
        }
        Route::Linking(call) => link::handle(own, call).await,
        Route::Core(call) if shutting_down => stop(core, call).await,
        Route::Core(call) => dispatch(core, call).await,
    })
}

/// Decodes a request line and decides whether it is served: `Some(Ok)` serve it,
/// `Some(Err)` it was answered with an error and the connection goes on, `None` close.
/// Across protocols only a stop is served.
async fn admit(
    mut line: Vec<u8>,
    agreed: bool,
    write: &mut OwnedWriteHalf,
) -> Option<Result<Request, ()>> {
    let decoded = decode_line::<Request>(&line);
    line.zeroize();
    match decoded {
        Ok(request) if agreed || is_shutdown(&request) => Some(Ok(request)),
        Ok(_) => {
            let _ = write.write_all(&encode_line(&refusal())).await;
            None
        }
        Err(e) if agreed => {
            // serde's message can quote a value from the request (an entry's text):
            // log only its category and position; the client gets the whole message.
            tracing::warn!(kind = ?e.classify(), column = e.column(), "a request could not be decoded");
            let reply: Reply = Err(ErrorReply::new(
                ErrorKind::BadRequest,
                format!("not a Haven request: {e}"),
            )
            .hint("is haven the same version as havend? (`haven --version`)"));
            write.write_all(&encode_line(&reply)).await.ok()?;
            Some(Err(()))
        }
        Err(_) => {
            tracing::warn!("a client spoke neither a hello nor a request; closed");
            let _ = write.write_all(&encode_line(&refusal())).await;
            None
        }
    }
}

/// The hello: `Some((agreed, pending))` to go on. Not agreed: a client of another
/// protocol, or an older one whose first line (`pending`) is already a request; it may
/// still stop this daemon, and nothing else.
async fn greet(
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
) -> Option<(bool, Option<Vec<u8>>)> {
    let first = next_line(reader, write).await?;
    match decode_line::<Hello>(&first) {
        Ok(theirs) => {
            write.write_all(&encode_line(&hello())).await.ok()?;
            if theirs.protocol != hello().protocol {
                tracing::warn!(
                    theirs = theirs.protocol,
                    "a haven of another protocol connected"
                );
            }
            Some((theirs.protocol == hello().protocol, None))
        }
        Err(_) => Some((false, Some(first))),
    }
}

/// The next line from the client, or `None` when the connection is done: closed, idle too
/// long, or a line over the cap (refused with `too_large`) or cut short.
async fn next_line(
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let limit = MAX_REQUEST_BYTES as u64 + 1;
    let read = tokio::time::timeout(IDLE, reader.take(limit).read_until(b'\n', &mut line)).await;
    match read {
        Ok(Ok(0)) | Err(_) => return None,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "connection read failed");
            return None;
        }
        Ok(Ok(_)) => {}
    }
    if line.last() == Some(&b'\n') {
        return Some(line);
    }
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
    None
}

fn is_shutdown(request: &Request) -> bool {
    matches!(request, Request::Session(SessionCall::Shutdown(_)))
}

/// This daemon's hello. Debug builds announce `HAVEN_TEST_PROTOCOL` instead, so the
/// end-to-end tests can meet a daemon of another protocol (compiled out of releases).
fn hello() -> Hello {
    let ours = Hello::ours();
    #[cfg(debug_assertions)]
    if let Some(protocol) = std::env::var("HAVEN_TEST_PROTOCOL")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        return Hello { protocol, ..ours };
    }
    ours
}

/// What a client of another protocol gets for anything but a stop.
fn refusal() -> Reply {
    Err(ErrorReply::new(
        ErrorKind::BadRequest,
        format!(
            "this haven is not the version of havend {} still running (protocol {})",
            haven_shared::VERSION,
            hello().protocol
        ),
    )
    .hint("`haven daemon stop`, then run the command again"))
}

/// A stop must work whatever state the core is in: if it does not answer in time
/// (wedged, or gone after a failure), the daemon stops all the same; every acknowledged
/// write is already committed to SQLite.
async fn stop(core: &mpsc::Sender<CoreMsg>, call: CoreCall) -> Reply {
    match tokio::time::timeout(SHUTDOWN_GRACE, dispatch(core, call)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => {
            tracing::warn!(error = %e.message, "the core did not take the stop; stopping anyway");
            Ok(Done {}.into())
        }
        Err(_) => {
            tracing::warn!("the core did not answer the stop in time; stopping anyway");
            Ok(Done {}.into())
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

async fn dispatch(core: &mpsc::Sender<CoreMsg>, call: CoreCall) -> Reply {
    let (tx, rx) = oneshot::channel();
    let gone = || {
        ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
            .hint("run the command again")
    };
    if core
        .send(CoreMsg::Job(Box::new(Job { call, reply: tx })))
        .await
        .is_err()
    {
        return Err(gone());
    }
    rx.await.unwrap_or_else(|_| Err(gone()))
}
