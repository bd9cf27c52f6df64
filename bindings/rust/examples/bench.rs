//! Events per second through the three ways of reading a turn: borrowed pull
//! (`next_event`), the owned-event iterator (`events`, batched) and a callback closure.
//! Prints numbers; asserts nothing.
//!
//! Run: `rws sim --port 8080 --tokens-per-second 0 --output-tokens 5000`, then
//! `cargo run --release --example bench -- http://127.0.0.1:8080/v1 [TURNS]`.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use responses_ws::{Client, Session};

const REQUEST: &str = r#"{"model":"gpt-5.6","input":"bench","store":false}"#;

fn measure(name: &str, session: &Session, turns: usize, run: impl Fn(&Session) -> u64) {
    run(session); // warm the connection
    let start = Instant::now();
    let events: u64 = (0..turns).map(|_| run(session)).sum();
    let secs = start.elapsed().as_secs_f64();
    println!("{name:<28} {events:>9} events in {:>8.2} ms = {:>10.0} events/s", secs * 1e3, events as f64 / secs);
}

fn main() -> Result<(), responses_ws::Error> {
    let mut args = std::env::args().skip(1);
    let base_url = args.next().unwrap_or_else(|| "http://127.0.0.1:8080/v1".into());
    let turns: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(20);
    let client = Client::builder().base_url(base_url).api_key("sk-local-simulator").build()?;
    let session = client.session()?;

    measure("pull next_event (borrowed)", &session, turns, |s| {
        let mut turn = s.start(REQUEST).unwrap();
        let mut n = 0;
        while turn.next_event().unwrap().is_some() {
            n += 1;
        }
        turn.wait().unwrap();
        n
    });
    measure("pull events() (owned)", &session, turns, |s| {
        let mut turn = s.start(REQUEST).unwrap();
        let mut n = 0;
        for event in turn.events() {
            event.unwrap();
            n += 1;
        }
        turn.wait().unwrap();
        n
    });
    measure("callback closure", &session, turns, |s| {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let turn = s
            .start_with_callback(REQUEST, move |_| {
                c.fetch_add(1, Ordering::Relaxed);
                ControlFlow::Continue(())
            })
            .unwrap();
        turn.wait().unwrap();
        count.load(Ordering::Relaxed)
    });
    Ok(())
}
