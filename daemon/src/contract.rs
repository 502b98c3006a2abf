//! The contract between the daemon's core and its network side: what each may ask of the
//! other, and nothing else.
//!
//! The core (`service`) owns the documents on one thread; the network (`peer`) keeps
//! connections, discovery and pairing on the async runtime. Both import this leaf and never
//! each other, so data flows one way through it:
//!
//! - down, from the core: the [`Link`] it publishes (whether and with whom to connect),
//!   and the answers to [`PeerOp`]s;
//! - up, from the network: [`CoreMsg`]s into the core's one inbox (a CLI request as a
//!   [`Job`], a [`PeerOp`] from a session or pairing, the timer's tick), and what it knows
//!   of the connection through [`NetView`].

use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use haven_shared::devices::journal_sync::DeviceMessage;
use haven_shared::devices::{Device, LinkPackage};
use haven_shared::ipc::{
    AgreementCall, DevicesCall, ErrorReply, JournalCall, LinkingCall, PairingCall, PartnerCall,
    PracticeCall, Reply, Request, SessionCall, TogetherCall,
};
use haven_shared::partner_record::{Key32, Partner};
use haven_shared::relay_url::RelayUrl;
use serde::{Deserialize, Serialize};

/// A request on its way to the core, with where to send the reply.
pub struct Job {
    pub call: CoreCall,
    pub reply: oneshot::Sender<Reply>,
}

/// A CLI request the core answers: every domain but pairing, which the network side
/// answers itself (it waits on the LAN for the other laptop).
#[allow(clippy::large_enum_variant)] // moved, not stored; the inbox boxes the job
pub enum CoreCall {
    Session(SessionCall),
    Devices(DevicesCall),
    Partner(PartnerCall),
    Journal(JournalCall),
    Agreements(AgreementCall),
    Practice(PracticeCall),
    Together(TogetherCall),
}

/// Where a CLI request goes: to the network side, or to the core.
#[allow(clippy::large_enum_variant)] // made and matched once per request
pub enum Route {
    Pairing(PairingCall),
    Linking(LinkingCall),
    Core(CoreCall),
}

impl Route {
    pub fn of(request: Request) -> Route {
        match request {
            Request::Pairing(c) => Route::Pairing(c),
            Request::Linking(c) => Route::Linking(c),
            Request::Devices(c) => Route::Core(CoreCall::Devices(c)),
            Request::Session(c) => Route::Core(CoreCall::Session(c)),
            Request::Partner(c) => Route::Core(CoreCall::Partner(c)),
            Request::Journal(c) => Route::Core(CoreCall::Journal(c)),
            Request::Agreements(c) => Route::Core(CoreCall::Agreements(c)),
            Request::Practice(c) => Route::Core(CoreCall::Practice(c)),
            Request::Together(c) => Route::Core(CoreCall::Together(c)),
        }
    }
}

impl CoreCall {
    /// The call's name as on the wire, for logs and errors: never its content.
    pub fn name(&self) -> &'static str {
        match self {
            CoreCall::Session(c) => c.name(),
            CoreCall::Devices(c) => c.name(),
            CoreCall::Partner(c) => c.name(),
            CoreCall::Journal(c) => c.name(),
            CoreCall::Agreements(c) => c.name(),
            CoreCall::Practice(c) => c.name(),
            CoreCall::Together(c) => c.name(),
        }
    }

    pub fn is_shutdown(&self) -> bool {
        matches!(self, CoreCall::Session(SessionCall::Shutdown(_)))
    }
}

/// What the core thread receives: requests, a periodic tick for the idle lock, and
/// what the partner sessions need from the documents.
pub enum CoreMsg {
    /// Boxed: a request (an entry with its record) is far larger than the other messages.
    Job(Box<Job>),
    Tick,
    Peer(PeerOp),
    /// From the sessions with the person's own devices and the linking of a new one.
    Device(DeviceOp),
}

/// Which of the person's own devices to keep sessions with: published by the core thread
/// (off while locked, or when no other device is linked).
#[derive(Clone, PartialEq, Eq)]
pub enum DevicesLink {
    Off,
    On(Arc<OwnLink>),
}

