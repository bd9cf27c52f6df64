//! The waker thread behind `Turn`'s `Future` and `poll_next_event`: one std thread per process
//! that `poll(2)`s the notification fds (`rws_turn_notify_fd`) of turns whose task is waiting,
//! and wakes each task once its fd is readable.
//!
//! Why a thread and not the caller's event loop: std has no reactor, and the binding must work
//! with any executor (or none). The fds are level-triggered and stay readable until the turn is
//! pulled, so a registration is one-shot: the thread wakes the task and forgets the fd; the
//! task's next poll pulls, and registers again only if the pull found nothing. Tokio users can
//! skip this thread entirely with `AsyncFd` on [`Turn::notify_fd`](crate::Turn::notify_fd).

use std::ffi::{c_int, c_short, c_ulong};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::Waker;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

const POLLIN: c_short = 0x001;

extern "C" {
    // POSIX poll(2) from the C library every Rust program on Linux links.
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
}

/// Tasks waiting for their turn's fd: (token, fd, waker). A handful at a time, so a Vec.
static WAITING: Mutex<Vec<(u64, RawFd, Waker)>> = Mutex::new(Vec::new());
/// Written to after every change of WAITING, so the thread rebuilds its poll set. Creating it
/// starts the thread.
static INTERRUPT: OnceLock<UnixStream> = OnceLock::new();
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A unique key for one turn's registration.
pub(crate) fn token() -> u64 {
    NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
}

fn waiting() -> MutexGuard<'static, Vec<(u64, RawFd, Waker)>> {
    // A panic while holding the lock cannot leave the Vec inconsistent: ignore poisoning.
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

fn interrupt_stream() -> &'static UnixStream {
    INTERRUPT.get_or_init(|| {
        let (interrupt, listen) = UnixStream::pair().expect("a socketpair for the responses-ws waker thread");
        interrupt.set_nonblocking(true).expect("a non-blocking socket");
        listen.set_nonblocking(true).expect("a non-blocking socket");
        std::thread::Builder::new()
            .name("responses-ws-waker".into())
            .spawn(move || run(listen))
            .expect("the responses-ws waker thread");
        interrupt
    })
}

/// Wakes `waker` once `fd` is readable (at once if it already is). Replaces an earlier
/// registration under the same token.
pub(crate) fn wake_when_readable(token: u64, fd: RawFd, waker: &Waker) {
    let stream = interrupt_stream();
    {
        let mut waiting = waiting();
        match waiting.iter_mut().find(|(t, _, _)| *t == token) {
            Some((_, old_fd, old_waker)) if *old_fd == fd && old_waker.will_wake(waker) => return,
            Some(entry) => *entry = (token, fd, waker.clone()),
            None => waiting.push((token, fd, waker.clone())),
        }
    }
    interrupt(stream);
}

/// Forgets the registration, before the turn (and with it the fd) is freed.
pub(crate) fn forget(token: u64) {
    let Some(stream) = INTERRUPT.get() else { return };
    let removed = {
        let mut waiting = waiting();
        let before = waiting.len();
        waiting.retain(|(t, _, _)| *t != token);
        waiting.len() != before
    };
    if removed {
        interrupt(stream);
    }
}

fn interrupt(mut stream: &UnixStream) {
    // A full socket buffer means a wake-up is already pending: nothing is lost.
    let _ = stream.write(&[1]);
}

fn run(mut listen: UnixStream) -> ! {
    let mut fds: Vec<PollFd> = Vec::new();
    let mut tokens: Vec<u64> = Vec::new();
    loop {
        fds.clear();
        tokens.clear();
        fds.push(PollFd { fd: listen.as_raw_fd(), events: POLLIN, revents: 0 });
        for &(token, fd, _) in waiting().iter() {
            fds.push(PollFd { fd, events: POLLIN, revents: 0 });
            tokens.push(token);
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs for the call's duration.
        let ready = unsafe { poll(fds.as_mut_ptr(), fds.len() as c_ulong, -1) };
        if ready < 0 {
            continue; // EINTR; any other error shows up again as revents on the next round
        }
        if fds[0].revents != 0 {
            let mut sink = [0u8; 64];
            while matches!(listen.read(&mut sink), Ok(n) if n > 0) {}
        }
        // Readable, or POLLNVAL/POLLHUP/POLLERR (a freed turn): wake the task either way; its
        // poll finds out what happened. An entry re-registered with another fd meanwhile stays.
        let mut woken = Vec::new();
        {
            let mut waiting = waiting();
            for (entry, token) in fds[1..].iter().zip(&tokens) {
                if entry.revents == 0 {
                    continue;
                }
                if let Some(i) = waiting.iter().position(|(t, fd, _)| t == token && *fd == entry.fd) {
                    woken.push(waiting.swap_remove(i).2);
                }
            }
        }
        woken.into_iter().for_each(Waker::wake);
    }
}
