//! Linking a new device: `haven init --join` on it shows a code, `haven device add CODE`
//! on a device already linked answers it. The code works as pairing's does (SPAKE2, one
//! guess, then Noise XXpsk0 keyed by it; `peer::pairing` with [`Purpose::Linking`]), both
//! screens show the same words, and only once the person confirms them on the device
//! already linked does it send anything: the signed list naming the new device, the
//! secret the person's devices share, then the journal, as a first sync.
//!
//! These requests wait on the network (for the other device, for the person), so they are
//! served here, beside the IPC connection, never on the core thread.

use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use haven_shared::devices::{check_name, Device, LinkPackage};
use haven_shared::ipc::{
    DeviceAdd, DeviceConfirm, ErrorKind, ErrorReply, LinkCode, LinkOffer, LinkStep, LinkWait,
    Linked, LinkingCall, Reply,
};
use haven_shared::wire::FrameDecoder;
use haven_shared::words::safety_words;
use serde::{Deserialize, Serialize};

use super::session::{self, Until, FIRST_SYNC};
use super::{OwnNet, Steps};
use crate::contract::{ask_core, DeviceOp, Intro, Material};
use crate::peer::discovery::{self, NameplateBrowse, PAIR_SERVICE};
use crate::peer::noise::Channel;
use crate::peer::pair_requests::each_announcing;
use crate::peer::pairing::{self, Code, Introduced, PairError, Purpose, CODE_LIFETIME};

/// How long the handshake may take once connected.
const EXCHANGE: Duration = Duration::from_secs(20);
/// How long the person has to compare the words.
pub const CONFIRM_TIME: Duration = Duration::from_secs(180);

/// What the device already linked says once the person compared the words.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum LinkMessage {
    Package(Box<LinkPackage>),
    /// The words did not match, or the person said no: nothing was sent.
    Refused,
}

/// An introduced device waiting for the person to compare the words.
pub struct Offer {
    channel: Channel,
    intro: Intro,
    their_static: [u8; 32],
    /// This device's name, as the material named it.
    this_name: String,
}

fn linking(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorKind::Pairing, message)
}

fn stopping() -> ErrorReply {
    ErrorReply::new(ErrorKind::Internal, "the daemon is shutting down")
        .hint("run the command again")
}

fn no_mdns() -> ErrorReply {
    linking("mDNS is not available, so the other device cannot be found")
        .hint("run `haven doctor` for the network checks")
}

fn link_error(e: PairError) -> ErrorReply {
    let hint = match &e {
        PairError::WrongCode | PairError::CodeTried => {
            "the code is used up: run `haven init --join` again on the new device for a new one"
        }
        PairError::BadCode(_) => "type the code exactly as the new device shows it",
        // Pairing's wording names a laptop; here the new device may also have been
        // answered a moment ago by another of the person's devices, and stopped listening.
        PairError::Unreachable(why) | PairError::Protocol(why) => {
            return linking(format!(
                "the device showing the code broke off or does not answer ({why}); another of your devices may have answered it first"
            ))
            .hint("`haven device list` shows whether it is linked; if not, run `haven init --join` on it again for a new code")
        }
        PairError::Timeout => "run the two commands again, with both devices on the same network",
    };
    linking(e.to_string()).hint(hint)
}

/// The instance a link code's nameplate is announced as, beside pairing's plain numbers.
fn nameplate(code: &Code) -> String {
    format!("link-{}", code.nameplate)
}

pub async fn handle(net: &Arc<OwnNet>, call: LinkingCall) -> Reply {
    match call {
        LinkingCall::LinkStart(_) => start(net).await.map(Into::into),
        LinkingCall::LinkWait(LinkWait { code }) => wait(net, &code).await.map(Into::into),
        LinkingCall::DeviceAdd(DeviceAdd { code, name }) => {
            add(net, &code.0, name).await.map(Into::into)
        }
        LinkingCall::DeviceConfirm(DeviceConfirm { token, confirmed }) => {
            confirm(net, &token, confirmed).await.map(Into::into)
        }
    }
}

