"""A drop-in for the ``openai`` SDK's WebSocket mode, ``client.responses.connect()``.

Change one line and a script written for the SDK runs over ``libresponsesws``::

    # with client.responses.connect() as connection:
    with responses_ws.openai.connect(client) as connection:
        connection.response.create(model="gpt-5.6", input="Hi", store=False)
        for event in connection:            # the SDK's own ResponsesServerEvent objects
            if event.type == "response.completed":
                break

The connection has the SDK connection's surface: ``response.create(**params)``, ``send``,
``recv``, ``recv_bytes``, ``parse_event``, iteration, ``on``/``off``/``once``/``dispatch_events``,
``close`` and the context manager; ``connect(AsyncOpenAI(...))`` gives the async twin. Each
``response.create`` is one turn of a :class:`~responses_ws.Session`. As with the SDK, a request
continues a conversation only when it names ``previous_response_id`` (nothing is chained for
you). Events of several creates are delivered one response after another, in the order of the
creates. ``response.steer`` is not supported (the library has no steering).

The SDK is imported when :func:`connect` is called, never at ``import responses_ws``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from typing import (
    TYPE_CHECKING, Any, AsyncIterator, Callable, Deque, Dict, Iterator, List, Mapping, Optional,
    Tuple, TypeVar, Union, overload,
)

from ._ffi import lib
from ._openai_options import client_arguments
from .client import Client, Session
from .errors import ClosedError, ResponsesWSError, UnsupportedError
from .events import Event
from .turn import Turn

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI
    from openai.types.responses import ResponsesServerEvent

__all__ = [
    "connect",
    "ResponsesConnectionManager",
    "ResponsesConnection",
    "AsyncResponsesConnectionManager",
    "AsyncResponsesConnection",
]

_Handler = Callable[..., Any]

# --- conversions ------------------------------------------------------------------------------

_parse: Any = None


def parse_server_event(data: Union[str, bytes]) -> "ResponsesServerEvent":
    """One event's JSON as the SDK's ``ResponsesServerEvent`` object: the object the SDK's own
    connection builds (see :mod:`responses_ws._sdk_events`; unknown fields and types are kept)."""
    global _parse
    if _parse is None:
        from openai.types.responses import ResponsesServerEvent as server_event

        from ._sdk_events import parser_for

        _parse = parser_for(server_event)
    return _parse(json.loads(data))  # type: ignore[no-any-return]


def _json_ready(value: Any) -> Any:
    """A request value as plain JSON data, as the SDK's connection sends it: its models (e.g.
    ``response.output`` items sent back as input) become their API fields, other iterables
    become lists, and fields set to the SDK's ``omit`` / ``NOT_GIVEN`` markers are left out."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items() if not _is_omitted(v)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__"):
        return [_json_ready(v) for v in value]
    return value


def _is_omitted(value: Any) -> bool:
    import openai as sdk  # loaded already: connect() imported it

    return isinstance(value, (sdk.Omit, sdk.NotGiven))


def request_body(params: Mapping[str, Any]) -> Dict[str, Any]:
    """The body of one ``response.create`` from the SDK-style keyword arguments.

    Without ``previous_response_id`` the request starts a new conversation, as the SDK's does:
    the key is sent as null so the session does not chain it to its last response."""
    body: Dict[str, Any] = _json_ready(params)
    body.pop("type", None)
    extra = body.pop("extra_body", None)
    if isinstance(extra, Mapping):
        body.update(extra)
    if "conversation" not in body:  # a conversation object chains on the server instead
        body.setdefault("previous_response_id", None)
    return body


def _create_event_body(event: Any) -> Dict[str, Any]:
    """The body of a client event passed to ``send`` (a dict or one of the SDK's models)."""
    data = _json_ready(event)
    if not isinstance(data, Mapping):
        raise TypeError(f"send() takes a client event object or dict, not {type(event).__name__}")
    kind = data.get("type")
    if kind != "response.create":
        raise UnsupportedError(lib.RWS_E_UNSUPPORTED, f"responses_ws.openai: client event {kind!r} is not supported (only response.create)")
    return request_body(data)


