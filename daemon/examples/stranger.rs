//! A stranger's iroh endpoint, for `tests/tests/apart.rs`: it knocks on a running havend's
//! iroh socket with keys that are not the partner's, then floods the socket with garbage
//! datagrams, and prints what happened, one count per outcome.
//!
//!   stranger ENDPOINT_ID IP:PORT [--attempts N] [--garbage N]
//!
//! An example, not a binary of the package: `cargo install` never installs it.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use iroh::endpoint::presets;
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMode};

#[derive(Parser)]
struct Args {
    /// The havend's iroh key (hex), as its log names it.
    endpoint: EndpointId,
    /// Where its iroh socket listens.
    at: SocketAddr,
    /// How many connections to try, each as a new stranger, half with Haven's protocol
    /// name and half with another.
    #[arg(long, default_value_t = 20)]
    attempts: usize,
    /// How many garbage datagrams to send afterwards.
    #[arg(long, default_value_t = 0)]
    garbage: usize,
}

const ALPN: &[u8] = b"haven/sync/1";

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..args.attempts {
        let alpn: &'static [u8] = if i % 2 == 0 { ALPN } else { b"haven/sync/0" };
        let addr = EndpointAddr::new(args.endpoint).with_ip_addr(args.at);
        tries.spawn(knock(addr, alpn));
    }
    while let Some(outcome) = tries.join_next().await {
        *outcomes.entry(outcome?).or_default() += 1;
    }
    for (outcome, n) in &outcomes {
        println!("{n} {outcome}");
    }
    if args.garbage > 0 {
        flood(args.at, args.garbage)?;
        println!("sent {} garbage datagrams", args.garbage);
    }
    Ok(())
}

/// One stranger, one connection: how it ended, in a word or the peer's reason.
async fn knock(addr: EndpointAddr, alpn: &'static [u8]) -> String {
    let endpoint = match Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .bind()
        .await
    {
        Ok(e) => e,
        Err(e) => return format!("could not bind: {e}"),
    };
    let outcome =
        match tokio::time::timeout(Duration::from_secs(10), endpoint.connect(addr, alpn)).await {
            Err(_) => "no answer".to_string(),
            Ok(Err(e)) => refused(&format!("{e:#}")),
            Ok(Ok(conn)) => {
                // The hook refuses right after the handshake: the close comes at once.
                match tokio::time::timeout(Duration::from_secs(10), conn.closed()).await {
                    Ok(reason) => refused(&reason.to_string()),
                    Err(_) => "accepted".to_string(),
                }
            }
        };
    endpoint.close().await;
    outcome
}

fn refused(reason: &str) -> String {
    if reason.contains("not the partner") {
        "refused: not the partner".into()
    } else if reason.contains("peer doesn't support any known protocol") {
        "refused: not Haven's protocol".into()
    } else {
        format!("refused: {reason}")
    }
}

/// Datagrams of every size a network carries, from bytes nobody chose.
fn flood(at: SocketAddr, count: usize) -> Result<()> {
    let socket = UdpSocket::bind(if at.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })
        .context("cannot bind a UDP socket")?;
    let mut seed = [0u8; 8];
    getrandom::getrandom(&mut seed).context("no randomness")?;
    let mut state = u64::from_le_bytes(seed) | 1;
    let mut datagram = vec![0u8; 1500];
    for _ in 0..count {
        for byte in datagram.iter_mut() {
            // xorshift64: garbage needs no better randomness.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        let len = (state % 1500) as usize + 1;
        // A full socket buffer drops a datagram; the flood goes on.
        let _ = socket.send_to(&datagram[..len], at);
    }
    Ok(())
}
