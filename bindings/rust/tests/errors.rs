//! Every failure path gives a distinct, actionable error, and the process survives.

mod common;

use std::net::TcpListener;
use std::ops::ControlFlow;
use std::time::Duration;

use common::{json_number, Sim, API_KEY};
use responses_ws::{Client, ErrorKind, EventType, Fallback, Transport};

const HELLO: &str = r#"{"model":"gpt-5.6","input":"Hello","store":false}"#;

fn drain(turn: &mut responses_ws::Turn) -> usize {
    let mut n = 0;
    while turn.next_event().unwrap().is_some() {
        n += 1;
    }
    n
}

#[test]
fn bad_json_is_refused_before_sending() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    for bad in ["{\"model\":", "[1,2]", "", "not json"] {
        let error = session.start(bad).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidJson, "{bad:?}: {error}");
        assert_eq!(error.code(), -4);
        assert!(!error.message().is_empty());
        assert!(error.to_string().contains(error.message()));
    }
    assert_eq!(client.stats().unwrap().turns, 0);
    let stats = sim.stop();
    assert_eq!(json_number(&stats, "creates_received"), Some(0), "{stats}");
}

#[test]
fn background_requests_are_unsupported() {
    let sim = Sim::start(&[]);
    let session = sim.client().session().unwrap();
    let error = session.start(r#"{"model":"gpt-5.6","input":"x","background":true}"#).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    // A port nobody listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(API_KEY)
        .max_reconnects(0)
        .fallback(Fallback::Never)
        .build()
        .unwrap();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    assert_eq!(drain(&mut turn), 0);
    let error = turn.wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
    assert!(error.kind().is_safe_to_resend());
    assert!(!error.message().is_empty());
}

#[test]
fn a_wrong_api_key_is_an_auth_error_that_never_shows_the_key() {
    let sim = Sim::start(&["--api-key", "sk-the-right-one"]);
    let client = sim.builder().api_key("sk-wrong-secret-1234").build().unwrap();
    let session = client.session().unwrap();
    let error = session.start(HELLO).unwrap().wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(!format!("{error} {error:?}").contains("sk-wrong-secret-1234"));

    let good = sim.builder().api_key("sk-the-right-one").build().unwrap();
    good.session().unwrap().start(HELLO).unwrap().wait().unwrap();
}

#[test]
fn a_connection_lost_mid_stream_is_an_unknown_outcome() {
    let sim = Sim::start(&["--fault", "drop-mid-stream@1"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    let mut deltas = 0;
    while let Some(event) = turn.next_event().unwrap() {
        deltas += usize::from(event.kind() == EventType::OutputTextDelta);
    }
    assert_eq!(deltas, 1, "the simulator drops the connection after the first delta");
    let error = turn.wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error}");
    assert!(!error.kind().is_safe_to_resend());
    let result = turn.result().expect("a failed turn has a result");
    assert_eq!(result.error.as_ref().map(|e| e.kind()), Some(ErrorKind::OutcomeUnknown));
    assert_eq!(client.stats().unwrap().unknown_outcomes, 1);

    // Never replayed: the next turn is the server's second create, and it succeeds.
    let mut next = session.start(HELLO).unwrap();
    drain(&mut next);
    next.wait().unwrap();
    let stats = sim.stop();
    assert_eq!(json_number(&stats, "creates_received"), Some(2), "{stats}");
}

#[test]
fn a_request_over_max_request_bytes_is_not_sent() {
    let sim = Sim::start(&[]);
    let client = sim.builder().max_request_bytes(1024).build().unwrap();
    let session = client.session().unwrap();
    let big = format!(r#"{{"model":"gpt-5.6","input":"{}"}}"#, "x".repeat(4096));
    let error = session.start(&big).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RequestTooBig, "{error}");
    assert!(!error.message().is_empty());
    session.start(HELLO).unwrap().wait().unwrap();
    let stats = sim.stop();
    assert_eq!(json_number(&stats, "creates_received"), Some(1), "{stats}");
}

#[test]
fn a_panicking_callback_stops_its_turn_and_names_the_panic() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let turn = session
        .start_with_callback(HELLO, |event| {
            if event.kind() == EventType::OutputTextDelta {
                panic!("tool parser exploded");
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    let error = turn.wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Aborted);
    assert!(error.message().contains("tool parser exploded"), "{error}");
    drop(turn);
    // The client and session survive.
    session.start(HELLO).unwrap().wait().unwrap();
}

#[test]
fn pulling_a_callback_turn_is_an_invalid_state() {
    let sim = Sim::start(&[]);
    let session = sim.client().session().unwrap();
    let mut turn = session.start_with_callback(HELLO, |_| ControlFlow::Continue(())).unwrap();
    let error = turn.next_event().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidState, "{error}");
    assert!(turn.events().next().unwrap().is_err());
    turn.wait().unwrap();
}

#[test]
fn calls_inside_a_callback_work_or_are_refused_never_crash() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = std::sync::Arc::new(client.session().unwrap());
    // Another client, owned by the closure and dropped on the I/O thread, where the library
    // refuses to free it: the binding must free it elsewhere, not leak it or crash.
    let mut other = Some(sim.client());
    let (tx, rx) = std::sync::mpsc::channel();
    let inner = session.clone();
    let base_url = sim.base_url();
    let turn = session
        .start_with_callback(HELLO, move |event| {
            if event.is_terminal() {
                // Starting a turn is allowed here; waiting for it is not (it would deadlock).
                let queued = inner.start(HELLO).unwrap();
                let wait = queued.wait_timeout(Duration::from_secs(5)).map(|_| ());
                // Creating clients and sessions does not wait: allowed, even on another client.
                let new_client = Client::builder().base_url(&base_url).api_key(API_KEY).build();
                let new_session = other.as_ref().unwrap().session().map(drop);
                drop(other.take());
                tx.send((wait, new_client, new_session)).unwrap();
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    turn.wait().unwrap();
    let (wait, new_client, new_session) = rx.recv().unwrap();
    let error = wait.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidState, "{error}");
    new_session.unwrap();
    // The client made inside the callback works once we are back on our own thread.
    let new_client = new_client.unwrap();
    new_client.session().unwrap().start(HELLO).unwrap().wait().unwrap();
    // The session still works afterwards.
    session.start(HELLO).unwrap().wait().unwrap();
}

#[test]
fn options_are_validated() {
    let error = Client::builder().api_key("sk-\0secret").build().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.message().contains("api_key") && !error.message().contains("secret"), "{error}");

    let error = Client::builder().idle_timeout(Duration::from_secs(60 * 60 * 24 * 365)).build().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.message().contains("idle_timeout"), "{error}");

    let error = Client::builder().base_url("ftp://127.0.0.1/v1").api_key(API_KEY).build().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Url, "{error}");

    let client = Client::builder().base_url("http://127.0.0.1:1/v1").api_key(API_KEY).build().unwrap();
    let error = client.session_with(&responses_ws::SessionOptions::new().stream_id("bad lane!")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidStreamId, "{error}");
    let error = client.session_with(&responses_ws::SessionOptions::new().defaults("[]")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidJson, "{error}");
}

