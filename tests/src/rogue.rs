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
    ik_first_at(own_static, remote, psk, now_nanos())
}

/// The handshake's timestamp now: nanoseconds since 1970.
pub fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// [`ik_first`] with the timestamp a clock showing `stamp` (ns since 1970) would send.
pub fn ik_first_at(
    own_static: &[u8; 32],
    remote: &[u8; 32],
    psk: &[u8; 32],
    stamp: u64,
) -> (snow::HandshakeState, Vec<u8>) {
    ik_first_with(own_static, remote, psk, stamp, Some(0))
}

/// The first handshake message as a laptop on protocol 2 sent it (no epoch, no MACs:
/// `None`), or naming `epoch` (its secret already mixed into `psk` by the caller).
pub fn ik_first_with(
    own_static: &[u8; 32],
    remote: &[u8; 32],
    psk: &[u8; 32],
    stamp: u64,
    epoch: Option<u32>,
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
    // The post-quantum epoch (`haven_shared::crypto::pq`); protocol 2 sent none.
    if let Some(epoch) = epoch {
        hello.extend_from_slice(&epoch.to_be_bytes());
    }
    let n = hs.write_message(&hello, &mut buf).unwrap();
    // From protocol 3 the frame carries the port's MACs (`wire::cookie`): this device
    // knows Maya's key, as the real Sam does.
    let frame = match epoch {
        Some(_) => haven_shared::wire::cookie::first_frame(remote, &buf[..n], None),
        None => buf[..n].to_vec(),
    };
    (hs, haven_shared::wire::encode_frame(&frame).unwrap())
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
    // Protocol 3: the hello as it always was, every chunk after it padded.
    let padded = !matches!(m, haven_shared::wire::Message::Hello { .. });
    send_encoded(s, t, &m.encode(), padded);
}

/// Sends any bytes as one message, even ones no honest laptop would encode.
pub fn send_encoded(
    s: &mut std::net::TcpStream,
    t: &mut snow::TransportState,
    encoded: &[u8],
    padded: bool,
) {
    use std::io::Write;
    let mut buf = vec![0u8; 65535];
    for chunk in haven_shared::wire::chunks(encoded).unwrap() {
        let chunk = if padded {
            haven_shared::wire::padding::pad(&chunk).unwrap()
        } else {
            chunk
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
    let (s, t, first, _) = handshake_as_sam(target, sam_static, maya_key, psk);
    (s, t, first)
}

fn handshake_as_sam(
    target: &str,
    sam_static: &[u8; 32],
    maya_key: &[u8; 32],
    psk: &[u8; 32],
) -> (std::net::TcpStream, snow::TransportState, Vec<u8>, Vec<u8>) {
    let (hs, first) = ik_first(sam_static, maya_key, psk);
    finish_handshake(target, hs, first)
}

/// Sends `first` to Maya and reads her answer: the session's transport state, the first
/// message, and the handshake hash.
pub fn finish_handshake(
    target: &str,
    mut hs: snow::HandshakeState,
    first: Vec<u8>,
) -> (std::net::TcpStream, snow::TransportState, Vec<u8>, Vec<u8>) {
    use std::io::Write;
    let mut s = connect(target);
    s.write_all(&first).unwrap();
    let body = read_frame(&mut s);
    let mut payload = vec![0u8; 65535];
    hs.read_message(&body, &mut payload).unwrap();
    let hash = hs.get_handshake_hash().to_vec();
    (s, hs.into_transport_mode().unwrap(), first, hash)
}

fn read_frame(s: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).unwrap();
    body
}

/// The next chunk from Maya, decrypted (and unpadded once `padded`).
pub fn next_chunk(
    s: &mut std::net::TcpStream,
    t: &mut snow::TransportState,
    padded: bool,
) -> haven_shared::wire::padding::Chunk {
    let frame = read_frame(s);
    let mut plain = vec![0u8; 65535];
    let n = t.read_message(&frame, &mut plain).unwrap();
    if padded {
        haven_shared::wire::padding::unpad(&plain[..n]).unwrap()
    } else {
        haven_shared::wire::padding::Chunk::Data(plain[..n].to_vec())
    }
}

/// A session with Maya as Sam, opened as Sam's laptop opens one: the hellos (protocol
/// 3), then the post-quantum exchange and the switch to its keys. What a test sends next
/// reaches Maya's sync. Also returns the first handshake message, for replays.
pub fn session_as_sam(
    target: &str,
    sam_static: &[u8; 32],
    maya_key: &[u8; 32],
    psk: &[u8; 32],
) -> (std::net::TcpStream, snow::TransportState, Vec<u8>) {
    use haven_shared::crypto::pq;
    use haven_shared::wire::padding::{self, Chunk};
    use haven_shared::wire::{Message, Reassembler};
    use std::io::Write;
    let (mut s, mut t, first, hash) = handshake_as_sam(target, sam_static, maya_key, psk);
    send_message(&mut s, &mut t, &Message::Hello { version: 3 });
    let (offer, key) = pq::offer();
    send_message(&mut s, &mut t, &Message::PqOffer { epoch: 0, key });
    // Maya's hello (unpadded), then her reply, then her switch flag.
    let mut messages = Reassembler::new();
    let mut padded = false;
    let ciphertext = loop {
        let Chunk::Data(chunk) = next_chunk(&mut s, &mut t, padded) else {
            panic!("a key change before the reply");
        };
        match messages.push(&chunk).unwrap() {
            Some(Message::Hello { .. }) => padded = true,
            Some(Message::PqReply { ciphertext, .. }) => break ciphertext,
            Some(other) => panic!("Maya sent {other:?} before her reply"),
            None => {}
        }
    };
    let ss = pq::finish(&offer, &ciphertext).unwrap();
    let (from_sam, from_maya) = pq::transport_keys(&ss, &hash);
    let mut buf = vec![0u8; 65535];
    let n = t.write_message(&padding::pq_switch(), &mut buf).unwrap();
    s.write_all(&haven_shared::wire::encode_frame(&buf[..n]).unwrap())
        .unwrap();
    t.rekey_initiator_manually(&from_sam);
    assert_eq!(next_chunk(&mut s, &mut t, true), Chunk::PqSwitch);
    t.rekey_responder_manually(&from_maya);
    (s, t, first)
}
