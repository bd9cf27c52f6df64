//! [`Turn`]: one `response.create` in flight, its events, result and cancellation.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::future::Future;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::client::Transport;
use crate::error::{check, Error, ErrorKind};
use crate::event::{Event, OwnedEvent};
use crate::reactor;
use crate::session::{Session, SessionHandle};
use crate::sys;

type Callback = Box<dyn FnMut(&Event<'_>) -> ControlFlow<()> + Send>;

/// What a callback-mode turn hands the library as `user_data`. Boxed, so its address is
/// stable; freed only after `rws_turn_free` returned (then the callback never runs again).
struct CallbackState {
    /// Only the client's I/O thread touches it, one event at a time (header: THREADS).
    callback: UnsafeCell<Callback>,
    /// Set once the binding stopped the turn itself (a panic, an event that is not UTF-8).
    stopped: AtomicBool,
    /// Why, for the turn's error message.
    failure: Mutex<Option<String>>,
}

impl CallbackState {
    fn fail(&self, why: String) -> c_int {
        self.stopped.store(true, Ordering::Release);
        if let Ok(mut failure) = self.failure.lock() {
            failure.get_or_insert(why);
        }
        sys::RWS_STOP
    }
}

/// The `rws_event_cb` of every callback-mode turn: runs the closure, never lets a panic
/// unwind into the library.
unsafe extern "C" fn trampoline(user_data: *mut c_void, event: *const sys::rws_event) -> c_int {
    if user_data.is_null() || event.is_null() {
        return sys::RWS_CONTINUE;
    }
    // SAFETY: user_data is the CallbackState of this turn, alive until after rws_turn_free.
    let state = &*(user_data as *const CallbackState);
    if state.stopped.load(Ordering::Acquire) {
        return sys::RWS_STOP;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _scope = crate::context::CallbackScope::enter();
        // SAFETY: the event is valid during this call; the closure gets a borrow that cannot
        // escape it (the higher-ranked lifetime of Event<'_>).
        let event = Event::from_raw(&*event)?;
        // SAFETY: only this thread calls the closure, and never re-entrantly.
        Ok::<_, Error>((*state.callback.get())(&event))
    }));
    match outcome {
        Ok(Ok(ControlFlow::Continue(()))) => sys::RWS_CONTINUE,
        Ok(Ok(ControlFlow::Break(()))) => sys::RWS_STOP,
        Ok(Err(error)) => state.fail(error.message().to_owned()),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".to_owned());
            // Dropping a payload can panic too; it must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            state.fail(format!("the event callback panicked: {what}"))
        }
    }
}

/// The owned `rws_turn` (plus its callback), shared with [`CancelHandle`]s.
struct TurnHandle {
    raw: *mut sys::rws_turn,
    callback: Option<Box<CallbackState>>,
    /// This turn's key in the waker thread (crate::reactor), for the async API.
    token: u64,
    _session: Arc<SessionHandle>,
}

impl TurnHandle {
    fn new(raw: *mut sys::rws_turn, callback: Option<Box<CallbackState>>, session: &Session) -> Arc<TurnHandle> {
        Arc::new(TurnHandle { raw, callback, token: reactor::token(), _session: session.handle.clone() })
    }
}

// SAFETY: the header allows rws_turn_cancel, rws_turn_get_result, rws_turn_wait and
// rws_turn_free from any thread; the one single-threaded call (rws_turn_next_event[s]) is only
// reachable through `&mut Turn`. The callback state is only touched by the I/O thread and
// after rws_turn_free.
unsafe impl Send for TurnHandle {}
// SAFETY: as above.
unsafe impl Sync for TurnHandle {}

impl Drop for TurnHandle {
    fn drop(&mut self) {
        // The waker thread must stop polling the fd before rws_turn_free closes it.
        reactor::forget(self.token);
        // SAFETY: freed once; cancels a running turn; after it returns the callback is never
        // called again, so `callback` (dropped after this body) is no longer referenced.
        unsafe { sys::rws_turn_free(self.raw) }
    }
}

/// One `response.create` in flight: its events, its result, its cancellation.
///
/// Dropping a turn cancels it if it is still running and frees it. `Turn` is `Send + Sync`:
/// waiting, reading the result and cancelling work through `&self` from any thread; pulling
/// events needs `&mut self`, so one thread pulls at a time and an [`Event`] cannot outlive the
/// next pull.
#[must_use = "dropping a Turn cancels it: keep it and read its events, .wait() or .await it"]
pub struct Turn {
    handle: Arc<TurnHandle>,
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("raw", &self.handle.raw)
            .field("callback", &self.handle.callback.is_some())
            .finish()
    }
}

