//! `Turn` as a `Future` and `poll_next_event`, driven by a minimal single-threaded executor
//! (below, std only): the executor's thread only parks, so every wake-up proves the library's
//! notification fd reached the binding's waker thread.

mod common;

use std::future::Future;
use std::net::TcpListener;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use common::Sim;
use responses_ws::{Error, ErrorKind, EventType, Request, TurnResult};

/// Unparks the executor's thread and counts the wake-ups.
struct ThreadWaker {
    thread: Thread,
    wakes: AtomicUsize,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs every future to completion on this thread; between rounds it parks until a waker
/// fires (no polling loop, no sleep). `between` runs after each round with the number of
/// tasks still pending. Returns the outputs in order and the number of wake-ups.
fn run_all<'a, T>(mut tasks: Vec<Task<'a, T>>, mut between: impl FnMut(usize)) -> (Vec<T>, usize) {
    let waker_state = Arc::new(ThreadWaker { thread: thread::current(), wakes: AtomicUsize::new(0) });
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut outputs: Vec<Option<T>> = tasks.iter().map(|_| None).collect();
    loop {
        for (task, output) in tasks.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                if let Poll::Ready(value) = task.as_mut().poll(&mut cx) {
                    *output = Some(value);
                }
            }
        }
        let pending = outputs.iter().filter(|o| o.is_none()).count();
        if pending == 0 {
            let wakes = waker_state.wakes.load(Ordering::SeqCst);
            return (outputs.into_iter().map(Option::unwrap).collect(), wakes);
        }
        between(pending);
        thread::park(); // returns at once if a wake-up came since the last park
    }
}

#[test]
fn two_turns_stream_concurrently_on_one_thread() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let sessions = [client.session().unwrap(), client.session().unwrap()];
    let mut turns: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| s.start(&Request::new("gpt-5.6").store(false).input(&format!("task{i} says hi"))).unwrap())
        .collect();
    let tasks: Vec<Task<'_, (String, TurnResult)>> = turns
        .drain(..)
        .map(|mut turn| {
            Box::pin(async move {
                let mut text = String::new();
                let mut last_seq = -1;
                while let Some(event) = turn.next_event_async().await.unwrap() {
                    let event = event.as_event();
                    assert!(event.sequence_number().unwrap() > last_seq, "events in order");
                    last_seq = event.sequence_number().unwrap();
                    if event.kind() == EventType::OutputTextDelta {
                        text.push_str(event.delta().unwrap());
                    }
                }
                (text, turn.await.unwrap())
            }) as Task<'_, _>
        })
        .collect();
    let (outputs, _) = run_all(tasks, |_| {});
    for (i, (text, result)) in outputs.iter().enumerate() {
        assert!(text.starts_with(&format!("You said: \"task{i} says hi\".")), "turn {i}: {text:?}");
        assert!(result.response_id.as_deref().is_some_and(|id| id.starts_with("resp_")));
        assert!(result.error.is_none());
    }
}

#[test]
fn awaiting_a_turn_discards_unread_events_and_gives_the_result() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let first = session.start(&Request::new("gpt-5.6").store(false).input("one")).unwrap();
    let (results, _) = run_all(vec![Box::pin(first) as Task<'_, Result<TurnResult, Error>>], |_| {});
    let result = results.into_iter().next().unwrap().unwrap();
    // The session chained it: the next turn is incremental.
    let second = session.start(&Request::new("gpt-5.6").store(false).input("two")).unwrap();
    let (results, _) = run_all(vec![Box::pin(second) as Task<'_, Result<TurnResult, Error>>], |_| {});
    let second = results.into_iter().next().unwrap().unwrap();
    assert_ne!(result.response_id, second.response_id);
    assert!(second.flags.incremental(), "the second turn continued the first: {:?}", second.flags);
}

#[test]
fn a_pending_turn_is_woken_by_the_library_when_it_ends() {
    // A server that accepts and never answers: the turn cannot make progress by itself, so
    // the first poll is certainly Pending; cancelling it ends it, and only the library's fd
    // (through the waker thread) can wake the parked executor.
    // The kernel completes the TCP handshake from the listen backlog; nobody ever accepts.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let client = responses_ws::Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(common::API_KEY)
        .connect_timeout(Duration::from_secs(3600)) // only the cancel below ends the turn
        .build()
        .unwrap();
    let session = client.session().unwrap();
    let turn = session.start(&Request::new("gpt-5.6").input("anyone?")).unwrap();
    let cancel = turn.cancel_handle();
    let mut rounds = 0;
    let (results, wakes) = run_all(vec![Box::pin(turn) as Task<'_, Result<TurnResult, Error>>], |pending| {
        rounds += 1;
        assert_eq!(pending, 1);
        if rounds == 1 {
            assert!(cancel.cancel().unwrap(), "the turn was still running");
        }
    });
    let error = results.into_iter().next().unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
    assert!(wakes >= 1, "the executor was woken by the library");
    drop(silent);
}

#[test]
fn a_callback_turn_cannot_be_awaited() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let turn = session.start_with_callback(&Request::new("gpt-5.6").input("hi"), |_| ControlFlow::Continue(())).unwrap();
    let (results, _) = run_all(vec![Box::pin(turn) as Task<'_, Result<TurnResult, Error>>], |_| {});
    let error = results.into_iter().next().unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidState, "{error}");
}
