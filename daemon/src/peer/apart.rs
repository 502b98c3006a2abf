//! Meeting the partner across networks, on iroh: QUIC dialled by key, hole punching where
//! the NATs allow it, the couple's own relay where they do not.
//!
//! Nothing of n0's is used: no preset relays, no address lookup, no publishing. The only
//! relay is the one in the relay URL (`haven partner relay URL`), its certificate pinned
//! (`relay::tls`) and the couple's token presented to it. The endpoint accepts a
//! connection only from the partner's iroh key (named in the partner's member record of
//! the couple document), and inside it runs the same Noise IKpsk2 handshake and sync
//! session as on the LAN: pinned static keys, the PSK and replay protection hold end to
//! end, and the relay sees ciphertext and timing.
//!
//! The LAN stays first: iroh dials only while there is no session at all, and a LAN
//! session that comes up replaces the one through iroh (see `Registry::admit`).

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use iroh::endpoint::{
    AfterHandshakeOutcome, Connection, EndpointHooks, PortmapperConfig, RecvStream, SendStream,
};
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayConfig, RelayMap, RelayMode, SecretKey};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use haven_shared::partner_record::PqSecrets;
use haven_shared::relay_url::RelayUrl;

use super::noise::{self, LinkKeys};
use super::{Net, Via};
use crate::contract::{Apart, Link, PairedLink, RelayHealth};

/// The one protocol spoken on the endpoint.
pub const ALPN: &[u8] = b"haven/sync/1";
/// How long a dial may take: through a relay, a few round trips.
const DIAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Before the first dial: the LAN, if the partner is on it, usually answers sooner.
pub(crate) const LAN_FIRST: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Refuses every connection but the partner's, in both directions, right after the
/// QUIC handshake proved the key.
#[derive(Debug)]
struct OnlyPartner {
    partner: Option<EndpointId>,
}

impl EndpointHooks for OnlyPartner {
    fn after_handshake<'a>(
        &'a self,
        conn: &'a Connection,
    ) -> impl Future<Output = AfterHandshakeOutcome> + Send + 'a {
        let ok = Some(conn.remote_id()) == self.partner && conn.alpn() == ALPN;
        async move {
            if ok {
                AfterHandshakeOutcome::Accept
            } else {
                AfterHandshakeOutcome::Reject {
                    error_code: 1u32.into(),
                    reason: b"not the partner".to_vec(),
                }
            }
        }
    }
}

/// A QUIC stream pair as one byte stream; holds the connection, which closes when the
/// last handle to it goes.
struct QuicStream {
    recv: RecvStream,
    send: SendStream,
    _conn: Connection,
}

impl AsyncRead for QuicStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().recv).poll_read(cx, buf)
    }
}

impl AsyncWrite for QuicStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(Pin::new(&mut self.get_mut().send), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().send), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().send), cx)
    }
}

impl noise::Stream for QuicStream {}

/// Follows the core's [`Link`]: an endpoint while paired with a relay set, none otherwise.
/// The endpoint outlives link changes that leave what it was made of (key, partner, relay)
/// as it was, so a republished link does not cut a session through it.
pub async fn keep_apart(net: Arc<Net>) {
    let mut link = net.link.clone();
    let mut up: Option<(Apart, Endpoint)> = None;
    loop {
        let current = link.borrow_and_update().clone();
        let wanted = match &current {
            Link::Paired(p) => p.apart.clone(),
            _ => None,
        };
        if up.as_ref().map(|(apart, _)| apart) != wanted.as_ref() {
            if let Some((_, endpoint)) = up.take() {
                close(&net, endpoint, !matches!(current, Link::Paired(_))).await;
            }
            if let Some(apart) = wanted {
                match bind(&apart, net.listen_ip).await {
                    Ok(endpoint) => {
                        tracing::info!(
                            relay = %apart.relay.authority,
                            partner_known = apart.partner.is_some(),
                            endpoint = %endpoint.id(),
                            sockets = ?endpoint.bound_sockets(),
                            "ready to meet the partner across networks"
                        );
                        up = Some((apart, endpoint));
                    }
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "cannot meet the partner across networks");
                        if let Ok(mut r) = net.registry.lock() {
                            r.relay = Some(RelayHealth {
                                error: Some(format!("{e:#}")),
                                ..RelayHealth::default()
                            });
                        }
                    }
                }
            } else {
                forget_relay_health(&net);
            }
        }
        let work = async {
            match (&up, &current) {
                (Some((apart, endpoint)), Link::Paired(p)) => {
                    meet(&net, p.clone(), apart, endpoint).await
                }
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = work => {}
            r = link.changed() => if r.is_err() {
                if let Some((_, endpoint)) = up.take() {
                    close(&net, endpoint, true).await;
                }
                return;
            },
        }
    }
}

