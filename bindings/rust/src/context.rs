//! Knowing whether this thread is running one of our event callbacks.
//!
//! Inside a callback the library refuses to free a client or a session (it would have to wait
//! for an I/O thread): `rws_client_free` and `rws_session_free` return without freeing. A
//! closure can own clients and sessions, so when one is dropped there the binding hands the
//! free to a short-lived helper thread, where it is allowed, instead of leaking it.

use std::cell::Cell;

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as inside a callback until the guard is dropped (even by a panic).
pub(crate) struct CallbackScope {
    was: bool,
}

impl CallbackScope {
    pub(crate) fn enter() -> CallbackScope {
        CallbackScope { was: IN_CALLBACK.with(|c| c.replace(true)) }
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        IN_CALLBACK.with(|c| c.set(self.was));
    }
}

pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.with(Cell::get)
}

/// A raw handle moved to the helper thread that frees it.
struct SendPtr<T>(*mut T);
// SAFETY: clients and sessions are thread-safe handles (header: OBJECTS); the pointer is
// only used by the helper thread, once.
unsafe impl<T> Send for SendPtr<T> {}

/// Calls `free(raw)` here, or on a helper thread when this thread runs a callback. `keep`
/// (e.g. the session's client) is dropped after the free, on the same thread.
pub(crate) fn free_outside_callback<T: 'static, K: Send + 'static>(
    raw: *mut T,
    free: unsafe extern "C" fn(*mut T),
    keep: K,
) {
    if !in_callback() {
        // SAFETY: the caller hands over its only reference.
        unsafe { free(raw) };
        drop(keep);
        return;
    }
    let raw = SendPtr(raw);
    let spawned = std::thread::Builder::new().name("responses-ws-free".into()).spawn(move || {
        let raw = raw;
        // SAFETY: as above; not a callback thread.
        unsafe { free(raw.0) };
        drop(keep);
    });
    // Without a thread the handle is leaked: better than a trap or a deadlock.
    drop(spawned);
}
