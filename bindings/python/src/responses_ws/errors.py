"""Typed exceptions: the ``openai`` SDK's names where an SDK user knows one, the library's own below.

Every error is a :class:`ResponsesWSError` and carries ``status_code`` (the HTTP status where
there is one), ``code`` (the server's error code), ``request_id`` (the server's x-request-id, when it sent one),
``rws_status`` (the C status, also ``status``) and ``message``. The class comes from the HTTP
status first, then from the C status, so an error is an instance of both where both apply (an
HTTP 400 ``previous_response_not_found`` is a :class:`BadRequestError` and a
:class:`PreviousResponseNotFoundError`).

Groups, so callers can catch what they can act on:

- :class:`APIStatusError`: the server answered with an error status: :class:`BadRequestError`
  (400), :class:`AuthenticationError` (401), :class:`PermissionDeniedError` (403),
  :class:`NotFoundError` (404), :class:`ConflictError` (409), :class:`UnprocessableEntityError`
  (422), :class:`RateLimitError` (429), :class:`InternalServerError` (5xx).
- :class:`TransportError` (also a builtin :class:`ConnectionError`): reaching the server or
  keeping the connection failed. Its :class:`APIConnectionError` branch (with
  :class:`APITimeoutError`) is safe to retry; :class:`OutcomeUnknownError` is NOT an
  APIConnectionError on purpose: the server may have run the request, so never retry it blindly.
- :class:`ServerError`: the server sent an ``error`` event or a failed response.
- :class:`UsageError`: the call itself was wrong (bad argument, bad JSON, request too big...).
- :class:`TurnCancelledError`, :class:`TurnAbortedError`, ...: on their own.

These are this package's own classes with the SDK's names; they do not subclass the SDK's (the
SDK is optional).
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Tuple, Type

from ._ffi import ffi, lib

__all__ = [
    "ResponsesWSError",
    "APIError",
    # the SDK's names
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    # the library's own
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
    "ProxyError",
    "TLSError",
    "TLSVerifyError",
    "UpgradeRefusedError",
    "ConnectionClosedError",
    "OutcomeUnknownError",
    "MessageTooBigError",
    "ProtocolError",
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
        message: what went wrong and, where possible, what to do about it.
        status_code: the HTTP status (400, 401, 429, 500...) where there is one, else None.
        code: the server's error code (e.g. ``"rate_limit_exceeded"``), if any.
        request_id: the server's x-request-id, when it sent one.
        rws_status: the C status code (a negative ``RWS_E_*`` value); ``status`` is the same.
        error_code, error_status: the older names of ``code`` and ``status_code`` (0 for none).
        response_id: the id of the response the error belongs to, if known.
    """

    #: The C status this class stands for (None for the groups and the HTTP-status classes).
    rws_status: Optional[int] = None
    #: The HTTP status this class stands for (None for the library's own classes).
    http_status: Optional[int] = None

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: Optional[str] = None,
        error_status: int = 0,
        response_id: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(status, message)
        self.rws_status = status
        self.message = message
        self.code: Optional[str] = error_code
        self.status_code: Optional[int] = error_status if error_status > 0 else None
        self.request_id = request_id
        self.response_id = response_id

    @property
    def status(self) -> int:
        """The C status code (``rws_status``)."""
        return self.rws_status if self.rws_status is not None else int(lib.RWS_E_INTERNAL)

    @property
    def error_code(self) -> Optional[str]:
        """The server's error code (``code``)."""
        return self.code

    @property
    def error_status(self) -> int:
        """The HTTP status, or 0 when there is none (``status_code``)."""
        return self.status_code or 0

    def __str__(self) -> str:
        name = ffi.string(lib.rws_strerror(self.status)).decode("utf-8", "replace")
        detail = f" [{self.code}]" if self.code else ""
        http = f", HTTP {self.status_code}" if self.status_code else ""
        if self.message:
            return f"{self.message} ({name}, status {self.status}{http}){detail}"
        return f"{name} (status {self.status}{http}){detail}"


#: The SDK's name for the base class.
APIError = ResponsesWSError

# --- the server answered with an error status (the SDK's APIStatusError family) -----------------


class APIStatusError(ResponsesWSError):
    """The server answered with an HTTP error status (``status_code``)."""


class BadRequestError(APIStatusError):
    """HTTP 400: the server rejected the request; fix it before sending it again."""

    http_status = 400


class AuthenticationError(APIStatusError):
    """RWS_E_AUTH (HTTP 401, or 403 as :class:`PermissionDeniedError`): check the API key,
    organization and project."""

    rws_status = lib.RWS_E_AUTH
    http_status = 401


class PermissionDeniedError(AuthenticationError):
    """HTTP 403: the key may not use this model or project (also an :class:`AuthenticationError`)."""

    http_status = 403


class NotFoundError(APIStatusError):
    """HTTP 404: the URL, model or object does not exist."""

    http_status = 404


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the state of the object."""

    http_status = 409


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: well-formed but not processable."""

    http_status = 422


class RateLimitError(APIStatusError):
    """HTTP 429: slow down and retry later."""

    http_status = 429