# --- shared state: the library client, one session per lane, the turns in creation order --------


class _Lanes:
    """A responses_ws Client with one Session per ``stream_id`` and the turns not yet read."""

    def __init__(self, client: Client, owns_client: bool) -> None:
        self.client = client
        self.owns_client = owns_client
        self.sessions: Dict[Optional[str], Session] = {}
        self.pending: Deque[Turn] = collections.deque()
        self.closed = False

    def start(self, body: Dict[str, Any]) -> Turn:
        if self.closed:
            raise ClosedError(lib.RWS_E_INVALID_STATE, "the connection is closed")
        lane = body.get("stream_id")
        session = self.sessions.get(lane)
        if session is None:
            session = self.client.session(stream_id=lane)
            self.sessions[lane] = session
        turn = session.turn(body)
        self.pending.append(turn)
        return turn

    def close(self) -> None:
        self.closed = True
        for session in self.sessions.values():
            session.close()
        for turn in self.pending:
            turn.close()
        self.pending.clear()
        if self.owns_client:
            self.client.close()


class _Handlers:
    """``on`` / ``off`` / ``once`` registrations by event type (``"event"``: every event)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_type: Dict[str, List[Tuple[_Handler, bool]]] = {}

    def add(self, event_type: str, handler: _Handler, once: bool = False) -> None:
        with self._lock:
            self._by_type.setdefault(event_type, []).append((handler, once))

    def remove(self, event_type: str, handler: _Handler) -> None:
        with self._lock:
            entries = self._by_type.get(event_type, [])
            for index, (registered, _) in enumerate(entries):
                if registered == handler:
                    del entries[index]
                    return

    def take(self, event_type: str) -> List[_Handler]:
        """The handlers to call for one event (one-time handlers are removed)."""
        with self._lock:
            entries = self._by_type.get(event_type, [])
            self._by_type[event_type] = [entry for entry in entries if not entry[1]]
            return [handler for handler, _ in entries]

    def merge_into(self, other: "_Handlers") -> None:
        with self._lock:
            for event_type, entries in self._by_type.items():
                for handler, once in entries:
                    other.add(event_type, handler, once)


def _registrar(handlers: _Handlers, owner: Any, event_type: str, handler: Optional[_Handler], once: bool) -> Any:
    """``on(type, handler)`` returns the owner; ``on(type)`` is a decorator (as in the SDK)."""
    if handler is not None:
        handlers.add(event_type, handler, once)
        return owner

    def decorator(fn: _Handler) -> _Handler:
        handlers.add(event_type, fn, once)
        return fn

    return decorator


_WithHandlersT = TypeVar("_WithHandlersT", bound="_HandlerMethods")


class _HandlerMethods:
    """``on`` / ``once`` / ``off`` over ``self._handlers``: the connections and their managers
    register handlers the same way."""

    _handlers: _Handlers

    def on(self, event_type: str, handler: Optional[_Handler] = None) -> Any:
        """Registers a handler for ``dispatch_events`` (method or decorator form)."""
        return _registrar(self._handlers, self, event_type, handler, once=False)

    def once(self, event_type: str, handler: Optional[_Handler] = None) -> Any:
        """Registers a handler that is removed after its first call."""
        return _registrar(self._handlers, self, event_type, handler, once=True)

    def off(self: _WithHandlersT, event_type: str, handler: _Handler) -> _WithHandlersT:
        """Removes a handler registered with ``on``."""
        self._handlers.remove(event_type, handler)
        return self


def _unhandled_error(event: Any) -> BaseException:
    from openai import OpenAIError

    return OpenAIError(f"WebSocket error: {event}")


# --- sync ------------------------------------------------------------------------------------


class ResponsesResponseResource:
    """``connection.response``: ``create(**params)`` starts one turn and returns at once."""

    def __init__(self, connection: "ResponsesConnection") -> None:
        self._connection = connection

    def create(self, **params: Any) -> None:
        """Sends one ``response.create`` with the keyword arguments of the SDK's
        ``connection.response.create`` (``model``, ``input``, ``tools``, ``previous_response_id``,
        ``stream_id``, ``generate``, ...). Its events follow those of earlier creates."""
        self._connection._start(request_body(params))

    def steer(self, **params: Any) -> None:
        """Not supported by the library: raises :class:`~responses_ws.UnsupportedError`."""
        raise UnsupportedError(lib.RWS_E_UNSUPPORTED, "responses_ws.openai: response.steer is not supported")


class ResponsesConnection(_HandlerMethods):
    """The connection ``with responses_ws.openai.connect(OpenAI(...))`` gives; shaped like the
    SDK's ``ResponsesConnection``. Iterate from one thread; ``create`` and ``close`` work from any."""

    response: ResponsesResponseResource

    def __init__(self, lanes: _Lanes) -> None:
        self._lanes = lanes
        self._cond = threading.Condition()
        self._events: Optional[Iterator[Event]] = None  # of the oldest pending turn
        self._terminal_seen = False
        self._handlers = _Handlers()
        self.response = ResponsesResponseResource(self)

    @property
    def client(self) -> Client:
        """The responses_ws Client underneath (for stats and options)."""
        return self._lanes.client

    def _start(self, body: Dict[str, Any]) -> None:
        with self._cond:
            self._lanes.start(body)
            self._cond.notify_all()

    def send(self, event: Any) -> None:
        """Sends a client event; only ``{"type": "response.create", ...}`` is supported."""
        self._start(_create_event_body(event))

    def _front(self) -> Optional[Turn]:
        """The oldest turn not yet read to its end; waits for a create. None once closed."""
        with self._cond:
            while not self._lanes.pending and not self._lanes.closed:
                self._cond.wait()
            return None if self._lanes.closed else self._lanes.pending[0]

    def _done_with_front(self) -> None:
        with self._cond:
            if self._lanes.pending:
                self._lanes.pending.popleft().close()
        self._events = None
        self._terminal_seen = False

    def _next_event(self) -> Optional[Event]:
        """The next event of the oldest turn, moving on to the next turn at its end. None when
        the connection was closed. A failed turn whose error came as an event (``error``,
        ``response.failed``) is not raised again: that event was the report, as in the SDK."""
        while True:
            turn = self._front()
            if turn is None:
                return None
            if self._events is None:
                self._events = iter(turn)
            try:
                event = next(self._events)
            except StopIteration:
                self._done_with_front()
                continue
            except ResponsesWSError:
                delivered = self._terminal_seen
                self._done_with_front()
                if delivered or self._lanes.closed:
                    continue
                raise
            if event.terminal or event.type == "error":
                self._terminal_seen = True
            return event

    def recv_bytes(self) -> bytes:
        """The next event's JSON, as the server sent it. Raises ClosedError after close()."""
        event = self._next_event()
        if event is None:
            raise ClosedError(lib.RWS_E_INVALID_STATE, "the connection is closed")
        return event.raw

    def recv(self) -> "ResponsesServerEvent":
        """The next event as the SDK's ``ResponsesServerEvent`` object."""
        return self.parse_event(self.recv_bytes())

    def parse_event(self, data: Union[str, bytes]) -> "ResponsesServerEvent":
        """Event JSON as the SDK's ``ResponsesServerEvent`` object."""
        return parse_server_event(data)

    def __iter__(self) -> Iterator["ResponsesServerEvent"]:
        """Every event of every create, in order, until the connection is closed (break out of
        the loop at the event you wait for, e.g. ``response.completed``)."""
        while True:
            event = self._next_event()
            if event is None:
                return
            yield parse_server_event(event.raw)

    def dispatch_events(self) -> None:
        """Calls the registered handlers for each event until the connection is closed; an
        ``error`` event with no handler for it (or for ``"event"``) raises ``OpenAIError``."""
        for event in self:
            specific = self._handlers.take(event.type)
            generic = self._handlers.take("event")
            if event.type == "error" and not specific and not generic:
                raise _unhandled_error(event)
            for handler in specific + generic:
                handler(event)

    def close(self) -> None:
        """Cancels unread turns and closes the sessions (and the client this connection opened)."""
        with self._cond:
            if self._lanes.closed:
                return
            self._lanes.close()
            self._cond.notify_all()

    def __enter__(self) -> "ResponsesConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _ConnectionManagerBase(_HandlerMethods):
    """What both connection managers share: events queued and handlers registered before the
    connection opens."""

    def __init__(self, make_client: Callable[[], Tuple[Client, bool]]) -> None:
        self._make_client = make_client
        self._queued: List[Dict[str, Any]] = []
        self._handlers = _Handlers()

    def send(self, event: Any) -> None:
        """Queues a client event, sent when the connection opens (as the SDK's manager does)."""
        self._queued.append(_create_event_body(event))