/// The `init --join` waiting on `code` went away: withdraw it.
pub fn withdraw(net: &OwnNet, code: &str) {
    if let Ok(mut shown) = net.shown.lock() {
        shown.remove(code);
    }
}

async fn material(
    net: &OwnNet,
    joining: bool,
    name: Option<String>,
) -> Result<Material, ErrorReply> {
    ask_core(&net.core, |reply| DeviceOp::LinkMaterial {
        joining,
        name,
        reply,
    })
    .await
    .ok_or_else(stopping)?
}

/// On the new device: a code, announced on the LAN, and the one link it allows.
async fn start(net: &Arc<OwnNet>) -> Result<LinkCode, ErrorReply> {
    let me = material(net, true, None).await?;
    let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
    let code = Code::generate();
    let listener = TcpListener::bind((net.listen_ip, 0))
        .await
        .map_err(|e| linking(format!("cannot listen for the other device: {e}")))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let advert = discovery::advertise(&mdns, PAIR_SERVICE, &nameplate(&code), port)
        .map_err(|e| linking(e.to_string()))?;
    let (tx, rx) = mpsc::channel(4);
    let steps: Steps = Arc::new(tokio::sync::Mutex::new(rx));
    if let Ok(mut shown) = net.shown.lock() {
        shown.insert(code.to_string(), steps);
    }
    let shown = code.to_string();
    let net = net.clone();
    tokio::spawn(async move {
        let hosting = async {
            let (stream, addr) = tokio::time::timeout(CODE_LIFETIME, listener.accept())
                .await
                .map_err(|_| linking("nobody answered the code in time"))?
                .map_err(|e| linking(e.to_string()))?;
            // One connection per code: whatever it says, the code is spent.
            drop(listener);
            drop(advert);
            tracing::info!(%addr, "a device is answering the link code");
            host(&net, stream, &code, &me, &tx).await
        };
        let result = tokio::select! {
            r = hosting => r,
            () = tx.closed() => {
                tracing::info!("linking cancelled: the code is withdrawn");
                return;
            }
        };
        let _ = tx.send(result.map(LinkStep::Linked)).await;
    });
    Ok(LinkCode {
        code: shown,
        expires_in_secs: CODE_LIFETIME.as_secs(),
    })
}

/// The words both screens show.
fn words(me: &Material, them: &Introduced) -> String {
    safety_words(
        &me.noise_public,
        &them.their_static,
        &me.intro.signing_key,
        &them.intro.signing_key,
    )
}

/// On the new device, once the other answered the code: the words, then what the person
/// decided there, then the first sync.
async fn host(
    net: &OwnNet,
    stream: TcpStream,
    code: &Code,
    me: &Material,
    steps: &mpsc::Sender<Result<LinkStep, ErrorReply>>,
) -> Result<Linked, ErrorReply> {
    let them = tokio::time::timeout(
        EXCHANGE,
        pairing::handshake(stream, code, me, false, Purpose::Linking),
    )
    .await
    .map_err(|_| link_error(PairError::Timeout))?
    .map_err(|e| match e {
        PairError::WrongCode => link_error(PairError::CodeTried),
        other => link_error(other),
    })?;
    check_name(&them.intro.name)
        .map_err(|e| linking(format!("the other device sent a bad name: {e}")))?;
    let _ = steps
        .send(Ok(LinkStep::Words {
            safety_words: words(me, &them),
            device: them.intro.name.clone(),
        }))
        .await;
    let device = them.intro.name.clone();
    let device_id = them.intro.member_id.clone();
    let mut channel = link_channel(
        them.stream,
        them.transport,
        them.decoder,
        &them.transcript,
        false,
    )
    .await?;
    // A little longer than the other device keeps its offer: if the person answers at the
    // last moment there, the answer still finds this side waiting (else the list would
    // name a device that never got it).
    let said = tokio::time::timeout(CONFIRM_TIME + Duration::from_secs(30), channel.recv_bytes())
        .await
        .map_err(|_| {
            linking(format!(
                "{device} did not confirm the words in time; nothing was linked"
            ))
        })?
        .map_err(|e| {
            linking(format!(
                "{device} broke off the link ({e}); nothing was linked"
            ))
        })?;
    let package = match serde_json::from_slice::<LinkMessage>(&said) {
        Ok(LinkMessage::Package(p)) => p,
        Ok(LinkMessage::Refused) => {
            return Err(linking(format!(
                "the words were not confirmed on {device}, so nothing was linked"
            ))
            .hint("run `haven init --join` again to try once more"))
        }
        Err(e) => return Err(linking(format!("{device} sent something malformed: {e}"))),
    };
    let person = package.member_name.clone();
    ask_core(&net.core, |reply| DeviceOp::Joined { package, reply })
        .await
        .ok_or_else(stopping)??;
    let entries = first_sync(net, channel, device_id, &device).await?;
    Ok(Linked {
        device,
        person,
        entries,
    })
}

