//! A partner's device gone rogue, for the tests: it holds the real keys (read from a
//! paired home) and speaks the real handshake, then sends whatever bytes a test chooses
//! inside a valid session.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::lan::Lan;
use crate::Home;

/// The first handshake message of a Noise IKpsk2 initiator, and its state.
pub fn ik_first(
    own_static: &[u8; 32],
    remote: &[u8; 32],
    psk: &[u8; 32],
) -> (snow::HandshakeState, Vec<u8>) {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    ik_first_at(own_static, remote, psk, stamp)
}

/// [`ik_first`] with the timestamp a clock showing `stamp` (ns since 1970) would send.
pub fn ik_first_at(
    own_static: &[u8; 32],
    remote: &[u8; 32],
    psk: &[u8; 32],
    stamp: u64,
) -> (snow::HandshakeState, Vec<u8>) {
    let mut hs = snow::Builder::new("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".parse().unwrap())
        .prologue(b"haven/1 transport")
        .unwrap()
        .local_private_key(own_static)
        .unwrap()
        .remote_public_key(remote)
        .unwrap()
        .psk(2, psk)
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut buf = vec![0u8; 65535];
    // The timestamp, then a port to call back on.
    let mut hello = stamp.to_be_bytes().to_vec();
    hello.extend_from_slice(&47000u16.to_be_bytes());
    let n = hs.write_message(&hello, &mut buf).unwrap();
    (hs, haven_shared::wire::encode_frame(&buf[..n]).unwrap())
}

pub fn connect(target: &str) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(target).expect("connect to Maya");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Everything the daemon sends until it closes the connection.
pub fn read_to_close(s: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("the daemon kept the connection open: {e}"),
        }
    }
}

/// Sends `bytes` and asserts the daemon closes without sending a single byte.
pub fn refused_silently(target: &str, bytes: &[u8], what: &str) {
    use std::io::Write;
    let mut s = connect(target);
    s.write_all(bytes).unwrap();
    assert_eq!(
        read_to_close(&mut s),
        Vec::<u8>::new(),
        "{what}: the daemon answered"
    );
}

pub fn send_message(
    s: &mut std::net::TcpStream,
    t: &mut snow::TransportState,
    m: &haven_shared::wire::Message,
) {
    use std::io::Write;
    let mut buf = vec![0u8; 65535];
    for chunk in haven_shared::wire::chunks(&m.encode()).unwrap() {
        // Protocol 3: the hello as it always was, every chunk after it padded.
        let chunk = match m {
            haven_shared::wire::Message::Hello { .. } => chunk,
            _ => haven_shared::wire::padding::pad(&chunk).unwrap(),
        };
        let n = t.write_message(&chunk, &mut buf).unwrap();
        s.write_all(&haven_shared::wire::encode_frame(&buf[..n]).unwrap())
            .unwrap();
    }
}

/// Where node `i`'s daemon listens for the partner now (the port is new on each start).
pub fn listening_address(lan: &Lan, i: usize, h: &Home) -> String {
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap_or_default();
    let port: u16 = log
        .lines()
        .rfind(|l| l.contains("listening for the partner"))
        .and_then(|l| l.split("port=").nth(1))
        .and_then(|p| p.split_whitespace().next()?.parse().ok())
        .expect("Maya's port in her log");
    format!("{}:{port}", lan.address(i))
}

/// A session with Maya as Sam (with Sam's keys), and the first handshake message it used.
pub fn as_sam(
    target: &str,
    sam_static: &[u8; 32],
    maya_key: &[u8; 32],
    psk: &[u8; 32],
) -> (std::net::TcpStream, snow::TransportState, Vec<u8>) {
    use std::io::{Read, Write};
    let (mut hs, first) = ik_first(sam_static, maya_key, psk);
    let mut s = connect(target);
    s.write_all(&first).unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).unwrap();
    let mut payload = vec![0u8; 65535];
    hs.read_message(&body, &mut payload).unwrap();
    (s, hs.into_transport_mode().unwrap(), first)
}
