//! havend: owns a Haven home's encrypted documents and serves the `haven` CLI.
//!
//! Without `--foreground` it starts a detached copy of itself (its own session, logging
//! to `havend.log`), waits until that copy answers on the socket, and exits: so the CLI
//! can start a daemon as gpg-agent does, and know it is ready when the command returns.

mod contract;
mod devices_sync;
mod ipc_server;
mod journal_index;
mod lifecycle;
mod notify;
mod own_devices;
mod partner_endpoint;
mod partner_sync;
mod peer;
mod relay;
mod reminders;
mod seen_marks;
mod service;
mod vault;

use anyhow::{Context, Result};
use clap::Parser;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};

use haven_shared::ipc::{SessionCall, Shutdown};
use haven_shared::paths::Paths;

use crate::contract::{CoreCall, CoreMsg, Job};
use crate::service::Service;

/// Every block the daemon frees is wiped first (or, if large, unmapped): locking drops the
/// decrypted documents and the index, and automerge has no way to wipe its own memory, so
/// what a lock frees (and the buffers that held a passphrase) cannot be read back from the
/// running process. See `haven_shared::wiping_alloc` for what it costs.
#[global_allocator]
static ALLOCATOR: haven_shared::wiping_alloc::WipingAlloc =
    haven_shared::wiping_alloc::WipingAlloc::new();

