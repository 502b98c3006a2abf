//! One of the person's own devices gone rogue, for the tests: it holds a linked device's
//! real keys (read from its stopped home) and speaks the real own-device handshake and
//! post-quantum exchange, then sends whatever messages a test chooses inside a valid
//! session (`DeviceMessage`s, or any bytes at all).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::time::Duration;

use haven_shared::devices::journal_sync::DeviceMessage;
use haven_shared::wire::padding::{self, Chunk};
use haven_shared::wire::{encode_frame, Reassembler};

use crate::rogue::now_nanos;
use crate::Home;

/// What a linked device's home holds that a rogue build on it could use.
pub struct DeviceKeys {
    pub noise_static: [u8; 32],
    pub psk: [u8; 32],
    pub generation: u32,
}

/// The keys of the linked device in `h` (its daemon is stopped first).
pub fn device_keys(h: &Home) -> DeviceKeys {
    h.ok(&["daemon", "stop"]);
    let home = h.open_directly();
    let own = home.own_devices().unwrap().expect("a linked device");
    DeviceKeys {
        noise_static: *home.identity.noise_static(),
        psk: *own.psk(),
        generation: own.generation,
    }
}

/// A session with another device, opened as the person's device would open it.
pub struct RogueSession {
    stream: std::net::TcpStream,
    noise: snow::TransportState,
    messages: Reassembler,
}

fn read_frame(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

impl RogueSession {
    /// Calls `target` (the other device's own-device port) whose Noise key is `remote`.
    pub fn open(target: &str, keys: &DeviceKeys, remote: &[u8; 32]) -> RogueSession {
        let mut hs = snow::Builder::new("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".parse().unwrap())
            .prologue(b"haven/1 own devices")
            .unwrap()
            .local_private_key(&keys.noise_static)
            .unwrap()
            .remote_public_key(remote)
            .unwrap()
            .psk(2, &keys.psk)
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut payload = now_nanos().to_be_bytes().to_vec();
        payload.extend_from_slice(&47001u16.to_be_bytes());
        payload.extend_from_slice(&keys.generation.to_be_bytes());
        let mut buf = vec![0u8; 65535];
        let n = hs.write_message(&payload, &mut buf).unwrap();
        let mut stream = std::net::TcpStream::connect(target).expect("connect to the device");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(&encode_frame(&buf[..n]).unwrap()).unwrap();
        let answer = read_frame(&mut stream).expect("the device answers the handshake");
        hs.read_message(&answer, &mut buf).unwrap();
        let hash = hs.get_handshake_hash().to_vec();
        let mut session = RogueSession {
            stream,
            noise: hs.into_transport_mode().unwrap(),
            messages: Reassembler::new(),
        };
        session.post_quantum(&hash);
        session
    }

    /// The caller's side of the post-quantum exchange, then both switches of key.
    fn post_quantum(&mut self, hash: &[u8]) {
        use haven_shared::crypto::pq;
        let (offer, key) = pq::offer();
        self.send(&DeviceMessage::PqOffer {
            key: hex::encode(key),
        });
        let Some(DeviceMessage::PqReply { ciphertext }) = self.recv() else {
            panic!("no post-quantum reply");
        };
        let ss = pq::finish(&offer, &hex::decode(ciphertext).unwrap()).unwrap();
        let (from_caller, from_answerer) = pq::transport_keys(&ss, hash);
        self.write_chunk(&padding::pq_switch());
        self.noise.rekey_initiator_manually(&from_caller);
        let switched = self.next_chunk().expect("the other device's switch");
        assert_eq!(switched, Chunk::PqSwitch);
        self.noise.rekey_responder_manually(&from_answerer);
    }

    fn write_chunk(&mut self, padded: &[u8]) {
        let mut buf = vec![0u8; 65535];
        let n = self.noise.write_message(padded, &mut buf).unwrap();
        // A closed connection is the other device's answer; the reads say so.
        let _ = self.stream.write_all(&encode_frame(&buf[..n]).unwrap());
    }

    fn next_chunk(&mut self) -> Option<Chunk> {
        let frame = read_frame(&mut self.stream)?;
        let mut plain = vec![0u8; 65535];
        let n = self.noise.read_message(&frame, &mut plain).ok()?;
        padding::unpad(&plain[..n]).ok()
    }

    /// Sends any bytes as one message, chunked and padded as the daemon does.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        for chunk in haven_shared::wire::chunks(bytes).unwrap() {
            self.write_chunk(&padding::pad(&chunk).unwrap());
        }
    }

    pub fn send(&mut self, m: &DeviceMessage) {
        self.send_bytes(&m.encode());
    }

    /// The next message from the other device; `None` once it closed the session.
    pub fn recv(&mut self) -> Option<DeviceMessage> {
        loop {
            match self.next_chunk()? {
                Chunk::Data(chunk) => {
                    if let Some(whole) = self.messages.push_bytes(&chunk).ok()? {
                        return Some(DeviceMessage::decode(&whole).expect("a device message"));
                    }
                }
                Chunk::Rekey => self.noise.rekey_incoming(),
                Chunk::PqSwitch => panic!("a second key switch"),
            }
        }
    }

    /// Reads until the other device closes the session; the messages it sent before.
    pub fn until_closed(&mut self) -> Vec<DeviceMessage> {
        std::iter::from_fn(|| self.recv()).collect()
    }
}
