//! Raw declarations of `include/responses_ws.h` (libresponsesws): every function, struct,
//! constant and typedef, nothing more. The safe API is the `responses-ws` crate; its
//! `tests/header_drift.rs` checks this file against the header.
//!
//! Everything here is `unsafe` to use and follows the header's rules (ownership, threading,
//! `struct_size`). The build script links `libresponsesws.so`, found through
//! `RESPONSESWS_LIB_DIR`, then `pkg-config responsesws`, then the system library path; it
//! reports the directory to dependents as `DEP_RESPONSESWS_LIB_DIR` (and as
//! `DEP_RESPONSESWS_RPATH` when the loader would not search it).

#![allow(non_camel_case_types)]
#![warn(missing_docs)]

use std::ffi::{c_char, c_int, c_void};

/// Declares constants and a `(name, value)` table of them, so tests can compare every
/// constant with the header by name without repeating the list.
macro_rules! constants {
    ($(#[$table_doc:meta])* $table:ident: $ty:ty { $($(#[$doc:meta])* $name:ident = $value:expr,)* }) => {
        $($(#[$doc])* pub const $name: $ty = $value;)*
        $(#[$table_doc])*
        pub const $table: &[(&str, $ty)] = &[$((stringify!($name), $name),)*];
    };
}

/// Major version of the header this crate was written against.
pub const RWS_VERSION_MAJOR: u32 = 0;
/// Minor version of the header this crate was written against.
pub const RWS_VERSION_MINOR: u32 = 5;
/// Patch version of the header this crate was written against.
pub const RWS_VERSION_PATCH: u32 = 0;
/// `RWS_VERSION_STRING` of the header this crate was written against.
pub const RWS_VERSION_STRING: &str = "0.5.0";
/// `0xMMmmpp` of the header this crate was written against.
pub const RWS_VERSION_NUMBER: u32 = (RWS_VERSION_MAJOR << 16) | (RWS_VERSION_MINOR << 8) | RWS_VERSION_PATCH;

constants! {
    /// Every `RWS_FEATURE_*` bit.
    FEATURE_CONSTANTS: u32 {
        /// wss:// and https:// through the system OpenSSL.
        RWS_FEATURE_TLS = 1 << 0,
        /// rws_turn_next_event, rws_turn_next_events.
        RWS_FEATURE_PULL = 1 << 1,
        /// HTTP/SSE transport.
        RWS_FEATURE_HTTP_SSE = 1 << 2,
        /// rws_turn_notify_fd (0.2.0).
        RWS_FEATURE_NOTIFY_FD = 1 << 3,
        /// rws_client_options.max_queued_bytes is honoured (0.2.0).
        RWS_FEATURE_QUEUE_LIMIT = 1 << 4,
        /// After fork(), a child may create and use new clients (0.2.0).
        RWS_FEATURE_FORK_SAFE = 1 << 5,
        /// rws_turn_result.request_id and request ids in error messages (0.3.0).
        RWS_FEATURE_REQUEST_ID = 1 << 6,
        /// rws_client_options.log_callback (0.3.0).
        RWS_FEATURE_LOG_HOOK = 1 << 7,
        /// rws_client_options.tls_client_cert (mTLS) (0.3.0).
        RWS_FEATURE_CLIENT_CERT = 1 << 8,
        /// HTTP CONNECT and SOCKS5 proxies: rws_client_options.proxy / no_proxy (0.4.0).
        RWS_FEATURE_PROXY = 1 << 9,
        /// rws_client_options.permessage_deflate (0.4.0).
        RWS_FEATURE_DEFLATE = 1 << 10,
        /// Sessions share connections, one lane each: lanes, max_sessions_per_connection,
        /// rws_session_fork, rws_session_stream_id, rws_session_fork_parent_id (0.5.0).
        RWS_FEATURE_LANES = 1 << 11,
        /// rws_turn_steer, rws_turn_steer_info and the RWS_EVENT_STEER_* events (0.5.0).
        RWS_FEATURE_STEER = 1 << 12,
    }
}

constants! {
    /// Every status code of the header: `RWS_OK`, `RWS_DONE` and each `RWS_E_*`.
    STATUS_CONSTANTS: c_int {
        /// Success.
        RWS_OK = 0,
        /// Not an error: no more events, or the cancelled turn had ended.
        RWS_DONE = 1,
        /// NULL handle or out-pointer, bad option value.
        RWS_E_INVALID_ARGUMENT = -1,
        /// Not allowed now, e.g. a blocking call inside a callback.
        RWS_E_INVALID_STATE = -2,
        /// Out of memory.
        RWS_E_NO_MEMORY = -3,
        /// The request JSON is not a JSON object.
        RWS_E_INVALID_JSON = -4,
        /// Nothing happened within the timeout.
        RWS_E_AGAIN = -5,
        /// A bug in the library.
        RWS_E_INTERNAL = -6,
        /// Valid, but not supported.
        RWS_E_UNSUPPORTED = -7,
        /// The URL is malformed or its scheme unsupported.
        RWS_E_URL = -10,
        /// The host name does not resolve.
        RWS_E_DNS = -11,
        /// TCP connection refused, unreachable or reset.
        RWS_E_CONNECT = -12,
        /// TLS handshake or TLS I/O failed.
        RWS_E_TLS = -13,
        /// The server certificate or host name did not verify.
        RWS_E_TLS_VERIFY = -14,
        /// HTTP 401/403.
        RWS_E_AUTH = -15,
        /// The WebSocket upgrade got another non-101 answer.
        RWS_E_UPGRADE_REFUSED = -16,
        /// Connect, first-event, idle or total timeout.
        RWS_E_TIMEOUT = -17,
        /// Closed before the request was written: safe to send again.
        RWS_E_CLOSED = -18,
        /// Lost after the request was written: the server may have run it.
        RWS_E_OUTCOME_UNKNOWN = -19,
        /// A server message exceeded max_message_bytes.
        RWS_E_MESSAGE_TOO_BIG = -20,
        /// The request exceeds max_request_bytes; it was not sent.
        RWS_E_REQUEST_TOO_BIG = -21,
        /// The server broke the protocol.
        RWS_E_PROTOCOL = -22,
        /// rws_turn_cancel or rws_turn_free stopped the turn.
        RWS_E_CANCELLED = -23,
        /// The event callback returned RWS_STOP.
        RWS_E_ABORTED = -24,
        /// The proxy could not be reached or refused the tunnel (0.4.0).
        RWS_E_PROXY = -25,
        /// An `error` event with another code.
        RWS_E_SERVER = -30,
        /// previous_response_id unknown to this connection.
        RWS_E_PREVIOUS_RESPONSE_NOT_FOUND = -31,
        /// websocket_connection_limit_reached.
        RWS_E_CONNECTION_LIMIT = -32,
        /// websocket_stream_limit_reached.
        RWS_E_STREAM_LIMIT = -33,
        /// The stream_id is empty, too long or has bad characters.
        RWS_E_INVALID_STREAM_ID = -34,
        /// Status 429.
        RWS_E_RATE_LIMITED = -35,
        /// The response ended with response.failed.
        RWS_E_RESPONSE_FAILED = -36,
        /// The server rejected the request (status 400).
        RWS_E_INVALID_REQUEST = -37,
    }
}

constants! {
    /// Every other integer enum value of the header (transport, fallback, input mode, event
    /// types, callback returns).
    ENUM_CONSTANTS: c_int {
        /// WebSocket mode (the default).
        RWS_TRANSPORT_WEBSOCKET = 0,
        /// HTTP POST with SSE streaming.
        RWS_TRANSPORT_HTTP = 1,
        /// Sessions share connections, one lane each (the default; 0.5.0).
        RWS_LANES_SHARED = 0,
        /// One connection per session, as before 0.5.0.
        RWS_LANES_PER_SESSION = 1,
        /// Switch to HTTP/SSE when WebSocket mode is unavailable.
        RWS_FALLBACK_AUTO = 0,
        /// Fail the turn instead.
        RWS_FALLBACK_NEVER = 1,
        /// No log records (0.3.0).
        RWS_LOG_OFF = 0,
        /// The library cannot do what was asked.
        RWS_LOG_ERROR = 1,
        /// A failed turn or connect, a fallback to HTTP/SSE.
        RWS_LOG_WARN = 2,
        /// Connects, retries and their delays, rotations, recoveries.
        RWS_LOG_INFO = 3,
        /// Connection attempts, endpoints, TLS setup.
        RWS_LOG_DEBUG = 4,
        /// Only new input items, chained with previous_response_id.
        RWS_INPUT_INCREMENTAL = 0,
        /// Whole conversation per request; the session trims it.
        RWS_INPUT_FULL_HISTORY = 1,
        /// Any event type the library does not recognise.
        RWS_EVENT_OTHER = 0,
        /// response.created
        RWS_EVENT_RESPONSE_CREATED = 1,
        /// response.queued
        RWS_EVENT_RESPONSE_QUEUED = 2,
        /// response.in_progress
        RWS_EVENT_RESPONSE_IN_PROGRESS = 3,
        /// response.completed (terminal)
        RWS_EVENT_RESPONSE_COMPLETED = 4,
        /// response.failed (terminal)
        RWS_EVENT_RESPONSE_FAILED = 5,
        /// response.incomplete (terminal)
        RWS_EVENT_RESPONSE_INCOMPLETE = 6,
        /// error (terminal when request-scoped)
        RWS_EVENT_ERROR = 7,
        /// response.output_item.added
        RWS_EVENT_OUTPUT_ITEM_ADDED = 8,
        /// response.output_item.done
        RWS_EVENT_OUTPUT_ITEM_DONE = 9,
        /// response.content_part.added
        RWS_EVENT_CONTENT_PART_ADDED = 10,
        /// response.content_part.done
        RWS_EVENT_CONTENT_PART_DONE = 11,
        /// response.output_text.delta
        RWS_EVENT_OUTPUT_TEXT_DELTA = 12,
        /// response.output_text.done
        RWS_EVENT_OUTPUT_TEXT_DONE = 13,
        /// response.function_call_arguments.delta
        RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DELTA = 14,
        /// response.function_call_arguments.done
        RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DONE = 15,
        /// response.reasoning_summary_text.delta
        RWS_EVENT_REASONING_SUMMARY_TEXT_DELTA = 16,
        /// response.reasoning_summary_text.done
        RWS_EVENT_REASONING_SUMMARY_TEXT_DONE = 17,
        /// response.reasoning_text.delta
        RWS_EVENT_REASONING_TEXT_DELTA = 18,
        /// response.reasoning_text.done
        RWS_EVENT_REASONING_TEXT_DONE = 19,
        /// response.refusal.delta
        RWS_EVENT_REFUSAL_DELTA = 20,
        /// response.refusal.done
        RWS_EVENT_REFUSAL_DONE = 21,
        /// response.done (legacy terminal event)
        RWS_EVENT_RESPONSE_DONE = 22,
        /// response.steer.accepted (0.5.0)
        RWS_EVENT_STEER_ACCEPTED = 23,
        /// response.steer.pending: waits for tool output (0.5.0)
        RWS_EVENT_STEER_PENDING = 24,
        /// response.steer.failed (0.5.0)
        RWS_EVENT_STEER_FAILED = 25,
        /// Steer not answered yet (or waiting for the response to be created).
        RWS_STEER_UNKNOWN = 0,
        /// The server queued the steer.
        RWS_STEER_ACCEPTED = 1,
        /// The successor response that sees the steer was created.
        RWS_STEER_COMMITTED = 2,
        /// The response waits for tool output; the session's next turn commits the steer.
        RWS_STEER_PENDING = 3,
        /// Not applied, and never will be.
        RWS_STEER_FAILED = 4,
        /// The connection or turn ended without an answer.
        RWS_STEER_LOST = 5,
        /// Callback return: keep delivering.
        RWS_CONTINUE = 0,
        /// Callback return: cancel the turn (it ends with RWS_E_ABORTED).
        RWS_STOP = 1,
    }
}

constants! {
    /// Every flag bit of the header (`RWS_EVENT_FLAG_*`, `RWS_TURN_*`).
    FLAG_CONSTANTS: u32 {
        /// This event ends the turn.
        RWS_EVENT_FLAG_TERMINAL = 1 << 0,
        /// Sent as previous_response_id + new items.
        RWS_TURN_INCREMENTAL = 1 << 0,
        /// The full context had to be sent.
        RWS_TURN_FULL_RESEND = 1 << 1,
        /// A lost or refused connection was replaced.
        RWS_TURN_RECONNECTED = 1 << 2,
        /// Went over HTTP/SSE because WebSocket mode was unavailable.
        RWS_TURN_FALLBACK = 1 << 3,
        /// Started on a new connection that replaced an aged one.
        RWS_TURN_ROTATED = 1 << 4,
    }
}

/// A status code (`RWS_OK`, `RWS_DONE`, `RWS_E_*`); functions return it as `c_int`.
pub type rws_status = c_int;
/// An `RWS_TRANSPORT_*` value.
pub type rws_transport = c_int;
/// An `RWS_FALLBACK_*` value.
pub type rws_fallback = c_int;
/// An `RWS_LANES_*` value (0.5.0).
pub type rws_lanes = c_int;
/// An `RWS_STEER_*` value (0.5.0).
pub type rws_steer_state = c_int;
/// An `RWS_LOG_*` value (0.3.0).
pub type rws_log_level = c_int;

/// One structured fact of a log record; both strings NUL-terminated, valid during the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_log_field {
    /// e.g. `delay_ms`
    pub key: *const c_char,
    /// e.g. `400`
    pub value: *const c_char,
}

/// Receives one log record on the client's I/O thread (0.3.0); see the header.
pub type rws_log_fn = unsafe extern "C" fn(
    user_data: *mut c_void,
    level: c_int,
    message: *const c_char,
    fields: *const rws_log_field,
    field_count: usize,
);
/// An `RWS_INPUT_*` value.
pub type rws_input_mode = c_int;
/// An `RWS_EVENT_*` value.
pub type rws_event_type = c_int;
/// `RWS_CONTINUE` or `RWS_STOP`.
pub type rws_callback_result = c_int;

/// A view of library-owned UTF-8 bytes, not NUL-terminated; absent is `{NULL, 0}`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_str {
    /// First byte, or NULL when absent.
    pub ptr: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

/// Opaque client handle.
#[repr(C)]
pub struct rws_client {
    _private: [u8; 0],
}

/// Opaque session handle.
#[repr(C)]
pub struct rws_session {
    _private: [u8; 0],
}

/// Opaque turn handle.
#[repr(C)]
pub struct rws_turn {
    _private: [u8; 0],
}

/// Client options; fill with [`rws_client_options_init`] first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_client_options {
    /// set by rws_client_options_init
    pub struct_size: usize,
    /// NULL: $OPENAI_API_KEY. Sent as "Authorization: Bearer".
    pub api_key: *const c_char,
    /// NULL: $OPENAI_BASE_URL, else `https://api.openai.com/v1`. The WebSocket URL is derived as the SDKs do: https→wss, http→ws, then "/responses" appended.
    pub base_url: *const c_char,
    /// NULL: derived from base_url. Else a full ws:// or wss:// URL used as is.
    pub websocket_url: *const c_char,
    /// NULL: $OPENAI_ORG_ID. "OpenAI-Organization" header.
    pub organization: *const c_char,
    /// NULL: $OPENAI_PROJECT_ID. "OpenAI-Project" header.
    pub project: *const c_char,
    /// NULL: none. "OpenAI-Beta" header value.
    pub beta: *const c_char,
    /// NULL or a NULL-terminated array of "Name: value" strings added to every handshake and HTTP request.
    pub headers: *const *const c_char,
    /// NULL: $SSL_CERT_FILE, else the system trust store. A PEM file of trusted CA certificates.
    pub ca_file: *const c_char,
    /// 1 (default): verify the certificate chain and host name. 0 disables both; only for tests against local servers.
    pub verify_peer: c_int,
    /// TCP + TLS + upgrade. Default 15000.
    pub connect_timeout_ms: u32,
    /// request written → first event. Default 0 (off).
    pub first_event_timeout_ms: u32,
    /// gap between two events of a turn. Default 300000.
    pub idle_timeout_ms: u32,
    /// whole turn. Default 0 (off).
    pub total_timeout_ms: u32,
    /// WebSocket ping on a quiet connection. Default 30000.
    pub ping_interval_ms: u32,
    /// largest server message accepted. Default 64 MiB.
    pub max_message_bytes: u64,
    /// largest request sent. Default 16 MiB, the limit reported for OpenAI's backend; checked before anything is sent.
    pub max_request_bytes: u64,
    /// RWS_TRANSPORT_*; default RWS_TRANSPORT_WEBSOCKET.
    pub transport: c_int,
    /// retire a connection at a turn boundary once this old. Default 3300000 (55 min); 0: never.
    pub max_connection_age_ms: u32,
    /// never start a turn on a connection with less than this left before max_connection_age_ms. Default 60000.
    pub rotation_margin_ms: u32,
    /// 1 (default): before retiring a connection that carries a store:false chain, open the next one in the background and prepare the chain there (generate:false), so the first turn after rotation is incremental. 0: reconnect cold.
    pub warm_standby: c_int,
    /// connection attempts per turn after the first. Default 3.
    pub max_reconnects: u32,
    /// first backoff delay; doubles per attempt. Default 200.
    pub reconnect_delay_ms: u32,
    /// backoff ceiling. Default 4000.
    pub reconnect_max_delay_ms: u32,
    /// RWS_FALLBACK_AUTO (default) or RWS_FALLBACK_NEVER.
    pub fallback: c_int,
    /// failed upgrades (404/405) or connects before switching to HTTP/SSE; 426 switches at once. Default 2.
    pub fallback_after_failures: u32,
    /// how long the client remembers that the endpoint has no WebSocket mode, so later sessions skip the probe. Default 600000 (10 min).
    pub fallback_memory_ms: u32,
    /// pull mode: undelivered event bytes of a turn above which its connection stops reading until the caller drains half (TCP backpressure, nothing dropped). Default 4 MiB; 0: no limit. Since 0.2.0.
    pub max_queued_bytes: u64,
    /// NULL (default): no log records. Since 0.3.0.
    pub log_callback: Option<rws_log_fn>,
    /// passed to log_callback as is
    pub log_user_data: *mut c_void,
    /// an RWS_LOG_* value: the most detailed level delivered. Default RWS_LOG_INFO.
    pub log_level: c_int,
    /// mTLS: PEM certificate chain, leaf first. NULL: none. Since 0.3.0.
    pub tls_client_cert: *const c_char,
    /// mTLS: PEM private key of tls_client_cert, may be encrypted.
    pub tls_client_key: *const c_char,
    /// the passphrase of an encrypted key; never in any message.
    pub tls_client_key_passphrase: *const c_char,
    /// Proxy URL for every endpoint ("" = none); NULL: from the environment. Since 0.4.0.
    pub proxy: *const c_char,
    /// Hosts reached directly; NULL: from the environment. Since 0.4.0.
    pub no_proxy: *const c_char,
    /// 1: offer permessage-deflate (RFC 7692) on WebSocket upgrades; 0 (default): off.
    pub permessage_deflate: c_int,
    /// RWS_LANES_SHARED (default) or RWS_LANES_PER_SESSION. Since 0.5.0.
    pub lanes: c_int,
    /// 1-32; default 16: sessions per shared connection. Since 0.5.0.
    pub max_sessions_per_connection: u32,
}

/// Session options; fill with [`rws_session_options_init`] first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_session_options {
    /// set by rws_session_options_init
    pub struct_size: usize,
    /// NULL or a JSON object merged into every request of the session (e.g. model, instructions, tools, store); the request's own fields win. Copied.
    pub defaults_json: *const c_char,
    /// its length; 0 means NUL-terminated
    pub defaults_len: usize,
    /// NULL: the default lane. Else the lane name (\[A-Za-z0-9_.-\], 1-256 chars), sent as "stream_id".
    pub stream_id: *const c_char,
    /// RWS_INPUT_INCREMENTAL (default) or RWS_INPUT_FULL_HISTORY
    pub input_mode: c_int,
}

/// One server event, owned by the library (see the header for how long it stays valid).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_event {
    /// sizeof(rws_event) of the library; fields may be appended
    pub struct_size: usize,
    /// RWS_EVENT_*
    pub r#type: c_int,
    /// RWS_EVENT_FLAG_*
    pub flags: u32,
    /// the event's "type", e.g. "response.output_text.delta"
    pub type_name: rws_str,
    /// the complete event exactly as the server sent it
    pub json: rws_str,
    /// the id of the response this event belongs to, once known
    pub response_id: rws_str,
    /// "stream_id" (named lanes only)
    pub stream_id: rws_str,
    /// "item_id"
    pub item_id: rws_str,
    /// "delta" of *.delta events, JSON escapes decoded
    pub delta: rws_str,
    /// error.code of `error` events and response.failed
    pub error_code: rws_str,
    /// error.message, escapes decoded
    pub error_message: rws_str,
    /// "sequence_number"
    pub sequence_number: i64,
    /// "output_index"
    pub output_index: i64,
    /// "status" of `error` events (HTTP-like), else 0
    pub error_status: i32,
}

