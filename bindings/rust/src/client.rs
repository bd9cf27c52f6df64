//! [`Client`] and its [`ClientBuilder`]: the connection cache and its configuration.

use std::ffi::{c_char, CString};
use std::path::PathBuf;
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{check, Error, ErrorKind};
use crate::log::{LogLevel, LogRecord, LogSink};
use crate::session::{Session, SessionOptions};
use crate::stats::Stats;
use crate::sys;

/// Which transport turns use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// WebSocket mode: one warm connection, incremental turns (the default).
    #[default]
    WebSocket,
    /// HTTP POST with SSE streaming: the full history every turn.
    Http,
}

impl Transport {
    pub(crate) fn from_raw(raw: i32) -> Transport {
        if raw == sys::RWS_TRANSPORT_HTTP {
            Transport::Http
        } else {
            Transport::WebSocket
        }
    }
}

/// What the client does when the endpoint has no WebSocket mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fallback {
    /// Switch to HTTP/SSE (the default).
    #[default]
    Auto,
    /// Fail the turn instead (e.g. with [`ErrorKind::UpgradeRefused`]).
    Never,
}

/// How the sessions of a client use connections (0.5.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lanes {
    /// Sessions share connections, one lane (`stream_id`) each, up to
    /// [`ClientBuilder::max_sessions_per_connection`] per connection (the default).
    #[default]
    Shared,
    /// Every session gets a connection of its own, as before 0.5.0.
    PerSession,
}

/// The owned `rws_client`. Sessions and turns hold an `Arc` of it, so the client is freed
/// only after the last of them: no handle can outlive the client it was made from.
pub(crate) struct ClientHandle {
    pub(crate) raw: *mut sys::rws_client,
    /// The log closure the library calls; freed only after the client is.
    pub(crate) log: Option<Box<LogSink>>,
}

// SAFETY: the header declares the client thread-safe ("rws_client ... Thread-safe").
unsafe impl Send for ClientHandle {}
// SAFETY: as above; every call takes the handle by pointer and synchronises inside.
unsafe impl Sync for ClientHandle {}

impl Drop for ClientHandle {
    fn drop(&mut self) {
        // raw came from rws_client_new and is freed once, after every session and turn (they
        // hold this Arc).
        crate::context::free_outside_callback(self.raw, sys::rws_client_free, self.log.take());
    }
}

/// A client: one I/O thread, its configuration and its cache of warm connections.
///
/// Create one per process or per endpoint and share it: `Client` is `Send + Sync`, and
/// cloning it is cheap (the clones share one connection cache). The library client is freed
/// when the last clone and the last [`Session`] and [`Turn`](crate::Turn) made from it are
/// dropped. Dropped inside an event callback (where the library refuses to free clients),
/// it is freed on a short-lived helper thread instead.
#[derive(Clone)]
#[must_use = "dropping the last Client handle closes its connections"]
pub struct Client {
    pub(crate) handle: Arc<ClientHandle>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("raw", &self.handle.raw).finish()
    }
}

impl Client {
    /// A client with every default; `$OPENAI_API_KEY`, `$OPENAI_BASE_URL` and the other
    /// environment variables of the header are honoured.
    pub fn new() -> Result<Client, Error> {
        ClientBuilder::new().build()
    }

    /// A builder to set the endpoint, credentials, time and size limits and transport.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A new session (conversation chain) on the default lane, with default options.
    pub fn session(&self) -> Result<Session, Error> {
        Session::new(self, &SessionOptions::new())
    }

    /// A new session with `options` (request defaults, named lane, input mode).
    pub fn session_with(&self, options: &SessionOptions) -> Result<Session, Error> {
        Session::new(self, options)
    }

    /// Counters of the whole client since it was created.
    pub fn stats(&self) -> Result<Stats, Error> {
        Stats::read(|stats, size| unsafe { sys::rws_client_stats(self.handle.raw, stats, size) })
    }
}