#[derive(PartialEq, Eq)]
pub struct OwnLink {
    pub own_static: Zeroizing<[u8; 32]>,
    pub own_public: [u8; 32],
    /// The PSK of each secret generation this device knows, the current one first: it
    /// calls with the current one, and answers a device with the one it calls with.
    pub psks: Vec<(u32, Key32)>,
    /// The secret of its mDNS names, by generation, the current one first.
    pub discovery: Vec<Key32>,
    /// The other devices in the list, not revoked.
    pub others: Vec<OtherDevice>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct OtherDevice {
    pub id: String,
    pub name: String,
    pub noise_public: [u8; 32],
    /// Where it listened when last in session.
    pub address: Option<String>,
}

/// Requests from the own-device network tasks to the core thread. The journal travels
/// only through these, and only to devices the person's signed list names.
pub enum DeviceOp {
    /// What linking needs: this device's introduction (its name and key) and Noise key.
    /// `joining`: for `init --join` (named by its home); else `name` is what to call this
    /// device if it has no name yet (`device add --name`).
    LinkMaterial {
        joining: bool,
        name: Option<String>,
        reply: oneshot::Sender<Result<Material, ErrorReply>>,
    },
    /// On a device already linked, once the person confirmed the words: add `device` to
    /// the list and answer with what the new device needs.
    AddDevice {
        device: Box<Device>,
        /// This device's name, for its entry when this is its first link.
        this_name: String,
        reply: oneshot::Sender<Result<LinkPackage, ErrorReply>>,
    },
    /// On the new device: what the other device sent; keep it.
    Joined {
        package: Box<LinkPackage>,
        reply: oneshot::Sender<Result<(), ErrorReply>>,
    },
    /// A session with device `device` (its id) is up: the first messages to send, and
    /// whether to close once they are sent (a device that left only says so). `None`:
    /// that device is not (or no longer) one of the person's.
    Opened {
        session: u64,
        device: String,
        address: Option<String>,
        reply: oneshot::Sender<Option<(Vec<DeviceMessage>, bool)>>,
    },
    /// A message from the device in `session`: what to answer, and whether the two hold
    /// the same journal now. An error ends the session.
    Received {
        session: u64,
        message: Box<DeviceMessage>,
        reply: oneshot::Sender<Result<(Vec<DeviceMessage>, bool), String>>,
    },
    /// The journal changed here: what the device in `session` lacks now.
    Push {
        session: u64,
        reply: oneshot::Sender<Vec<DeviceMessage>>,
    },
    Closed {
        session: u64,
    },
    /// After `device leave`: the device `device` (its id) said it took the list that says
    /// so, and is not called again.
    Told {
        device: String,
    },
    /// How many journal entries this device holds (after a link's first sync).
    Count(oneshot::Sender<usize>),
}

impl DeviceOp {
    /// For the log when handling it failed.
    pub fn name(&self) -> &'static str {
        match self {
            DeviceOp::LinkMaterial { .. } => "linking",
            DeviceOp::AddDevice { .. } => "adding a device",
            DeviceOp::Joined { .. } => "joining a person's devices",
            DeviceOp::Opened { .. } => "a session with an own device",
            DeviceOp::Received { .. } => "a message from an own device",
            DeviceOp::Push { .. } => "changes for an own device",
            DeviceOp::Closed { .. } => "an own device's session end",
            DeviceOp::Told { .. } => "a device told this one left",
            DeviceOp::Count(_) => "counting entries",
        }
    }
}

/// Sends a device `op` to the core and waits for its answer; `None` if the core stopped.
pub async fn ask_core<T>(
    core: &mpsc::Sender<CoreMsg>,
    op: impl FnOnce(oneshot::Sender<T>) -> DeviceOp,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    core.send(CoreMsg::Device(op(tx))).await.ok()?;
    rx.await.ok()
}

/// Whether and with whom to keep a connection: published by the core thread.
#[derive(Clone)]
pub enum Link {
    /// Locked: no keys in memory, nothing on the network.
    Off,
    /// Unlocked and unpaired: a random advertisement, no sessions; a former partner who
    /// calls is told it was unpaired.
    Unpaired(Option<Arc<Farewell>>),
    Paired(Arc<PairedLink>),
}

/// What answering a former partner needs.
pub struct Farewell {
    /// SHA-256 of the former partner's Noise key.
    pub former: [u8; 32],
    /// The id of the pairing that ended, which the farewell signs.
    pub pairing: [u8; 32],
    pub own_static: Zeroizing<[u8; 32]>,
    pub own_public: [u8; 32],
    pub signing: haven_shared::ed25519_dalek::SigningKey,
}

pub struct PairedLink {
    pub own_static: Zeroizing<[u8; 32]>,
    pub own_public: [u8; 32],
    pub partner_public: [u8; 32],
    /// The partner's signing key: a farewell must carry its signature.
    pub partner_signing: haven_shared::ed25519_dalek::VerifyingKey,
    pub psk: Key32,
    pub discovery: Key32,
    /// The id of this pairing: a farewell must name it.
    pub pairing: [u8; 32],
    /// The newest handshake timestamp accepted before this start (replay protection).
    pub last_handshake: u64,
    /// The last address the partner was reached at and the static ones, dialled as well
    /// as anything mDNS finds.
    pub dial: Vec<String>,
    /// Meeting across networks, when a relay is set and the partner's iroh key known.
    pub apart: Option<Apart>,
}

