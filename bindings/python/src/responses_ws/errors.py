"""Typed exceptions, one class per ``RWS_E_*`` status code of the C library.

Groups, so callers can catch what they can act on:

- :class:`UsageError`: the call itself was wrong (bad argument, bad JSON, request too big...).
- :class:`TransportError` (also a builtin :class:`ConnectionError`): reaching the server or
  keeping the connection failed. :class:`ConnectionClosedError` is safe to resend;
  :class:`OutcomeUnknownError` is not (the server may have run the request).
- :class:`ServerError`: the server answered with an error; ``error_code`` / ``error_status``
  hold its code and HTTP-like status.
- :class:`AuthenticationError`, :class:`RequestTimeoutError`, :class:`TurnCancelledError`,
  :class:`TurnAbortedError`: on their own.
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Type

from ._ffi import ffi, lib

__all__ = [
    "ResponsesWSError",
    "UsageError",
    "InvalidArgumentError",
    "InvalidStateError",
    "ClosedError",
    "InvalidJSONError",
    "UnsupportedError",
    "RequestTooBigError",
    "InvalidStreamIdError",
    "NoMemoryError",
    "WouldBlockError",
    "InternalError",
    "TransportError",
    "URLError",
    "DNSError",
    "ConnectError",
    "TLSError",
    "TLSVerifyError",
    "UpgradeRefusedError",
    "ConnectionClosedError",
    "OutcomeUnknownError",
    "MessageTooBigError",
    "ProtocolError",
    "AuthenticationError",
    "RequestTimeoutError",
    "TurnCancelledError",
    "TurnAbortedError",
    "ServerError",
    "PreviousResponseNotFoundError",
    "ConnectionLimitError",
    "StreamLimitError",
    "RateLimitedError",
    "ResponseFailedError",
    "InvalidRequestError",
    "error_for_status",
]


class ResponsesWSError(Exception):
    """Base of every error of this package.

    Attributes:
        status: the C status code (a negative ``RWS_E_*`` value).
        message: what went wrong and, where possible, what to do about it.
        error_code: the server's error code (e.g. ``"rate_limit_exceeded"``), if any.
        error_status: the server's HTTP-like status (e.g. 429), or 0.
        response_id: the id of the response the error belongs to, if known.
    """

    #: The status code this class stands for (None for the group classes).
    code: Optional[int] = None

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: Optional[str] = None,
        error_status: int = 0,
        response_id: Optional[str] = None,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.error_status = error_status
        self.response_id = response_id

    def __str__(self) -> str:
        name = ffi.string(lib.rws_strerror(self.status)).decode("utf-8", "replace")
        detail = f" [{self.error_code}]" if self.error_code else ""
        return f"{self.message} ({name}, status {self.status}){detail}" if self.message else f"{name} (status {self.status}){detail}"


# --- the call itself -------------------------------------------------------------------------


class UsageError(ResponsesWSError):
    """The call was not valid: fix the program or the request; retrying as is will not help."""


class InvalidArgumentError(UsageError, ValueError):
    """RWS_E_INVALID_ARGUMENT: a bad option value or argument."""

    code = lib.RWS_E_INVALID_ARGUMENT


class InvalidStateError(UsageError):
    """RWS_E_INVALID_STATE: the call is not allowed now (e.g. a blocking call inside a callback)."""

    code = lib.RWS_E_INVALID_STATE


class ClosedError(InvalidStateError):
    """The client, session or turn was closed; create a new one."""


class InvalidJSONError(UsageError, ValueError):
    """RWS_E_INVALID_JSON: the request (or session defaults) is not a JSON object; the message says where."""

    code = lib.RWS_E_INVALID_JSON


class UnsupportedError(UsageError):
    """RWS_E_UNSUPPORTED: valid but not supported (e.g. ``"background": true``)."""

    code = lib.RWS_E_UNSUPPORTED


class RequestTooBigError(UsageError):
    """RWS_E_REQUEST_TOO_BIG: the request exceeds ``max_request_bytes``; nothing was sent."""

    code = lib.RWS_E_REQUEST_TOO_BIG


class InvalidStreamIdError(UsageError, ValueError):
    """RWS_E_INVALID_STREAM_ID: a stream_id must be 1-256 characters of ``[A-Za-z0-9_.-]``."""

    code = lib.RWS_E_INVALID_STREAM_ID


class NoMemoryError(ResponsesWSError, MemoryError):
    """RWS_E_NO_MEMORY: the library ran out of memory."""

    code = lib.RWS_E_NO_MEMORY


class WouldBlockError(ResponsesWSError):
    """RWS_E_AGAIN: nothing happened within the timeout; the turn goes on."""

    code = lib.RWS_E_AGAIN


class InternalError(ResponsesWSError):
    """RWS_E_INTERNAL: a bug in the library; please report the message."""

    code = lib.RWS_E_INTERNAL


# --- reaching the server and keeping the connection ------------------------------------------


class TransportError(ResponsesWSError, builtins.ConnectionError):
    """Reaching the server or keeping the connection failed."""


class URLError(TransportError, ValueError):
    """RWS_E_URL: the base or WebSocket URL is malformed or its scheme unsupported."""

    code = lib.RWS_E_URL


class DNSError(TransportError):
    """RWS_E_DNS: the host name does not resolve."""

    code = lib.RWS_E_DNS


class ConnectError(TransportError):
    """RWS_E_CONNECT: the TCP connection was refused, unreachable or reset."""

    code = lib.RWS_E_CONNECT


class TLSError(TransportError):
    """RWS_E_TLS: the TLS handshake or TLS I/O failed."""

    code = lib.RWS_E_TLS


class TLSVerifyError(TLSError):
    """RWS_E_TLS_VERIFY: the certificate or host name did not verify (see ``ca_file``)."""

    code = lib.RWS_E_TLS_VERIFY


class UpgradeRefusedError(TransportError):
    """RWS_E_UPGRADE_REFUSED: the WebSocket upgrade got another non-101 answer (404, 426...)."""

    code = lib.RWS_E_UPGRADE_REFUSED


class ConnectionClosedError(TransportError):
    """RWS_E_CLOSED: the connection closed before the request was written; safe to send again."""

    code = lib.RWS_E_CLOSED


class OutcomeUnknownError(TransportError):
    """RWS_E_OUTCOME_UNKNOWN: the connection was lost after the request was sent.

    The server may have run it; the library never replays it. Decide at the application level.
    """

    code = lib.RWS_E_OUTCOME_UNKNOWN


class MessageTooBigError(TransportError):
    """RWS_E_MESSAGE_TOO_BIG: a server message exceeded ``max_message_bytes``."""

    code = lib.RWS_E_MESSAGE_TOO_BIG


class ProtocolError(TransportError):
    """RWS_E_PROTOCOL: the server broke the protocol (binary frame, bad JSON, HTTP)."""

    code = lib.RWS_E_PROTOCOL


# --- on their own ----------------------------------------------------------------------------


class AuthenticationError(ResponsesWSError):
    """RWS_E_AUTH: HTTP 401/403; check the API key, organization and project."""

    code = lib.RWS_E_AUTH


class RequestTimeoutError(ResponsesWSError, builtins.TimeoutError):
    """RWS_E_TIMEOUT: a connect, first-event, idle or total timeout of the client expired."""

    code = lib.RWS_E_TIMEOUT


class TurnCancelledError(ResponsesWSError):
    """RWS_E_CANCELLED: ``Turn.cancel()`` (or closing the turn or client) stopped the turn."""

    code = lib.RWS_E_CANCELLED


class TurnAbortedError(ResponsesWSError):
    """RWS_E_ABORTED: the event callback stopped the turn (it raised; see ``__cause__``)."""

    code = lib.RWS_E_ABORTED


# --- the server's answer ---------------------------------------------------------------------


class ServerError(ResponsesWSError):
    """RWS_E_SERVER: the server sent an ``error`` event; see ``error_code`` and ``error_status``."""

    code = lib.RWS_E_SERVER


class PreviousResponseNotFoundError(ServerError):
    """RWS_E_PREVIOUS_RESPONSE_NOT_FOUND: the chain's parent is not in the connection cache."""

    code = lib.RWS_E_PREVIOUS_RESPONSE_NOT_FOUND


