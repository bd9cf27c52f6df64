//! [`Request`]: a `response.create` body built from Rust values, with JSON escaping done once,
//! correctly, here instead of by hand at every call site.

use std::borrow::Cow;
use std::fmt;

/// A request body for [`Session::start`](crate::Session::start): the fields of
/// `POST /v1/responses`, written as JSON by [`Request::to_json`].
///
/// ```
/// use responses_ws::{Request, Tool};
///
/// let request = Request::new("gpt-5.6")
///     .instructions("Answer in one line.")
///     .input("What is in \"notes.txt\"?")
///     .tool(Tool::function("read_file", "Read a file", r#"{"type":"object","properties":{"path":{"type":"string"}}}"#))
///     .store(false);
/// assert!(request.to_json().starts_with(r#"{"model":"gpt-5.6","#));
/// assert!(request.to_json().contains(r#""content":"What is in \"notes.txt\"?""#));
/// ```
///
/// Strings are escaped as RFC 8259 requires (`"`, `\`, every control character); other
/// characters, non-ASCII included, are written as UTF-8. Values given as raw JSON
/// ([`Tool::function`]'s parameters, [`Request::raw_field`]) are inserted as they are: the
/// library rejects a request that is not valid JSON with
/// [`InvalidJson`](crate::ErrorKind::InvalidJson) before anything is sent.
///
/// The session adds `previous_response_id`, so a request carries only the new input items.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a Request does nothing until it is passed to Session::start"]
pub struct Request {
    /// `(key, JSON value)` in insertion order; a repeated key replaces the earlier value.
    fields: Vec<(String, String)>,
    input: Vec<String>,
    tools: Vec<String>,
}

/// One input item of a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputItem(String);