class ResponsesConnectionManager(_ConnectionManagerBase):
    """What :func:`connect` returns for an ``OpenAI`` client: ``with ... as connection`` (or
    ``.enter()``) opens the connection and closes it on exit."""

    def __init__(self, make_client: Callable[[], Tuple[Client, bool]]) -> None:
        super().__init__(make_client)
        self._connection: Optional[ResponsesConnection] = None

    def __enter__(self) -> ResponsesConnection:
        client, owns = self._make_client()
        connection = ResponsesConnection(_Lanes(client, owns))
        self._handlers.merge_into(connection._handlers)
        for body in self._queued:
            connection._start(body)
        self._queued.clear()
        self._connection = connection
        return connection

    enter = __enter__

    def __exit__(self, *exc: Any) -> None:
        if self._connection is not None:
            self._connection.close()


# --- async -----------------------------------------------------------------------------------


class AsyncResponsesResponseResource:
    """``connection.response`` of the async connection."""

    def __init__(self, connection: "AsyncResponsesConnection") -> None:
        self._connection = connection

    async def create(self, **params: Any) -> None:
        """Sends one ``response.create`` (see :meth:`ResponsesResponseResource.create`)."""
        self._connection._start(request_body(params))

    async def steer(self, **params: Any) -> None:
        """Not supported by the library: raises :class:`~responses_ws.UnsupportedError`."""
        raise UnsupportedError(lib.RWS_E_UNSUPPORTED, "responses_ws.openai: response.steer is not supported")


