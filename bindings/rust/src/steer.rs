//! Steering (0.5.0): [`Turn::steer`] adds user input to a running response, and
//! [`Turn::steer_info`] reads where each steer stands ([`SteerInfo`], [`SteerState`]).

use std::ffi::c_char;

use crate::error::{check, Error, ErrorKind};
use crate::sys;
use crate::turn::Turn;

/// Where a steer stands (`RWS_STEER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SteerState {
    /// Waiting for the response to be created, or sent and not answered yet.
    Unknown,
    /// The server queued it (`response.steer.accepted`).
    Accepted,
    /// The successor response that sees the input was created.
    Committed,
    /// The response waits for tool output ([`SteerInfo::required_input_json`] names it); the
    /// session's next turn, carrying that output, commits the steer.
    Pending,
    /// Not applied, and never will be: [`SteerInfo::error_code`] says why.
    Failed,
    /// The connection or the turn ended without an answer: the server may or may not have
    /// applied it.
    Lost,
}

impl SteerState {
    fn from_raw(value: i32) -> SteerState {
        match value {
            sys::RWS_STEER_ACCEPTED => SteerState::Accepted,
            sys::RWS_STEER_COMMITTED => SteerState::Committed,
            sys::RWS_STEER_PENDING => SteerState::Pending,
            sys::RWS_STEER_FAILED => SteerState::Failed,
            sys::RWS_STEER_LOST => SteerState::Lost,
            _ => SteerState::Unknown,
        }
    }
}

/// A steer's state when it was read (a copy; `rws_steer_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SteerInfo {
    /// Where it stands.
    pub state: SteerState,
    /// `"steer_..."` once accepted.
    pub steer_id: Option<String>,
    /// The response it was sent for, once sent.
    pub target_response_id: Option<String>,
    /// [`SteerState::Failed`]: the server's code (`steering_not_supported`,
    /// `too_many_pending_steers`, ...); `None` when the library refused it itself.
    pub error_code: Option<String>,
    /// Failed and lost: what happened.
    pub error_message: Option<String>,
    /// Failed: the input handed back (JSON), to send again if you want.
    pub input_json: Option<String>,
    /// Pending: the JSON array of stubs the next turn must fill, e.g.
    /// `[{"type":"function_call_output","call_id":...,"name":...}]`.
    pub required_input_json: Option<String>,
}

/// An owned copy of a library string; `None` when absent or empty.
///
/// # Safety
/// The view must be valid (the turn not yet freed).
unsafe fn text(s: sys::rws_str) -> Option<String> {
    if s.ptr.is_null() || s.len == 0 {
        return None;
    }
    Some(String::from_utf8_lossy(std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len)).into_owned())
}

/// # Steering
///
/// For models that steer (e.g. the GPT-6 family). Both calls work through `&self` from any
/// thread, including an event callback, and never block.
impl Turn {
    /// Adds user input to the turn's running response (`response.steer`) and returns the
    /// steer's index for [`steer_info`](Turn::steer_info): 0, 1, ... in call order.
    ///
    /// `input_json` is a JSON string (`"\"Keep it short\""`) or a non-empty array of user
    /// messages (`[{"role":"user","content":"..."}]`). It is sent once the response has been
    /// created. When the server accepts it, the running response ends and a successor that
    /// sees the input goes on as this turn: its events follow ([`EventType::SteerAccepted`]
    /// first) and the turn's result is the successor's. A steer is never sent twice.
    ///
    /// Errors: [`InvalidArgument`](ErrorKind::InvalidArgument) for input that is not user
    /// messages (nothing is sent), [`InvalidJson`](ErrorKind::InvalidJson),
    /// [`InvalidState`](ErrorKind::InvalidState) once the turn has ended (send the input as a
    /// new turn then).
    ///
    /// [`EventType::SteerAccepted`]: crate::EventType::SteerAccepted
    pub fn steer(&self, input_json: &str) -> Result<u32, Error> {
        if input_json.is_empty() {
            // Length 0 would mean "NUL-terminated" to the library.
            return Err(Error::binding(ErrorKind::InvalidArgument, "the steer input is empty; pass a JSON string or an array of user messages"));
        }
        let mut index = 0u32;
        // SAFETY: the turn is alive (we hold it); the input outlives the call, which copies it.
        check(unsafe {
            sys::rws_turn_steer(self.raw(), input_json.as_ptr().cast::<c_char>(), input_json.len(), &mut index)
        })?;
        Ok(index)
    }

    /// The state of steer `index` of this turn, read now.
    ///
    /// Errors: [`InvalidArgument`](ErrorKind::InvalidArgument) when the turn has no such steer.
    pub fn steer_info(&self, index: u32) -> Result<SteerInfo, Error> {
        // SAFETY: rws_steer_info is integers and {NULL, 0} views; all-zero is a valid value.
        let mut raw: sys::rws_steer_info = unsafe { std::mem::zeroed() };
        // SAFETY: the turn is alive; the size is the struct we pass.
        check(unsafe { sys::rws_turn_steer_info(self.raw(), index, &mut raw, std::mem::size_of::<sys::rws_steer_info>()) })?;
        // SAFETY: the views stay valid until rws_turn_free, which cannot run while we borrow the turn.
        unsafe {
            Ok(SteerInfo {
                state: SteerState::from_raw(raw.state),
                steer_id: text(raw.steer_id),
                target_response_id: text(raw.target_response_id),
                error_code: text(raw.error_code),
                error_message: text(raw.error_message),
                input_json: text(raw.input_json),
                required_input_json: text(raw.required_input_json),
            })
        }
    }
}