/// Closes the endpoint so that the partner hears at once that its connections are gone:
/// dropped, it would say nothing, and the partner's QUIC would wait for its idle timeout
/// (and keep a stale session that the restarted laptop must replace). When the daemon is
/// locking or stopping, the session first gets a moment to say goodbye.
async fn close(net: &Net, endpoint: Endpoint, farewell: bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while farewell
        && tokio::time::Instant::now() < deadline
        && net
            .registry
            .lock()
            .map(|r| r.path().is_some_and(|p| p != super::Path::Lan))
            .unwrap_or(false)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.close()).await;
    forget_relay_health(net);
}

/// The relay as iroh wants it: its address, its QUIC port (the same number, over UDP),
/// the token with this laptop's introduction.
fn relay_map(relay: &RelayUrl, introduction: &str) -> Result<RelayMap> {
    let url: iroh::RelayUrl = relay
        .endpoint()
        .parse()
        .context("the relay URL is not a URL")?;
    let port = relay
        .authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or_else(|| anyhow!("the relay URL has no port"))?;
    let config = RelayConfig::new(url, Some(iroh_relay::RelayQuicConfig::new(port)))
        .with_auth_token(introduction.to_string());
    Ok(config.into())
}

/// An endpoint for this pairing, bound beside the partner listener (its address when
/// `--listen` named one, so a daemon kept to one interface stays there).
pub async fn bind(apart: &Apart, listen_ip: IpAddr) -> Result<Endpoint> {
    let secret = SecretKey::from_bytes(apart.secret.bytes());
    let partner = match &apart.partner {
        Some(key) => {
            Some(EndpointId::from_bytes(key).context("the partner's iroh key is malformed")?)
        }
        None => None,
    };
    let mut builder = Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(secret)
        .alpns(vec![ALPN.to_vec()])
        .relay_mode(RelayMode::Custom(relay_map(
            &apart.relay,
            &apart.introduction,
        )?))
        .ca_tls_config(crate::relay::tls::pinned(apart.relay.cert_sha256))
        .portmapper_config(PortmapperConfig::Disabled)
        .hooks(OnlyPartner { partner });
    if !listen_ip.is_unspecified() {
        builder = builder
            .clear_ip_transports()
            .bind_addr((listen_ip, 0))
            .context("cannot bind beside --listen")?;
    }
    builder
        .bind()
        .await
        .context("cannot start the iroh endpoint")
}

/// Accepts the partner and dials it, on an endpoint made for this link; never ends (the
/// caller drops it when the link changes).
async fn meet(net: &Arc<Net>, p: Arc<PairedLink>, apart: &Apart, endpoint: &Endpoint) {
    let accept = accept_loop(net, &p, endpoint);
    let dial = async {
        let relay_url = apart.relay.endpoint().parse::<iroh::RelayUrl>();
        match (apart.partner.map(|k| EndpointId::from_bytes(&k)), relay_url) {
            (Some(Ok(partner)), Ok(relay_url)) => {
                dial_loop(
                    net,
                    &p,
                    endpoint,
                    EndpointAddr::new(partner).with_relay_url(relay_url),
                )
                .await
            }
            _ => std::future::pending().await,
        }
    };
    tokio::join!(accept, dial, watch_relay(net, endpoint));
}

/// Keeps what the relay says of this laptop where `haven doctor` reads it.
async fn watch_relay(net: &Arc<Net>, endpoint: &Endpoint) {
    use iroh::Watcher;
    let mut status = endpoint.home_relay_status();
    loop {
        let health = status
            .get()
            .first()
            .map(|s| RelayHealth {
                connected: s.is_connected(),
                error: s.last_error().map(|e| format!("{e:#}")),
                denied: s.auth_denied_reason().map(str::to_string),
            })
            .unwrap_or_default();
        if let Ok(mut r) = net.registry.lock() {
            r.relay = Some(health);
        }
        if status.updated().await.is_err() {
            return;
        }
    }
}

/// Forgets the relay's health when there is no endpoint.
pub fn forget_relay_health(net: &Net) {
    if let Ok(mut r) = net.registry.lock() {
        r.relay = None;
    }
}

async fn accept_loop(net: &Arc<Net>, p: &Arc<PairedLink>, endpoint: &Endpoint) {
    while let Some(incoming) = endpoint.accept().await {
        let (net, p) = (net.clone(), p.clone());
        tokio::spawn(async move {
            let result = async {
                let conn = incoming.await.context("the QUIC handshake failed")?;
                let (send, recv) = tokio::time::timeout(noise::HANDSHAKE_TIMEOUT, conn.accept_bi())
                    .await
                    .context("no stream opened")??;
                let stream = QuicStream {
                    recv,
                    send,
                    _conn: conn.clone(),
                };
                net.last_handshake
                    .fetch_max(p.last_handshake, Ordering::SeqCst);
                let pq = net.pq_secrets();
                let channel =
                    noise::respond(stream, keys(&p, pq.as_ref()), &net.last_handshake, None)
                        .await?;
                anyhow::Ok((channel, conn))
            }
            .await;
            match result {
                Ok((channel, conn)) => {
                    let address = describe(&conn);
                    net.start_session(
                        channel,
                        p.partner_public,
                        p.partner_public,
                        None,
                        Via::Iroh(conn),
                        address,
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %format!("{e:#}"), "refused a connection through iroh")
                }
            }
        });
    }
}

