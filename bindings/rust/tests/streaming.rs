//! Streaming, pull iterator, callbacks and the tool loop against `rws sim`.

mod common;

use std::ops::ControlFlow;
use std::sync::mpsc;

use common::{json_string, Sim, TOOL_DEFAULTS};
use responses_ws::{EventType, OwnedEvent, SessionOptions, Transport};

const HELLO: &str = r#"{"model":"gpt-5.6","input":"Hello \"there\"","store":false}"#;

#[test]
fn pulled_deltas_concatenate_to_the_final_text() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();

    let (mut text, mut final_text, mut deltas, mut last_seq) = (String::new(), None, 0, -1);
    let mut terminal_seen = false;
    while let Some(event) = turn.next_event().unwrap() {
        let seq = event.sequence_number().expect("every simulator event has a sequence number");
        assert!(seq > last_seq, "sequence numbers increase");
        last_seq = seq;
        assert!(!terminal_seen, "nothing after the terminal event");
        terminal_seen = event.is_terminal();
        match event.kind() {
            EventType::OutputTextDelta => {
                deltas += 1;
                text.push_str(event.delta().expect("a delta event has a delta"));
                assert!(event.response_id().is_some_and(|id| id.starts_with("resp_")));
            }
            EventType::OutputTextDone => final_text = json_string(event.json(), "text"),
            _ => {}
        }
    }
    assert!(terminal_seen, "the turn ended with a terminal event");
    assert!(deltas > 1, "the answer was streamed");
    assert_eq!(Some(text.clone()), final_text);
    assert!(text.contains("\"there\""), "escapes decoded: {text}");

    let result = turn.wait().unwrap();
    assert!(result.is_ok());
    assert_eq!(result.response_status.as_deref(), Some("completed"));
    assert!(result.response_id.as_deref().is_some_and(|id| id.starts_with("resp_")));
    assert!(result.output_tokens.unwrap() > 0);
    assert!(result.bytes_sent > 0 && result.bytes_received > 0);
    assert_eq!(result.transport, Transport::WebSocket);
    assert!(result.response_json.as_deref().unwrap().contains("\"status\":\"completed\""));
    assert_eq!(session.last_response_id().unwrap(), result.response_id);
}

