//! Server events: [`Event`] borrowed from the library, [`OwnedEvent`] copied out of it.

use std::ffi::c_int;
use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::sys;

/// The event types the library recognises; anything else is [`EventType::Other`] and keeps its
/// name in [`Event::type_name`]. Unknown events are always delivered, never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// A type the library does not decode; see [`Event::type_name`].
    Other,
    /// `response.created`
    ResponseCreated,
    /// `response.queued`
    ResponseQueued,
    /// `response.in_progress`
    ResponseInProgress,
    /// `response.completed` (terminal)
    ResponseCompleted,
    /// `response.failed` (terminal)
    ResponseFailed,
    /// `response.incomplete` (terminal)
    ResponseIncomplete,
    /// `error` (terminal when request-scoped)
    Error,
    /// `response.output_item.added`
    OutputItemAdded,
    /// `response.output_item.done`
    OutputItemDone,
    /// `response.content_part.added`
    ContentPartAdded,
    /// `response.content_part.done`
    ContentPartDone,
    /// `response.output_text.delta`
    OutputTextDelta,
    /// `response.output_text.done`
    OutputTextDone,
    /// `response.function_call_arguments.delta`
    FunctionCallArgumentsDelta,
    /// `response.function_call_arguments.done`
    FunctionCallArgumentsDone,
    /// `response.reasoning_summary_text.delta`
    ReasoningSummaryTextDelta,
    /// `response.reasoning_summary_text.done`
    ReasoningSummaryTextDone,
    /// `response.reasoning_text.delta`
    ReasoningTextDelta,
    /// `response.reasoning_text.done`
    ReasoningTextDone,
    /// `response.refusal.delta`
    RefusalDelta,
    /// `response.refusal.done`
    RefusalDone,
    /// `response.done`, the legacy terminal event (treated as completed)
    ResponseDone,
    /// `response.steer.accepted`: the server queued a [`Turn::steer`](crate::Turn::steer) (0.5.0)
    SteerAccepted,
    /// `response.steer.pending`: the steer waits for tool output (0.5.0)
    SteerPending,
    /// `response.steer.failed`: the steer was not applied (0.5.0)
    SteerFailed,
}

impl EventType {
    /// The type of an `RWS_EVENT_*` value; unknown values are [`EventType::Other`].
    pub fn from_raw(value: c_int) -> EventType {
        use EventType::*;
        match value {
            sys::RWS_EVENT_RESPONSE_CREATED => ResponseCreated,
            sys::RWS_EVENT_RESPONSE_QUEUED => ResponseQueued,
            sys::RWS_EVENT_RESPONSE_IN_PROGRESS => ResponseInProgress,
            sys::RWS_EVENT_RESPONSE_COMPLETED => ResponseCompleted,
            sys::RWS_EVENT_RESPONSE_FAILED => ResponseFailed,
            sys::RWS_EVENT_RESPONSE_INCOMPLETE => ResponseIncomplete,
            sys::RWS_EVENT_ERROR => Error,
            sys::RWS_EVENT_OUTPUT_ITEM_ADDED => OutputItemAdded,
            sys::RWS_EVENT_OUTPUT_ITEM_DONE => OutputItemDone,
            sys::RWS_EVENT_CONTENT_PART_ADDED => ContentPartAdded,
            sys::RWS_EVENT_CONTENT_PART_DONE => ContentPartDone,
            sys::RWS_EVENT_OUTPUT_TEXT_DELTA => OutputTextDelta,
            sys::RWS_EVENT_OUTPUT_TEXT_DONE => OutputTextDone,
            sys::RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DELTA => FunctionCallArgumentsDelta,
            sys::RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DONE => FunctionCallArgumentsDone,
            sys::RWS_EVENT_REASONING_SUMMARY_TEXT_DELTA => ReasoningSummaryTextDelta,
            sys::RWS_EVENT_REASONING_SUMMARY_TEXT_DONE => ReasoningSummaryTextDone,
            sys::RWS_EVENT_REASONING_TEXT_DELTA => ReasoningTextDelta,
            sys::RWS_EVENT_REASONING_TEXT_DONE => ReasoningTextDone,
            sys::RWS_EVENT_REFUSAL_DELTA => RefusalDelta,
            sys::RWS_EVENT_REFUSAL_DONE => RefusalDone,
            sys::RWS_EVENT_RESPONSE_DONE => ResponseDone,
            sys::RWS_EVENT_STEER_ACCEPTED => SteerAccepted,
            sys::RWS_EVENT_STEER_PENDING => SteerPending,
            sys::RWS_EVENT_STEER_FAILED => SteerFailed,
            _ => Other,
        }
    }
}