class InternalServerError(APIStatusError):
    """HTTP 5xx: the server failed; retrying later may help."""

    http_status = 500


# --- the call itself -------------------------------------------------------------------------


class UsageError(ResponsesWSError):
    """The call was not valid: fix the program or the request; retrying as is will not help."""


class InvalidArgumentError(UsageError, ValueError):
    """RWS_E_INVALID_ARGUMENT: a bad option value or argument."""

    rws_status = lib.RWS_E_INVALID_ARGUMENT


class InvalidStateError(UsageError):
    """RWS_E_INVALID_STATE: the call is not allowed now (e.g. a blocking call inside a callback)."""

    rws_status = lib.RWS_E_INVALID_STATE


class ClosedError(InvalidStateError):
    """The client, session or turn was closed; create a new one."""


class InvalidJSONError(UsageError, ValueError):
    """RWS_E_INVALID_JSON: the request (or session defaults) is not a JSON object; the message says where."""

    rws_status = lib.RWS_E_INVALID_JSON


class UnsupportedError(UsageError):
    """RWS_E_UNSUPPORTED: valid but not supported (e.g. ``"background": true``)."""

    rws_status = lib.RWS_E_UNSUPPORTED


class RequestTooBigError(UsageError):
    """RWS_E_REQUEST_TOO_BIG: the request exceeds ``max_request_bytes``; nothing was sent."""

    rws_status = lib.RWS_E_REQUEST_TOO_BIG


class InvalidStreamIdError(UsageError, ValueError):
    """RWS_E_INVALID_STREAM_ID: a stream_id must be 1-256 characters of ``[A-Za-z0-9_.-]``."""

    rws_status = lib.RWS_E_INVALID_STREAM_ID


class NoMemoryError(ResponsesWSError, MemoryError):
    """RWS_E_NO_MEMORY: the library ran out of memory."""

    rws_status = lib.RWS_E_NO_MEMORY


class WouldBlockError(ResponsesWSError):
    """RWS_E_AGAIN: nothing happened within the timeout; the turn goes on."""

    rws_status = lib.RWS_E_AGAIN


class InternalError(ResponsesWSError):
    """RWS_E_INTERNAL: a bug in the library; please report the message."""

    rws_status = lib.RWS_E_INTERNAL


# --- reaching the server and keeping the connection ------------------------------------------


class TransportError(ResponsesWSError, builtins.ConnectionError):
    """Reaching the server or keeping the connection failed."""


class APIConnectionError(TransportError):
    """The SDK's name for a transport failure that is safe to retry (the request was not run, or
    the library itself ended the exchange). :class:`OutcomeUnknownError` is not one."""


class URLError(APIConnectionError, ValueError):
    """RWS_E_URL: the base or WebSocket URL is malformed or its scheme unsupported."""

    rws_status = lib.RWS_E_URL


class DNSError(APIConnectionError):
    """RWS_E_DNS: the host name does not resolve."""

    rws_status = lib.RWS_E_DNS


class ConnectError(APIConnectionError):
    """RWS_E_CONNECT: the TCP connection was refused, unreachable or reset."""

    rws_status = lib.RWS_E_CONNECT


class ProxyError(APIConnectionError):
    """RWS_E_PROXY: the configured proxy could not be reached or refused the tunnel
    (``status_code`` is the proxy's answer: 407 means proxy authentication). The library never
    connects directly instead."""

    rws_status = lib.RWS_E_PROXY


class TLSError(APIConnectionError):
    """RWS_E_TLS: the TLS handshake or TLS I/O failed."""

    rws_status = lib.RWS_E_TLS


class TLSVerifyError(TLSError):
    """RWS_E_TLS_VERIFY: the certificate or host name did not verify (see ``ca_file``)."""

    rws_status = lib.RWS_E_TLS_VERIFY


class UpgradeRefusedError(APIConnectionError):
    """RWS_E_UPGRADE_REFUSED: the WebSocket upgrade got another non-101 answer (404, 426...)."""

    rws_status = lib.RWS_E_UPGRADE_REFUSED


class ConnectionClosedError(APIConnectionError):
    """RWS_E_CLOSED: the connection closed before the request was written; safe to send again."""

    rws_status = lib.RWS_E_CLOSED


class OutcomeUnknownError(TransportError):
    """RWS_E_OUTCOME_UNKNOWN: the connection was lost after the request was sent.

    The server may have run it; the library never replays it. Decide at the application level,
    and never retry it blindly: that is why it is not an :class:`APIConnectionError`, which
    retry loops written for the SDK catch.
    """

    rws_status = lib.RWS_E_OUTCOME_UNKNOWN


class MessageTooBigError(APIConnectionError):
    """RWS_E_MESSAGE_TOO_BIG: a server message exceeded ``max_message_bytes``."""

    rws_status = lib.RWS_E_MESSAGE_TOO_BIG


class ProtocolError(APIConnectionError):
    """RWS_E_PROTOCOL: the server broke the protocol (binary frame, bad JSON, HTTP)."""

    rws_status = lib.RWS_E_PROTOCOL


