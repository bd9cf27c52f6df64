//! The library's log hook as a Rust closure: connects, retries and their delays, fallbacks,
//! rotations, recoveries and failed turns, never with a credential.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;

use crate::sys;

/// How much a record matters; a closure registered at a level gets that level and the more
/// severe ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// The library cannot do what was asked.
    Error,
    /// A failed turn or connect, a fallback to HTTP/SSE.
    Warn,
    /// Connects, retries and their delays, rotations, recoveries.
    Info,
    /// Connection attempts, the client's endpoints and TLS setup.
    Debug,
}

impl LogLevel {
    fn to_raw(self) -> c_int {
        match self {
            LogLevel::Error => sys::RWS_LOG_ERROR,
            LogLevel::Warn => sys::RWS_LOG_WARN,
            LogLevel::Info => sys::RWS_LOG_INFO,
            LogLevel::Debug => sys::RWS_LOG_DEBUG,
        }
    }

    fn from_raw(raw: c_int) -> LogLevel {
        match raw {
            sys::RWS_LOG_ERROR => LogLevel::Error,
            sys::RWS_LOG_WARN => LogLevel::Warn,
            sys::RWS_LOG_INFO => LogLevel::Info,
            _ => LogLevel::Debug,
        }
    }
}

/// One log record, copied out of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogRecord {
    /// Its level.
    pub level: LogLevel,
    /// A sentence for people.
    pub message: String,
    /// The same facts as key/value pairs, e.g. `("delay_ms", "400")`.
    pub fields: Vec<(String, String)>,
}

impl LogRecord {
    /// The value of field `key`, if the record has it.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

type LogFn = dyn Fn(&LogRecord) + Send + Sync + 'static;

/// The closure and its level, as the builder keeps them.
#[derive(Clone)]
pub(crate) struct LogSink {
    pub(crate) level: LogLevel,
    pub(crate) closure: Arc<LogFn>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink").field("level", &self.level).finish_non_exhaustive()
    }
}

impl LogSink {
    /// The options' fields for this sink. `user_data` points at the boxed sink, which the
    /// client handle keeps alive until after rws_client_free.
    pub(crate) fn install(boxed: &LogSink, options: &mut sys::rws_client_options) {
        options.log_callback = Some(deliver);
        options.log_user_data = (boxed as *const LogSink).cast_mut().cast();
        options.log_level = boxed.level.to_raw();
    }
}

/// Called by the library on its I/O thread. A panic in the closure is caught: it must never
/// unwind into the library.
unsafe extern "C" fn deliver(
    user_data: *mut c_void,
    level: c_int,
    message: *const c_char,
    fields: *const sys::rws_log_field,
    field_count: usize,
) {
    // SAFETY: user_data is the boxed LogSink that outlives the client (see install).
    let sink = unsafe { &*(user_data as *const LogSink) };
    let text = |p: *const c_char| -> String {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: the library passes NUL-terminated strings valid during this call.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    let pairs = if fields.is_null() || field_count == 0 {
        &[][..]
    } else {
        // SAFETY: `field_count` fields valid during this call.
        unsafe { std::slice::from_raw_parts(fields, field_count) }
    };
    let record = LogRecord {
        level: LogLevel::from_raw(level),
        message: text(message),
        fields: pairs.iter().map(|f| (text(f.key), text(f.value))).collect(),
    };
    let closure = sink.closure.clone();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| closure(&record)));
}
