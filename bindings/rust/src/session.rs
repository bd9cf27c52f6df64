//! [`Session`]: one conversation chain, and its [`SessionOptions`].

use std::ffi::{c_char, c_int, CString};
use std::ops::ControlFlow;
use std::ptr;
use std::sync::Arc;

use crate::client::{c_string, Client, ClientHandle};
use crate::error::{check, Error};
use crate::event::Event;
use crate::stats::Stats;
use crate::request::RequestJson;
use crate::sys;
use crate::turn::Turn;

/// How requests of a session carry the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InputMode {
    /// Each request carries only its new input items; the session chains them to the last
    /// response with `previous_response_id` (the default).
    #[default]
    Incremental,
    /// Each request carries the whole conversation, as HTTP clients send it; the session sends
    /// only the new items when the request extends the previous one.
    FullHistory,
}

/// Options of a new [`Session`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SessionOptions {
    defaults_json: Option<String>,
    stream_id: Option<String>,
    input_mode: InputMode,
}

impl SessionOptions {
    /// Default options: no request defaults, the default lane, incremental input.
    pub fn new() -> SessionOptions {
        SessionOptions::default()
    }
    /// A JSON object merged into every request (e.g. model, instructions, tools, store); the
    /// request's own fields win.
    pub fn defaults(mut self, json: impl Into<String>) -> Self {
        self.defaults_json = Some(json.into());
        self
    }
    /// A named lane (`[A-Za-z0-9_.-]`, 1-256 characters), sent as `"stream_id"`.
    pub fn stream_id(mut self, id: impl Into<String>) -> Self {
        self.stream_id = Some(id.into());
        self
    }
    /// How requests carry the conversation (default [`InputMode::Incremental`]).
    pub fn input_mode(mut self, mode: InputMode) -> Self {
        self.input_mode = mode;
        self
    }
}

/// `rws_session_options` filled from [`SessionOptions`], with the C strings it points into.
struct CSessionOptions {
    raw: sys::rws_session_options,
    _defaults: Option<CString>,
    _stream_id: Option<CString>,
}

impl CSessionOptions {
    fn new(options: &SessionOptions) -> Result<CSessionOptions, Error> {
        let defaults = c_string("defaults", &options.defaults_json)?;
        let stream_id = c_string("stream_id", &options.stream_id)?;
        let mut o = std::mem::MaybeUninit::<sys::rws_session_options>::zeroed();
        // SAFETY: init fills the struct.
        unsafe { sys::rws_session_options_init(o.as_mut_ptr()) };
        // SAFETY: initialised above.
        let mut raw = unsafe { o.assume_init() };
        if let Some(d) = &defaults {
            raw.defaults_json = d.as_ptr();
            raw.defaults_len = d.as_bytes().len();
        }
        if let Some(s) = &stream_id {
            raw.stream_id = s.as_ptr();
        }
        raw.input_mode = match options.input_mode {
            InputMode::Incremental => sys::RWS_INPUT_INCREMENTAL,
            InputMode::FullHistory => sys::RWS_INPUT_FULL_HISTORY,
        };
        // The CStrings' heap buffers do not move with the struct, so the pointers stay valid.
        Ok(CSessionOptions { raw, _defaults: defaults, _stream_id: stream_id })
    }
}

/// The owned `rws_session`; holds the client alive (see `ClientHandle`).
pub(crate) struct SessionHandle {
    pub(crate) raw: *mut sys::rws_session,
    client: Arc<ClientHandle>,
}

// SAFETY: the header declares sessions thread-safe ("rws_session ... Thread-safe").
unsafe impl Send for SessionHandle {}
// SAFETY: as above.
unsafe impl Sync for SessionHandle {}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        // Freed once, after every turn of it (turns hold this Arc) and before the client (the
        // clone handed over is released after the free).
        crate::context::free_outside_callback(self.raw, sys::rws_session_free, self.client.clone());
    }
}

/// One conversation chain (one lane): it remembers the last response id, so each turn sends
/// only its new input items.
///
/// `Send + Sync`: turns may be started from any thread; they run one after another (a turn
/// started while another runs is queued). The session is freed when it and every
/// [`Turn`] of it are dropped; running and queued turns are cancelled then. Dropped inside
/// an event callback, it is freed on a short-lived helper thread.
#[must_use = "dropping a Session frees it and cancels its running and queued turns"]
pub struct Session {
    pub(crate) handle: Arc<SessionHandle>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("raw", &self.handle.raw).finish()
    }
}

impl Session {
    pub(crate) fn new(client: &Client, options: &SessionOptions) -> Result<Session, Error> {
        let c = CSessionOptions::new(options)?;
        let mut raw = ptr::null_mut();
        // SAFETY: the client handle is alive (we hold it); option strings outlive the call.
        check(unsafe { sys::rws_session_new(client.handle.raw, &c.raw, &mut raw) })?;
        Ok(Session { handle: Arc::new(SessionHandle { raw, client: client.handle.clone() }) })
    }

    /// Forks this session (0.5.0): a new session on a new lane of the same connection whose
    /// first turn continues from this session's last completed response, so it sends only its
    /// own new input. It has this session's defaults, input mode and transcript; see
    /// [`fork_with`](Session::fork_with) to name its lane or add defaults.
    ///
    /// This session's next turn waits until the fork's first response is in progress, so the
    /// response the fork continues from is still on the server. The two are independent
    /// afterwards. Never blocks on the network. Needs [`Features::lanes`](crate::Features::lanes).
    pub fn fork(&self) -> Result<Session, Error> {
        self.fork_with(&SessionOptions::new())
    }