/// One server event, borrowed from the library without copying.
///
/// In a callback it lives for the call; from [`Turn::next_event`](crate::Turn::next_event) it
/// borrows the turn, so the borrow checker ends it before the next pull. Call
/// [`to_owned`](Event::to_owned) to keep it longer.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    kind: EventType,
    flags: u32,
    type_name: &'a str,
    json: &'a str,
    response_id: Option<&'a str>,
    stream_id: Option<&'a str>,
    item_id: Option<&'a str>,
    delta: Option<&'a str>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
    sequence_number: Option<i64>,
    output_index: Option<i64>,
    error_status: Option<i32>,
}

/// Views an `rws_str`; `None` when absent.
///
/// # Safety
/// The view must be valid for `'a` (see the header for each place a view is handed out).
unsafe fn view<'a>(s: sys::rws_str, field: &str) -> Result<Option<&'a str>, Error> {
    if s.ptr.is_null() {
        return Ok(None);
    }
    let bytes = std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len);
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|e| Error::binding(ErrorKind::Protocol, format!("the event's {field} is not valid UTF-8 ({e})")))
}

fn number(n: i64) -> Option<i64> {
    (n >= 0).then_some(n)
}

impl<'a> Event<'a> {
    /// Views a library event. Fails (kind [`ErrorKind::Protocol`]) if a text field is not UTF-8.
    ///
    /// # Safety
    /// `raw` and every string it points at must stay valid for `'a`.
    pub(crate) unsafe fn from_raw(raw: &'a sys::rws_event) -> Result<Event<'a>, Error> {
        Ok(Event {
            kind: EventType::from_raw(raw.r#type),
            flags: raw.flags,
            type_name: view(raw.type_name, "type")?.unwrap_or(""),
            json: view(raw.json, "JSON")?.unwrap_or(""),
            response_id: view(raw.response_id, "response_id")?,
            stream_id: view(raw.stream_id, "stream_id")?,
            item_id: view(raw.item_id, "item_id")?,
            delta: view(raw.delta, "delta")?,
            error_code: view(raw.error_code, "error.code")?,
            error_message: view(raw.error_message, "error.message")?,
            sequence_number: number(raw.sequence_number),
            output_index: number(raw.output_index),
            error_status: (raw.error_status != 0).then_some(raw.error_status),
        })
    }

    /// The decoded type.
    pub fn kind(&self) -> EventType {
        self.kind
    }
    /// The event's `"type"` as sent, e.g. `"response.output_text.delta"`.
    pub fn type_name(&self) -> &'a str {
        self.type_name
    }
    /// The complete event exactly as the server sent it.
    pub fn json(&self) -> &'a str {
        self.json
    }
    /// True when this event ends the turn.
    pub fn is_terminal(&self) -> bool {
        self.flags & sys::RWS_EVENT_FLAG_TERMINAL != 0
    }
    /// The raw `RWS_EVENT_FLAG_*` bits.
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// The id of the response this event belongs to, once known.
    pub fn response_id(&self) -> Option<&'a str> {
        self.response_id
    }
    /// `"stream_id"` (named lanes only).
    pub fn stream_id(&self) -> Option<&'a str> {
        self.stream_id
    }
    /// `"item_id"`.
    pub fn item_id(&self) -> Option<&'a str> {
        self.item_id
    }
    /// `"delta"` of `*.delta` events, JSON escapes decoded.
    pub fn delta(&self) -> Option<&'a str> {
        self.delta
    }
    /// `error.code` of `error` events and `response.failed`.
    pub fn error_code(&self) -> Option<&'a str> {
        self.error_code
    }
    /// `error.message`, escapes decoded.
    pub fn error_message(&self) -> Option<&'a str> {
        self.error_message
    }
    /// `"sequence_number"`.
    pub fn sequence_number(&self) -> Option<i64> {
        self.sequence_number
    }
    /// `"output_index"`.
    pub fn output_index(&self) -> Option<i64> {
        self.output_index
    }
    /// `"status"` of `error` events (HTTP-like).
    pub fn error_status(&self) -> Option<i32> {
        self.error_status
    }

    /// Copies the event so it can outlive the turn's next pull or the callback.
    #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
    pub fn to_owned(&self) -> OwnedEvent {
        OwnedEvent {
            kind: self.kind,
            flags: self.flags,
            type_name: self.type_name.to_owned(),
            json: self.json.to_owned(),
            response_id: self.response_id.map(str::to_owned),
            stream_id: self.stream_id.map(str::to_owned),
            item_id: self.item_id.map(str::to_owned),
            delta: self.delta.map(str::to_owned),
            error_code: self.error_code.map(str::to_owned),
            error_message: self.error_message.map(str::to_owned),
            sequence_number: self.sequence_number,
            output_index: self.output_index,
            error_status: self.error_status,
        }
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("type_name", &self.type_name)
            .field("sequence_number", &self.sequence_number)
            .field("delta", &self.delta)
            .field("terminal", &self.is_terminal())
            .finish_non_exhaustive()
    }
}