/// Requests from the network tasks to the core thread, which owns the documents.
pub enum PeerOp {
    /// What pairing needs: this device's introduction and Noise key. Fails while locked
    /// or already paired.
    PairingMaterial(oneshot::Sender<Result<Material, ErrorReply>>),
    /// Pairing succeeded: pin this partner.
    Paired(Box<Partner>, oneshot::Sender<Result<(), ErrorReply>>),
    /// A session is up: load its sync state. `dialled` is the partner's listening address
    /// (the one dialled, or the one the partner named in its handshake), worth re-dialling
    /// later. `false`: no longer paired.
    Connected {
        /// The session's id (see `Registry::admit`): only the newest one syncs.
        session: u64,
        dialled: Option<String>,
        /// The timestamp of the handshake this side answered, to be remembered.
        handshake_stamp: Option<u64>,
        reply: oneshot::Sender<bool>,
    },
    /// The next sync message for the partner, if there is anything to say.
    Generate(u64, oneshot::Sender<Option<Vec<u8>>>),
    /// A sync message from the partner; an error closes the connection.
    Receive(u64, Vec<u8>, oneshot::Sender<Result<(), String>>),
    Disconnected,
    /// The partner ran `haven partner unpair`.
    PartnerLeft,
    /// A session's post-quantum exchange made `ss`; the session was opened at epoch
    /// `opened` (0: none). `false`: not kept (no partner, or that epoch is gone).
    PqSecret {
        opened: u32,
        ss: zeroize::Zeroizing<[u8; 32]>,
        reply: oneshot::Sender<bool>,
    },
}

impl PeerOp {
    /// For the log when handling it failed.
    pub fn name(&self) -> &'static str {
        match self {
            PeerOp::PairingMaterial(_) => "pairing",
            PeerOp::Paired(..) => "pinning the partner",
            PeerOp::Connected { .. } => "a new session",
            PeerOp::Generate(..) => "a sync message for the partner",
            PeerOp::Receive(..) => "a sync message from the partner",
            PeerOp::Disconnected => "a session's end",
            PeerOp::PqSecret { .. } => "a post-quantum secret",
            PeerOp::PartnerLeft => "the partner's unpairing",
        }
    }
}

/// Sends `op` to the core and waits for its answer; `None` if the core has stopped.
pub async fn ask<T>(
    core: &mpsc::Sender<CoreMsg>,
    op: impl FnOnce(oneshot::Sender<T>) -> PeerOp,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    core.send(CoreMsg::Peer(op(tx))).await.ok()?;
    rx.await.ok()
}

/// What meeting across networks needs; in the link whenever a relay is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Apart {
    /// This laptop's iroh key for this pairing.
    pub secret: Key32,
    /// The partner's iroh key, from its member record: unknown until the laptops have
    /// synced once since the partner's laptop made it (side by side, on the LAN).
    pub partner: Option<[u8; 32]>,
    pub relay: RelayUrl,
    /// What this laptop presents to the relay: the token and its introduction, signed by
    /// its pairing key (`haven_shared::relay_introduction`).
    pub introduction: String,
}

/// How the relay answers this laptop, for `haven doctor`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayHealth {
    pub connected: bool,
    pub error: Option<String>,
    /// The relay refused this laptop's key (not introduced, or two others are).
    pub denied: Option<String>,
}

/// What this device tells its partner about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intro {
    pub name: String,
    pub member_id: String,
    pub signing_key: String,
}

/// This device's side of a pairing: its introduction and its Noise static key.
pub struct Material {
    pub intro: Intro,
    pub noise_static: Zeroizing<[u8; 32]>,
    pub noise_public: [u8; 32],
}

/// How the session in place reaches the partner, for `haven partner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Lan,
    Direct,
    Relayed,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Lan => "lan",
            Path::Direct => "direct",
            Path::Relayed => "relayed",
        }
    }
}

/// What the network knows of the session in place, read by `status`, `haven partner` and
/// `haven doctor` on the core thread. Read when asked: iroh moves a connection between the
/// relay and a direct path by itself.
pub trait NetView: Send + Sync {
    /// The partner's address while a session is up.
    fn connected_address(&self) -> Option<String>;
    /// How the session in place reaches the partner.
    fn path(&self) -> Option<Path>;
    /// How the relay answers, while an iroh endpoint is up.
    fn relay_health(&self) -> Option<RelayHealth>;
    /// Why the partner's laptop cannot sync with this one though it answers (another
    /// peer protocol).
    fn hello_problem(&self) -> Option<String>;
    /// The post-quantum secrets the next handshakes use, as stored with the partner.
    fn set_post_quantum(&self, pq: Option<haven_shared::partner_record::PqSecrets>);
    /// The session in place runs on post-quantum keys.
    fn post_quantum(&self) -> bool;
}
