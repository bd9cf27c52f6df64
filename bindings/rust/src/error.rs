//! [`Error`] and [`ErrorKind`]: the library's status codes as a Rust error.

use std::ffi::{c_int, CStr};
use std::fmt;

use crate::sys;

/// What went wrong, one variant per `RWS_E_*` status code of the header.
///
/// The variants are stable; new codes of a newer library arrive as [`ErrorKind::Unknown`] with
/// the raw code in [`Error::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `RWS_E_INVALID_ARGUMENT`: a bad option value or argument.
    InvalidArgument,
    /// `RWS_E_INVALID_STATE`: not allowed now, e.g. a blocking call inside an event callback.
    InvalidState,
    /// `RWS_E_NO_MEMORY`: out of memory.
    NoMemory,
    /// `RWS_E_INVALID_JSON`: the request is not a JSON object (the message says where).
    InvalidJson,
    /// `RWS_E_AGAIN`: nothing happened within the timeout; the turn goes on.
    Again,
    /// `RWS_E_INTERNAL`: a bug in the library; please report the message.
    Internal,
    /// `RWS_E_UNSUPPORTED`: valid, but not supported (e.g. `"background": true`).
    Unsupported,
    /// `RWS_E_URL`: the URL is malformed or its scheme unsupported.
    Url,
    /// `RWS_E_DNS`: the host name does not resolve.
    Dns,
    /// `RWS_E_CONNECT`: the TCP connection was refused, unreachable or reset.
    Connect,
    /// `RWS_E_TLS`: the TLS handshake or TLS I/O failed.
    Tls,
    /// `RWS_E_TLS_VERIFY`: the certificate or host name did not verify.
    TlsVerify,
    /// `RWS_E_AUTH`: HTTP 401/403, the API key or its permissions were refused.
    Auth,
    /// `RWS_E_UPGRADE_REFUSED`: the WebSocket upgrade got another non-101 answer.
    UpgradeRefused,
    /// `RWS_E_TIMEOUT`: a connect, first-event, idle or total timeout.
    Timeout,
    /// `RWS_E_CLOSED`: the connection closed before the request was written; safe to resend.
    Closed,
    /// `RWS_E_OUTCOME_UNKNOWN`: the connection was lost after the request was written; the
    /// server may have run it. The library never replays it.
    OutcomeUnknown,
    /// `RWS_E_MESSAGE_TOO_BIG`: a server message exceeded `max_message_bytes`.
    MessageTooBig,
    /// `RWS_E_REQUEST_TOO_BIG`: the request exceeds `max_request_bytes`; it was not sent.
    RequestTooBig,
    /// `RWS_E_PROTOCOL`: the server broke the protocol.
    Protocol,
    /// `RWS_E_CANCELLED`: the turn was cancelled or dropped.
    Cancelled,
    /// `RWS_E_ABORTED`: the event callback stopped the turn (returned `Break` or panicked).
    Aborted,
    /// `RWS_E_PROXY`: the proxy could not be reached or refused the tunnel
    /// (the message quotes its answer: 407 means proxy authentication). Never followed
    /// by a direct connection.
    Proxy,
    /// `RWS_E_SERVER`: an `error` event with another code; see [`Error::server_code`].
    Server,
    /// `RWS_E_PREVIOUS_RESPONSE_NOT_FOUND`: the chain's parent is not in the connection cache.
    PreviousResponseNotFound,
    /// `RWS_E_CONNECTION_LIMIT`: the connection reached its 60-minute limit.
    ConnectionLimit,
    /// `RWS_E_STREAM_LIMIT`: a 33rd named lane on one connection.
    StreamLimit,
    /// `RWS_E_INVALID_STREAM_ID`: the stream id is empty, too long or has bad characters.
    InvalidStreamId,
    /// `RWS_E_RATE_LIMITED`: status 429.
    RateLimited,
    /// `RWS_E_RESPONSE_FAILED`: the response ended with `response.failed`.
    ResponseFailed,
    /// `RWS_E_INVALID_REQUEST`: the server rejected the request (status 400).
    InvalidRequest,
    /// A negative code this binding does not know (a newer library).
    Unknown,
}

/// Code ↔ kind, in one table so both directions cannot disagree.
const KINDS: &[(c_int, ErrorKind)] = &[
    (sys::RWS_E_INVALID_ARGUMENT, ErrorKind::InvalidArgument),
    (sys::RWS_E_INVALID_STATE, ErrorKind::InvalidState),
    (sys::RWS_E_NO_MEMORY, ErrorKind::NoMemory),
    (sys::RWS_E_INVALID_JSON, ErrorKind::InvalidJson),
    (sys::RWS_E_AGAIN, ErrorKind::Again),
    (sys::RWS_E_INTERNAL, ErrorKind::Internal),
    (sys::RWS_E_UNSUPPORTED, ErrorKind::Unsupported),
    (sys::RWS_E_URL, ErrorKind::Url),
    (sys::RWS_E_DNS, ErrorKind::Dns),
    (sys::RWS_E_CONNECT, ErrorKind::Connect),
    (sys::RWS_E_TLS, ErrorKind::Tls),
    (sys::RWS_E_TLS_VERIFY, ErrorKind::TlsVerify),
    (sys::RWS_E_AUTH, ErrorKind::Auth),
    (sys::RWS_E_UPGRADE_REFUSED, ErrorKind::UpgradeRefused),
    (sys::RWS_E_TIMEOUT, ErrorKind::Timeout),
    (sys::RWS_E_CLOSED, ErrorKind::Closed),
    (sys::RWS_E_OUTCOME_UNKNOWN, ErrorKind::OutcomeUnknown),
    (sys::RWS_E_MESSAGE_TOO_BIG, ErrorKind::MessageTooBig),
    (sys::RWS_E_REQUEST_TOO_BIG, ErrorKind::RequestTooBig),
    (sys::RWS_E_PROTOCOL, ErrorKind::Protocol),
    (sys::RWS_E_CANCELLED, ErrorKind::Cancelled),
    (sys::RWS_E_ABORTED, ErrorKind::Aborted),
    (sys::RWS_E_PROXY, ErrorKind::Proxy),
    (sys::RWS_E_SERVER, ErrorKind::Server),
    (sys::RWS_E_PREVIOUS_RESPONSE_NOT_FOUND, ErrorKind::PreviousResponseNotFound),
    (sys::RWS_E_CONNECTION_LIMIT, ErrorKind::ConnectionLimit),
    (sys::RWS_E_STREAM_LIMIT, ErrorKind::StreamLimit),
    (sys::RWS_E_INVALID_STREAM_ID, ErrorKind::InvalidStreamId),
    (sys::RWS_E_RATE_LIMITED, ErrorKind::RateLimited),
    (sys::RWS_E_RESPONSE_FAILED, ErrorKind::ResponseFailed),
    (sys::RWS_E_INVALID_REQUEST, ErrorKind::InvalidRequest),
];