/// A non-empty pointer for a request: the header reads length 0 as "NUL-terminated".
fn request_ptr(request: &str) -> *const c_char {
    if request.is_empty() {
        c"".as_ptr()
    } else {
        request.as_ptr().cast()
    }
}

fn timeout_ms(timeout: Option<Duration>) -> i32 {
    timeout.map_or(-1, |d| i32::try_from(d.as_millis()).unwrap_or(i32::MAX))
}

impl Turn {
    pub(crate) fn start(session: &Session, request: &str, callback: Option<Callback>) -> Result<Turn, Error> {
        let state = callback.map(|callback| {
            Box::new(CallbackState {
                callback: UnsafeCell::new(callback),
                stopped: AtomicBool::new(false),
                failure: Mutex::new(None),
            })
        });
        let mut options = std::mem::MaybeUninit::<sys::rws_turn_options>::zeroed();
        // SAFETY: init fills the struct.
        unsafe { sys::rws_turn_options_init(options.as_mut_ptr()) };
        // SAFETY: initialised above.
        let mut options = unsafe { options.assume_init() };
        if let Some(state) = &state {
            options.on_event = Some(trampoline);
            options.user_data = (&**state as *const CallbackState).cast_mut().cast();
        }
        let mut raw = ptr::null_mut();
        // SAFETY: the session is alive; the request is copied; user_data stays valid until the
        // TurnHandle is dropped, which frees the turn first.
        check(unsafe {
            sys::rws_turn_start(session.handle.raw, request_ptr(request), request.len(), &options, &mut raw)
        })?;
        Ok(Turn { handle: TurnHandle::new(raw, state, session) })
    }

    pub(crate) fn prewarm(session: &Session, request: Option<&str>) -> Result<Turn, Error> {
        let (ptr, len) = request.map_or((ptr::null(), 0), |r| (request_ptr(r), r.len()));
        let mut raw = ptr::null_mut();
        // SAFETY: the session is alive; the request is copied.
        check(unsafe { sys::rws_session_prewarm(session.handle.raw, ptr, len, &mut raw) })?;
        Ok(Turn { handle: TurnHandle::new(raw, None, session) })
    }