class AsyncResponsesConnection(_HandlerMethods):
    """The async twin of :class:`ResponsesConnection` (``connect(AsyncOpenAI(...))``).

    One reader task per connection moves the events of the turns, in creation order, into a
    queue that ``recv`` and ``async for`` take from: cancelling a ``recv`` (a timeout around it)
    loses nothing, as with the SDK. Use it from one event loop."""

    response: AsyncResponsesResponseResource

    def __init__(self, lanes: _Lanes) -> None:
        self._lanes = lanes
        # Events, then an exception for a turn that failed without an event, then None once closed.
        self._queue: "asyncio.Queue[Union[Event, BaseException, None]]" = asyncio.Queue()
        self._new_turn = asyncio.Event()
        self._reader: Optional["asyncio.Task[None]"] = None
        self._handlers = _Handlers()
        self.response = AsyncResponsesResponseResource(self)

    @property
    def client(self) -> Client:
        return self._lanes.client

    def _start(self, body: Dict[str, Any]) -> None:
        self._lanes.start(body)
        self._new_turn.set()
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, event: Any) -> None:
        """Sends a client event; only ``{"type": "response.create", ...}`` is supported."""
        self._start(_create_event_body(event))

    async def _read(self) -> None:
        """The reader task: every turn's events into the queue, until the connection closes. A
        failed turn whose error came as an event is not reported again (as in the SDK)."""
        try:
            while True:
                while not self._lanes.pending and not self._lanes.closed:
                    self._new_turn.clear()
                    await self._new_turn.wait()
                if self._lanes.closed:
                    return
                turn = self._lanes.pending[0]
                reported = False
                try:
                    async for event in turn:
                        self._queue.put_nowait(event)
                        reported = reported or event.terminal or event.type == "error"
                except ResponsesWSError as error:
                    if not reported and not self._lanes.closed:
                        self._queue.put_nowait(error)
                finally:
                    if self._lanes.pending and self._lanes.pending[0] is turn:
                        self._lanes.pending.popleft()
                    turn.close()
        except Exception as error:  # a bug here must reach the reader of the events, not vanish
            self._queue.put_nowait(error)
        finally:
            self._queue.put_nowait(None)

    async def _next_event(self) -> Optional[Event]:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # closed: so every later recv sees it too
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    async def recv_bytes(self) -> bytes:
        """The next event's JSON, as the server sent it. Raises ClosedError after close()."""
        event = await self._next_event()
        if event is None:
            raise ClosedError(lib.RWS_E_INVALID_STATE, "the connection is closed")
        return event.raw

    async def recv(self) -> "ResponsesServerEvent":
        """The next event as the SDK's ``ResponsesServerEvent`` object; safe to cancel."""
        return self.parse_event(await self.recv_bytes())

    def parse_event(self, data: Union[str, bytes]) -> "ResponsesServerEvent":
        return parse_server_event(data)

    def __aiter__(self) -> AsyncIterator["ResponsesServerEvent"]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator["ResponsesServerEvent"]:
        while True:
            event = await self._next_event()
            if event is None:
                return
            yield parse_server_event(event.raw)

    async def dispatch_events(self) -> None:
        """As :meth:`ResponsesConnection.dispatch_events`; coroutine handlers are awaited."""
        async for event in self:
            specific = self._handlers.take(event.type)
            generic = self._handlers.take("event")
            if event.type == "error" and not specific and not generic:
                raise _unhandled_error(event)
            for handler in specific + generic:
                result = handler(event)
                if asyncio.iscoroutine(result):
                    await result

    async def close(self) -> None:
        """Cancels unread turns, closes the sessions (and the client this connection opened)
        and waits for the reader task to end."""
        if self._lanes.closed:
            return
        self._lanes.close()
        self._new_turn.set()
        if self._reader is None:
            self._queue.put_nowait(None)
        else:
            await self._reader

    async def __aenter__(self) -> "AsyncResponsesConnection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncResponsesConnectionManager(_ConnectionManagerBase):
    """What :func:`connect` returns for an ``AsyncOpenAI`` client: ``async with ... as connection``
    (or ``await .enter()``)."""

    def __init__(self, make_client: Callable[[], Tuple[Client, bool]]) -> None:
        super().__init__(make_client)
        self._connection: Optional[AsyncResponsesConnection] = None

    async def __aenter__(self) -> AsyncResponsesConnection:
        client, owns = self._make_client()
        connection = AsyncResponsesConnection(_Lanes(client, owns))
        self._handlers.merge_into(connection._handlers)
        for body in self._queued:
            connection._start(body)
        self._queued.clear()
        self._connection = connection
        return connection

    enter = __aenter__

    async def __aexit__(self, *exc: Any) -> None:
        if self._connection is not None:
            await self._connection.close()