/// The link's channel, padded, and switched to post-quantum keys (ML-KEM-768 beside the
/// handshake's X25519) before anything secret travels on it: the package with the
/// devices' secret, then the journal's first sync. `initiator`: this side answered the
/// code (the handshake's initiator), and offers the exchange.
async fn link_channel(
    stream: TcpStream,
    transport: snow::TransportState,
    decoder: FrameDecoder,
    transcript: &[u8],
    initiator: bool,
) -> Result<Channel, ErrorReply> {
    let mut channel = Channel::new(stream, transport, decoder);
    channel.set_handshake(initiator, transcript.to_vec());
    channel.start_padding_and_rekeying();
    session::post_quantum(&mut channel).await.map_err(|e| {
        linking(format!(
            "the link broke off at its post-quantum exchange ({e}); nothing was linked"
        ))
    })?;
    tracing::info!("the link runs on post-quantum keys before anything secret travels");
    Ok(channel)
}

/// The journal's first sync over the link's channel, until both hold the same journal;
/// then how many entries this device holds.
async fn first_sync(
    net: &OwnNet,
    channel: Channel,
    device_id: String,
    device: &str,
) -> Result<usize, ErrorReply> {
    tokio::time::timeout(
        FIRST_SYNC,
        session::run(net, channel, device_id, None, Until::InSync),
    )
    .await
    .map_err(|_| {
        linking(format!(
            "the journal's first sync with {device} took too long"
        ))
    })?
    .map_err(|e| {
        linking(format!(
            "the journal's first sync with {device} broke off: {e}"
        ))
        .hint("the devices are linked: they finish the sync when they next meet on the LAN")
    })?;
    ask_core(&net.core, DeviceOp::Count)
        .await
        .ok_or_else(stopping)
}

/// The next step of the code `init --join` showed.
async fn wait(net: &OwnNet, code: &str) -> Result<LinkStep, ErrorReply> {
    let steps = net
        .shown
        .lock()
        .ok()
        .and_then(|s| s.get(code).cloned())
        .ok_or_else(|| {
            linking("that code is not waiting here").hint("run `haven init --join` again")
        })?;
    let step = steps.lock().await.recv().await;
    match step {
        Some(Ok(step @ LinkStep::Words { .. })) => Ok(step),
        Some(other) => {
            withdraw(net, code);
            other
        }
        None => {
            withdraw(net, code);
            Err(stopping())
        }
    }
}

/// On a device already linked: find the new device showing `code` and introduce the two.
async fn add(net: &Arc<OwnNet>, code: &str, name: Option<String>) -> Result<LinkOffer, ErrorReply> {
    let code = Code::parse(code).map_err(link_error)?;
    if let Some(name) = &name {
        check_name(name).map_err(|e| ErrorReply::new(ErrorKind::InvalidInput, e))?;
    }
    let me = material(net, false, name).await?;
    let mdns = net.mdns.clone().ok_or_else(no_mdns)?;
    let mut browse =
        NameplateBrowse::start_named(&mdns, nameplate(&code), net.mdns_interface.as_deref());
    let worst = match each_announcing(&mut browse, |addrs| answer(addrs, &code, &me)).await {
        Ok(them) => return offer(net, &me, them).await,
        Err(worst) => worst,
    };
    Err(match worst {
        Some(e) => link_error(e),
        None => linking(format!(
            "no device on this network shows a link code starting with {}",
            code.nameplate
        ))
        .hint("check that both devices are on the same network and the code is still on screen"),
    })
}