/// Keeps Haven's encrypted journal and agreements, and serves the `haven` CLI.
#[derive(Parser, Debug)]
#[command(name = "havend", version)]
struct Args {
    /// Keep everything (data, socket, lock, log) under this folder [env: HAVEN_HOME]
    #[arg(long, value_name = "DIR", global = true)]
    home: Option<PathBuf>,
    /// Stay in the foreground and log to stderr
    #[arg(long)]
    foreground: bool,
    /// Where to listen for the partner [default: 0.0.0.0 on a random port]
    #[arg(long, value_name = "ADDR:PORT", env = "HAVEN_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Use mDNS on this interface only (e.g. wlan0) [default: every interface]
    #[arg(long, value_name = "IFACE", env = "HAVEN_MDNS_INTERFACE")]
    mdns_interface: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Run the couple's own relay, for when the laptops are on different networks (on an
    /// always-on machine; see contrib/havend-relay.service)
    Relay(relay::RelayArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(paths) = Paths::resolve(args.home.as_deref()) else {
        eprintln!("havend: cannot find a home folder; pass --home DIR or set HAVEN_HOME");
        return ExitCode::from(2);
    };
    if let Some(Command::Relay(relay_args)) = &args.command {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::io::stderr)
            .init();
        return match relay::run(&paths, relay_args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("havend relay: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let result = if args.foreground {
        run_foreground(paths, &args)
    } else {
        detach(&args, &paths)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("havend: {e:#}");
            if e.downcast_ref::<lifecycle::AlreadyRunning>().is_some() {
                ExitCode::from(lifecycle::ALREADY_RUNNING)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// How often the core looks at the clock (idle lock, review dates, pauses ended).
const TICK: Duration = Duration::from_secs(1);
/// How long the stop waits for the core thread to finish, after it was told to stop (a
/// request in hand is one SQLite commit; a core that takes longer is wedged).
const JOIN_GRACE: Duration = Duration::from_secs(2);

fn run_foreground(paths: Paths, args: &Args) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    lifecycle::disable_core_dumps();
    lifecycle::raise_file_limit();
    let instance = lifecycle::acquire(&paths)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(paths, args));
    drop(instance);
    // A blocking task still waiting on a wedged core must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

async fn serve(paths: Paths, args: &Args) -> Result<()> {
    // Read before the socket exists: a daemon that answers on the socket and then exits on
    // a bad config let `haven` connect, then lose the connection ("reset by peer")
    // instead of saying what is wrong with config.toml.
    let config = haven_shared::config::Config::load(&paths.config_file())?;
    let socket = paths.socket();
    let listener = UnixListener::bind(&socket)
        .with_context(|| format!("cannot listen on {}", socket.display()))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
    tracing::info!(socket = %socket.display(), pid = std::process::id(), "havend is serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    let (jobs_tx, jobs_rx) = mpsc::channel::<CoreMsg>(64);

    let (net, links, registry, mdns) = start_network(args, jobs_tx.clone()).await?;
    let (own, own_links) = start_own_devices(args, jobs_tx.clone(), mdns.clone()).await?;

    let (notices_tx, notices_rx) = mpsc::unbounded_channel();
    tokio::spawn(notify::run(notices_rx, config.notify, config.quiet_hours));
    tokio::spawn(reminders::run(
        config.reminders,
        config.notify,
        config.quiet_hours,
        paths.clone(),
    ));
    let core = std::thread::Builder::new()
        .name("haven-core".into())
        .spawn(move || {
            let service =
                Service::new(paths, config.idle_lock, links, own_links).with_notices(notices_tx);
            service::core::run(service, jobs_rx);
        })?;
    if let Some(idle) = config.idle_lock {
        tracing::info!(
            after_secs = idle.as_secs(),
            "the journal locks itself when idle"
        );
    }
    spawn_ticks(&config, jobs_tx.clone());

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let (shutdown_tx, mut shutdown_rx) = mpsc::unbounded_channel::<()>();
    let core_tx = jobs_tx.clone();
    tokio::select! {
        _ = ipc_server::serve(listener, net, own, jobs_tx, shutdown_tx, stop_rx) => {}
        _ = terminate.recv() => tracing::info!("stopping on SIGTERM"),
        _ = interrupt.recv() => tracing::info!("stopping on SIGINT"),
        _ = shutdown_rx.recv() => tracing::info!("shutting down on request"),
    }
    let _ = stop_tx.send(true);
    stop(core, core_tx, &registry, mdns).await;
    Ok(())
}

/// Lets the core finish the request in hand (one SQLite commit at most), then closes the
/// store so SQLite folds its WAL back into haven.db. If the core already stopped on a
/// shutdown request, the send fails and the join returns at once.
async fn stop(
    core: std::thread::JoinHandle<()>,
    core_tx: mpsc::Sender<CoreMsg>,
    registry: &std::sync::Mutex<peer::Registry>,
    mdns: Option<mdns_sd::ServiceDaemon>,
) {
    let (reply, _) = tokio::sync::oneshot::channel();
    // try_send: a wedged core with a full inbox must not hold the stop either.
    let _ = core_tx.try_send(CoreMsg::Job(Box::new(Job {
        call: CoreCall::Session(SessionCall::Shutdown(Shutdown {})),
        reply,
    })));
    drop(core_tx);
    // A wedged core must not keep the process alive: give it the grace period, then go.
    let joined =
        tokio::time::timeout(JOIN_GRACE, tokio::task::spawn_blocking(move || core.join())).await;
    if joined.is_err() {
        tracing::error!("the core did not stop in time; exiting without it");
        if let Some(mdns) = mdns {
            let _ = mdns.shutdown();
        }
        return;
    }
    // The core switched the link off: give a live session a moment to say goodbye, and the
    // iroh endpoint one to tell the partner it closed (`apart::close` clears the relay's
    // health when done).
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline
        && registry
            .lock()
            .map(|r| r.connected_address().is_some() || r.relay.is_some())
            .unwrap_or(false)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Some(mdns) = mdns {
        // Withdraws our advertisements (goodbye packets) before the process ends.
        let _ = mdns.shutdown();
    }
}

/// Listens for the partner, starts mDNS and the network tasks, and gives the core its ends
/// of the contract.
async fn start_network(
    args: &Args,
    jobs_tx: mpsc::Sender<CoreMsg>,
) -> Result<(
    std::sync::Arc<peer::Net>,
    service::PeerLinks,
    std::sync::Arc<std::sync::Mutex<peer::Registry>>,
    Option<mdns_sd::ServiceDaemon>,
)> {
    let listen = args
        .listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let peer_listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("cannot listen for the partner on {listen}; pick another --listen")
        })?;
    let port = peer_listener.local_addr()?.port();
    let (mdns, mdns_error) = match peer::discovery::start(args.mdns_interface.as_deref()) {
        Ok(m) => (Some(m), None),
        Err(e) => {
            tracing::warn!(error = %e, "mDNS is off: the partner is reachable only by address");
            (None, Some(e.to_string()))
        }
    };
    tracing::info!(
        port,
        mdns_interface = args.mdns_interface.as_deref().unwrap_or("all"),
        "listening for the partner"
    );
    let (link_tx, link_rx) = watch::channel(contract::Link::Off);
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let registry = std::sync::Arc::new(std::sync::Mutex::new(peer::Registry::default()));
    let net = std::sync::Arc::new(peer::Net::new(
        jobs_tx,
        link_rx,
        changed_rx,
        registry.clone(),
        mdns.clone(),
        peer::Listen {
            bound: std::net::SocketAddr::new(listen.ip(), port),
            fixed_port: listen.port() != 0,
            mdns_interface: args.mdns_interface.clone(),
        },
    ));
    let links = service::PeerLinks {
        link: link_tx,
        changed: changed_tx,
        net: registry.clone(),
        facts: service::partner::NetFacts {
            listen_ip: listen.ip(),
            port: net.port_changes(),
            mdns_interface: args.mdns_interface.clone(),
            mdns_error,
        },
    };
    tokio::spawn(peer::accept_loop(net.clone(), peer_listener));
    tokio::spawn(peer::keep_linked(net.clone()));
    tokio::spawn(peer::apart::keep_apart(net.clone()));
    Ok((net, links, registry, mdns))
}

/// Listens for the person's other devices and starts their sessions' tasks; gives the core
/// its ends of that contract.
async fn start_own_devices(
    args: &Args,
    jobs_tx: mpsc::Sender<CoreMsg>,
    mdns: Option<mdns_sd::ServiceDaemon>,
) -> Result<(
    std::sync::Arc<own_devices::OwnNet>,
    service::devices::DeviceLinks,
)> {
    let ip = args
        .listen
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |l| l.ip());
    let listener = tokio::net::TcpListener::bind((ip, 0))
        .await
        .with_context(|| format!("cannot listen for this person's other devices on {ip}"))?;
    let (link_tx, link_rx) = watch::channel(contract::DevicesLink::Off);
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let own = std::sync::Arc::new(own_devices::OwnNet::new(
        jobs_tx,
        link_rx,
        changed_rx,
        mdns,
        ip,
        args.mdns_interface.clone(),
    ));
    let port = listener.local_addr()?.port();
    own.port.store(port, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(port, "listening for this person's other devices");
    tokio::spawn(own_devices::connections::accept_loop(own.clone(), listener));
    tokio::spawn(own_devices::connections::keep_linked(own.clone()));
    Ok((
        own,
        service::devices::DeviceLinks {
            link: link_tx,
            journal_changed: changed_tx,
        },
    ))
}

/// The tick drives the idle lock and notices a review date reached or a pause ended.
fn spawn_ticks(config: &haven_shared::config::Config, ticks: mpsc::Sender<CoreMsg>) {
    let every = config.idle_lock.map_or(TICK, |idle| {
        (idle / 4).clamp(Duration::from_millis(250), TICK)
    });
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if ticks.send(CoreMsg::Tick).await.is_err() {
                return;
            }
        }
    });
}

