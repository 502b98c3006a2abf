//! Peer frames and their codec: pure functions over bytes, no I/O, so every path can be
//! fuzzed and property-tested.
//!
//! On the TCP stream every Noise message travels as a frame: a 2-byte big-endian length,
//! then at most 65,535 bytes (the Noise limit). An application message may be larger
//! than one Noise message: it is split into chunks, each carrying a one-byte "more
//! follows" flag, and reassembled up to [`MAX_MESSAGE`]. Anything malformed is an error the
//! session turns into closing that one connection: never a panic, never an allocation a
//! peer can inflate. From protocol 3, after the hellos, each chunk is padded to a size
//! bucket and the keys change on a schedule ([`padding`]).

pub mod cookie;
pub mod frame;
pub mod message;
pub mod padding;

pub use frame::{encode_frame, FrameDecoder, FrameError, MAX_FRAME};
pub use message::{
    chunks, Message, MessageError, Reassembler, MAX_MESSAGE, PQ_CIPHERTEXT, PQ_ENCAPSULATION_KEY,
};
