"""Server events as light Python objects, copied out of the library's ``rws_event``.

The library hands out each event as the server's raw JSON plus fields decoded once. An
:class:`Event` copies exactly those (the raw bytes and a few short strings) and parses the JSON
only when :attr:`Event.data` is read, so delivering an event costs a few attribute reads.
"""

from __future__ import annotations

import enum
import json
from typing import Any, Dict, Optional

from ._ffi import ffi, lib

__all__ = ["Event", "EventType"]


class EventType(enum.IntEnum):
    """The event types the library recognises (``RWS_EVENT_*``); anything else is ``OTHER``."""

    OTHER = lib.RWS_EVENT_OTHER
    RESPONSE_CREATED = lib.RWS_EVENT_RESPONSE_CREATED
    RESPONSE_QUEUED = lib.RWS_EVENT_RESPONSE_QUEUED
    RESPONSE_IN_PROGRESS = lib.RWS_EVENT_RESPONSE_IN_PROGRESS
    RESPONSE_COMPLETED = lib.RWS_EVENT_RESPONSE_COMPLETED
    RESPONSE_FAILED = lib.RWS_EVENT_RESPONSE_FAILED
    RESPONSE_INCOMPLETE = lib.RWS_EVENT_RESPONSE_INCOMPLETE
    ERROR = lib.RWS_EVENT_ERROR
    OUTPUT_ITEM_ADDED = lib.RWS_EVENT_OUTPUT_ITEM_ADDED
    OUTPUT_ITEM_DONE = lib.RWS_EVENT_OUTPUT_ITEM_DONE
    CONTENT_PART_ADDED = lib.RWS_EVENT_CONTENT_PART_ADDED
    CONTENT_PART_DONE = lib.RWS_EVENT_CONTENT_PART_DONE
    OUTPUT_TEXT_DELTA = lib.RWS_EVENT_OUTPUT_TEXT_DELTA
    OUTPUT_TEXT_DONE = lib.RWS_EVENT_OUTPUT_TEXT_DONE
    FUNCTION_CALL_ARGUMENTS_DELTA = lib.RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DELTA
    FUNCTION_CALL_ARGUMENTS_DONE = lib.RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DONE
    REASONING_SUMMARY_TEXT_DELTA = lib.RWS_EVENT_REASONING_SUMMARY_TEXT_DELTA
    REASONING_SUMMARY_TEXT_DONE = lib.RWS_EVENT_REASONING_SUMMARY_TEXT_DONE
    REASONING_TEXT_DELTA = lib.RWS_EVENT_REASONING_TEXT_DELTA
    REASONING_TEXT_DONE = lib.RWS_EVENT_REASONING_TEXT_DONE
    REFUSAL_DELTA = lib.RWS_EVENT_REFUSAL_DELTA
    REFUSAL_DONE = lib.RWS_EVENT_REFUSAL_DONE
    RESPONSE_DONE = lib.RWS_EVENT_RESPONSE_DONE


# EventType members by value, so an event's type_id is an enum member at the cost of an index.
_EVENT_TYPES = tuple(sorted(EventType, key=int))
_TERMINAL = lib.RWS_EVENT_FLAG_TERMINAL
_NULL = ffi.NULL
_unpack = ffi.unpack
# Event type names repeat all the time: keep one str per distinct name (bounded, since unknown
# types are delivered too and a server could send many).
_type_names: Dict[bytes, str] = {}
_TYPE_NAME_CACHE_LIMIT = 1024


class Event:
    """One server event of a turn.

    Attributes:
        type: the event's ``"type"``, e.g. ``"response.output_text.delta"``.
        type_id: an :class:`EventType` member (``EventType.OTHER`` for types the library does not
            know; a plain int for a value newer than this binding).
        flags: ``RWS_EVENT_FLAG_*`` bits; see :attr:`terminal`.
        raw: the complete event JSON exactly as the server sent it.
        response_id, stream_id, item_id: ids from the event, or None when absent.
        delta: the decoded ``"delta"`` of ``*.delta`` events, else None.
        error_code, error_message, error_status: of ``error`` and ``response.failed`` events
            (None / None / 0 otherwise).
        sequence_number, output_index: numbers from the event, or None when absent.
    """

    __slots__ = (
        "type",
        "type_id",
        "flags",
        "raw",
        "response_id",
        "stream_id",
        "item_id",
        "delta",
        "error_code",
        "error_message",
        "error_status",
        "sequence_number",
        "output_index",
        "_data",
    )

    type: str
    type_id: int
    flags: int
    raw: bytes
    response_id: Optional[str]
    stream_id: Optional[str]
    item_id: Optional[str]
    delta: Optional[str]
    error_code: Optional[str]
    error_message: Optional[str]
    error_status: int
    sequence_number: Optional[int]
    output_index: Optional[int]
    _data: Dict[str, Any]

    @property
    def terminal(self) -> bool:
        """True for the event that ends the turn."""
        return bool(self.flags & _TERMINAL)

    @property
    def data(self) -> Dict[str, Any]:
        """The event JSON parsed into a dict (parsed on first access, then cached)."""
        try:
            return self._data
        except AttributeError:
            data: Dict[str, Any] = json.loads(self.raw)
            self._data = data
            return data

    def json(self) -> Dict[str, Any]:
        """The event JSON parsed into a dict; the same object as :attr:`data`."""
        return self.data

    def __repr__(self) -> str:
        extra = f" delta={self.delta!r}" if self.delta is not None else ""
        return f"<Event {self.type} seq={self.sequence_number}{extra}>"


def _text(s: Any) -> Optional[str]:
    """An rws_str as str; None when absent ({NULL, 0})."""
    n = s.len
    if n:
        return _unpack(s.ptr, n).decode("utf-8", "replace")  # type: ignore[no-any-return]
    return None if s.ptr == _NULL else ""


def event_from_c(e: Any) -> Event:
    """Copies one ``const rws_event *`` into an :class:`Event` (the C event is valid only briefly)."""
    ev = Event.__new__(Event)
    name = _unpack(e.type_name.ptr, e.type_name.len)
    type_name = _type_names.get(name)
    if type_name is None:
        type_name = name.decode("utf-8", "replace")
        if len(_type_names) < _TYPE_NAME_CACHE_LIMIT:
            _type_names[name] = type_name
    ev.type = type_name
    type_id = e.type
    ev.type_id = _EVENT_TYPES[type_id] if 0 <= type_id < len(_EVENT_TYPES) else type_id
    ev.flags = e.flags
    js = e.json
    ev.raw = _unpack(js.ptr, js.len)
    ev.response_id = _text(e.response_id)
    ev.stream_id = _text(e.stream_id)
    ev.item_id = _text(e.item_id)
    ev.delta = _text(e.delta)
    ev.error_code = _text(e.error_code)
    ev.error_message = _text(e.error_message)
    ev.error_status = e.error_status
    seq = e.sequence_number
    ev.sequence_number = None if seq < 0 else seq
    index = e.output_index
    ev.output_index = None if index < 0 else index
    return ev