/// Configuration of a [`Client`]; unset values keep the library's defaults.
///
/// Durations are sent in milliseconds and must fit in 32 bits; [`Duration::ZERO`] disables a
/// limit where the header says 0 does.
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    websocket_url: Option<String>,
    organization: Option<String>,
    project: Option<String>,
    beta: Option<String>,
    headers: Vec<String>,
    ca_file: Option<PathBuf>,
    verify_peer: Option<bool>,
    connect_timeout: Option<Duration>,
    first_event_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    ping_interval: Option<Duration>,
    max_message_bytes: Option<u64>,
    max_request_bytes: Option<u64>,
    transport: Option<Transport>,
    max_connection_age: Option<Duration>,
    rotation_margin: Option<Duration>,
    warm_standby: Option<bool>,
    max_reconnects: Option<u32>,
    reconnect_delay: Option<Duration>,
    reconnect_max_delay: Option<Duration>,
    fallback: Option<Fallback>,
    fallback_after_failures: Option<u32>,
    fallback_memory: Option<Duration>,
    max_queued_bytes: Option<u64>,
    log: Option<LogSink>,
    tls_client_cert: Option<PathBuf>,
    tls_client_key: Option<PathBuf>,
    tls_client_key_passphrase: Option<String>,
    proxy: Option<String>,
    no_proxy: Option<String>,
    permessage_deflate: Option<bool>,
    lanes: Option<Lanes>,
    max_sessions_per_connection: Option<u32>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        $($(#[$doc])* pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value.into());
            self
        })*
    };
}

impl ClientBuilder {
    /// A builder with every value at the library's default.
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    setters! {
        /// The API key sent as `Authorization: Bearer`. Default: `$OPENAI_API_KEY`.
        api_key: impl Into<String>,
        /// The API base URL, e.g. `http://127.0.0.1:8080/v1`. Default: `$OPENAI_BASE_URL`,
        /// else `https://api.openai.com/v1`. The WebSocket URL is derived from it.
        base_url: impl Into<String>,
        /// A full `ws://` or `wss://` URL used as is instead of deriving it from the base URL.
        websocket_url: impl Into<String>,
        /// The `OpenAI-Organization` header. Default: `$OPENAI_ORG_ID`.
        organization: impl Into<String>,
        /// The `OpenAI-Project` header. Default: `$OPENAI_PROJECT_ID`.
        project: impl Into<String>,
        /// The `OpenAI-Beta` header value.
        beta: impl Into<String>,
        /// A PEM file of trusted CA certificates. Default: `$SSL_CERT_FILE`, else the system store.
        ca_file: impl Into<PathBuf>,
        /// Verify the certificate chain and host name (default true). False only for local tests.
        verify_peer: bool,
        /// TCP + TLS + upgrade limit (default 15 s).
        connect_timeout: Duration,
        /// Request written → first event limit (default off).
        first_event_timeout: Duration,
        /// Largest gap between two events of a turn (default 300 s).
        idle_timeout: Duration,
        /// Whole-turn limit (default off).
        total_timeout: Duration,
        /// WebSocket ping on a quiet connection (default 30 s).
        ping_interval: Duration,
        /// Largest server message accepted (default 64 MiB).
        max_message_bytes: u64,
        /// Largest request sent (default 16 MiB); checked before anything is sent.
        max_request_bytes: u64,
        /// Pull mode: undelivered events beyond this many bytes pause reading the connection
        /// (TCP backpressure, nothing dropped) until half were pulled (default 4 MiB; 0: no
        /// limit). Needs [`Features::queue_limit`](crate::Features::queue_limit).
        max_queued_bytes: u64,
        /// The transport (default [`Transport::WebSocket`]).
        transport: Transport,
        /// Retire a connection at a turn boundary once this old (default 55 min; zero: never).
        max_connection_age: Duration,
        /// Never start a turn on a connection with less than this left (default 60 s).
        rotation_margin: Duration,
        /// Prepare the chain on the next connection before rotating (default true).
        warm_standby: bool,
        /// Connection attempts per turn after the first (default 3).
        max_reconnects: u32,
        /// First reconnect backoff delay, doubling per attempt (default 200 ms).
        reconnect_delay: Duration,
        /// Reconnect backoff ceiling (default 4 s).
        reconnect_max_delay: Duration,
        /// HTTP/SSE fallback policy (default [`Fallback::Auto`]).
        fallback: Fallback,
        /// Failed upgrades or connects before switching to HTTP/SSE (default 2).
        fallback_after_failures: u32,
        /// How long the client remembers that the endpoint has no WebSocket mode (default 10 min).
        fallback_memory: Duration,
        /// Offer permessage-deflate (RFC 7692) on WebSocket upgrades (default false); the
        /// message limit then applies to the inflated size. Needs
        /// [`Features::deflate`](crate::Features::deflate).
        permessage_deflate: bool,
        /// Whether sessions share connections (default [`Lanes::Shared`]). Needs
        /// [`Features::lanes`](crate::Features::lanes).
        lanes: Lanes,
        /// Sessions per shared connection, 1-32 (default 16, the server's limit of responses
        /// in flight per connection); another value fails [`build`](Self::build) with
        /// [`ErrorKind::InvalidArgument`].
        max_sessions_per_connection: u32,
    }

