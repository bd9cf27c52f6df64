//! An agent loop with a local tool over one warm WebSocket (the Rust twin of
//! examples/agent_loop.c).
//!
//! The model asks for a tool (a function call); we run it here and answer with a
//! `function_call_output` item. Each turn sends only the new items: the session chains them to
//! the previous response with `previous_response_id`, so the server continues from its cache.
//!
//! Run: `rws sim --port 8080` in one terminal, then
//! `cargo run --example agent_loop -- http://127.0.0.1:8080/v1 [TURNS]`.

use std::process::ExitCode;

use responses_ws::{Client, EventType, InputItem, Request, SessionOptions, Tool};

const READ_FILE_PARAMETERS: &str = r#"{"type":"object","properties":{"path":{"type":"string"}}}"#;

/// The string value of `"key":"..."` in a JSON text. Good enough for the ids and names of
/// this example; a real program would use its JSON library.
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let rest = &json[json.find(&pattern)? + pattern.len()..];
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

/// The local tool: pretend to read a file.
fn run_tool(arguments: &str) -> String {
    format!(r#"{{"ok":true,"lines":42,"args_bytes":{}}}"#, arguments.len())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let base_url = args.next().or_else(|| std::env::var("OPENAI_BASE_URL").ok());
    let max_turns: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(6);
    match run(base_url, max_turns) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\n{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(base_url: Option<String>, max_turns: usize) -> Result<(), responses_ws::Error> {
    let mut builder = Client::builder();
    if let Some(url) = base_url {
        builder = builder.base_url(url); // else $OPENAI_BASE_URL or api.openai.com
    }
    if std::env::var_os("OPENAI_API_KEY").is_none() {
        builder = builder.api_key("sk-local-simulator");
    }
    let client = builder.build()?;
    // Every request of the session gets these fields; the builder does the JSON escaping.
    let defaults = Request::new("gpt-5.6")
        .store(false)
        .tool(Tool::function("read_file", "Read a file", READ_FILE_PARAMETERS));
    let session = client.session_with(&SessionOptions::new().defaults(defaults.to_json()))?;

    let mut request = Request::empty().input("Summarise README.md for me.");
    for turn_no in 1..=max_turns {
        let mut turn = session.start(&request)?;
        let mut call: Option<(String, String, String)> = None; // call_id, name, arguments
        print!("turn {turn_no}: ");
        while let Some(event) = turn.next_event()? {
            match event.kind() {
                EventType::OutputTextDelta => print!("{}", event.delta().unwrap_or("")),
                EventType::OutputItemDone => {
                    if let Some(call_id) = json_string_field(event.json(), "call_id") {
                        let name = json_string_field(event.json(), "name").unwrap_or_default();
                        let arguments = json_string_field(event.json(), "arguments").unwrap_or_default();
                        call = Some((call_id, name, arguments));
                    }
                }
                _ => {}
            }
        }
        let result = turn.wait()?;
        println!(
            "{}[{}, {} in / {} out tokens, {:.2} ms{}]",
            if call.is_some() { "" } else { " " },
            result.response_id.as_deref().unwrap_or("?"),
            result.input_tokens.unwrap_or(0),
            result.output_tokens.unwrap_or(0),
            result.elapsed.as_secs_f64() * 1000.0,
            if result.flags.incremental() { ", incremental" } else { "" },
        );

        request = match call {
            Some((call_id, name, arguments)) => {
                let output = run_tool(&arguments);
                println!("  tool {name}({arguments}) -> ran locally");
                Request::empty().input_item(InputItem::function_call_output(&call_id, &output))
            }
            None => Request::empty().input(&format!("Thanks. Now check the tests, turn {turn_no}.")),
        };
    }

    let stats = client.stats()?;
    println!(
        "turns={} ok={} incremental={} connects={} bytes_sent={} bytes_received={}",
        stats.turns, stats.turns_ok, stats.incremental_sends, stats.connects, stats.bytes_sent, stats.bytes_received
    );
    Ok(())
}