#[test]
fn the_iterator_yields_every_event_once_then_ends() {
    let sim = Sim::start(&["--output-tokens", "300"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    let events: Vec<OwnedEvent> = turn.events().collect::<Result<_, _>>().unwrap();

    let seqs: Vec<i64> = events.iter().map(|e| e.sequence_number().unwrap()).collect();
    assert_eq!(seqs, (0..events.len() as i64).collect::<Vec<_>>(), "no event lost or repeated");
    assert_eq!(events.iter().filter(|e| e.kind() == EventType::OutputTextDelta).count(), 300);
    assert_eq!(events.first().unwrap().kind(), EventType::ResponseCreated);
    assert!(events.last().unwrap().is_terminal());
    assert_eq!(events.last().unwrap().kind(), EventType::ResponseCompleted);

    let text: String = events.iter().filter_map(|e| e.delta()).collect();
    let done = events.iter().find(|e| e.kind() == EventType::OutputTextDone).unwrap();
    assert_eq!(Some(text), json_string(done.json(), "text"));
    assert!(turn.next_event().unwrap().is_none(), "the turn is drained");
    assert_eq!(client.stats().unwrap().events, events.len() as u64);
}

#[test]
fn a_callback_closure_receives_every_event_in_order() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let (tx, rx) = mpsc::channel();
    let caller = std::thread::current().id();
    let turn = session
        .start_with_callback(HELLO, move |event| {
            tx.send((event.to_owned(), std::thread::current().id())).unwrap();
            ControlFlow::Continue(())
        })
        .unwrap();
    let result = turn.wait().unwrap();
    drop(turn); // drops the closure and with it the sender
    let events: Vec<(OwnedEvent, _)> = rx.iter().collect();

    assert!(events.iter().all(|(_, thread)| *thread != caller), "callbacks run on the I/O thread");
    let seqs: Vec<i64> = events.iter().map(|(e, _)| e.sequence_number().unwrap()).collect();
    assert_eq!(seqs, (0..events.len() as i64).collect::<Vec<_>>());
    assert!(events.last().unwrap().0.is_terminal());
    let text: String = events.iter().filter_map(|(e, _)| e.delta()).collect();
    assert!(text.contains("Hello"), "{text}");
    assert!(result.output_tokens.unwrap() > 0);
}

#[test]
fn breaking_from_the_callback_aborts_the_turn() {
    let sim = Sim::start(&["--output-tokens", "200"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut deltas = 0;
    let turn = session
        .start_with_callback(HELLO, move |event| {
            if event.kind() == EventType::OutputTextDelta {
                deltas += 1;
                if deltas == 3 {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    let error = turn.wait().unwrap_err();
    assert_eq!(error.kind(), responses_ws::ErrorKind::Aborted, "{error}");
    // The session stays usable.
    let mut next = session.start(HELLO).unwrap();
    while next.next_event().unwrap().is_some() {}
    next.wait().unwrap();
}

/// Runs a pull-mode turn; returns (call_id, name) of a function call if the model asked for one.
fn run_turn(session: &responses_ws::Session, request: &str) -> (Option<(String, String)>, responses_ws::TurnResult) {
    let mut turn = session.start(request).unwrap();
    let mut call = None;
    while let Some(event) = turn.next_event().unwrap() {
        if event.kind() == EventType::OutputItemDone {
            if let Some(call_id) = json_string(event.json(), "call_id") {
                call = Some((call_id, json_string(event.json(), "name").unwrap()));
            }
        }
    }
    (call, turn.wait().unwrap())
}

#[test]
fn a_tool_loop_continues_incrementally() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session_with(&SessionOptions::new().defaults(TOOL_DEFAULTS)).unwrap();

    let (call, first) = run_turn(&session, r#"{"input":"Summarise README.md for me."}"#);
    let (call_id, name) = call.expect("the model asks for the tool");
    assert_eq!(name, "read_file");
    assert!(!first.flags.incremental(), "the first turn has no previous response");

    let output =
        format!(r#"{{"input":[{{"type":"function_call_output","call_id":"{call_id}","output":"42 lines"}}]}}"#);
    let (call, second) = run_turn(&session, &output);
    assert!(call.is_none(), "a tool output gets a text answer");
    assert!(second.flags.incremental(), "only the new item was sent, chained to the last response");
    assert!(!second.flags.full_resend());
    assert_ne!(second.response_id, first.response_id);

    let (_, third) = run_turn(&session, r#"{"input":"Thanks. Now the tests."}"#);
    assert!(third.flags.incremental());
    let stats = session.stats().unwrap();
    assert_eq!((stats.turns, stats.turns_ok, stats.incremental_sends), (3, 3, 2));
    assert_eq!(stats.connects, 1, "one warm connection for the whole loop");
    assert_eq!(client.stats().unwrap().turns, 3);

    session.reset().unwrap();
    assert_eq!(session.last_response_id().unwrap(), None);
    let (_, fresh) = run_turn(&session, r#"{"input":"Start over."}"#);
    assert!(!fresh.flags.incremental(), "reset forgets the chain");
}

#[test]
fn prewarm_prepares_the_chain() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session_with(&SessionOptions::new().defaults(TOOL_DEFAULTS)).unwrap();
    let warm = session.prewarm(Some(r#"{"instructions":"Be brief.","input":[]}"#)).unwrap();
    warm.wait().unwrap();
    let (_, first) = run_turn(&session, r#"{"input":"Hello"}"#);
    assert!(first.flags.incremental(), "the first real turn continues from the prepared chain");
    assert_eq!(session.stats().unwrap().connects, 1);
}

#[test]
fn a_named_lane_echoes_its_stream_id() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session_with(&SessionOptions::new().stream_id("lane-7")).unwrap();
    let mut turn = session.start(HELLO).unwrap();
    let mut seen = 0;
    while let Some(event) = turn.next_event().unwrap() {
        assert_eq!(event.stream_id(), Some("lane-7"));
        seen += 1;
    }
    assert!(seen > 0);
    turn.wait().unwrap();
}