/// Event callback, called on the client's I/O thread.
pub type rws_event_cb = unsafe extern "C" fn(user_data: *mut c_void, event: *const rws_event) -> c_int;

/// Turn options; fill with [`rws_turn_options_init`] first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_turn_options {
    /// set by rws_turn_options_init
    pub struct_size: usize,
    /// NULL: pull mode (rws_turn_next_event)
    pub on_event: Option<rws_event_cb>,
    /// passed to on_event; must stay valid until the turn ends or is freed
    pub user_data: *mut c_void,
}

/// The outcome of a turn, filled by [`rws_turn_get_result`].
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_turn_result {
    /// set by the library: sizeof(rws_turn_result) it knows
    pub struct_size: usize,
    /// RWS_OK, RWS_E_* of the failure, or RWS_E_AGAIN while the turn is still running
    pub status: c_int,
    /// the response's id (also for failed/incomplete responses)
    pub response_id: rws_str,
    /// "completed", "incomplete", "failed", ...
    pub response_status: rws_str,
    /// the final Response object from the terminal event
    pub response_json: rws_str,
    /// server error code, if any
    pub error_code: rws_str,
    /// what went wrong, if anything: actionable text
    pub error_message: rws_str,
    /// usage; -1 when the server sent none
    pub input_tokens: i64,
    /// `output_tokens` (see the header).
    pub output_tokens: i64,
    /// usage.input_tokens_details.cached_tokens
    pub cached_input_tokens: i64,
    /// usage.output_tokens_details.reasoning_tokens
    pub reasoning_tokens: i64,
    /// HTTP-like status of a server error, else 0
    pub error_status: i32,
    /// RWS_TRANSPORT_* the turn used
    pub transport: c_int,
    /// request bytes written (payload)
    pub bytes_sent: u64,
    /// event bytes received (payload)
    pub bytes_received: u64,
    /// turn start → terminal event
    pub elapsed_us: u64,
    /// turn start → first event
    pub first_event_us: u64,
    /// RWS_TURN_* bits: how the turn got through
    pub flags: u32,
    /// the server's x-request-id for the turn (0.3.0; empty when none was sent)
    pub request_id: rws_str,
}