/// A server event copied out of the library, as yielded by [`Events`](crate::Events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedEvent {
    kind: EventType,
    flags: u32,
    type_name: String,
    json: String,
    response_id: Option<String>,
    stream_id: Option<String>,
    item_id: Option<String>,
    delta: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    sequence_number: Option<i64>,
    output_index: Option<i64>,
    error_status: Option<i32>,
}

impl OwnedEvent {
    /// A borrowed view of this event, to share code with callbacks and [`Turn::next_event`](crate::Turn::next_event).
    pub fn as_event(&self) -> Event<'_> {
        Event {
            kind: self.kind,
            flags: self.flags,
            type_name: &self.type_name,
            json: &self.json,
            response_id: self.response_id.as_deref(),
            stream_id: self.stream_id.as_deref(),
            item_id: self.item_id.as_deref(),
            delta: self.delta.as_deref(),
            error_code: self.error_code.as_deref(),
            error_message: self.error_message.as_deref(),
            sequence_number: self.sequence_number,
            output_index: self.output_index,
            error_status: self.error_status,
        }
    }
    /// The decoded type.
    pub fn kind(&self) -> EventType {
        self.kind
    }
    /// The event's `"type"` as sent.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
    /// The complete event exactly as the server sent it.
    pub fn json(&self) -> &str {
        &self.json
    }
    /// True when this event ends the turn.
    pub fn is_terminal(&self) -> bool {
        self.flags & sys::RWS_EVENT_FLAG_TERMINAL != 0
    }
    /// The id of the response this event belongs to, once known.
    pub fn response_id(&self) -> Option<&str> {
        self.response_id.as_deref()
    }
    /// `"item_id"`.
    pub fn item_id(&self) -> Option<&str> {
        self.item_id.as_deref()
    }
    /// `"delta"` of `*.delta` events, JSON escapes decoded.
    pub fn delta(&self) -> Option<&str> {
        self.delta.as_deref()
    }
    /// `"sequence_number"`.
    pub fn sequence_number(&self) -> Option<i64> {
        self.sequence_number
    }
    /// Moves the JSON text out, e.g. to hand it to a JSON parser without copying.
    pub fn into_json(self) -> String {
        self.json
    }
}