impl ErrorKind {
    /// The kind of a negative status code; [`ErrorKind::Unknown`] for codes this binding does
    /// not know.
    pub fn from_code(code: i32) -> ErrorKind {
        KINDS.iter().find(|(c, _)| *c == code).map_or(ErrorKind::Unknown, |(_, k)| *k)
    }

    /// The `RWS_E_*` code of this kind, or `None` for [`ErrorKind::Unknown`].
    pub fn code(self) -> Option<i32> {
        KINDS.iter().find(|(_, k)| *k == self).map(|(c, _)| *c)
    }

    /// True for the kinds after which the server certainly did not run the request, so
    /// sending it again cannot run it twice: nothing was sent ([`Closed`](ErrorKind::Closed),
    /// [`Connect`](ErrorKind::Connect), [`Dns`](ErrorKind::Dns)) or the server refused it
    /// ([`RateLimited`](ErrorKind::RateLimited)). Never true for
    /// [`OutcomeUnknown`](ErrorKind::OutcomeUnknown).
    pub fn is_safe_to_resend(self) -> bool {
        matches!(self, ErrorKind::Closed | ErrorKind::Connect | ErrorKind::Dns | ErrorKind::RateLimited | ErrorKind::Proxy)
    }
}

/// A failure reported by libresponsesws: its kind, the raw status code, an actionable message,
/// and for server errors the server's error code and HTTP-like status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    code: i32,
    message: String,
    server_code: Option<String>,
    server_status: Option<i32>,
}

impl Error {
    /// An error with an explicit message (for failures a turn reports in its result).
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::from_code(code),
            code,
            message: message.into(),
            server_code: None,
            server_status: None,
        }
    }

    /// The error of a call that just returned `code` on this thread: the message is
    /// `rws_last_error()`, which must be read before any other rws_* call.
    pub(crate) fn last(code: i32) -> Error {
        // SAFETY: rws_last_error returns a NUL-terminated thread-local string, valid until the
        // next rws_* call on this thread; it is copied at once.
        let message = unsafe { cstr_to_string(sys::rws_last_error()) };
        let message = if message.is_empty() { strerror(code) } else { message };
        Error::new(code, message)
    }

    /// A failure detected by the binding itself, before or instead of calling the library.
    pub(crate) fn binding(kind: ErrorKind, message: impl Into<String>) -> Error {
        let code = kind.code().unwrap_or(sys::RWS_E_INTERNAL);
        Error { kind, code, message: message.into(), server_code: None, server_status: None }
    }

    pub(crate) fn with_server(mut self, code: Option<String>, status: i32) -> Error {
        self.server_code = code;
        self.server_status = (status != 0).then_some(status);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The raw `RWS_E_*` status code.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// A sentence about what went wrong, naming what to do about it where possible.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's `error.code` (e.g. `"rate_limit_exceeded"`), for errors the server sent.
    pub fn server_code(&self) -> Option<&str> {
        self.server_code.as_deref()
    }

    /// The HTTP-like status of a server error (e.g. 400, 401, 429), for errors the server sent.
    pub fn server_status(&self) -> Option<i32> {
        self.server_status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", strerror(self.code), self.code, self.message)?;
        if let Some(code) = &self.server_code {
            write!(f, " [server code {code}")?;
            if let Some(status) = self.server_status {
                write!(f, ", status {status}")?;
            }
            write!(f, "]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The library's short, static name of a status code (`rws_strerror`).
pub fn strerror(code: i32) -> String {
    // SAFETY: rws_strerror returns a static NUL-terminated string for any value.
    unsafe { cstr_to_string(sys::rws_strerror(code)) }
}

/// Copies a NUL-terminated library string; NULL gives "".
///
/// # Safety
/// `ptr` must be NULL or point at a NUL-terminated string valid for this call.
pub(crate) unsafe fn cstr_to_string(ptr: *const std::ffi::c_char) -> String {
    if ptr.is_null() {
        String::new()
    } else {
        CStr::from_ptr(ptr).to_string_lossy().into_owned()
    }
}

/// Turns a status into `Ok(status)` for `RWS_OK`/`RWS_DONE` and an [`Error`] otherwise.
pub(crate) fn check(status: c_int) -> Result<c_int, Error> {
    if status >= 0 {
        Ok(status)
    } else {
        Err(Error::last(status))
    }
}