impl InputItem {
    /// A message: `{"type":"message","role":ROLE,"content":TEXT}` (role `user`, `system`,
    /// `developer` or `assistant`).
    pub fn message(role: &str, text: &str) -> InputItem {
        let mut json = String::from(r#"{"type":"message","role":"#);
        push_string(&mut json, role);
        json.push_str(r#","content":"#);
        push_string(&mut json, text);
        json.push('}');
        InputItem(json)
    }

    /// The result of a function call the model asked for:
    /// `{"type":"function_call_output","call_id":ID,"output":OUTPUT}`.
    pub fn function_call_output(call_id: &str, output: &str) -> InputItem {
        let mut json = String::from(r#"{"type":"function_call_output","call_id":"#);
        push_string(&mut json, call_id);
        json.push_str(r#","output":"#);
        push_string(&mut json, output);
        json.push('}');
        InputItem(json)
    }

    /// Any other item, as raw JSON (inserted unchanged).
    pub fn raw(json: impl Into<String>) -> InputItem {
        InputItem(json.into())
    }

    /// The item as JSON.
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// One entry of a [`Request`]'s `tools`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool(String);

impl Tool {
    /// A function tool: `{"type":"function","name":NAME,"description":DESCRIPTION,
    /// "parameters":PARAMETERS}`, where `parameters_schema` is a JSON Schema object given as raw
    /// JSON.
    pub fn function(name: &str, description: &str, parameters_schema: &str) -> Tool {
        let mut json = String::from(r#"{"type":"function","name":"#);
        push_string(&mut json, name);
        json.push_str(r#","description":"#);
        push_string(&mut json, description);
        json.push_str(r#","parameters":"#);
        json.push_str(parameters_schema);
        json.push('}');
        Tool(json)
    }

    /// Any other tool, as raw JSON (inserted unchanged).
    pub fn raw(json: impl Into<String>) -> Tool {
        Tool(json.into())
    }
}

impl Request {
    /// A request for `model`.
    pub fn new(model: &str) -> Request {
        Request { fields: Vec::new(), input: Vec::new(), tools: Vec::new() }.string_field("model", model)
    }

    /// A request without `model` (for a session whose defaults carry it).
    pub fn empty() -> Request {
        Request { fields: Vec::new(), input: Vec::new(), tools: Vec::new() }
    }

    /// Appends a user message with `text` to `input`.
    pub fn input(self, text: &str) -> Request {
        self.input_item(InputItem::message("user", text))
    }

    /// Appends an input item.
    pub fn input_item(mut self, item: InputItem) -> Request {
        self.input.push(item.0);
        self
    }

    /// Appends a tool to `tools`.
    pub fn tool(mut self, tool: Tool) -> Request {
        self.tools.push(tool.0);
        self
    }

    /// `instructions`: the system prompt.
    pub fn instructions(self, text: &str) -> Request {
        self.string_field("instructions", text)
    }

    /// `store`: whether the server keeps the response (false keeps the chain on this
    /// connection only).
    pub fn store(self, store: bool) -> Request {
        self.raw_field("store", if store { "true" } else { "false" })
    }

    /// `previous_response_id`, to continue from a response other than the session's last.
    pub fn previous_response_id(self, id: &str) -> Request {
        self.string_field("previous_response_id", id)
    }

    /// Any string field, escaped.
    pub fn string_field(self, key: &str, value: &str) -> Request {
        let mut json = String::with_capacity(value.len() + 2);
        push_string(&mut json, value);
        self.raw_field(key, json)
    }

    /// Any field, with its value as raw JSON (a number, an object...), inserted unchanged.
    /// `input` and `tools` given this way replace the items added with
    /// [`input`](Request::input) and [`tool`](Request::tool).
    pub fn raw_field(mut self, key: &str, json: impl Into<String>) -> Request {
        let json = json.into();
        if key == "input" {
            self.input.clear();
        } else if key == "tools" {
            self.tools.clear();
        }
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = json,
            None => self.fields.push((key.to_owned(), json)),
        }
        self
    }

    /// The request as one JSON object.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + self.input.iter().chain(&self.tools).map(String::len).sum::<usize>());
        out.push('{');
        let mut first = true;
        let mut member = |out: &mut String, key: &str, value: &dyn Fn(&mut String)| {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
            push_string(out, key);
            out.push(':');
            value(out);
        };
        for (key, value) in &self.fields {
            member(&mut out, key, &|out: &mut String| out.push_str(value));
        }
        for (key, items) in [("input", &self.input), ("tools", &self.tools)] {
            if !items.is_empty() {
                member(&mut out, key, &|out: &mut String| push_array(out, items));
            }
        }
        out.push('}');
        out
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

fn push_array(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
}

/// Appends `s` as a JSON string literal. Rust strings are valid UTF-8 (a lone surrogate cannot
/// occur), so only `"`, `\` and the control characters U+0000..U+001F need escapes; U+2028 and
/// U+2029 are escaped too, so the JSON is also safe to embed in JavaScript.
pub fn push_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut clean = 0;
    for (i, c) in s.char_indices() {
        let escape: Cow<'static, str> = match c {
            '"' => "\\\"".into(),
            '\\' => "\\\\".into(),
            '\n' => "\\n".into(),
            '\r' => "\\r".into(),
            '\t' => "\\t".into(),
            '\u{08}' => "\\b".into(),
            '\u{0C}' => "\\f".into(),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => format!("\\u{:04x}", c as u32).into(),
            _ => continue,
        };
        out.push_str(&s[clean..i]);
        out.push_str(&escape);
        clean = i + c.len_utf8();
    }
    out.push_str(&s[clean..]);
    out.push('"');
}

/// What [`Session::start`](crate::Session::start) accepts: a JSON text (`&str`, `String`) or
/// a [`Request`].
pub trait RequestJson {
    /// The request as JSON text.
    fn request_json(&self) -> Cow<'_, str>;
}

impl RequestJson for str {
    fn request_json(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl RequestJson for String {
    fn request_json(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl RequestJson for Request {
    fn request_json(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_json())
    }
}

impl<T: RequestJson + ?Sized> RequestJson for &T {
    fn request_json(&self) -> Cow<'_, str> {
        (**self).request_json()
    }
}