class ConnectionLimitError(ServerError):
    """RWS_E_CONNECTION_LIMIT: the connection reached its lifetime limit."""

    code = lib.RWS_E_CONNECTION_LIMIT


class StreamLimitError(ServerError):
    """RWS_E_STREAM_LIMIT: too many named lanes (stream_id) on one connection."""

    code = lib.RWS_E_STREAM_LIMIT


class RateLimitedError(ServerError):
    """RWS_E_RATE_LIMITED: status 429; slow down and retry later."""

    code = lib.RWS_E_RATE_LIMITED


class ResponseFailedError(ServerError):
    """RWS_E_RESPONSE_FAILED: the response ended with ``response.failed``."""

    code = lib.RWS_E_RESPONSE_FAILED


class InvalidRequestError(ServerError, ValueError):
    """RWS_E_INVALID_REQUEST: the server rejected the request (status 400)."""

    code = lib.RWS_E_INVALID_REQUEST


_BY_STATUS: Dict[int, Type[ResponsesWSError]] = {}
for _name in __all__:
    _cls = globals().get(_name)
    if isinstance(_cls, type) and getattr(_cls, "code", None) is not None and _cls is not ClosedError:
        _BY_STATUS[getattr(_cls, "code")] = _cls


def error_for_status(
    status: int,
    message: Optional[str] = None,
    *,
    error_code: Optional[str] = None,
    error_status: int = 0,
    response_id: Optional[str] = None,
) -> ResponsesWSError:
    """Builds the exception for a negative status; ``message`` defaults to ``rws_last_error()``.

    Read right after the failing call on the same thread: the library keeps the last error
    per thread.
    """
    if message is None:
        message = ffi.string(lib.rws_last_error()).decode("utf-8", "replace")
    cls = _BY_STATUS.get(status, ResponsesWSError)
    return cls(status, message, error_code=error_code, error_status=error_status, response_id=response_id)


def check(status: int) -> int:
    """Returns a non-negative status; raises the matching exception for a negative one."""
    if status < 0:
        raise error_for_status(status)
    return status