class APITimeoutError(APIConnectionError, builtins.TimeoutError):
    """RWS_E_TIMEOUT: a connect, first-event, idle or total timeout of the client expired."""

    rws_status = lib.RWS_E_TIMEOUT


#: The older name of :class:`APITimeoutError`.
RequestTimeoutError = APITimeoutError

# --- on their own ----------------------------------------------------------------------------


class TurnCancelledError(ResponsesWSError):
    """RWS_E_CANCELLED: ``Turn.cancel()`` (or closing the turn or client) stopped the turn."""

    rws_status = lib.RWS_E_CANCELLED


class TurnAbortedError(ResponsesWSError):
    """RWS_E_ABORTED: the event callback stopped the turn (it raised; see ``__cause__``)."""

    rws_status = lib.RWS_E_ABORTED


# --- the server's answer ---------------------------------------------------------------------


class ServerError(ResponsesWSError):
    """RWS_E_SERVER: the server sent an ``error`` event; see ``code`` and ``status_code``."""

    rws_status = lib.RWS_E_SERVER


class PreviousResponseNotFoundError(ServerError, BadRequestError):
    """RWS_E_PREVIOUS_RESPONSE_NOT_FOUND: the chain's parent is not in the connection cache."""

    rws_status = lib.RWS_E_PREVIOUS_RESPONSE_NOT_FOUND


class ConnectionLimitError(ServerError):
    """RWS_E_CONNECTION_LIMIT: the connection reached its lifetime limit."""

    rws_status = lib.RWS_E_CONNECTION_LIMIT


class StreamLimitError(ServerError):
    """RWS_E_STREAM_LIMIT: too many named lanes (stream_id) on one connection."""

    rws_status = lib.RWS_E_STREAM_LIMIT


class RateLimitedError(ServerError, RateLimitError):
    """RWS_E_RATE_LIMITED: status 429; slow down and retry later (also a :class:`RateLimitError`)."""

    rws_status = lib.RWS_E_RATE_LIMITED


class ResponseFailedError(ServerError):
    """RWS_E_RESPONSE_FAILED: the response ended with ``response.failed``."""

    rws_status = lib.RWS_E_RESPONSE_FAILED


class InvalidRequestError(ServerError, BadRequestError, ValueError):
    """RWS_E_INVALID_REQUEST: the server rejected the request (status 400; also a :class:`BadRequestError`)."""

    rws_status = lib.RWS_E_INVALID_REQUEST


# The class of each C status, and of each HTTP status.
_BY_STATUS: Dict[int, Type[ResponsesWSError]] = {}
for _name in __all__:
    _cls = globals().get(_name)
    _own_status = _cls.__dict__.get("rws_status") if isinstance(_cls, type) else None
    if isinstance(_cls, type) and issubclass(_cls, ResponsesWSError) and _own_status is not None:
        _BY_STATUS.setdefault(_own_status, _cls)
_BY_HTTP_STATUS: Dict[int, Type[ResponsesWSError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
# Classes made for a pair (HTTP class, C class) that no class above covers, e.g. an HTTP 404
# that refused the WebSocket upgrade: NotFoundError and UpgradeRefusedError at once.
_COMBINED: Dict[Tuple[type, type], Type[ResponsesWSError]] = {}


def _http_class(status_code: int) -> Optional[Type[ResponsesWSError]]:
    if status_code >= 500:
        return InternalServerError
    return _BY_HTTP_STATUS.get(status_code)


def _class_for(status: int, status_code: int) -> Type[ResponsesWSError]:
    """The HTTP status's class first, the C status's class next; both when they differ."""
    by_status = _BY_STATUS.get(status, ResponsesWSError)
    # A proxy's HTTP status is not the API's: a 502 from the proxy is no InternalServerError.
    by_http = _http_class(status_code) if status_code > 0 and by_status is not ProxyError else None
    if by_http is None or issubclass(by_status, by_http):
        return by_status
    if by_status is ResponsesWSError or issubclass(by_http, by_status):
        return by_http
    key = (by_http, by_status)
    combined = _COMBINED.get(key)
    if combined is None:
        # Named after the HTTP class, which is what a reader of the SDK's docs looks for.
        combined = type(by_http.__name__, (by_http, by_status), {"__module__": __name__, "__doc__": by_http.__doc__})
        _COMBINED[key] = combined
    return combined


def error_for_status(
    status: int,
    message: Optional[str] = None,
    *,
    error_code: Optional[str] = None,
    error_status: int = 0,
    response_id: Optional[str] = None,
    request_id: Optional[str] = None,
) -> ResponsesWSError:
    """Builds the exception for a negative status; ``message`` defaults to ``rws_last_error()``.

    ``error_status`` (the HTTP status, 0 for none) picks the class first, ``status`` next. Read
    right after the failing call on the same thread: the library keeps the last error per thread.
    """
    if message is None:
        message = ffi.string(lib.rws_last_error()).decode("utf-8", "replace")
    cls = _class_for(status, error_status)
    return cls(status, message, error_code=error_code, error_status=error_status, response_id=response_id,
               request_id=request_id)


def check(status: int) -> int:
    """Returns a non-negative status; raises the matching exception for a negative one."""
    if status < 0:
        raise error_for_status(status)
    return status