/// Counters of a client or a session.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_stats {
    /// set by the library: sizeof(rws_stats) it knows
    pub struct_size: usize,
    /// turns started
    pub turns: u64,
    /// turns that ended with RWS_OK
    pub turns_ok: u64,
    /// events delivered
    pub events: u64,
    /// payload bytes of requests
    pub bytes_sent: u64,
    /// payload bytes of events
    pub bytes_received: u64,
    /// connections opened (handshakes completed)
    pub connects: u64,
    /// connections opened to replace a lost one
    pub reconnects: u64,
    /// turns sent with previous_response_id and new items only
    pub incremental_sends: u64,
    /// turns that had to resend the full context
    pub full_resends: u64,
    /// switches to HTTP/SSE
    pub fallbacks: u64,
    /// connections retired for age
    pub rotations: u64,
    /// turns that ended RWS_E_OUTCOME_UNKNOWN
    pub unknown_outcomes: u64,
    /// times a pull-mode turn's connection stopped reading because its caller was max_queued_bytes behind. Since 0.2.0.
    pub read_pauses: u64,
    /// client: WebSocket connections open or opening; session: 1 while it holds a lane. Since 0.5.0.
    pub connections_open: u64,
    /// client: lanes held by its sessions; session: as connections_open. Since 0.5.0.
    pub lanes_in_use: u64,
    /// session: the connection it holds a lane on (0: none); client: 0. Since 0.5.0.
    pub connection_id: u64,
}