# --- entry point -----------------------------------------------------------------------------


@overload
def connect(
    openai_client: "AsyncOpenAI",
    *,
    extra_query: Optional[Mapping[str, Any]] = ...,
    extra_headers: Optional[Mapping[str, Any]] = ...,
    websocket_connection_options: Optional[Mapping[str, Any]] = ...,
    on_reconnecting: Optional[Callable[..., Any]] = ...,
    max_retries: Optional[int] = ...,
    initial_delay: Optional[float] = ...,
    max_delay: Optional[float] = ...,
    max_queue_size: Optional[int] = ...,
    client: Optional[Client] = ...,
    client_options: Optional[Mapping[str, Any]] = ...,
) -> AsyncResponsesConnectionManager: ...


@overload
def connect(
    openai_client: "OpenAI",
    *,
    extra_query: Optional[Mapping[str, Any]] = ...,
    extra_headers: Optional[Mapping[str, Any]] = ...,
    websocket_connection_options: Optional[Mapping[str, Any]] = ...,
    on_reconnecting: Optional[Callable[..., Any]] = ...,
    max_retries: Optional[int] = ...,
    initial_delay: Optional[float] = ...,
    max_delay: Optional[float] = ...,
    max_queue_size: Optional[int] = ...,
    client: Optional[Client] = ...,
    client_options: Optional[Mapping[str, Any]] = ...,
) -> ResponsesConnectionManager: ...


