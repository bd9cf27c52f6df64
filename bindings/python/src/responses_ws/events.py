"""Server events as light Python objects, copied out of the library's ``rws_event``.

The library hands out each event as the server's raw JSON plus fields decoded once. An
:class:`Event` copies exactly those (the raw bytes and a few short strings) and parses the JSON
only when :attr:`Event.data` is read, so delivering an event costs a few attribute reads.
"""

from __future__ import annotations

import enum
import json
import struct
from typing import Any, Dict, Optional, Tuple

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
    STEER_ACCEPTED = lib.RWS_EVENT_STEER_ACCEPTED
    """``response.steer.accepted``: the server queued a :meth:`Turn.steer` (0.5.0)."""
    STEER_PENDING = lib.RWS_EVENT_STEER_PENDING
    """``response.steer.pending``: the steer waits for tool output."""
    STEER_FAILED = lib.RWS_EVENT_STEER_FAILED
    """``response.steer.failed``: the steer was not applied."""


# EventType members by value, so an event's type_id is an enum member at the cost of an index.
_EVENT_TYPES = tuple(sorted(EventType, key=int))
_TERMINAL = lib.RWS_EVENT_FLAG_TERMINAL
# Event type names repeat all the time: keep one str per distinct name (bounded, since unknown
# types are delivered too and a server could send many).
_type_names: Dict[bytes, str] = {}
_TYPE_NAME_CACHE_LIMIT = 1024


class Event:
    """One server event of a turn.

    Copying an event out of the library costs one copy of its JSON (``raw``) and one unpack of
    the C struct; the string fields are sliced out of ``raw`` when first read, so an event whose
    ``delta`` alone is used never builds the others.

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

    __slots__ = ("raw", "_fields", "_outside", "_data")

    raw: bytes
    # The rws_event struct as unpacked by _EVENT_STRUCT (pointers as ints).
    _fields: Tuple[int, ...]
    # Copies of string fields that do not point into the JSON (unescaped text, the turn's
    # response id), by field index; None when every field is inside the JSON.
    _outside: Optional[Dict[int, bytes]]
    _data: Dict[str, Any]

    def _string(self, index: int) -> Optional[str]:
        """The rws_str whose pointer is _fields[index] (its length follows), as str or None."""
        f = self._fields
        ptr = f[index]
        if not ptr:
            return None
        outside = self._outside
        if outside is not None and index in outside:
            return outside[index].decode("utf-8", "replace")
        start = ptr - f[_JSON_PTR]
        return self.raw[start : start + f[index + 1]].decode("utf-8", "replace")

    @property
    def type(self) -> str:
        """The event's ``"type"``, e.g. ``"response.output_text.delta"``."""
        f = self._fields
        outside = self._outside
        if outside is not None and _TYPE_PTR in outside:
            name = outside[_TYPE_PTR]
        else:
            start = f[_TYPE_PTR] - f[_JSON_PTR]
            name = self.raw[start : start + f[_TYPE_PTR + 1]]
        text = _type_names.get(name)
        if text is None:
            text = name.decode("utf-8", "replace")
            if len(_type_names) < _TYPE_NAME_CACHE_LIMIT:
                _type_names[name] = text
        return text

    @property
    def type_id(self) -> int:
        """An :class:`EventType` member (a plain int for a value newer than this binding)."""
        type_id = self._fields[_TYPE]
        return _EVENT_TYPES[type_id] if 0 <= type_id < len(_EVENT_TYPES) else type_id

    @property
    def flags(self) -> int:
        """``RWS_EVENT_FLAG_*`` bits; see :attr:`terminal`."""
        return self._fields[_FLAGS]

    @property
    def terminal(self) -> bool:
        """True for the event that ends the turn."""
        return bool(self._fields[_FLAGS] & _TERMINAL)

    @property
    def response_id(self) -> Optional[str]:
        """The id of the response this event belongs to, once known."""
        return self._string(_RESPONSE_ID_PTR)

    @property
    def stream_id(self) -> Optional[str]:
        """``"stream_id"`` (named lanes only)."""
        return self._string(_STREAM_ID_PTR)

    @property
    def item_id(self) -> Optional[str]:
        """``"item_id"``."""
        return self._string(_ITEM_ID_PTR)

    @property
    def delta(self) -> Optional[str]:
        """The decoded ``"delta"`` of ``*.delta`` events, else None."""
        return self._string(_DELTA_PTR)

    @property
    def error_code(self) -> Optional[str]:
        """``error.code`` of ``error`` events and ``response.failed``."""
        return self._string(_ERROR_CODE_PTR)

    @property
    def error_message(self) -> Optional[str]:
        """``error.message`` (decoded) of ``error`` events and ``response.failed``."""
        return self._string(_ERROR_MESSAGE_PTR)

    @property
    def error_status(self) -> int:
        """The HTTP-like ``"status"`` of ``error`` events, else 0."""
        return self._fields[_ERROR_STATUS]

    @property
    def sequence_number(self) -> Optional[int]:
        """``"sequence_number"``, or None when absent."""
        n = self._fields[_SEQUENCE_NUMBER]
        return None if n < 0 else n

    @property
    def output_index(self) -> Optional[int]:
        """``"output_index"``, or None when absent."""
        n = self._fields[_OUTPUT_INDEX]
        return None if n < 0 else n

    @property
    def data(self) -> Dict[str, Any]:
        """The event JSON parsed into a dict (parsed on first access, then cached)."""
        try:
            return self._data
        except AttributeError:
            data: Dict[str, Any] = json.loads(self.raw)
            self._data = data
            return data

    @property
    def response(self) -> Optional[Dict[str, Any]]:
        """The event's ``"response"`` object (``response.created``, ``.completed``, ...) as a dict,
        or None when the event has none. Parsed from :attr:`raw` on first access, then cached."""
        # A cheap look at the bytes first, so a delta asked for .response is never parsed. Inside
        # a JSON string a quote is escaped, so this key cannot be faked by a delta's text.
        if b'"response"' not in self.raw:
            return None
        value = self.data.get("response")
        return value if isinstance(value, dict) else None

    @property
    def item(self) -> Optional[Dict[str, Any]]:
        """The event's ``"item"`` object (``response.output_item.added`` / ``.done``) as a dict,
        or None when the event has none. Parsed on first access, then cached."""
        if b'"item"' not in self.raw:
            return None
        value = self.data.get("item")
        return value if isinstance(value, dict) else None

    def to_openai(self) -> Any:
        """The event as the ``openai`` SDK's own object, e.g. ``ResponseTextDeltaEvent``.

        Validated against the SDK's ``ResponseStreamEvent`` union (the types of
        ``client.responses.create(stream=True)``); a WebSocket-only shape such as the ``error``
        event with an ``error`` object falls back to ``ResponsesServerEvent`` (the SDK's
        WebSocket types). Needs ``pip install openai``; raises ImportError without it.
        """
        from ._openai_types import validate_event

        return validate_event(self.raw)

    def json(self) -> Dict[str, Any]:
        """The event JSON parsed into a dict; the same object as :attr:`data`."""
        return self.data

    def __repr__(self) -> str:
        delta = self.delta
        extra = f" delta={delta!r}" if delta is not None else ""
        return f"<Event {self.type} seq={self.sequence_number}{extra}>"


