//! Test support: a `rws sim` child process per test, and a client pointed at it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use responses_ws::{Client, ClientBuilder};

/// The API key every test uses (the simulator accepts any non-empty key by default).
pub const API_KEY: &str = "sk-local-simulator";

/// The simulator binary: `$RWS_BIN`, else `<repo>/.build/release/rws`.
pub fn rws_bin() -> PathBuf {
    std::env::var_os("RWS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.build/release/rws"))
}

/// A running `rws sim --port 0 --tokens-per-second 0 --stats EXTRA...`, stopped with SIGINT on drop.
pub struct Sim {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    drain: Option<JoinHandle<String>>,
}

impl Sim {
    pub fn start(extra: &[&str]) -> Sim {
        let bin = rws_bin();
        let mut child = Command::new(&bin)
            .args(["sim", "--port", "0", "--tokens-per-second", "0", "--stats"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (set RWS_BIN): {e}", bin.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read the simulator's first line");
        let port = first
            .trim()
            .strip_prefix("listening ws://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/v1"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first simulator line: {first:?}"));
        // Keep draining so the simulator never blocks on a full pipe; the rest is the stats line.
        let drain = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            rest
        });
        Sim { child, port, drain: Some(drain) }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// A builder pointed at this simulator, with the test API key.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder().base_url(self.base_url()).api_key(API_KEY)
    }

    pub fn client(&self) -> Client {
        self.builder().build().expect("client")
    }

    /// Stops the simulator (SIGINT) and returns its `--stats` JSON line.
    pub fn stop(mut self) -> String {
        self.interrupt()
    }

    fn interrupt(&mut self) -> String {
        let Some(drain) = self.drain.take() else { return String::new() };
        let status = self.signal_and_wait();
        assert!(status.is_some_and(|s| s.success()), "the simulator did not exit cleanly on SIGINT: {status:?}");
        drain.join().unwrap_or_default()
    }

    /// SIGINT, then wait for the exit; a watchdog sends SIGKILL if it takes a minute (only a
    /// hang guard: a killed simulator's status is not a success), so a test never hangs here.
    fn signal_and_wait(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let (exited, exit_seen) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if exit_seen.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        });
        let status = self.child.wait().ok();
        let _ = exited.send(());
        let _ = watchdog.join();
        status
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if self.drain.take().is_some() {
            self.signal_and_wait();
        }
    }
}

/// The string value of `"key":"..."` (first occurrence) in a JSON text, escapes decoded.
/// Enough for the simulator's flat fields; tests have no JSON crate.
pub fn json_string(json: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let mut out = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The integer value of `"key":N` (first occurrence) in a JSON text.
pub fn json_number(json: &str, key: &str) -> Option<i64> {
    let pattern = format!("\"{key}\":");
    let start = json.find(&pattern)? + pattern.len();
    let digits: String = json[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    digits.parse().ok()
}

/// Session defaults with the `read_file` function tool, as examples/agent_loop.c uses.
pub const TOOL_DEFAULTS: &str = r#"{"model":"gpt-5.6","store":false,"tools":[{"type":"function","name":"read_file","description":"Read a file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]}"#;