/// The state of one steer, filled by [`rws_turn_steer_info`] (0.5.0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rws_steer_info {
    /// set by the library: sizeof(rws_steer_info) it knows
    pub struct_size: usize,
    /// RWS_STEER_*
    pub state: c_int,
    /// "steer_..." once accepted, else empty
    pub steer_id: rws_str,
    /// the response it was sent for, once sent
    pub target_response_id: rws_str,
    /// FAILED: the server's code
    pub error_code: rws_str,
    /// FAILED and LOST: what happened
    pub error_message: rws_str,
    /// FAILED: the input handed back
    pub input_json: rws_str,
    /// PENDING: the JSON array of stubs the next turn must fill
    pub required_input_json: rws_str,
}

// The functions of the header, in its order.
extern "C" {
    /// The loaded library's version as "MAJOR.MINOR.PATCH"; static storage.
    pub fn rws_version() -> *const c_char;
    /// The loaded library's version as 0xMMmmpp.
    pub fn rws_version_number() -> u32;
    /// The `RWS_FEATURE_*` bits compiled into the loaded library.
    pub fn rws_features() -> u32;
    /// A short, static description of a status code.
    pub fn rws_strerror(status: c_int) -> *const c_char;
    /// A sentence about the last failure on this thread; valid until the next rws_* call.
    pub fn rws_last_error() -> *const c_char;

    /// Fills client options with defaults and sets struct_size.
    pub fn rws_client_options_init(options: *mut rws_client_options);
    /// Creates a client and starts its I/O thread.
    pub fn rws_client_new(options: *const rws_client_options, client_out: *mut *mut rws_client) -> c_int;
    /// Closes every connection, cancels running turns and stops the I/O thread. Not from a callback.
    pub fn rws_client_free(client: *mut rws_client);

    /// Fills session options with defaults and sets struct_size.
    pub fn rws_session_options_init(options: *mut rws_session_options);
    /// Creates a session on a client.
    pub fn rws_session_new(
        client: *mut rws_client,
        options: *const rws_session_options,
        session_out: *mut *mut rws_session,
    ) -> c_int;
    /// Frees a session after cancelling its running and queued turns. Not from a callback.
    pub fn rws_session_free(session: *mut rws_session);
    /// Copies the id of the session's last completed response; returns its full length.
    pub fn rws_session_last_response_id(session: *mut rws_session, buf: *mut c_char, buf_len: usize) -> c_int;
    /// Forks a session onto a new lane, continuing from its last response. Since 0.5.0.
    pub fn rws_session_fork(
        parent: *mut rws_session,
        options: *const rws_session_options,
        child_out: *mut *mut rws_session,
    ) -> c_int;
    /// Copies the stream_id the session's requests carry now; returns its full length. Since 0.5.0.
    pub fn rws_session_stream_id(session: *mut rws_session, buf: *mut c_char, buf_len: usize) -> c_int;
    /// Copies the id of the response the session was forked from (0: not a fork). Since 0.5.0.
    pub fn rws_session_fork_parent_id(session: *mut rws_session, buf: *mut c_char, buf_len: usize) -> c_int;
    /// Forgets the chain: the next turn starts a new conversation.
    pub fn rws_session_reset(session: *mut rws_session) -> c_int;
    /// Opens a connection and optionally prepares the chain (`"generate": false`).
    pub fn rws_session_prewarm(
        session: *mut rws_session,
        request_json: *const c_char,
        request_len: usize,
        turn_out: *mut *mut rws_turn,
    ) -> c_int;

    /// Fills turn options with defaults and sets struct_size.
    pub fn rws_turn_options_init(options: *mut rws_turn_options);
    /// Starts a turn (one `response.create`); never blocks on the network.
    pub fn rws_turn_start(
        session: *mut rws_session,
        request_json: *const c_char,
        request_len: usize,
        options: *const rws_turn_options,
        turn_out: *mut *mut rws_turn,
    ) -> c_int;
    /// Pull mode: waits up to timeout_ms (-1 forever, 0 poll) for the next event.
    pub fn rws_turn_next_event(turn: *mut rws_turn, timeout_ms: i32, event_out: *mut *const rws_event) -> c_int;
    /// Pull mode, batched: waits for at least one event, then hands out up to `capacity`.
    pub fn rws_turn_next_events(
        turn: *mut rws_turn,
        timeout_ms: i32,
        events: *mut *const rws_event,
        capacity: usize,
        count_out: *mut usize,
    ) -> c_int;
    /// An eventfd readable while the pull-mode turn has queued events or has ended (see the
    /// header): never read, write or close it. Since 0.2.0.
    pub fn rws_turn_notify_fd(turn: *mut rws_turn) -> c_int;
    /// Waits up to timeout_ms (-1 forever) for the turn to end; returns its final status.
    pub fn rws_turn_wait(turn: *mut rws_turn, timeout_ms: i32) -> c_int;
    /// Cancels the turn from any thread; RWS_DONE if it had already ended.
    pub fn rws_turn_cancel(turn: *mut rws_turn) -> c_int;
    /// Adds user input to the turn's running response (`response.steer`). Since 0.5.0.
    pub fn rws_turn_steer(
        turn: *mut rws_turn,
        input_json: *const c_char,
        input_len: usize,
        steer_index_out: *mut u32,
    ) -> c_int;
    /// Fills `info` with the state of one steer of the turn. Since 0.5.0.
    pub fn rws_turn_steer_info(
        turn: *mut rws_turn,
        steer_index: u32,
        info: *mut rws_steer_info,
        info_size: usize,
    ) -> c_int;
    /// Fills the turn's result; RWS_E_AGAIN while it runs.
    pub fn rws_turn_get_result(turn: *mut rws_turn, result: *mut rws_turn_result, result_size: usize) -> c_int;
    /// Releases the turn, cancelling it if it runs; the callback is never called again.
    pub fn rws_turn_free(turn: *mut rws_turn);

    /// Counters of the whole client.
    pub fn rws_client_stats(client: *mut rws_client, stats: *mut rws_stats, stats_size: usize) -> c_int;
    /// Counters of one session.
    pub fn rws_session_stats(session: *mut rws_session, stats: *mut rws_stats, stats_size: usize) -> c_int;
}