async fn dial_loop(
    net: &Arc<Net>,
    p: &Arc<PairedLink>,
    endpoint: &Endpoint,
    partner: EndpointAddr,
) {
    tokio::time::sleep(LAN_FIRST).await;
    let mut backoff = Duration::from_secs(1);
    loop {
        if !net.connected() {
            match dial(net, p, endpoint, partner.clone()).await {
                Ok((channel, conn)) => {
                    backoff = Duration::from_secs(1);
                    if !net.connected() {
                        let address = describe(&conn);
                        net.start_session(
                            channel,
                            p.own_public,
                            p.partner_public,
                            None,
                            Via::Iroh(conn),
                            address,
                        );
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %format!("{e:#}"), "could not reach the partner through iroh");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn dial(
    net: &Arc<Net>,
    p: &PairedLink,
    endpoint: &Endpoint,
    partner: EndpointAddr,
) -> Result<(noise::Channel, Connection)> {
    let conn = tokio::time::timeout(DIAL_TIMEOUT, endpoint.connect(partner, ALPN))
        .await
        .map_err(|_| anyhow!("no answer within {} s", DIAL_TIMEOUT.as_secs()))??;
    let (send, recv) = conn.open_bi().await.context("cannot open a stream")?;
    let stream = QuicStream {
        recv,
        send,
        _conn: conn.clone(),
    };
    let form = net.dial_form();
    let pq = net.pq_for_dialling(form);
    let channel = noise::initiate(stream, keys(p, pq.as_ref()), net.port(), form.first_frame())
        .await
        .inspect_err(|e| {
            if !matches!(e, noise::ChannelError::Farewell(_)) {
                net.dial_unanswered(form);
            }
        })?;
    Ok((channel, conn))
}

fn keys<'a>(p: &'a PairedLink, pq: Option<&'a PqSecrets>) -> LinkKeys<'a> {
    LinkKeys {
        own_static: &p.own_static,
        partner_public: &p.partner_public,
        psk: p.psk.bytes(),
        pq,
    }
}

/// What `haven partner` shows as the address of a session through iroh.
fn describe(conn: &Connection) -> String {
    format!("iroh {}", conn.remote_id().fmt_short())
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_shared::partner_record::Key32;
    use std::net::Ipv4Addr;

    fn public(secret: u8) -> [u8; 32] {
        *SecretKey::from_bytes(&[secret; 32]).public().as_bytes()
    }

    /// A stranger's endpoint gets its QUIC handshake refused by Maya's; Sam's gets through.
    /// Real endpoints on loopback; the relay named is unreachable and not needed.
    #[tokio::test]
    async fn only_the_partners_key_gets_a_connection() {
        let loopback = IpAddr::from(Ipv4Addr::LOCALHOST);
        let relay = RelayUrl {
            authority: "127.0.0.1:9".into(),
            cert_sha256: [0; 32],
            token: "00".repeat(32),
        };
        let apart = |secret: u8, partner: u8| Apart {
            secret: Key32::new([secret; 32]),
            partner: Some(public(partner)),
            relay: relay.clone(),
            introduction: relay.token.clone(),
        };
        let maya = bind(&apart(1, 2), loopback).await.expect("maya");
        let at = *maya.bound_sockets().first().expect("bound");
        let maya_addr = EndpointAddr::new(maya.id()).with_ip_addr(at);
        let accepted = tokio::spawn({
            let maya = maya.clone();
            async move {
                let mut refused = 0;
                while let Some(incoming) = maya.accept().await {
                    match incoming.await {
                        Ok(conn) => return (refused, conn.remote_id()),
                        Err(_) => refused += 1,
                    }
                }
                (refused, maya.id())
            }
        });
        // Eve names Maya as her partner, but Maya's partner is Sam.
        let eve = bind(&apart(3, 1), loopback).await.expect("eve");
        match eve.connect(maya_addr.clone(), ALPN).await {
            Ok(conn) => {
                let reason = conn.closed().await.to_string();
                assert!(reason.contains("not the partner"), "{reason}");
            }
            Err(e) => assert!(format!("{e:#}").contains("not the partner"), "{e:#}"),
        }
        let sam = bind(&apart(2, 1), loopback).await.expect("sam");
        let conn = sam
            .connect(maya_addr, ALPN)
            .await
            .expect("Sam gets through");
        let (refused, who) = accepted.await.expect("accept task");
        assert_eq!(who, sam.id());
        assert_eq!(refused, 1, "Eve was refused on Maya's side");
        drop(conn);
        for e in [maya, eve, sam] {
            e.close().await;
        }
    }
}
