"""The client (connection cache) and sessions (conversation chains)."""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
import sys
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

if sys.version_info >= (3, 11):
    from typing import Literal, Unpack
else:  # Unpack for **kwargs typed by a TypedDict came with Python 3.11
    from typing_extensions import Literal, Unpack

from ._ffi import ffi, lib
from .errors import ClosedError, InvalidArgumentError, check
from .events import Event
from .params import ResponseCreateParams, request_body
from .turn import Turn, _CallbackSink, _on_event
from . import _log

__all__ = ["Client", "Session", "Stats", "Request"]

#: A request body: a dict (encoded as JSON) or JSON text as str or bytes.
Request = Union[Mapping[str, Any], str, bytes]
TransportName = Literal["websocket", "http"]
FallbackName = Literal["auto", "never"]
LanesName = Literal["shared", "per_session"]

_STRING_OPTIONS = ("websocket_url", "organization", "project", "beta", "ca_file",
                   "tls_client_cert", "tls_client_key", "tls_client_key_passphrase", "proxy", "no_proxy")
_NUMBER_OPTIONS = (
    "connect_timeout_ms",
    "first_event_timeout_ms",
    "idle_timeout_ms",
    "total_timeout_ms",
    "ping_interval_ms",
    "max_message_bytes",
    "max_request_bytes",
    "max_queued_bytes",
    "max_connection_age_ms",
    "rotation_margin_ms",
    "max_reconnects",
    "reconnect_delay_ms",
    "reconnect_max_delay_ms",
    "fallback_after_failures",
    "fallback_memory_ms",
    "max_sessions_per_connection",
)
_BOOL_OPTIONS = ("verify_peer", "warm_standby", "permessage_deflate")
_TRANSPORTS = {"websocket": lib.RWS_TRANSPORT_WEBSOCKET, "http": lib.RWS_TRANSPORT_HTTP}
_FALLBACKS = {"auto": lib.RWS_FALLBACK_AUTO, "never": lib.RWS_FALLBACK_NEVER}
_LANES = {"shared": lib.RWS_LANES_SHARED, "per_session": lib.RWS_LANES_PER_SESSION}
_INPUT_MODES = {"incremental": lib.RWS_INPUT_INCREMENTAL, "full_history": lib.RWS_INPUT_FULL_HISTORY}
_OPTION_NAMES = frozenset(_STRING_OPTIONS + _NUMBER_OPTIONS + _BOOL_OPTIONS + ("headers", "transport", "fallback", "lanes"))