    /// Pull mode: blocks until the next event. `Ok(None)` when the turn has ended and every
    /// event was returned (then read [`wait`](Turn::wait) or [`result`](Turn::result)).
    ///
    /// Errors: [`InvalidState`](ErrorKind::InvalidState) for a callback-mode turn or inside an
    /// event callback; [`Protocol`](ErrorKind::Protocol) for an event that is not UTF-8.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        self.pull(None)
    }

    /// Like [`next_event`](Turn::next_event), waiting at most `timeout` (zero polls).
    /// A timeout is the error [`Again`](ErrorKind::Again); the turn goes on.
    pub fn next_event_timeout(&mut self, timeout: Duration) -> Result<Option<Event<'_>>, Error> {
        self.pull(Some(timeout))
    }

    fn pull(&mut self, timeout: Option<Duration>) -> Result<Option<Event<'_>>, Error> {
        let mut event: *const sys::rws_event = ptr::null();
        // SAFETY: &mut self makes this the only puller; the event stays valid until the next
        // pull or free, both of which need the borrow returned here to have ended.
        let status = check(unsafe { sys::rws_turn_next_event(self.handle.raw, timeout_ms(timeout), &mut event) })?;
        if status == sys::RWS_DONE || event.is_null() {
            return Ok(None);
        }
        // SAFETY: as above.
        unsafe { Event::from_raw(&*event) }.map(Some)
    }

    /// Pull mode as an iterator of owned events, fetched in batches (`rws_turn_next_events`).
    /// It ends when the turn has ended and every event was returned; then read
    /// [`wait`](Turn::wait). An error is yielded once, then the iterator ends.
    pub fn events(&mut self) -> Events<'_> {
        Events { turn: self, batch: [ptr::null(); BATCH], len: 0, next: 0, finished: false }
    }

    /// Blocks until the turn ends. `Ok` with the result when it succeeded; otherwise the
    /// turn's error (kind, message, server code and status). A pull-mode turn keeps its
    /// events queued for [`next_event`](Turn::next_event).
    ///
    /// Errors also: [`InvalidState`](ErrorKind::InvalidState) inside an event callback.
    pub fn wait(&self) -> Result<TurnResult, Error> {
        self.wait_for(None)
    }

    /// Like [`wait`](Turn::wait), giving up after `timeout` with [`Again`](ErrorKind::Again)
    /// (the turn goes on).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<TurnResult, Error> {
        self.wait_for(Some(timeout))
    }

    fn wait_for(&self, timeout: Option<Duration>) -> Result<TurnResult, Error> {
        // SAFETY: the handle is alive.
        let status = unsafe { sys::rws_turn_wait(self.handle.raw, timeout_ms(timeout)) };
        if status == sys::RWS_E_AGAIN || status == sys::RWS_E_INVALID_STATE || status == sys::RWS_E_INVALID_ARGUMENT {
            return Err(Error::last(status));
        }
        match self.result() {
            Some(result) => match result.error {
                None => Ok(result),
                Some(error) => Err(error),
            },
            None => Err(Error::binding(
                ErrorKind::Internal,
                format!("rws_turn_wait returned {status} but the turn has no result yet; please report this"),
            )),
        }
    }

    /// The outcome, without blocking: `None` while the turn runs. A failed turn gives a
    /// result too, with [`TurnResult::error`] set (usage and ids of failed responses
    /// included).
    pub fn result(&self) -> Option<TurnResult> {
        // SAFETY: rws_turn_result is integers and views; all-zero is valid.
        let mut raw: sys::rws_turn_result = unsafe { std::mem::zeroed() };
        // SAFETY: the library writes at most size_of bytes; the views live until the turn is
        // freed, and are copied before this returns.
        let status =
            unsafe { sys::rws_turn_get_result(self.handle.raw, &mut raw, std::mem::size_of::<sys::rws_turn_result>()) };
        if status != sys::RWS_OK {
            return None;
        }
        Some(unsafe { TurnResult::from_raw(&raw, self.callback_failure()) })
    }

    fn callback_failure(&self) -> Option<String> {
        let state = self.handle.callback.as_ref()?;
        state.failure.lock().ok()?.clone()
    }

    /// Cancels the turn (the connection is closed; the session reconnects for its next turn).
    /// `Ok(true)` if it was cancelled, `Ok(false)` if it had already ended. No event is
    /// delivered after this returns.
    pub fn cancel(&self) -> Result<bool, Error> {
        cancel(&self.handle)
    }

    /// The `rws_turn` for calls that take the turn by pointer from any thread (steering).
    pub(crate) fn raw(&self) -> *mut sys::rws_turn {
        self.handle.raw
    }

    /// A handle that cancels this turn from any thread, even after the turn was moved.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { turn: Arc::downgrade(&self.handle) }
    }
}

/// # Async
///
/// A pull-mode turn is a [`Future`] of its result, and [`poll_next_event`](Turn::poll_next_event)
/// / [`next_event_async`](Turn::next_event_async) read its events without blocking the
/// executor's thread. Both are woken through the library's notification fd
/// ([`notify_fd`](Turn::notify_fd)) by one std thread per process that `poll(2)`s the fds of
/// waiting turns; they work with any executor and need no dependency. Callback-mode turns have
/// no fd: polling one gives [`InvalidState`](ErrorKind::InvalidState).
impl Turn {
    /// The turn's notification fd: readable while a pull
    /// ([`next_event_timeout`](Turn::next_event_timeout) with a zero timeout) would not fail
    /// with [`Again`](ErrorKind::Again). Level-triggered; register it with your event loop
    /// (tokio: `AsyncFd::with_interest(fd, Interest::READABLE)`, see the README) and never read,
    /// write or close it. Valid as long as the turn.
    ///
    /// Errors: [`InvalidState`](ErrorKind::InvalidState) for a callback-mode turn.
    pub fn notify_fd(&self) -> Result<BorrowedFd<'_>, Error> {
        // SAFETY: the handle is alive.
        let fd = unsafe { sys::rws_turn_notify_fd(self.handle.raw) };
        if fd < 0 {
            return Err(Error::last(fd));
        }
        // SAFETY: the fd is open until rws_turn_free, which needs this borrow to have ended.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Polls for the next event: `Ready(Ok(Some(event)))`, `Ready(Ok(None))` once the turn has
    /// ended and every event was returned, or `Pending` after arranging for `cx`'s waker to be
    /// woken when one arrives. The poll-based stream of this turn's events (adapt it with
    /// `futures::stream::poll_fn(|cx| turn.poll_next_event(cx).map(Result::transpose))`).
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<OwnedEvent>, Error>> {
        match self.pull(Some(Duration::ZERO)) {
            Ok(event) => return Poll::Ready(Ok(event.map(|e| e.to_owned()))),
            Err(error) if error.kind() != ErrorKind::Again => return Poll::Ready(Err(error)),
            Err(_) => {}
        }
        let fd = match self.notify_fd() {
            Ok(fd) => fd.as_raw_fd(),
            Err(error) => return Poll::Ready(Err(error)),
        };
        // Level-triggered: an event that arrived since the pull above makes the fd readable
        // already, and the thread wakes the task at once. No wake-up can be lost.
        reactor::wake_when_readable(self.handle.token, fd, cx.waker());
        Poll::Pending
    }