    /// [`fork`](Session::fork) with `options`: its [`stream_id`](SessionOptions::stream_id)
    /// names the child's lane (unset: a generated one) and its
    /// [`defaults`](SessionOptions::defaults) are merged over the parent's (their fields win);
    /// the input mode is the parent's.
    ///
    /// Errors: [`InvalidJson`](crate::ErrorKind::InvalidJson) (defaults),
    /// [`InvalidStreamId`](crate::ErrorKind::InvalidStreamId).
    pub fn fork_with(&self, options: &SessionOptions) -> Result<Session, Error> {
        let c = CSessionOptions::new(options)?;
        let mut raw = ptr::null_mut();
        // SAFETY: this session is alive (we hold it); option strings outlive the call.
        check(unsafe { sys::rws_session_fork(self.handle.raw, &c.raw, &mut raw) })?;
        Ok(Session { handle: Arc::new(SessionHandle { raw, client: self.handle.client.clone() }) })
    }

    /// Starts a turn in pull mode: read its events with [`Turn::next_event`] or
    /// [`Turn::events`] on your own thread.
    ///
    /// `request` is a JSON object with the body fields of `POST /v1/responses`; pass only the
    /// new input items, the session adds `previous_response_id`. Never blocks on the network.
    /// Errors: [`InvalidJson`](crate::ErrorKind::InvalidJson),
    /// [`Unsupported`](crate::ErrorKind::Unsupported),
    /// [`RequestTooBig`](crate::ErrorKind::RequestTooBig) (nothing was sent). Failures of the
    /// exchange itself are the turn's result.
    ///
    /// `request` is JSON text (`&str`, `String`) or a [`Request`](crate::Request).
    pub fn start<R: RequestJson + ?Sized>(&self, request: &R) -> Result<Turn, Error> {
        Turn::start(self, &request.request_json(), None)
    }

    /// Starts a turn whose events go to `on_event`, called on the client's I/O thread for each
    /// event in order, the terminal one included.
    ///
    /// Return [`ControlFlow::Continue`] to go on or [`ControlFlow::Break`] to stop the turn
    /// (it ends with [`Aborted`](crate::ErrorKind::Aborted)). The closure must return quickly:
    /// while it runs no other event of this client is processed. A panic in it stops the turn
    /// the same way, and its message appears in the turn's error; it never unwinds into the
    /// library. The closure is dropped with the [`Turn`].
    pub fn start_with_callback<R, F>(&self, request: &R, on_event: F) -> Result<Turn, Error>
    where
        R: RequestJson + ?Sized,
        F: FnMut(&Event<'_>) -> ControlFlow<()> + Send + 'static,
    {
        Turn::start(self, &request.request_json(), Some(Box::new(on_event)))
    }

    /// Warms the session before its first real turn. `None` opens a connection (the handshake
    /// only); a request also prepares the chain on the server (`"generate": false`), so the
    /// next turn continues from it. The returned turn ends like any other.
    pub fn prewarm(&self, request: Option<&str>) -> Result<Turn, Error> {
        Turn::prewarm(self, request)
    }

    /// The id of the session's last completed response, `None` before the first.
    pub fn last_response_id(&self) -> Result<Option<String>, Error> {
        self.copy_out(sys::rws_session_last_response_id)
    }

    /// The lane (`stream_id`) the session's requests carry now (0.5.0): its own, a generated
    /// `"rws.N"` on a shared connection, or `None` for the default lane or while it holds no
    /// lane. It can change when the session moves to another connection.
    pub fn stream_id(&self) -> Result<Option<String>, Error> {
        self.copy_out(sys::rws_session_stream_id)
    }

    /// The id of the response this session was forked from (0.5.0); `None` when it is not a
    /// fork (or was forked from a session without a response).
    pub fn fork_parent_id(&self) -> Result<Option<String>, Error> {
        self.copy_out(sys::rws_session_fork_parent_id)
    }

    /// A string the library copies out as `rws_session_last_response_id` does; `None` when empty.
    fn copy_out(&self, copy: unsafe extern "C" fn(*mut sys::rws_session, *mut c_char, usize) -> c_int) -> Result<Option<String>, Error> {
        // SAFETY: a NULL buffer of length 0 asks for the length.
        let len = check(unsafe { copy(self.handle.raw, ptr::null_mut(), 0) })?;
        if len == 0 {
            return Ok(None);
        }
        // The value can change between the two calls (a turn may end): retry with the new size.
        let mut buf = vec![0u8; len as usize + 1];
        loop {
            // SAFETY: the buffer holds buf.len() bytes.
            let len = check(unsafe { copy(self.handle.raw, buf.as_mut_ptr().cast::<c_char>(), buf.len()) })? as usize;
            if len == 0 {
                return Ok(None); // reset in between
            }
            if len < buf.len() {
                buf.truncate(len);
                return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
            }
            buf.resize(len + 1, 0);
        }
    }

    /// Forgets the chain: the next turn starts a new conversation.
    pub fn reset(&self) -> Result<(), Error> {
        // SAFETY: the handle is alive.
        check(unsafe { sys::rws_session_reset(self.handle.raw) }).map(drop)
    }

    /// Counters of this session since it was created.
    pub fn stats(&self) -> Result<Stats, Error> {
        Stats::read(|stats, size| unsafe { sys::rws_session_stats(self.handle.raw, stats, size) })
    }
}