def _encode_json(value: Request, what: str) -> bytes:
    """A request or defaults object as JSON bytes (the library validates it)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raise TypeError(f"{what} must be a dict, or JSON as str or bytes, not {type(value).__name__}")


def _choice(value: Union[str, int], choices: Dict[str, int], option: str) -> int:
    if isinstance(value, int):
        return value
    try:
        return choices[value]
    except KeyError:
        raise InvalidArgumentError(
            lib.RWS_E_INVALID_ARGUMENT, f"{option} must be one of {sorted(choices)}, not {value!r}"
        ) from None


@dataclass(frozen=True)
class Stats:
    """Counters of a client or a session since it was created (``rws_stats``)."""

    turns: int
    turns_ok: int
    events: int
    bytes_sent: int
    bytes_received: int
    connects: int
    reconnects: int
    incremental_sends: int
    full_resends: int
    fallbacks: int
    rotations: int
    unknown_outcomes: int
    #: Gauges (0.5.0), as they are now. Client: WebSocket connections open or opening; session:
    #: 1 while it holds a lane on a connection, else 0.
    connections_open: int
    #: Client: lanes its sessions hold; session: as ``connections_open``.
    lanes_in_use: int
    #: Session: the connection it holds a lane on (sessions with the same id share it; 0 for
    #: none). Client: 0.
    connection_id: int

    @classmethod
    def _read(cls, function: Callable[..., int], handle: Any) -> "Stats":
        raw = ffi.new("rws_stats *")
        check(function(handle, raw, ffi.sizeof("rws_stats")))
        return cls(**{name: getattr(raw, name) for name in cls.__dataclass_fields__})


def _session_options(defaults: Optional[Request], stream_id: Optional[str]) -> Tuple[Any, List[Any]]:
    """An rws_session_options with defaults and stream_id set, and the buffers it points into
    (keep them alive until the library has copied them)."""
    raw = ffi.new("rws_session_options *")
    lib.rws_session_options_init(raw)
    keep: List[Any] = []
    if defaults is not None:
        encoded = _encode_json(defaults, "defaults")
        defaults_buf = ffi.from_buffer(encoded)
        keep.append(defaults_buf)
        raw.defaults_json = defaults_buf
        raw.defaults_len = len(encoded)
    if stream_id is not None:
        stream_buf = ffi.new("char[]", stream_id.encode("utf-8"))
        keep.append(stream_buf)
        raw.stream_id = stream_buf
    return raw, keep


# What Client and AsyncClient (aio.py) share: the options, the handle, the sessions and turns.
# The docstring is Client's, which shows it as its own.
class _ClientCore:
    """The connection cache: one I/O thread, the configuration and warm connections.

    ``Client(base_url=..., api_key=..., connect_timeout_ms=..., ...)``; ``base_url``/``api_key``
    default to ``$OPENAI_BASE_URL``/``$OPENAI_API_KEY``. The keyword-only options are the fields
    of ``rws_client_options`` by their C names (``connect_timeout_ms``, ``max_request_bytes``,
    ``verify_peer``, ...); an option left at None keeps the library's default. ``headers`` is a
    dict or a list of ``"Name: value"``; ``transport`` is ``"websocket"`` or ``"http"``;
    ``fallback`` is ``"auto"`` or ``"never"``. ``proxy`` (``http://[user:password@]host:port``,
    ``socks5://``, ``socks5h://``; ``""`` for none) and ``no_proxy`` override ``$https_proxy``,
    ``$http_proxy``, ``$ALL_PROXY`` and ``$NO_PROXY``, read as curl reads them. ``lanes`` is
    ``"shared"`` (the default: sessions share connections, one lane each, up to
    ``max_sessions_per_connection``, 1-32, default 16, per connection) or ``"per_session"`` (a
    connection of its own for every session).

    Thread-safe. Use it as a context manager or call :meth:`close` (idempotent), which cancels
    running turns and closes every connection.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        websocket_url: Optional[str] = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        beta: Optional[str] = None,
        headers: Optional[Union[Mapping[str, str], Sequence[str]]] = None,
        ca_file: Optional[str] = None,
        tls_client_cert: Optional[str] = None,
        tls_client_key: Optional[str] = None,
        tls_client_key_passphrase: Optional[str] = None,
        proxy: Optional[str] = None,
        no_proxy: Optional[str] = None,
        verify_peer: Optional[bool] = None,
        connect_timeout_ms: Optional[int] = None,
        first_event_timeout_ms: Optional[int] = None,
        idle_timeout_ms: Optional[int] = None,
        total_timeout_ms: Optional[int] = None,
        ping_interval_ms: Optional[int] = None,
        max_message_bytes: Optional[int] = None,
        max_request_bytes: Optional[int] = None,
        max_queued_bytes: Optional[int] = None,
        transport: Optional[Union[TransportName, int]] = None,
        max_connection_age_ms: Optional[int] = None,
        rotation_margin_ms: Optional[int] = None,
        warm_standby: Optional[bool] = None,
        max_reconnects: Optional[int] = None,
        reconnect_delay_ms: Optional[int] = None,
        reconnect_max_delay_ms: Optional[int] = None,
        fallback: Optional[Union[FallbackName, int]] = None,
        fallback_after_failures: Optional[int] = None,
        fallback_memory_ms: Optional[int] = None,
        permessage_deflate: Optional[bool] = None,
        lanes: Optional[Union[LanesName, int]] = None,
        max_sessions_per_connection: Optional[int] = None,
    ) -> None:
        self._handle: Any = None
        self._lock = threading.Lock()
        self._sessions: "weakref.WeakSet[_SessionCore]" = weakref.WeakSet()
        self._turns: "weakref.WeakSet[Turn]" = weakref.WeakSet()
        # None means "the library's default": only the options given are written.
        given = {name: value for name, value in locals().items() if name in _OPTION_NAMES and value is not None}
        self._open(base_url, api_key, given)

    def _open(self, base_url: Optional[str], api_key: Optional[str], options: Dict[str, Any]) -> None:
        raw = ffi.new("rws_client_options *")
        lib.rws_client_options_init(raw)
        keep: List[Any] = []  # C strings must live until rws_client_new has copied them

        def c_string(value: Optional[str]) -> Any:
            if value is None:
                return ffi.NULL
            buf = ffi.new("char[]", value.encode("utf-8"))
            keep.append(buf)
            return buf

        raw.base_url = c_string(base_url)
        raw.api_key = c_string(api_key)
        for name in _STRING_OPTIONS:
            if name in options:
                setattr(raw, name, c_string(options[name]))
        for name in _NUMBER_OPTIONS:
            if name in options:
                setattr(raw, name, int(options[name]))
        for name in _BOOL_OPTIONS:
            if name in options:
                setattr(raw, name, 1 if options[name] else 0)
        # The library's log records go to the `responses_ws` logger, at the level it is enabled for.
        log_level = _log.library_level()
        if log_level:
            raw.log_callback = _log.on_log
            raw.log_level = log_level
        if "transport" in options:
            raw.transport = _choice(options["transport"], _TRANSPORTS, "transport")
        if "fallback" in options:
            raw.fallback = _choice(options["fallback"], _FALLBACKS, "fallback")
        if "lanes" in options:
            raw.lanes = _choice(options["lanes"], _LANES, "lanes")
        headers = options.get("headers")
        if headers:
            lines: Iterable[str] = (
                [f"{k}: {v}" for k, v in headers.items()] if isinstance(headers, Mapping) else list(headers)
            )
            array = ffi.new("const char *[]", [c_string(line) for line in lines] + [ffi.NULL])
            keep.append(array)
            raw.headers = array

        out = ffi.new("rws_client **")
        check(lib.rws_client_new(raw, out))
        self._handle = out[0]

    def _live(self) -> Any:
        if self._handle is None:
            raise ClosedError(lib.RWS_E_INVALID_STATE, "the client is closed; create a new Client")
        return self._handle

    def stats(self) -> Stats:
        """The client's counters (all sessions) since it was created."""
        with self._lock:
            return Stats._read(lib.rws_client_stats, self._live())

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._handle is None

    def _new_session(self, defaults: Optional[Request], stream_id: Optional[str], input_mode: Union[str, int]) -> Any:
        """A new rws_session handle with these options (see :meth:`Client.session`)."""
        raw, keep = _session_options(defaults, stream_id)
        raw.input_mode = _choice(input_mode, _INPUT_MODES, "input_mode")
        out = ffi.new("rws_session **")
        check(lib.rws_session_new(self._live(), raw, out))
        del keep
        return out[0]

    def _add_session(self, session: "_SessionCore") -> None:
        self._sessions.add(session)

    def _detach(self) -> Any:
        """Closes the sessions and turns and takes the client handle, for the caller to free
        (None if the client was closed already). Never waits for the network."""
        with self._lock:
            handle, self._handle = self._handle, None
            sessions = list(self._sessions)
        if handle is None:
            return None
        # Sessions first: once closed, none can start a turn (a turn is registered under its
        # session's lock). Then the turns, which the C library forbids using once the client is
        # gone; closing them also wakes threads blocked in a pull and tasks awaiting one.
        for session in sessions:
            session.close()
        with self._lock:
            turns = list(self._turns)
        for turn in turns:
            turn.close()
        return handle

    def _register(self, turn: Turn) -> None:
        with self._lock:
            self._turns.add(turn)

    def __del__(self) -> None:
        handle = self._detach() if getattr(self, "_handle", None) is not None else None
        if handle is not None:
            lib.rws_client_free(handle)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'closed' if self._handle is None else 'open'}>"


