//! `havend relay`: the couple's own relay, on any always-on machine they trust (a
//! Raspberry Pi at home with a port forward, a small VPS). It is iroh's relay server
//! (`iroh-relay`), configured so that:
//!
//! - it serves HTTPS and iroh's QUIC address discovery on one port (TCP and UDP), with a
//!   self-signed certificate the laptops pin (`tls`);
//! - it admits only the couple's laptops, vouched for by their pairing keys (`access`);
//! - it never sees content: what it forwards is QUIC between the laptops, and inside that
//!   the same Noise session as on the LAN.
//!
//! Everything it keeps is in `DIR/relay/`: the certificate and its key, the couple's token,
//! the couple's two pairing keys (`couple`), and the URL (`url`, 0600).
//!
//! The URL carries the token, so it is printed (to a terminal, or to a service's journal)
//! only until the first laptop joined; after that the relay refuses any laptop its couple
//! does not vouch for, token or not, and a restart prints where the URL is kept instead.

pub mod access;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use iroh_relay::server::{CertConfig, QuicConfig, RelayConfig, Server, ServerConfig, TlsConfig};

use haven_shared::paths::{private_dir, write_private_file, Paths};
use haven_shared::relay_url::{RelayUrl, TOKEN_BYTES};

#[derive(clap::Args, Debug)]
pub struct RelayArgs {
    /// Where to serve the laptops: HTTPS on this TCP port, address discovery on the same
    /// UDP port
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// The name or address the laptops reach this machine by, if not the --listen address
    /// (a DNS name, or the router's public address that forwards the port)
    #[arg(long, value_name = "HOST")]
    pub public: Option<String>,
    /// Forget the couple served so far (a new pairing): the next laptop that joins with
    /// the token names the couple
    #[arg(long)]
    pub forget: bool,
}

pub fn run(paths: &Paths, args: &RelayArgs) -> Result<()> {
    let dir = paths.data_dir.join("relay");
    private_dir(&paths.data_dir)
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    private_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let couple = dir.join("couple");
    if args.forget {
        // `admitted`: the keys an older relay kept, first come first served.
        for file in [&couple, &dir.join("admitted")] {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", file.display()))
                }
            }
        }
        println!(
            "The relay forgot its couple: the next laptop that joins with its URL names the couple."
        );
        return Ok(());
    }
    let Some(listen) = args.listen else {
        bail!("say where to listen: havend relay --listen ADDR:PORT (e.g. 0.0.0.0:7443)");
    };
    if listen.port() == 0 {
        bail!("--listen needs a fixed port: the laptops keep the URL, and the URL names the port");
    }
    let host = match (&args.public, listen.ip()) {
        (Some(h), _) => h.clone(),
        (None, ip) if ip.is_unspecified() => bail!(
            "--listen {listen} names no address the laptops can reach; add --public HOST (this machine's name, or the router address that forwards port {})",
            listen.port()
        ),
        (None, IpAddr::V6(ip)) => format!("[{ip}]"),
        (None, IpAddr::V4(ip)) => ip.to_string(),
    };
    let token = load_or_create_token(&dir.join("token"))?;
    let identity = tls::Identity::load_or_create(&dir, host.trim_matches(['[', ']']))?;
    let url = RelayUrl {
        authority: format!("{host}:{}", listen.port()),
        cert_sha256: identity.fingerprint(),
        token: token.clone(),
    };
    RelayUrl::parse(&url.to_string())
        .with_context(|| format!("--public {host} is not a host name or address"))?;
    let access = Arc::new(access::CoupleOnly::load(&token, couple)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(listen, identity, access, &url, &dir.join("url")))
}

async fn serve(
    listen: SocketAddr,
    identity: tls::Identity,
    access: Arc<access::CoupleOnly>,
    url: &RelayUrl,
    url_file: &std::path::Path,
) -> Result<()> {
    // The plain-HTTP side (captive-portal probes) stays on loopback: nothing for the world.
    let loopback: IpAddr = if listen.is_ipv4() {
        Ipv4Addr::LOCALHOST.into()
    } else {
        Ipv6Addr::LOCALHOST.into()
    };
    let mut relay = RelayConfig::new((loopback, 0));
    relay.tls = Some(TlsConfig::new(
        listen,
        CertConfig::Manual {
            server_config: identity.server_config()?,
        },
    ));
    relay.key_cache_capacity = Some(64);
    relay.access = access.clone();
    let mut config = ServerConfig::default();
    config.relay = Some(relay);
    config.quic = Some(QuicConfig::new(listen));
    let server = Server::spawn(config).await.with_context(|| {
        format!("cannot serve on {listen}; is another program on that port? pick another --listen")
    })?;
    write_private_file(url_file, format!("{url}\n").as_bytes())
        .with_context(|| format!("cannot write {}", url_file.display()))?;
    tracing::info!(%listen, couple = access.has_couple(), "the relay is serving");
    if !access.has_couple() {
        println!("relay URL: {url}");
        println!("Add it on both laptops: haven partner relay '{url}'");
        println!(
            "The first laptop that joins names its couple; after that the relay serves only the two of you."
        );
    } else {
        println!(
            "The relay serves its couple's laptops; its URL, with the token, is in {}",
            url_file.display()
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("the relay is stopping");
    let _ = server.shutdown().await;
    Ok(())
}

fn load_or_create_token(file: &PathBuf) -> Result<String> {
    match std::fs::read_to_string(file) {
        Ok(t) if t.trim().len() == 2 * TOKEN_BYTES => return Ok(t.trim().to_string()),
        Ok(_) => bail!(
            "{} is damaged; remove it to make a new token (both laptops then need the new URL)",
            file.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).context("no randomness")?;
    let token = hex::encode(bytes);
    write_private_file(file, token.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(token)
}
