//! Safe Rust binding of **libresponsesws**: one fast, warm transport to the OpenAI Responses
//! API WebSocket mode.
//!
//! A [`Client`] keeps WebSocket connections to `/v1/responses` open. A [`Session`] is one
//! conversation chain: each [`Turn`] sends only its new input items plus
//! `previous_response_id`, and the server answers from its connection-scoped cache. Events are
//! the server's raw JSON plus a few fields decoded once, read either by pulling on your own
//! thread ([`Turn::next_event`], [`Turn::events`]) or by a closure on the library's I/O
//! thread ([`Session::start_with_callback`]).
//!
//! ```no_run
//! use responses_ws::{Client, EventType};
//!
//! fn main() -> Result<(), responses_ws::Error> {
//!     let client = Client::builder().base_url("http://127.0.0.1:8080/v1").api_key("sk-local").build()?;
//!     let session = client.session()?;
//!     let mut turn = session.start(r#"{"model":"gpt-5.6","input":"Hello!","store":false}"#)?;
//!     while let Some(event) = turn.next_event()? {
//!         if event.kind() == EventType::OutputTextDelta {
//!             print!("{}", event.delta().unwrap_or(""));
//!         }
//!     }
//!     let result = turn.wait()?; // the turn's own failure, if any, is this error
//!     println!("\n{:?} output tokens", result.output_tokens);
//!     // The next turn on `session` sends only its new items, chained to this response.
//!     Ok(())
//! }
//! ```
//!
//! # Threads
//!
//! [`Client`] and [`Session`] are `Send + Sync`; [`Turn`] is `Send + Sync` with pulling
//! behind `&mut self`. Callbacks run on the client's I/O thread and must return quickly; a
//! panic in one stops its turn ([`ErrorKind::Aborted`]) and never unwinds into the library.
//! [`Turn::cancel`] and [`CancelHandle`] work from any thread. Handles are reference-counted:
//! a turn keeps its session and client alive, so drop order cannot cause a use-after-free.
//! Blocking calls ([`Turn::wait`], [`Turn::next_event`]) made inside a callback fail with
//! [`ErrorKind::InvalidState`] instead of deadlocking, and so does creating a client or
//! session there; dropping the last [`Session`] or [`Client`] inside a callback frees it on a
//! short-lived helper thread (the library refuses to free them on its I/O thread).
//! After `fork()`, the child must not use handles created before it.
//!
//! # Requests
//!
//! [`Request`] builds a request body with correct JSON escaping
//! (`Request::new("gpt-5.6").input("Hello").tool(Tool::function(..))`); [`Session::start`]
//! takes it or any JSON text.
//!
//! # Async
//!
//! A pull-mode [`Turn`] is a [`Future`](std::future::Future) of its [`TurnResult`], and
//! [`Turn::next_event_async`] / [`Turn::poll_next_event`] stream its events, with any executor
//! and no dependency: a std thread waits on the library's notification fds and wakes the tasks.
//! With tokio, register [`Turn::notify_fd`] with `AsyncFd` instead (see the README).
//!
//! # Handles are `#[must_use]`
//!
//! Dropping a [`Turn`] cancels it, so a turn started and dropped at once is a warning:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! fn start(session: &responses_ws::Session) -> Result<(), responses_ws::Error> {
//!     session.start("{}")?; // error: unused `Turn` that must be used
//!     Ok(())
//! }
//! ```
//!
//! ```no_run
//! #![deny(unused_must_use)]
//! fn start(session: &responses_ws::Session) -> Result<(), responses_ws::Error> {
//!     let turn = session.start("{}")?;
//!     turn.wait().map(drop)
//! }
//! ```
//!
//! # Errors
//!
//! Every fallible call returns [`Result<T, Error>`]; [`Error::kind`] maps the library's
//! status codes one-to-one ([`ErrorKind`]) and [`Error::message`] says what to do. A turn's
//! own failure (connection lost, server error) is returned by [`Turn::wait`]; only
//! [`ErrorKind::OutcomeUnknown`] means the server may have run a request that failed: the
//! library never replays it.
//!
//! # Linking
//!
//! `build.rs` finds `libresponsesws.so` through `RESPONSESWS_LIB_DIR`, then `pkg-config
//! responsesws`, then the system library path; see the crate README.

