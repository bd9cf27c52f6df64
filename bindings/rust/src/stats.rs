//! [`Stats`]: counters of a client or a session.

use std::ffi::c_int;

use crate::error::{check, Error};
use crate::sys;

/// Counters since the client or session was created (`rws_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Turns started.
    pub turns: u64,
    /// Turns that ended successfully.
    pub turns_ok: u64,
    /// Events delivered.
    pub events: u64,
    /// Payload bytes of requests.
    pub bytes_sent: u64,
    /// Payload bytes of events.
    pub bytes_received: u64,
    /// Connections opened (handshakes completed).
    pub connects: u64,
    /// Connections opened to replace a lost one.
    pub reconnects: u64,
    /// Turns sent with `previous_response_id` and only the new items.
    pub incremental_sends: u64,
    /// Turns that had to resend the full context.
    pub full_resends: u64,
    /// Switches to HTTP/SSE.
    pub fallbacks: u64,
    /// Connections retired for age.
    pub rotations: u64,
    /// Turns that ended with [`ErrorKind::OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown).
    pub unknown_outcomes: u64,
    /// Client: WebSocket connections open or opening now; session: 1 while it holds a lane on
    /// a connection, else 0 (a gauge, 0.5.0).
    pub connections_open: u64,
    /// Client: lanes its sessions hold now; session: as `connections_open` (0.5.0).
    pub lanes_in_use: u64,
    /// Session: the connection it holds a lane on (sessions with the same id share it; 0 for
    /// none). Client: 0 (0.5.0).
    pub connection_id: u64,
}

impl Stats {
    /// Calls `read(stats, size)` (rws_client_stats or rws_session_stats) and converts.
    pub(crate) fn read(read: impl FnOnce(*mut sys::rws_stats, usize) -> c_int) -> Result<Stats, Error> {
        // SAFETY: rws_stats is plain integers; all-zero is a valid value.
        let mut s: sys::rws_stats = unsafe { std::mem::zeroed() };
        check(read(&mut s, std::mem::size_of::<sys::rws_stats>()))?;
        Ok(Stats {
            turns: s.turns,
            turns_ok: s.turns_ok,
            events: s.events,
            bytes_sent: s.bytes_sent,
            bytes_received: s.bytes_received,
            connects: s.connects,
            reconnects: s.reconnects,
            incremental_sends: s.incremental_sends,
            full_resends: s.full_resends,
            fallbacks: s.fallbacks,
            rotations: s.rotations,
            unknown_outcomes: s.unknown_outcomes,
            connections_open: s.connections_open,
            lanes_in_use: s.lanes_in_use,
            connection_id: s.connection_id,
        })
    }
}
