"""The library's log hook, forwarded to the ``logging`` module (logger ``responses_ws``).

A client asks for records at the level the logger is enabled for when the client is created
(WARNING by default: failed turns, failed connects, fallbacks; INFO adds connects, retries,
rotations, recoveries; DEBUG adds connection attempts and TLS setup). Records carry their
fields as ``extra={"rws_fields": {...}}``. They never contain the API key or a credential.
The callback runs on the library's I/O thread; it only formats and hands the record on.
"""

from __future__ import annotations

import logging
from typing import Any

from ._ffi import ffi, lib

logger = logging.getLogger("responses_ws")
logger.addHandler(logging.NullHandler())   # a library does not print unless the app configures logging

_TO_PYTHON = {
    lib.RWS_LOG_ERROR: logging.ERROR,
    lib.RWS_LOG_WARN: logging.WARNING,
    lib.RWS_LOG_INFO: logging.INFO,
    lib.RWS_LOG_DEBUG: logging.DEBUG,
}


def library_level() -> int:
    """The RWS_LOG_* level matching the logger's effective level (0: logging is off)."""
    level = logger.getEffectiveLevel()
    if level <= logging.DEBUG:
        return int(lib.RWS_LOG_DEBUG)
    if level <= logging.INFO:
        return int(lib.RWS_LOG_INFO)
    if level <= logging.WARNING:
        return int(lib.RWS_LOG_WARN)
    if level <= logging.ERROR:
        return int(lib.RWS_LOG_ERROR)
    return int(lib.RWS_LOG_OFF)


@ffi.callback("void(void *, int, const char *, const rws_log_field *, size_t)")  # type: ignore[untyped-decorator]
def on_log(_user_data: Any, level: int, message: Any, fields: Any, count: int) -> None:
    try:
        text = ffi.string(message).decode("utf-8", "replace")
        extra = {ffi.string(fields[i].key).decode(): ffi.string(fields[i].value).decode("utf-8", "replace") for i in range(count)}
        logger.log(_TO_PYTHON.get(level, logging.DEBUG), "%s", text, extra={"rws_fields": extra})
    except Exception:   # never raise into the library's thread
        pass