    /// Calls `closure` with the library's log records of `level` and more severe ones:
    /// connects, retries and their delays, fallbacks, rotations, recoveries, failed turns
    /// (never the API key or a credential). It runs on the client's I/O thread, like event
    /// callbacks: return quickly and make no blocking call of this crate. A panic in it is
    /// caught and ignored. Needs [`Features::log_hook`](crate::Features::log_hook).
    pub fn log(mut self, level: LogLevel, closure: impl Fn(&LogRecord) + Send + Sync + 'static) -> Self {
        self.log = Some(LogSink { level, closure: Arc::new(closure) });
        self
    }

    /// A client certificate (mTLS) for servers that require one: a PEM certificate chain (leaf
    /// first) and its PEM private key. Needs [`Features::client_cert`](crate::Features::client_cert).
    pub fn tls_client_cert(mut self, certificate: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls_client_cert = Some(certificate.into());
        self.tls_client_key = Some(key.into());
        self
    }

    /// The passphrase of an encrypted [`tls_client_cert`](Self::tls_client_cert) key; it never
    /// appears in any error message or log record.
    pub fn tls_client_key_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.tls_client_key_passphrase = Some(passphrase.into());
        self
    }

    /// The proxy for every connection: `http://[user:password@]host:port` (HTTP CONNECT, Basic
    /// authentication), `socks5://host:port` or `socks5h://host:port`; `""` for none. Unset, the
    /// library reads `https_proxy`, `http_proxy`, `ALL_PROXY` as curl does (see the C header).
    /// A proxy that fails fails the turn with [`ErrorKind::Proxy`], never a direct connection.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Hosts reached without the proxy (`NO_PROXY` syntax: names and their subdomains, IP
    /// addresses, CIDR ranges, `*`); overrides `no_proxy` / `NO_PROXY`.
    pub fn no_proxy(mut self, hosts: impl Into<String>) -> Self {
        self.no_proxy = Some(hosts.into());
        self
    }

    /// Adds a `"Name: value"` header to every handshake and HTTP request.
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.headers.push(header.into());
        self
    }

    /// Creates the client and starts its I/O thread. No connection is opened yet.
    ///
    /// Errors: [`ErrorKind::InvalidArgument`] (a bad value, or a string with a NUL byte),
    /// [`ErrorKind::Url`], [`ErrorKind::Tls`] (the CA file cannot be loaded).
    pub fn build(&self) -> Result<Client, Error> {
        let api_key = c_string("api_key", &self.api_key)?;
        let base_url = c_string("base_url", &self.base_url)?;
        let websocket_url = c_string("websocket_url", &self.websocket_url)?;
        let organization = c_string("organization", &self.organization)?;
        let project = c_string("project", &self.project)?;
        let beta = c_string("beta", &self.beta)?;
        let ca_file = self.ca_file.as_ref().map(|p| p.to_string_lossy().into_owned());
        let ca_file = c_string("ca_file", &ca_file)?;
        let path_string = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        let tls_client_cert = c_string("tls_client_cert", &path_string(&self.tls_client_cert))?;
        let tls_client_key = c_string("tls_client_key", &path_string(&self.tls_client_key))?;
        let tls_client_key_passphrase = c_string("tls_client_key_passphrase", &self.tls_client_key_passphrase)?;
        let proxy = c_string("proxy", &self.proxy)?;
        let no_proxy = c_string("no_proxy", &self.no_proxy)?;
        if (proxy.is_some() || no_proxy.is_some()) && !crate::features().proxy() {
            // An older library would ignore the fields and connect directly: fail closed.
            return Err(Error::binding(ErrorKind::Unsupported, "proxy and no_proxy need libresponsesws 0.4.0 or newer"));
        }
        let headers: Vec<CString> = self
            .headers
            .iter()
            .map(|h| c_string("header", &Some(h.clone())).map(Option::unwrap))
            .collect::<Result<_, _>>()?;
        let mut header_ptrs: Vec<*const c_char> = headers.iter().map(|h| h.as_ptr()).collect();
        header_ptrs.push(ptr::null());

        let mut o = std::mem::MaybeUninit::<sys::rws_client_options>::zeroed();
        // SAFETY: init fills every field of the struct it is given.
        unsafe { sys::rws_client_options_init(o.as_mut_ptr()) };
        // SAFETY: initialised by rws_client_options_init (and zeroed before).
        let mut o = unsafe { o.assume_init() };
        let set = |p: &Option<CString>, field: &mut *const c_char| {
            if let Some(s) = p {
                *field = s.as_ptr();
            }
        };
        set(&api_key, &mut o.api_key);
        set(&base_url, &mut o.base_url);
        set(&websocket_url, &mut o.websocket_url);
        set(&organization, &mut o.organization);
        set(&project, &mut o.project);
        set(&beta, &mut o.beta);
        set(&ca_file, &mut o.ca_file);
        set(&tls_client_cert, &mut o.tls_client_cert);
        set(&tls_client_key, &mut o.tls_client_key);
        set(&tls_client_key_passphrase, &mut o.tls_client_key_passphrase);
        set(&proxy, &mut o.proxy);
        set(&no_proxy, &mut o.no_proxy);
        if !headers.is_empty() {
            o.headers = header_ptrs.as_ptr();
        }
        if let Some(v) = self.verify_peer {
            o.verify_peer = v.into();
        }
        millis("connect_timeout", self.connect_timeout, &mut o.connect_timeout_ms)?;
        millis("first_event_timeout", self.first_event_timeout, &mut o.first_event_timeout_ms)?;
        millis("idle_timeout", self.idle_timeout, &mut o.idle_timeout_ms)?;
        millis("total_timeout", self.total_timeout, &mut o.total_timeout_ms)?;
        millis("ping_interval", self.ping_interval, &mut o.ping_interval_ms)?;
        millis("max_connection_age", self.max_connection_age, &mut o.max_connection_age_ms)?;
        millis("rotation_margin", self.rotation_margin, &mut o.rotation_margin_ms)?;
        millis("reconnect_delay", self.reconnect_delay, &mut o.reconnect_delay_ms)?;
        millis("reconnect_max_delay", self.reconnect_max_delay, &mut o.reconnect_max_delay_ms)?;
        millis("fallback_memory", self.fallback_memory, &mut o.fallback_memory_ms)?;
        if let Some(v) = self.max_message_bytes {
            o.max_message_bytes = v;
        }
        if let Some(v) = self.max_request_bytes {
            o.max_request_bytes = v;
        }
        if let Some(v) = self.max_queued_bytes {
            o.max_queued_bytes = v;
        }
        if let Some(t) = self.transport {
            o.transport = match t {
                Transport::WebSocket => sys::RWS_TRANSPORT_WEBSOCKET,
                Transport::Http => sys::RWS_TRANSPORT_HTTP,
            };
        }
        if let Some(v) = self.warm_standby {
            o.warm_standby = v.into();
        }
        if let Some(v) = self.permessage_deflate {
            o.permessage_deflate = v.into();
        }
        if let Some(l) = self.lanes {
            o.lanes = match l {
                Lanes::Shared => sys::RWS_LANES_SHARED,
                Lanes::PerSession => sys::RWS_LANES_PER_SESSION,
            };
        }
        if let Some(v) = self.max_sessions_per_connection {
            o.max_sessions_per_connection = v;
        }
        if let Some(v) = self.max_reconnects {
            o.max_reconnects = v;
        }
        if let Some(f) = self.fallback {
            o.fallback = match f {
                Fallback::Auto => sys::RWS_FALLBACK_AUTO,
                Fallback::Never => sys::RWS_FALLBACK_NEVER,
            };
        }
        if let Some(v) = self.fallback_after_failures {
            o.fallback_after_failures = v;
        }

        let log = self.log.clone().map(Box::new);
        if let Some(sink) = &log {
            LogSink::install(sink, &mut o);
        }
        let mut raw = ptr::null_mut();
        // SAFETY: every pointer in `o` points into CStrings alive until after this call; the
        // library copies them. The log sink's box lives in the handle until after the free.
        check(unsafe { sys::rws_client_new(&o, &mut raw) })?;
        Ok(Client { handle: Arc::new(ClientHandle { raw, log }) })
    }
}

/// A C copy of an optional option string; a NUL byte inside is the caller's error.
pub(crate) fn c_string(field: &str, value: &Option<String>) -> Result<Option<CString>, Error> {
    value
        .as_ref()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|e| {
                Error::binding(
                    ErrorKind::InvalidArgument,
                    format!("{field} contains a NUL byte at offset {}; remove it", e.nul_position()),
                )
            })
        })
        .transpose()
}

fn millis(field: &str, value: Option<Duration>, out: &mut u32) -> Result<(), Error> {
    if let Some(d) = value {
        *out = u32::try_from(d.as_millis()).map_err(|_| {
            Error::binding(
                ErrorKind::InvalidArgument,
                format!("{field} of {d:?} is too long: at most {} ms (about 49 days)", u32::MAX),
            )
        })?;
    }
    Ok(())
}