#[test]
fn a_refused_upgrade_falls_back_to_http_or_fails_as_configured() {
    let sim = Sim::start(&["--reject-upgrade", "426"]);
    let strict = sim.builder().fallback(Fallback::Never).max_reconnects(0).build().unwrap();
    let error = strict.session().unwrap().start(HELLO).unwrap().wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UpgradeRefused, "{error}");

    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    assert!(drain(&mut turn) > 0);
    let result = turn.wait().unwrap();
    assert_eq!(result.transport, Transport::Http);
    assert!(result.flags.fallback());
    assert_eq!(client.stats().unwrap().fallbacks, 1);
}

#[test]
fn results_carry_the_request_id() {
    let sim = Sim::start(&["--request-id", "req_rust_ok"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    drain(&mut turn);
    let result = turn.wait().unwrap();
    assert_eq!(result.request_id.as_deref(), Some("req_rust_ok"));
    drop(turn);
    drop(session);
    drop(client);
    sim.stop();

    let sim = Sim::start(&["--request-id", "req_rust_lost", "--fault", "drop-mid-stream@1"]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    while let Ok(Some(_)) = turn.next_event() {}
    let result = turn.result().unwrap();
    assert_eq!(result.request_id.as_deref(), Some("req_rust_lost"));
    let error = result.error.expect("the turn failed");
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown);
    assert!(error.message().contains("(request id req_rust_lost)"), "{error}");
    drop(turn);
    drop(session);
    drop(client);
    sim.stop();
}

#[test]
fn the_log_closure_hears_retries_and_never_the_key() {
    use std::sync::{Arc, Mutex};
    let sim = Sim::start(&["--reject-upgrade", "404"]);
    let records: Arc<Mutex<Vec<responses_ws::LogRecord>>> = Arc::default();
    let sink = records.clone();
    let client = sim
        .builder()
        .api_key("sk-rust-log-secret-0123456789")
        .reconnect_delay(Duration::from_millis(10))
        .log(responses_ws::LogLevel::Info, move |record| sink.lock().unwrap().push(record.clone()))
        .build()
        .unwrap();
    let session = client.session().unwrap();
    let mut turn = session.start(HELLO).unwrap();
    drain(&mut turn);
    assert_eq!(turn.wait().unwrap().transport, Transport::Http);
    drop(turn);
    drop(session);
    drop(client); // the closure stays valid until the client is freed
    let records = records.lock().unwrap();
    let retry = records.iter().find(|r| r.message.starts_with("retrying in ")).expect("a retry record");
    assert_eq!(retry.level, responses_ws::LogLevel::Info);
    assert_eq!(retry.field("attempt"), Some("1"));
    assert!(records.iter().any(|r| r.message.starts_with("WebSocket mode unavailable")), "{records:?}");
    assert!(records.iter().all(|r| r.level <= responses_ws::LogLevel::Info));
    for r in records.iter() {
        assert!(!r.message.contains("sk-rust-log-secret") && r.fields.iter().all(|(_, v)| !v.contains("sk-rust-log-secret")));
    }
    sim.stop();
}

#[test]
fn permessage_deflate_compresses_and_bounds_what_it_inflates() {
    assert!(responses_ws::features().deflate());
    let sim = Sim::start(&[]);
    let client = sim.builder().permessage_deflate(true).build().unwrap();
    client.session().unwrap().start(HELLO).unwrap().wait().unwrap();
    let stats = sim.stop();
    assert!(json_number(&stats, "compressed_messages_received").unwrap_or(0) >= 1, "{stats}");
    assert!(json_number(&stats, "compressed_messages_sent").unwrap_or(0) >= 1, "{stats}");

    // A small compressed frame that inflates to 64 MiB, against a 1 MiB limit.
    let sim = Sim::start(&["--fault", "deflate-bomb@1"]);
    let client = sim.builder().permessage_deflate(true).max_message_bytes(1 << 20).max_reconnects(0).build().unwrap();
    let error = client.session().unwrap().start(HELLO).unwrap().wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MessageTooBig, "{error}");
}
