//! The request builder escapes JSON correctly: checked against Python's json module (a parser
//! we did not write) and end to end through the library and `rws sim`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Sim;
use responses_ws::{EventType, InputItem, Request, Tool};

/// Strings a hand-written escaper gets wrong: quotes, backslashes, every control character,
/// DEL, non-ASCII of each UTF-8 length, U+2028/U+2029, and what looks like an escape already.
fn hostile() -> Vec<String> {
    let controls: String = (0u8..0x20).map(char::from).collect();
    vec![
        r#"say "hi""#.into(),
        r"C:\path\to\file \n is not a newline".into(),
        controls,
        "\u{7f} del, é ü ß, € ₹, 😀 🚀, \u{2028}\u{2029}, \u{feff}bom".into(),
        r#"\u0000 \" \\ already "escaped""#.into(),
        String::new(),
        "}]},\"injected\":true,{".into(),
    ]
}

/// Decodes `json` with Python's json module and prints it back: the object's
/// `input[i].content` strings, one per line as JSON with ensure_ascii (so we compare exact
/// code points without a second escaper of our own).
fn python_decode(json: &str, program: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (Debian's python3 package) runs the reference JSON parser");
    child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 rejected {json}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// What Python's `json.dumps(s)` (ensure_ascii) prints for a Rust string, computed here from
/// code points: \uXXXX for everything outside printable ASCII, surrogate pairs above U+FFFF.
fn ascii_json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[test]
fn python_decodes_every_hostile_string_back_to_itself() {
    let mut request = Request::new("gpt-5.6").instructions("be \"brief\"\n");
    for s in hostile() {
        request = request.input(&s);
    }
    let json = request.to_json();
    let printed = python_decode(
        &json,
        "import json,sys\nr=json.load(sys.stdin)\nassert r['model']=='gpt-5.6' and r['instructions']=='be \"brief\"\\n', r\n\
         assert list(r) == ['model','instructions','input'], list(r)\n\
         for item in r['input']:\n  assert item['type']=='message' and item['role']=='user'\n  print(json.dumps(item['content']))",
    );
    let expected: Vec<String> = hostile().iter().map(|s| ascii_json(s)).collect();
    assert_eq!(printed.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn tools_function_outputs_and_raw_fields_keep_their_json() {
    let request = Request::new("m\"odel")
        .input_item(InputItem::function_call_output("call_\u{1}", "{\"ok\":true}\n"))
        .tool(Tool::function("read_file", "Reads \\ a \"file\"", r#"{"type":"object","properties":{}}"#))
        .store(false)
        .raw_field("max_output_tokens", "64")
        .string_field("model", "gpt-5.6"); // a repeated key replaces the first value
    let printed = python_decode(
        &request.to_json(),
        "import json,sys\nr=json.load(sys.stdin)\nprint(json.dumps(r, sort_keys=True))",
    );
    assert_eq!(
        printed.trim(),
        r#"{"input": [{"call_id": "call_\u0001", "output": "{\"ok\":true}\n", "type": "function_call_output"}], "max_output_tokens": 64, "model": "gpt-5.6", "store": false, "tools": [{"description": "Reads \\ a \"file\"", "name": "read_file", "parameters": {"properties": {}, "type": "object"}, "type": "function"}]}"#
    );
}

#[test]
fn the_simulator_echoes_a_hostile_message_through_the_library() {
    // The simulator echoes up to 12 words of up to 24 characters, split at space, \n and \t.
    let words = ["q\"b\\s\u{1}\u{1f}\r\u{7f}é€😀", "\u{2028}x\u{2029}\\u0041\""];
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut turn = session.start(&Request::new("gpt-5.6").store(false).input(&words.join(" "))).unwrap();
    let mut text = String::new();
    while let Some(event) = turn.next_event().unwrap() {
        if event.kind() == EventType::OutputTextDelta {
            text.push_str(event.delta().unwrap());
        }
    }
    turn.wait().unwrap();
    let expected = format!("You said: \"{}\".", words.join(" "));
    assert!(text.starts_with(&expected), "answer {text:?} does not start with {expected:?}");
}