    /// The next event, as a future: `Ok(None)` once the turn has ended and every event was
    /// returned. See [`poll_next_event`](Turn::poll_next_event).
    pub fn next_event_async(&mut self) -> NextEvent<'_> {
        NextEvent { turn: self }
    }
}

/// The future of [`Turn::next_event_async`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled or .awaited"]
pub struct NextEvent<'t> {
    turn: &'t mut Turn,
}

impl Future for NextEvent<'_> {
    type Output = Result<Option<OwnedEvent>, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.turn.poll_next_event(cx)
    }
}

/// Awaiting a turn gives its result, as [`wait`](Turn::wait) does, without blocking the
/// thread. Events not read yet are read and dropped on the way; read them first with
/// [`next_event_async`](Turn::next_event_async) when you need them:
///
/// ```no_run
/// # async fn demo(session: &responses_ws::Session) -> Result<(), responses_ws::Error> {
/// let mut turn = session.start(&responses_ws::Request::new("gpt-5.6").input("Hello!"))?;
/// while let Some(event) = turn.next_event_async().await? {
///     print!("{}", event.as_event().delta().unwrap_or(""));
/// }
/// let result = turn.await?;
/// println!("\n{:?} output tokens", result.output_tokens);
/// # Ok(()) }
/// ```
impl Future for Turn {
    type Output = Result<TurnResult, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.poll_next_event(cx) {
                Poll::Ready(Ok(Some(_))) => continue,
                // Every event was returned: the turn has ended, wait() returns at once.
                Poll::Ready(Ok(None)) => return Poll::Ready(self.wait()),
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn cancel(handle: &TurnHandle) -> Result<bool, Error> {
    // SAFETY: the handle is alive.
    check(unsafe { sys::rws_turn_cancel(handle.raw) }).map(|s| s == sys::RWS_OK)
}

/// Cancels a [`Turn`] from another thread. `Send + Sync + Clone`; it does not keep the turn
/// alive: once the turn is dropped, [`cancel`](CancelHandle::cancel) does nothing.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    turn: Weak<TurnHandle>,
}

impl fmt::Debug for TurnHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:p}", self.raw)
    }
}

impl CancelHandle {
    /// Cancels the turn. `Ok(true)` if it was cancelled, `Ok(false)` if it had already ended
    /// or was dropped.
    pub fn cancel(&self) -> Result<bool, Error> {
        match self.turn.upgrade() {
            Some(handle) => cancel(&handle),
            None => Ok(false),
        }
    }
}

const BATCH: usize = 64;

/// Iterator of a pull-mode turn's events, made by [`Turn::events`]. Fetches up to 64 events
/// per library call and copies each into an [`OwnedEvent`].
pub struct Events<'t> {
    turn: &'t mut Turn,
    batch: [*const sys::rws_event; BATCH],
    len: usize,
    next: usize,
    finished: bool,
}

impl fmt::Debug for Events<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("turn", &self.turn).field("finished", &self.finished).finish()
    }
}

impl Iterator for Events<'_> {
    type Item = Result<OwnedEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        if self.next == self.len {
            let mut count = 0usize;
            // SAFETY: the iterator borrows the turn mutably, so it is the only puller; the
            // batch's events stay valid until the next call, made only after all are copied.
            let status = unsafe {
                sys::rws_turn_next_events(self.turn.handle.raw, -1, self.batch.as_mut_ptr(), BATCH, &mut count)
            };
            match check(status) {
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error));
                }
                Ok(sys::RWS_DONE) => {
                    self.finished = true;
                    return None;
                }
                Ok(_) => {
                    self.len = count.min(BATCH);
                    self.next = 0;
                    if self.len == 0 {
                        self.finished = true;
                        return Some(Err(Error::binding(
                            ErrorKind::Internal,
                            "rws_turn_next_events returned RWS_OK with no event; please report this",
                        )));
                    }
                }
            }
        }
        let raw = self.batch[self.next];
        self.next += 1;
        // SAFETY: see above; copied before the next library call.
        let event = unsafe { Event::from_raw(&*raw) }.map(|e| e.to_owned());
        if event.is_err() {
            self.finished = true;
        }
        Some(event)
    }
}