/// Starts a detached `havend --foreground` and returns once it answers on the socket.
fn detach(args: &Args, paths: &Paths) -> Result<()> {
    paths
        .create_dirs()
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    if std::os::unix::net::UnixStream::connect(paths.socket()).is_ok() {
        println!("havend is already running");
        return Ok(());
    }
    lifecycle::rotate_log(&paths.log_file());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(paths.log_file())
        .with_context(|| format!("cannot open {}", paths.log_file().display()))?;
    let log_len = log.metadata().map(|m| m.len()).unwrap_or(0);
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.arg("--foreground");
    if let Some(home) = &args.home {
        command.arg("--home").arg(home);
    }
    if let Some(listen) = &args.listen {
        command.arg("--listen").arg(listen.to_string());
    }
    if let Some(iface) = &args.mdns_interface {
        command.arg("--mdns-interface").arg(iface);
    }
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; it detaches the child from our terminal.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command.spawn().context("cannot start havend")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    // Set when ours lost a race to another havend starting at the same moment (two CLIs
    // at once): then the other one's socket is what we wait for.
    let mut raced = false;
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(paths.socket()).is_ok() {
            if raced {
                println!("havend is already running");
            } else {
                println!("havend started (pid {})", child.id());
            }
            return Ok(());
        }
        if raced {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if let Some(status) = child.try_wait()? {
            if status.code() == Some(i32::from(lifecycle::ALREADY_RUNNING)) {
                raced = true;
                continue;
            }
            let text = std::fs::read_to_string(paths.log_file()).unwrap_or_default();
            let tail = text.get(log_len as usize..).unwrap_or("").trim();
            let last = tail
                .lines()
                .last()
                .unwrap_or("no output")
                .trim_start_matches("havend: ");
            anyhow::bail!("havend exited ({status}) before it was ready: {last}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!(
        "havend did not answer within 15 s; see {}",
        paths.log_file().display()
    )
}