def connect(
    openai_client: Any,
    *,
    extra_query: Optional[Mapping[str, Any]] = None,
    extra_headers: Optional[Mapping[str, Any]] = None,
    websocket_connection_options: Optional[Mapping[str, Any]] = None,
    on_reconnecting: Optional[Callable[..., Any]] = None,
    max_retries: Optional[int] = None,
    initial_delay: Optional[float] = None,
    max_delay: Optional[float] = None,
    max_queue_size: Optional[int] = None,
    client: Optional[Client] = None,
    client_options: Optional[Mapping[str, Any]] = None,
) -> Union[ResponsesConnectionManager, AsyncResponsesConnectionManager]:
    """``openai_client.responses.connect(...)`` over ``libresponsesws``.

    Takes the SDK's ``connect()`` keyword arguments. Base URL, WebSocket base URL, API key,
    organization, project, default headers and timeouts come from ``openai_client``;
    ``extra_headers`` / ``extra_query`` are added to the handshake. ``max_retries``,
    ``initial_delay`` and ``max_delay`` set the library's reconnect budget and backoff (it
    reconnects a turn that failed before anything was sent, without ``on_reconnecting``);
    ``max_queue_size`` bounds the bytes queued for sending. ``websocket_connection_options``
    and ``on_reconnecting`` belong to the SDK's transport and are ignored.

    ``client``: an open :class:`~responses_ws.Client` to use (it stays open after the
    connection closes, so its warm connections serve the next ``connect``); otherwise one is
    opened for the connection, with ``client_options`` (any ``Client`` keyword option) on top
    of what the SDK client says.
    """
    import openai as sdk  # the real SDK: absolute import (this module is responses_ws.openai)

    del websocket_connection_options, on_reconnecting  # the SDK transport's own knobs
    overrides: Dict[str, Any] = {}
    if max_retries is not None:
        overrides["max_reconnects"] = max_retries
    if initial_delay is not None:
        overrides["reconnect_delay_ms"] = int(initial_delay * 1000)
    if max_delay is not None:
        overrides["reconnect_max_delay_ms"] = int(max_delay * 1000)
    if max_queue_size is not None:
        overrides["max_queued_bytes"] = max_queue_size
    overrides.update(client_options or {})

    def make_client() -> Tuple[Client, bool]:
        if client is not None:
            return client, False
        base_url, api_key, options = client_arguments(
            openai_client, extra_query=extra_query, extra_headers=extra_headers, overrides=overrides
        )
        return Client(base_url, api_key, **options), True

    if isinstance(openai_client, sdk.AsyncOpenAI):
        return AsyncResponsesConnectionManager(make_client)
    if isinstance(openai_client, sdk.OpenAI):
        return ResponsesConnectionManager(make_client)
    raise TypeError(f"connect() takes an openai.OpenAI or openai.AsyncOpenAI client, not {type(openai_client).__name__}")