# rws_event as laid out by the C compiler on LP64 (checked against ffi.offsetof at import):
# struct_size, type, flags, then eight rws_str {ptr, len}, sequence_number, output_index,
# error_status. Unpacking it in one call is ~10x cheaper than reading the fields one by one.
_EVENT_STRUCT = struct.Struct("<QiI16Qqqi")
_TYPE, _FLAGS = 1, 2
_TYPE_PTR, _JSON_PTR, _RESPONSE_ID_PTR, _STREAM_ID_PTR = 3, 5, 7, 9
_ITEM_ID_PTR, _DELTA_PTR, _ERROR_CODE_PTR, _ERROR_MESSAGE_PTR = 11, 13, 15, 17
_SEQUENCE_NUMBER, _OUTPUT_INDEX, _ERROR_STATUS = 19, 20, 21
_STRING_FIELDS = (_TYPE_PTR, _RESPONSE_ID_PTR, _STREAM_ID_PTR, _ITEM_ID_PTR, _DELTA_PTR, _ERROR_CODE_PTR, _ERROR_MESSAGE_PTR)


def _check_layout() -> None:
    expected = {
        "type": 8, "flags": 12, "type_name": 16, "json": 32, "response_id": 48, "stream_id": 64,
        "item_id": 80, "delta": 96, "error_code": 112, "error_message": 128,
        "sequence_number": 144, "output_index": 152, "error_status": 160,
    }
    for name, offset in expected.items():
        if ffi.offsetof("rws_event", name) != offset:
            raise ImportError(f"responses_ws: unexpected rws_event layout ({name} at {ffi.offsetof('rws_event', name)})")


_check_layout()
_buffer = ffi.buffer
_cast = ffi.cast


def _copy(address: int, length: int) -> bytes:
    """A copy of `length` bytes of library memory at `address`."""
    copied: bytes = _buffer(_cast("char *", address), length)[:] if length else b""
    return copied


def event_from_c(e: Any) -> Event:
    """Copies one ``const rws_event *`` into an :class:`Event` (the C event is valid only briefly)."""
    f = _EVENT_STRUCT.unpack_from(_buffer(e, _EVENT_STRUCT.size))
    ev = Event.__new__(Event)
    json_ptr = f[_JSON_PTR]
    json_len = f[_JSON_PTR + 1]
    ev.raw = _copy(json_ptr, json_len)
    ev._fields = f
    outside: Optional[Dict[int, bytes]] = None
    json_end = json_ptr + json_len
    for index in _STRING_FIELDS:
        ptr = f[index]
        if ptr and not (json_ptr <= ptr and ptr + f[index + 1] <= json_end):
            if outside is None:
                outside = {}
            outside[index] = _copy(ptr, f[index + 1])
    ev._outside = outside
    return ev
