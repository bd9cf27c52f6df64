"""The sessions of one agents model: concurrent runs each get a session (and so a connection) of
their own, and every call goes to the session that holds its conversation's chain.

A call is routed, in this order, to: the session that produced its ``previous_response_id``
(the server's cache for a ``store: false`` chain lives on that connection, so no other will do,
even a busy one: the call then queues there); an idle session whose last call opened with the
same first input item (the runner resending a conversation's history); any idle session; a new
session while there are fewer than ``max_sessions``; the least busy session.
"""

from __future__ import annotations

import collections
import threading
from typing import List, Optional

from .client import Client, Session

# Response ids remembered for routing; a run chains from its latest response, so a few per
# session is plenty.
_REMEMBERED_RESPONSES = 4096


class Slot:
    """One session and what the pool knows about it."""

    __slots__ = ("session", "busy", "opening")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.busy = 0  # calls started and not yet ended
        self.opening: Optional[str] = None  # the first input item of its last call, as JSON


class SessionPool:
    def __init__(self, client: Client, input_mode: str, max_sessions: int) -> None:
        self._client = client
        self._input_mode = input_mode
        self._max_sessions = max(1, max_sessions)
        self._lock = threading.Lock()
        self._slots: List[Slot] = []
        self._by_response: "collections.OrderedDict[str, Slot]" = collections.OrderedDict()

    @property
    def sessions(self) -> List[Session]:
        with self._lock:
            return [slot.session for slot in self._slots]

    def acquire(self, opening: Optional[str], previous_response_id: Optional[str]) -> Slot:
        """The slot for one call, marked busy until :meth:`release`."""
        with self._lock:
            self._slots = [slot for slot in self._slots if not slot.session.closed]
            slot = self._by_response.get(previous_response_id) if previous_response_id else None
            if slot is not None and slot.session.closed:
                slot = None
            if slot is None:
                idle = [s for s in self._slots if s.busy == 0]
                slot = next((s for s in idle if opening is not None and s.opening == opening), None)
                if slot is None and idle:
                    slot = idle[0]
                if slot is None and len(self._slots) < self._max_sessions:
                    slot = Slot(self._client.session(input_mode=self._input_mode))
                    self._slots.append(slot)
                if slot is None:
                    slot = min(self._slots, key=lambda s: s.busy)
            slot.busy += 1
            slot.opening = opening
            return slot

    def release(self, slot: Slot, response_id: Optional[str]) -> None:
        """Ends a call; ``response_id`` (when it produced one) routes its continuations here."""
        with self._lock:
            slot.busy -= 1
            if response_id:
                self._by_response[response_id] = slot
                self._by_response.move_to_end(response_id)
                while len(self._by_response) > _REMEMBERED_RESPONSES:
                    self._by_response.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            slots, self._slots = self._slots, []
            self._by_response.clear()
        for slot in slots:
            slot.session.close()