/// One try at one device announcing the nameplate.
async fn answer(
    addrs: Vec<std::net::SocketAddr>,
    code: &Code,
    me: &Material,
) -> Result<Introduced, PairError> {
    let mut last = String::from("no address");
    for addr in &addrs {
        match tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let them = tokio::time::timeout(
                    EXCHANGE,
                    pairing::handshake(stream, code, me, true, Purpose::Linking),
                )
                .await
                .map_err(|_| PairError::Timeout)??;
                check_name(&them.intro.name).map_err(|e| {
                    PairError::Protocol(format!("the new device sent a bad name: {e}"))
                })?;
                return Ok(them);
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timed out".into(),
        }
    }
    Err(PairError::Unreachable(last))
}

/// Keeps the introduced device waiting for the person's answer, for [`CONFIRM_TIME`].
async fn offer(
    net: &Arc<OwnNet>,
    me: &Material,
    them: Introduced,
) -> Result<LinkOffer, ErrorReply> {
    let token = hex::encode(haven_shared::crypto::random_bytes::<16>());
    let reply = LinkOffer {
        token: token.clone(),
        device: them.intro.name.clone(),
        safety_words: words(me, &them),
    };
    let channel = link_channel(
        them.stream,
        them.transport,
        them.decoder,
        &them.transcript,
        true,
    )
    .await?;
    if let Ok(mut offers) = net.offers.lock() {
        offers.insert(
            token.clone(),
            Offer {
                channel,
                intro: them.intro,
                their_static: them.their_static,
                this_name: me.intro.name.clone(),
            },
        );
    }
    // Nobody answered in time: the offer is dropped, which closes its connection.
    let net = net.clone();
    tokio::spawn(async move {
        tokio::time::sleep(CONFIRM_TIME).await;
        if let Ok(mut offers) = net.offers.lock() {
            offers.remove(&token);
        }
    });
    Ok(reply)
}

/// The person compared the words on this device: send the new one what it needs, or say
/// no and send nothing.
async fn confirm(net: &OwnNet, token: &str, confirmed: bool) -> Result<Linked, ErrorReply> {
    let offer = net
        .offers
        .lock()
        .ok()
        .and_then(|mut o| o.remove(token))
        .ok_or_else(|| {
            linking("that link is not waiting any more")
                .hint("run `haven init --join` on the new device again, then `haven device add CODE` here")
        })?;
    let Offer {
        mut channel,
        intro,
        their_static,
        this_name,
    } = offer;
    let device = intro.name.clone();
    if !confirmed {
        let refused = serde_json::to_vec(&LinkMessage::Refused).unwrap_or_default();
        let _ = channel.send_bytes(&refused).await;
        return Err(linking(format!("not linked: nothing was sent to {device}")));
    }
    let new = Device {
        key: intro.signing_key.clone(),
        noise_key: hex::encode(their_static),
        name: device.clone(),
        added: String::new(),
        added_by: None,
        revoked: None,
    };
    let package = ask_core(&net.core, |reply| DeviceOp::AddDevice {
        device: Box::new(new),
        this_name,
        reply,
    })
    .await
    .ok_or_else(stopping)??;
    let person = package.member_name.clone();
    let message = serde_json::to_vec(&LinkMessage::Package(Box::new(package))).unwrap_or_default();
    channel
        .send_bytes(&zeroize::Zeroizing::new(message))
        .await
        .map_err(|e| linking(format!("{device} went away before it was linked: {e}")))?;
    let entries = first_sync(net, channel, intro.member_id.clone(), &device).await?;
    Ok(Linked {
        device,
        person,
        entries,
    })
}
