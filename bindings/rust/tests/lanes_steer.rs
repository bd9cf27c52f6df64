//! 0.5.0 against `rws sim`: sessions sharing a connection (lanes), `Session::fork` and
//! `Turn::steer`.

mod common;

use common::Sim;
use responses_ws::{Client, ErrorKind, EventType, Lanes, SessionOptions, SteerState, Stats};

const MODEL: &str = r#"{"model":"gpt-5.6","store":false}"#;
const STEERING: &str = r#"{"model":"gpt-6","store":false}"#;

/// Two sessions of `client`, each after one turn: the client's stats and both sessions'.
fn two_sessions(client: &Client) -> (Stats, Stats, Stats) {
    let a = client.session_with(&SessionOptions::new().defaults(MODEL)).unwrap();
    let b = client.session_with(&SessionOptions::new().defaults(MODEL)).unwrap();
    a.start(r#"{"input":"first session"}"#).unwrap().wait().unwrap();
    b.start(r#"{"input":"second session"}"#).unwrap().wait().unwrap();
    (client.stats().unwrap(), a.stats().unwrap(), b.stats().unwrap())
}

#[test]
fn two_sessions_of_a_client_share_one_connection() {
    let sim = Sim::start(&[]);
    let (client, a, b) = two_sessions(&sim.client());
    assert_eq!(client.connects, 1);
    assert_eq!(client.connections_open, 1);
    assert_eq!(client.lanes_in_use, 2);
    assert_ne!(a.connection_id, 0);
    assert_eq!(a.connection_id, b.connection_id);
}

#[test]
fn per_session_lanes_give_each_session_its_own_connection() {
    let sim = Sim::start(&[]);
    let (client, a, b) = two_sessions(&sim.builder().lanes(Lanes::PerSession).build().unwrap());
    assert_eq!(client.connects, 2);
    assert_eq!(client.connections_open, 2);
    assert_ne!(a.connection_id, b.connection_id);
    assert!(a.connection_id != 0 && b.connection_id != 0);
}

#[test]
fn max_sessions_per_connection_out_of_range_is_invalid_argument() {
    let sim = Sim::start(&[]);
    for bad in [0, 33] {
        let error = sim.builder().max_sessions_per_connection(bad).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{bad}: {error}");
    }
}

#[test]
fn a_fork_continues_incrementally_from_its_parent() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let parent = client.session_with(&SessionOptions::new().defaults(MODEL)).unwrap();
    parent.start(r#"{"input":"the parent's question"}"#).unwrap().wait().unwrap();
    let parent_last = parent.last_response_id().unwrap().expect("the parent has a response");
    assert_eq!(parent.fork_parent_id().unwrap(), None);

    let child = parent.fork_with(&SessionOptions::new().stream_id("child-1")).unwrap();
    assert_eq!(child.fork_parent_id().unwrap().as_deref(), Some(parent_last.as_str()));
    let result = child.start(r#"{"input":"the child's own question"}"#).unwrap().wait().unwrap();
    assert!(result.flags.incremental(), "the child sent only its new input: {:?}", result.flags);
    assert_eq!(child.stream_id().unwrap().as_deref(), Some("child-1"));
    assert_ne!(result.response_id.as_deref(), Some(parent_last.as_str()));
    // The parent goes on independently, and a fork without options works too.
    parent.start(r#"{"input":"the parent again"}"#).unwrap().wait().unwrap();
    let second = parent.fork().unwrap();
    assert!(second.start(r#"{"input":"second child"}"#).unwrap().wait().unwrap().flags.incremental());
}

#[test]
fn a_fork_with_a_bad_stream_id_is_refused() {
    let sim = Sim::start(&[]);
    let parent = sim.client().session().unwrap();
    let error = parent.fork_with(&SessionOptions::new().stream_id("not a lane")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidStreamId);
}

/// Runs a turn of `defaults`, steers it at its first text delta, reads it to the end and
/// returns the steer's index, the first response's id, the kinds of every event and the turn.
fn steered_turn(sim: &Sim, defaults: &str) -> (u32, String, Vec<EventType>, responses_ws::Turn) {
    let client = sim.client();
    let session = client.session_with(&SessionOptions::new().defaults(defaults)).unwrap();
    let mut turn = session.start(r#"{"input":"Tell me a long story"}"#).unwrap();
    let mut kinds = Vec::new();
    let first_response = loop {
        let event = turn.next_event().unwrap().expect("a delta before the end");
        kinds.push(event.kind());
        if event.kind() == EventType::OutputTextDelta {
            break event.response_id().unwrap().to_owned();
        }
    };
    let index = turn.steer(r#""Keep it short""#).unwrap();
    while let Some(event) = turn.next_event().unwrap() {
        kinds.push(event.kind());
    }
    (index, first_response, kinds, turn)
}

#[test]
fn a_steer_reaches_the_running_response_and_the_turn_follows_the_successor() {
    let sim = Sim::start(&["--fault", "hold-after-first-delta@1"]);
    let (index, first_response, kinds, turn) = steered_turn(&sim, STEERING);
    assert_eq!(index, 0);
    assert!(kinds.contains(&EventType::SteerAccepted), "{kinds:?}");
    let result = turn.wait().unwrap();
    assert_ne!(result.response_id.as_deref(), Some(first_response.as_str()));
    let info = turn.steer_info(index).unwrap();
    assert_eq!(info.state, SteerState::Committed);
    assert!(info.steer_id.as_deref().is_some_and(|id| id.starts_with("steer_")), "{info:?}");
    assert_eq!(info.target_response_id.as_deref(), Some(first_response.as_str()));
    assert!(result.response_json.unwrap().contains("Keep it short"));
}

#[test]
fn a_model_that_does_not_steer_fails_the_steer() {
    let sim = Sim::start(&["--fault", "hold-after-first-delta@1"]);
    let (index, _, kinds, turn) = steered_turn(&sim, MODEL);
    assert!(kinds.contains(&EventType::SteerFailed), "{kinds:?}");
    turn.wait().unwrap();
    let info = turn.steer_info(index).unwrap();
    assert_eq!(info.state, SteerState::Failed);
    assert_eq!(info.error_code.as_deref(), Some("steering_not_supported"));
    assert!(info.input_json.is_some());
}

#[test]
fn bad_steer_input_and_steering_an_ended_turn_are_refused() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session_with(&SessionOptions::new().defaults(STEERING)).unwrap();
    let turn = session.start(r#"{"input":"Hi"}"#).unwrap();
    for bad in [r#"[{"role":"assistant","content":"x"}]"#, "[]", ""] {
        assert_eq!(turn.steer(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    turn.wait().unwrap();
    assert_eq!(turn.steer(r#""too late""#).unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(turn.steer_info(0).unwrap_err().kind(), ErrorKind::InvalidArgument);
}