class Client(_ClientCore):
    __doc__ = _ClientCore.__doc__

    def session(
        self,
        defaults: Optional[Request] = None,
        stream_id: Optional[str] = None,
        input_mode: Union[str, int] = "incremental",
    ) -> "Session":
        """Creates a conversation chain on this client.

        Args:
            defaults: a JSON object (dict, or JSON str/bytes) merged into every request of the
                session, e.g. model, instructions, tools, store; the request's own fields win.
            stream_id: a lane name (1-256 of ``[A-Za-z0-9_.-]``); None for the default lane.
            input_mode: ``"incremental"`` (send only new items; the default) or
                ``"full_history"`` (send the whole conversation; the library sends only what is new).
        """
        with self._lock:
            session = Session(self, self._new_session(defaults, stream_id, input_mode))
            self._add_session(session)
        return session

    def close(self) -> None:
        """Cancels running turns, closes every connection and stops the I/O thread. Idempotent.

        Results of turns that had ended stay readable; sessions and turns raise
        :class:`~responses_ws.ClosedError` afterwards.
        """
        handle = self._detach()
        if handle is not None:
            lib.rws_client_free(handle)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_SessionT = TypeVar("_SessionT", bound="_SessionCore")


class _SessionCore:
    """What Session and AsyncSession share: the handle and everything that does not wait."""

    def __init__(self, client: _ClientCore, handle: Any) -> None:
        self._client = client  # keeps the client alive while the session exists
        self._handle = handle
        self._lock = threading.Lock()

    def _live(self) -> Any:
        if self._handle is None or self._client.closed:
            raise ClosedError(lib.RWS_E_INVALID_STATE, "the session (or its client) is closed")
        return self._handle

    def turn(self, request: Request, on_event: Optional[Callable[[Event], Any]] = None) -> Turn:
        """Starts a turn (one ``response.create``) and returns it at once.

        Args:
            request: the body fields of POST /v1/responses as a dict, or JSON str/bytes; pass
                only the new input items (the session adds ``previous_response_id``).
            on_event: optional; called with each :class:`Event` on the library's I/O thread
                (it must return quickly; if it raises, the turn stops with
                :class:`~responses_ws.TurnAbortedError`). Without it, iterate the turn.

        Raises :class:`~responses_ws.InvalidJSONError`, :class:`~responses_ws.RequestTooBigError`
        or :class:`~responses_ws.UnsupportedError` when nothing could be sent. Failures of the
        exchange itself are raised by iteration or :meth:`Turn.result`.
        """
        encoded = _encode_json(request, "request")
        out = ffi.new("rws_turn **")
        sink = sink_handle = None
        options = ffi.NULL
        if on_event is not None:
            sink = _CallbackSink(on_event)
            sink_handle = ffi.new_handle(sink)
            options = ffi.new("rws_turn_options *")
            lib.rws_turn_options_init(options)
            options.on_event = _on_event
            options.user_data = sink_handle
        with self._lock:
            check(lib.rws_turn_start(self._live(), encoded, len(encoded), options, out))
            turn = Turn(self, out[0], sink, sink_handle)
            self._client._register(turn)
        return turn

    def create(self, *, on_event: Optional[Callable[[Event], Any]] = None, **params: Unpack[ResponseCreateParams]) -> Turn:
        """Starts a turn from the keyword arguments of ``client.responses.create``, e.g.
        ``session.create(model="gpt-5.6", input="Hi", store=False)``, and returns it at once.

        The same as :meth:`turn` with ``params`` as the request (``extra_body`` merged in); see
        :class:`~responses_ws.params.ResponseCreateParams` for the fields and their types.
        """
        return self.turn(request_body(params), on_event=on_event)

    def prewarm(self, request: Optional[Request] = None) -> Turn:
        """Warms the session before its first real turn and returns the warm-up as a Turn.

        Without a request, opens a connection only. With one (the fields and input the
        conversation starts with), also prepares the chain on the server (``generate: false``):
        the next turn then sends only its new items. Call ``.result()`` on the returned turn to
        wait for it.
        """
        out = ffi.new("rws_turn **")
        with self._lock:
            if request is None:
                check(lib.rws_session_prewarm(self._live(), ffi.NULL, 0, out))
            else:
                encoded = _encode_json(request, "request")
                check(lib.rws_session_prewarm(self._live(), encoded, len(encoded), out))
            turn = Turn(self, out[0], None, None)
            self._client._register(turn)
        return turn

    def _copy_out(self, function: Callable[..., int]) -> Optional[str]:
        """A string the library copies into a buffer (rws_session_last_response_id and its
        kind), or None when it is empty; grows the buffer if the first one was too small."""
        size = 128
        while True:
            buf = ffi.new("char[]", size)
            with self._lock:
                length = check(function(self._live(), buf, size))
            if length == 0:
                return None
            if length < size:
                return str(ffi.string(buf, length).decode("utf-8"))
            size = length + 1

    @property
    def last_response_id(self) -> Optional[str]:
        """The id of the session's last completed response, or None if there is none yet."""
        return self._copy_out(lib.rws_session_last_response_id)

    @property
    def stream_id(self) -> Optional[str]:
        """The lane (stream_id) the session's requests carry now: its own, a generated
        ``"rws.N"`` on a shared connection, or None for the default lane or while it holds
        none. It can change when the session moves to another connection."""
        return self._copy_out(lib.rws_session_stream_id)

    @property
    def fork_parent_id(self) -> Optional[str]:
        """The id of the response this session was forked from, or None if it is not a fork
        (or was forked from a session without a response)."""
        return self._copy_out(lib.rws_session_fork_parent_id)

    def fork(self: _SessionT, stream_id: Optional[str] = None, defaults: Optional[Request] = None) -> _SessionT:
        """A new session that continues from this one's last completed response, on a new lane
        of the same connection, so its first turn sends only its own new input.

        The child has this session's defaults (``defaults``, when given, are merged over them),
        input mode and transcript; ``stream_id`` names its lane (None: a generated one). This
        session's next turn waits until the fork's first response is in progress, so the
        response it continues from is still on the server. Close the child as any session;
        the two are independent afterwards. Never blocks on the network.
        """
        raw, keep = _session_options(defaults, stream_id)
        out = ffi.new("rws_session **")
        client = self._client
        with self._lock:
            check(lib.rws_session_fork(self._live(), raw, out))
        del keep
        # Registered under the client's lock (taken after the session's, never inside it, as
        # turn() does); a client closed meanwhile would not close the child, so it is freed here.
        with client._lock:
            if client._handle is None:
                lib.rws_session_free(out[0])
                raise ClosedError(lib.RWS_E_INVALID_STATE, "the client was closed during the fork")
            child = type(self)(client, out[0])
            client._add_session(child)
        return child

    def reset(self) -> None:
        """Forgets the chain: the next turn starts a new conversation."""
        with self._lock:
            check(lib.rws_session_reset(self._live()))

    def stats(self) -> Stats:
        """This session's counters since it was created."""
        with self._lock:
            return Stats._read(lib.rws_session_stats, self._live())

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or after the client was closed."""
        return self._handle is None or self._client.closed

    def close(self) -> None:
        """Frees the session, cancelling its running and queued turns. Idempotent.

        Turn objects stay usable for their results.
        """
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            lib.rws_session_free(handle)

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            lib.rws_session_free(handle)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'closed' if self.closed else 'open'}>"


class Session(_SessionCore):
    """One conversation chain (one lane), created by :meth:`Client.session`.

    Each turn sends only its new input items; the session chains them to the last response.
    Thread-safe: turns started from several threads are queued and run one after another.
    Use it as a context manager or call :meth:`close` (idempotent).
    """

    def text(self, request: Request) -> str:
        """Runs a turn and returns its output text; raises the typed exception on failure."""
        with self.turn(request) as turn:
            return turn.text()

    async def atext(self, request: Request) -> str:
        """:meth:`text` for asyncio."""
        with self.turn(request) as turn:
            return await turn.atext()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
