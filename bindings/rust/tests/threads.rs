//! Cancellation from another thread, sharing one client between threads, drop order.

mod common;

use std::sync::Arc;
use std::thread;

use common::{json_number, Sim};
use responses_ws::{CancelHandle, Client, ErrorKind, EventType, Session, Turn};

const HELLO: &str = r#"{"model":"gpt-5.6","input":"Hello","store":false}"#;

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
    send_sync::<Session>();
    send_sync::<Turn>();
    send_sync::<CancelHandle>();
    send_sync::<responses_ws::Error>();
}

#[test]
fn a_turn_blocked_in_a_pull_is_cancelled_from_another_thread() {
    // 1000 tokens at 5 per second: the first turn is still streaming when it is cancelled.
    let sim = Sim::start(&["--tokens-per-second", "5", "--output-tokens", "1000"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    // The first event proves the request reached the server: from here the turn is running.
    let first = turn.next_event().unwrap().expect("a first event");
    assert_eq!(first.kind(), EventType::ResponseCreated);
    let cancel = turn.cancel_handle();
    let canceller = thread::spawn(move || cancel.cancel());
    let mut deltas = 0;
    while let Some(event) = turn.next_event().unwrap() {
        deltas += usize::from(event.kind() == EventType::OutputTextDelta);
    }
    assert!(canceller.join().unwrap().unwrap(), "the turn was running when cancelled");
    assert!(deltas < 1000, "the pull ended before the answer did ({deltas} deltas)");
    let error = turn.wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
    assert!(!turn.cancel().unwrap(), "cancelling an ended turn reports it had ended");

    // The session reconnects and stays usable; the cancelled request is not replayed.
    let mut next = session.start(r#"{"model":"gpt-5.6","input":"Hello","store":false,"max_output_tokens":1}"#).unwrap();
    while next.next_event().unwrap().is_some() {}
    next.wait().unwrap();
    assert_eq!(session.stats().unwrap().connects, 2, "the cancelled turn's connection was closed");
    let stats = sim.stop();
    assert_eq!(json_number(&stats, "creates_received"), Some(2), "{stats}");
}

#[test]
fn a_shared_turn_is_cancelled_through_a_reference() {
    let sim = Sim::start(&["--fault", "slow:600000@1"]);   // never answers within the test
    let client = sim.client();
    let session = client.session().unwrap();
    let turn = session.start(HELLO).unwrap();
    let error = thread::scope(|scope| {
        let waiter = scope.spawn(|| turn.wait());
        scope.spawn(|| assert!(turn.cancel().unwrap(), "the turn was running when cancelled"));
        waiter.join().unwrap()
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
}

#[test]
fn a_cancel_handle_outliving_its_turn_does_nothing() {
    let sim = Sim::start(&[]);
    let session = sim.client().session().unwrap();
    let turn = session.start(HELLO).unwrap();
    let cancel = turn.cancel_handle();
    turn.wait().unwrap();
    drop(turn);
    assert!(!cancel.cancel().unwrap());
}

#[test]
fn several_threads_share_one_client() {
    const THREADS: usize = 8;
    const TURNS: usize = 5;
    let sim = Sim::start(&[]);
    let client = sim.client();
    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let client = client.clone();
            thread::spawn(move || {
                let session = client.session().unwrap();
                let mut texts = Vec::new();
                for t in 0..TURNS {
                    let request = format!(r#"{{"model":"gpt-5.6","input":"thread {i} turn {t}","store":false}}"#);
                    let mut turn = session.start(&request).unwrap();
                    let text: String =
                        turn.events().map(|e| e.unwrap()).filter_map(|e| e.delta().map(str::to_owned)).collect();
                    let result = turn.wait().unwrap();
                    assert_eq!(result.flags.incremental(), t > 0, "turn {t} of thread {i}");
                    texts.push(text);
                }
                texts
            })
        })
        .collect();
    for (i, worker) in workers.into_iter().enumerate() {
        for (t, text) in worker.join().unwrap().iter().enumerate() {
            assert!(text.contains(&format!("thread {i} turn {t}")), "answers are not mixed up: {text}");
        }
    }
    let stats = client.stats().unwrap();
    assert_eq!((stats.turns, stats.turns_ok), ((THREADS * TURNS) as u64, (THREADS * TURNS) as u64));
}

#[test]
fn turns_started_on_one_session_from_several_threads_run_one_after_another() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = Arc::new(client.session().unwrap());
    let turns: Vec<Turn> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| session.start(HELLO).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ids = Vec::new();
    for turn in &turns {
        ids.push(turn.wait().unwrap().response_id.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let stats = session.stats().unwrap();
    assert_eq!((stats.turns_ok, stats.incremental_sends), (4, 3), "queued turns chain to each other");
}

#[test]
fn a_turn_keeps_its_session_and_client_alive() {
    let sim = Sim::start(&["--output-tokens", "100"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    drop(session);
    drop(client);
    let deltas = turn.events().filter(|e| e.as_ref().unwrap().kind() == EventType::OutputTextDelta).count();
    assert_eq!(deltas, 100);
    turn.wait().unwrap();
}
