//! Proxies from Rust: the builder's options, fail-closed, no_proxy, bad URLs, and a SOCKS5
//! tunnel through microsocks (installed by .ci/run) whose own output shows the connection.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Sim, API_KEY};
use responses_ws::{ErrorKind, Fallback};

const HELLO: &str = r#"{"model":"gpt-5.6","input":"Hello","store":false}"#;

fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn an_unreachable_proxy_fails_closed_without_credentials_in_the_message() {
    let sim = Sim::start(&[]);
    let port = unused_port();
    let client = sim
        .builder()
        .proxy(format!("http://agent:hunter2@127.0.0.1:{port}"))
        .max_reconnects(0)
        .fallback(Fallback::Never)
        .build()
        .unwrap();
    let error = client.session().unwrap().start(HELLO).unwrap().wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Proxy, "{error}");
    assert!(error.kind().is_safe_to_resend());
    assert!(error.message().contains(&format!("cannot reach the proxy http://127.0.0.1:{port}")), "{error}");
    assert!(!format!("{error} {error:?}").contains("hunter2"));

    // Listed in no_proxy: reached directly.
    let direct = sim.builder().proxy(format!("http://127.0.0.1:{port}")).no_proxy("127.0.0.1").build().unwrap();
    direct.session().unwrap().start(HELLO).unwrap().wait().unwrap();
}

#[test]
fn a_bad_proxy_url_is_refused_when_the_client_is_built() {
    let sim = Sim::start(&[]);
    for url in ["https://127.0.0.1:1", "socks4://127.0.0.1:1", "socks5://u:hunter2@127.0.0.1:1", "http://127.0.0.1:0"] {
        let error = sim.builder().proxy(url).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{url}: {error}");
        assert!(error.message().starts_with("proxy: "), "{error}");
        assert!(!error.message().contains("hunter2"));
    }
}

/// microsocks on a free port; its log lines (on stderr) arrive on a channel.
struct Microsocks {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl Microsocks {
    fn start() -> Microsocks {
        let port = unused_port();
        let mut child = Command::new("microsocks")
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("microsocks is not installed (apt-get install microsocks)");
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // It prints nothing when it starts: probe its port until it accepts.
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "microsocks did not listen on {port}");
            assert!(child.try_wait().unwrap().is_none(), "microsocks exited");
            std::thread::sleep(Duration::from_millis(10));
        }
        Microsocks { child, port, lines }
    }

    /// Blocks until a line containing `needle` arrives (the timeout is only a hang guard).
    fn wait_for(&self, needle: &str) {
        loop {
            let line = self.lines.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no line with {needle:?}"));
            if line.contains(needle) {
                return;
            }
        }
    }
}

impl Drop for Microsocks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn socks5h_through_microsocks() {
    let sim = Sim::start(&[]);
    let socks = Microsocks::start();
    let port = sim.base_url().rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let client = responses_ws::Client::builder()
        .base_url(format!("http://localhost:{port}/v1"))
        .api_key(API_KEY)
        .proxy(format!("socks5h://127.0.0.1:{}", socks.port))
        .build()
        .unwrap();
    let result = client.session().unwrap().start(HELLO).unwrap().wait().unwrap();
    assert!(result.response_id.is_some());
    // socks5h: the proxy was given the name, not an address.
    socks.wait_for(&format!("connected to localhost:{port}"));
}