#![warn(missing_docs)]

mod client;
mod context;
mod error;
mod event;
mod log;
mod reactor;
mod request;
mod session;
mod stats;
mod steer;
mod turn;

pub use client::{Client, ClientBuilder, Fallback, Lanes, Transport};
pub use error::{strerror, Error, ErrorKind};
pub use event::{Event, EventType, OwnedEvent};
pub use log::{LogLevel, LogRecord};
pub use request::{InputItem, Request, RequestJson, Tool};
pub use session::{InputMode, Session, SessionOptions};
pub use stats::Stats;
pub use steer::{SteerInfo, SteerState};
pub use turn::{CancelHandle, Events, NextEvent, Turn, TurnFlags, TurnResult};

/// The raw declarations of the C header: the `responses-ws-sys` crate.
pub use responses_ws_sys as sys;

use std::ffi::CStr;

/// The version of the loaded library, e.g. `"0.1.0"` (may be newer than this crate's).
pub fn version() -> &'static str {
    // SAFETY: rws_version returns static storage.
    let version = unsafe { CStr::from_ptr(sys::rws_version()) };
    version.to_str().unwrap_or("unknown")
}

/// The version of the loaded library as `0xMMmmpp`.
pub fn version_number() -> u32 {
    // SAFETY: no arguments, no state.
    unsafe { sys::rws_version_number() }
}

/// Features compiled into the loaded library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features(pub u32);

impl Features {
    /// `wss://` and `https://` through the system OpenSSL.
    pub fn tls(self) -> bool {
        self.0 & sys::RWS_FEATURE_TLS != 0
    }
    /// Pull mode (`rws_turn_next_event`, `rws_turn_next_events`).
    pub fn pull(self) -> bool {
        self.0 & sys::RWS_FEATURE_PULL != 0
    }
    /// The HTTP/SSE transport.
    pub fn http_sse(self) -> bool {
        self.0 & sys::RWS_FEATURE_HTTP_SSE != 0
    }
    /// The notification fd behind [`Turn`]'s async API (0.2.0).
    pub fn notify_fd(self) -> bool {
        self.0 & sys::RWS_FEATURE_NOTIFY_FD != 0
    }
    /// Bounded pull queues ([`ClientBuilder::max_queued_bytes`]) (0.2.0).
    pub fn queue_limit(self) -> bool {
        self.0 & sys::RWS_FEATURE_QUEUE_LIMIT != 0
    }
    /// New clients work in a child after `fork()` (0.2.0).
    pub fn fork_safe(self) -> bool {
        self.0 & sys::RWS_FEATURE_FORK_SAFE != 0
    }
    /// [`TurnResult::request_id`] is filled (0.3.0).
    pub fn request_id(self) -> bool {
        self.0 & sys::RWS_FEATURE_REQUEST_ID != 0
    }
    /// [`ClientBuilder::log`] delivers records (0.3.0).
    pub fn log_hook(self) -> bool {
        self.0 & sys::RWS_FEATURE_LOG_HOOK != 0
    }
    /// [`ClientBuilder::tls_client_cert`] is honoured (0.3.0).
    pub fn client_cert(self) -> bool {
        self.0 & sys::RWS_FEATURE_CLIENT_CERT != 0
    }
    /// [`ClientBuilder::proxy`] and the proxy environment variables are honoured (0.4.0).
    pub fn proxy(self) -> bool {
        self.0 & sys::RWS_FEATURE_PROXY != 0
    }
    /// [`ClientBuilder::permessage_deflate`] is honoured (0.4.0).
    pub fn deflate(self) -> bool {
        self.0 & sys::RWS_FEATURE_DEFLATE != 0
    }
    /// Sessions share connections, one lane each; [`Session::fork`] (0.5.0).
    pub fn lanes(self) -> bool {
        self.0 & sys::RWS_FEATURE_LANES != 0
    }
    /// [`Turn::steer`] and the steer events (0.5.0).
    pub fn steer(self) -> bool {
        self.0 & sys::RWS_FEATURE_STEER != 0
    }
}

/// The features compiled into the loaded library.
pub fn features() -> Features {
    // SAFETY: no arguments, no state.
    Features(unsafe { sys::rws_features() })
}