impl std::iter::FusedIterator for Events<'_> {}

/// How a turn got through: `RWS_TURN_*` bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TurnFlags(pub u32);

impl TurnFlags {
    /// Sent as `previous_response_id` plus the new items only.
    pub fn incremental(self) -> bool {
        self.0 & sys::RWS_TURN_INCREMENTAL != 0
    }
    /// The full context had to be sent (cache miss, new connection).
    pub fn full_resend(self) -> bool {
        self.0 & sys::RWS_TURN_FULL_RESEND != 0
    }
    /// A lost or refused connection was replaced.
    pub fn reconnected(self) -> bool {
        self.0 & sys::RWS_TURN_RECONNECTED != 0
    }
    /// Went over HTTP/SSE because WebSocket mode was unavailable.
    pub fn fallback(self) -> bool {
        self.0 & sys::RWS_TURN_FALLBACK != 0
    }
    /// Started on a new connection that replaced an aged one.
    pub fn rotated(self) -> bool {
        self.0 & sys::RWS_TURN_ROTATED != 0
    }
}

/// The outcome of a turn, copied out of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnResult {
    /// `None` when the turn succeeded; else why it failed. Set too when the event callback
    /// panicked, even if the response itself completed.
    pub error: Option<Error>,
    /// The response's id (also for failed and incomplete responses).
    pub response_id: Option<String>,
    /// `"completed"`, `"incomplete"`, `"failed"`, ...
    pub response_status: Option<String>,
    /// The final Response object from the terminal event, as JSON.
    pub response_json: Option<String>,
    /// Usage: input tokens, when the server sent usage.
    pub input_tokens: Option<u64>,
    /// Usage: output tokens.
    pub output_tokens: Option<u64>,
    /// Usage: `input_tokens_details.cached_tokens`.
    pub cached_input_tokens: Option<u64>,
    /// Usage: `output_tokens_details.reasoning_tokens`.
    pub reasoning_tokens: Option<u64>,
    /// The transport the turn used.
    pub transport: Transport,
    /// Request payload bytes written.
    pub bytes_sent: u64,
    /// Event payload bytes received.
    pub bytes_received: u64,
    /// Turn start → terminal event.
    pub elapsed: Duration,
    /// Turn start → first event.
    pub first_event: Duration,
    /// How the turn got through.
    pub flags: TurnFlags,
    /// The server's `x-request-id` for the turn (of the WebSocket upgrade or the HTTP answer
    /// that carried it): quote it to support. `None` when the server sent none (or the
    /// library is older than 0.3.0).
    pub request_id: Option<String>,
}

impl TurnResult {
    /// # Safety
    /// The views in `raw` must be valid (the turn not yet freed).
    unsafe fn from_raw(raw: &sys::rws_turn_result, callback_failure: Option<String>) -> TurnResult {
        let text = |s: sys::rws_str| -> Option<String> {
            if s.ptr.is_null() {
                None
            } else {
                Some(String::from_utf8_lossy(std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len)).into_owned())
            }
        };
        let tokens = |n: i64| u64::try_from(n).ok();
        let error = match (raw.status, callback_failure) {
            (_, Some(why)) => Some(Error::new(sys::RWS_E_ABORTED, why)),
            (sys::RWS_OK, None) => None,
            (status, None) => {
                let message = text(raw.error_message).unwrap_or_else(|| crate::error::strerror(status));
                Some(Error::new(status, message).with_server(text(raw.error_code), raw.error_status))
            }
        };
        TurnResult {
            error,
            response_id: text(raw.response_id),
            response_status: text(raw.response_status),
            response_json: text(raw.response_json),
            input_tokens: tokens(raw.input_tokens),
            output_tokens: tokens(raw.output_tokens),
            cached_input_tokens: tokens(raw.cached_input_tokens),
            reasoning_tokens: tokens(raw.reasoning_tokens),
            transport: Transport::from_raw(raw.transport),
            bytes_sent: raw.bytes_sent,
            bytes_received: raw.bytes_received,
            elapsed: Duration::from_micros(raw.elapsed_us),
            first_event: Duration::from_micros(raw.first_event_us),
            flags: TurnFlags(raw.flags),
            request_id: if raw.struct_size >= std::mem::size_of::<sys::rws_turn_result>() { text(raw.request_id) } else { None },
        }
    }

    /// True when the turn succeeded.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}
