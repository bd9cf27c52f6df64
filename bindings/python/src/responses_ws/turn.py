"""One ``response.create`` in flight: its events (sync and async iteration) and its result."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import os
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._ffi import HAS_BATCHED_PULL, ffi, lib
from .errors import ClosedError, ResponsesWSError, check, error_for_status
from .events import Event, EventType, event_from_c

if TYPE_CHECKING:
    from .client import _SessionCore

__all__ = ["Turn", "TurnResult", "TurnFlags", "Transport", "Steer", "SteerInfo", "SteerState", "SteerInput"]

# A blocking pull waits at most this long per call, so Ctrl-C (KeyboardInterrupt) is noticed.
_PULL_SLICE_MS = 250
# Events taken per rws_turn_next_events call; a batch is what is queued, up to this many.
_BATCH_CAPACITY = 256
_OK = lib.RWS_OK
_DONE = lib.RWS_DONE
_AGAIN = lib.RWS_E_AGAIN
_TEXT_DELTA = EventType.OUTPUT_TEXT_DELTA
# Frames in this directory are the package's own; a turn's origin is the first frame outside it.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _wake(waiter: "asyncio.Future[None]") -> None:
    """The event loop's reader callback for a turn's notify fd: resumes the waiting task."""
    if not waiter.done():
        waiter.set_result(None)


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _caller_location() -> str:
    """``file:line`` of the nearest caller outside this package (a few frame hops, no traceback)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class TurnFlags(enum.IntFlag):
    """How a turn got through (``RWS_TURN_*`` bits of :attr:`TurnResult.flags`)."""

    INCREMENTAL = lib.RWS_TURN_INCREMENTAL
    """Sent as previous_response_id plus the new items only."""
    FULL_RESEND = lib.RWS_TURN_FULL_RESEND
    """The full context had to be sent (cache miss, new connection)."""
    RECONNECTED = lib.RWS_TURN_RECONNECTED
    """A lost or refused connection was replaced."""
    FALLBACK = lib.RWS_TURN_FALLBACK
    """Went over HTTP/SSE because WebSocket mode was unavailable."""
    ROTATED = lib.RWS_TURN_ROTATED
    """Started on a new connection that replaced an aged one."""


class Transport(enum.IntEnum):
    """The transport a turn used (``RWS_TRANSPORT_*``)."""

    WEBSOCKET = lib.RWS_TRANSPORT_WEBSOCKET
    HTTP = lib.RWS_TRANSPORT_HTTP


class SteerState(enum.IntEnum):
    """Where a steer stands (``RWS_STEER_*``), see :class:`Steer`."""

    UNKNOWN = lib.RWS_STEER_UNKNOWN
    """Waiting for the response to be created, or sent and not answered yet."""
    ACCEPTED = lib.RWS_STEER_ACCEPTED
    """The server queued it."""
    COMMITTED = lib.RWS_STEER_COMMITTED
    """The successor response that sees the input was created."""
    PENDING = lib.RWS_STEER_PENDING
    """The response waits for tool output (see ``required_input``); the session's next turn,
    carrying that output, commits the steer."""
    FAILED = lib.RWS_STEER_FAILED
    """Not applied and never will be: ``error_code`` says why, ``input`` is the input back."""
    LOST = lib.RWS_STEER_LOST
    """The connection or the turn ended without an answer: it may or may not have been applied."""


#: What :meth:`Turn.steer` takes: a str is the text of one user message; a list of user
#: messages (``{"role": "user", "content": ...}``) is encoded as JSON; bytes are JSON as is.
SteerInput = Union[str, bytes, Sequence[Mapping[str, Any]]]


def _opt_text(s: Any) -> Optional[str]:
    return ffi.unpack(s.ptr, s.len).decode("utf-8", "replace") if s.ptr != ffi.NULL else None


def _opt_count(n: int) -> Optional[int]:
    return None if n < 0 else n


@dataclass(frozen=True)
class TurnResult:
    """The outcome of a finished turn (a copy; it outlives the turn).

    ``status`` is 0 (RWS_OK) or a negative ``RWS_E_*`` code; :meth:`raise_for_status` turns a
    failure into its typed exception. Token counts are None when the server sent no usage.
    """

    status: int
    response_id: Optional[str]
    response_status: Optional[str]
    response_json: Optional[bytes] = field(repr=False)
    error_code: Optional[str]
    error_message: Optional[str]
    error_status: int
    input_tokens: Optional[int]
    output_tokens: Optional[int]
    cached_input_tokens: Optional[int]
    reasoning_tokens: Optional[int]
    transport: Transport
    bytes_sent: int
    bytes_received: int
    elapsed_us: int
    first_event_us: int
    flags: TurnFlags
    #: The server's ``x-request-id`` for the turn (0.3.0): quote it to support.
    request_id: Optional[str] = None
    # The parsed response and its text, filled on first access (the dataclass is frozen).
    _parsed: Optional[Dict[str, Any]] = field(default=None, init=False, repr=False, compare=False)
    _text: Optional[str] = field(default=None, init=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the turn ended with RWS_OK."""
        return bool(self.status == _OK)

    @property
    def elapsed(self) -> float:
        """Turn start to terminal event, in seconds."""
        return self.elapsed_us / 1e6

    @property
    def response(self) -> Optional[Dict[str, Any]]:
        """The final Response object as a dict (None if there was none); parsed once, on first access."""
        if self._parsed is None and self.response_json:
            object.__setattr__(self, "_parsed", json.loads(self.response_json))
        return self._parsed

    @property
    def output_text(self) -> str:
        """The concatenated ``output_text`` parts of the final Response's message items (computed once)."""
        if self._text is None:
            response = self.response or {}
            text = "".join(
                part.get("text", "")
                for item in response.get("output", [])
                if item.get("type") == "message"
                for part in item.get("content", [])
                if part.get("type") == "output_text"
            )
            object.__setattr__(self, "_text", text)
            return text
        return self._text

    def to_openai(self) -> Any:
        """The final response as the ``openai`` SDK's ``Response`` object (None if there was none).

        Needs ``pip install openai``; raises ImportError without it."""
        if not self.response_json:
            return None
        from ._openai_types import validate_response

        return validate_response(self.response_json)

    def exception(self) -> Optional[ResponsesWSError]:
        """The typed exception for a failed turn, or None when it succeeded."""
        if self.status >= 0:
            return None
        return error_for_status(
            self.status,
            self.error_message or ffi.string(lib.rws_strerror(self.status)).decode(),
            error_code=self.error_code,
            error_status=self.error_status,
            response_id=self.response_id,
            request_id=self.request_id,
        )

    def raise_for_status(self) -> "TurnResult":
        """Raises the typed exception if the turn failed; returns self otherwise."""
        error = self.exception()
        if error is not None:
            raise error
        return self

    @classmethod
    def _from_c(cls, r: Any) -> "TurnResult":
        json_view = r.response_json
        return cls(
            status=r.status,
            response_id=_opt_text(r.response_id),
            response_status=_opt_text(r.response_status),
            response_json=ffi.unpack(json_view.ptr, json_view.len) if json_view.ptr != ffi.NULL else None,
            error_code=_opt_text(r.error_code),
            error_message=_opt_text(r.error_message),
            error_status=r.error_status,
            input_tokens=_opt_count(r.input_tokens),
            output_tokens=_opt_count(r.output_tokens),
            cached_input_tokens=_opt_count(r.cached_input_tokens),
            reasoning_tokens=_opt_count(r.reasoning_tokens),
            transport=Transport(r.transport),
            bytes_sent=r.bytes_sent,
            bytes_received=r.bytes_received,
            elapsed_us=r.elapsed_us,
            first_event_us=r.first_event_us,
            flags=TurnFlags(r.flags),
            request_id=_opt_text(r.request_id),
        )


def _opt_json(s: Any) -> Any:
    """A JSON rws_str parsed, or None when it is absent or empty."""
    return json.loads(ffi.unpack(s.ptr, s.len)) if s.ptr != ffi.NULL and s.len else None


@dataclass(frozen=True)
class SteerInfo:
    """A steer's state as the library knew it when read (a copy; ``rws_steer_info``)."""

    index: int
    state: SteerState
    #: ``"steer_..."`` once accepted, else None.
    steer_id: Optional[str]
    #: The response it was sent for, once sent.
    target_response_id: Optional[str]
    #: FAILED: the server's code (``steering_not_supported``, ...); None when the library refused it.
    error_code: Optional[str]
    #: FAILED and LOST: what happened.
    error_message: Optional[str]
    #: FAILED: the input handed back (parsed JSON), to send again if you want.
    input: Any
    #: PENDING: the stubs the next turn must fill (parsed JSON), e.g.
    #: ``[{"type": "function_call_output", "call_id": ..., "name": ...}]``.
    required_input: Any

    @classmethod
    def _from_c(cls, index: int, r: Any) -> "SteerInfo":
        state = r.state
        return cls(
            index=index,
            state=SteerState(state) if state in SteerState._value2member_map_ else state,
            steer_id=_opt_text(r.steer_id) or None,
            target_response_id=_opt_text(r.target_response_id) or None,
            error_code=_opt_text(r.error_code) or None,
            error_message=_opt_text(r.error_message) or None,
            input=_opt_json(r.input_json),
            required_input=_opt_json(r.required_input_json),
        )


class Steer:
    """One :meth:`Turn.steer` of a turn. Each attribute reads the steer's current state from
    the library (:meth:`info` gives them all at once); they stay readable until the turn is
    closed."""

    __slots__ = ("turn", "index")

    def __init__(self, turn: "Turn", index: int) -> None:
        self.turn = turn
        #: The steer's number in its turn: 0, 1, ... in call order.
        self.index = index

    def info(self) -> SteerInfo:
        """All of the steer's state, read now."""
        return self.turn.steer_info(self.index)

    @property
    def state(self) -> SteerState:
        return self.info().state

    @property
    def steer_id(self) -> Optional[str]:
        return self.info().steer_id

    @property
    def target_response_id(self) -> Optional[str]:
        return self.info().target_response_id

    @property
    def error_code(self) -> Optional[str]:
        return self.info().error_code

    @property
    def error_message(self) -> Optional[str]:
        return self.info().error_message

    @property
    def input(self) -> Any:
        return self.info().input

    @property
    def required_input(self) -> Any:
        return self.info().required_input

    def __repr__(self) -> str:
        return f"<Steer {self.index} of {self.turn!r}>"


def _encode_steer_input(value: SteerInput) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raise TypeError(f"steer input must be a str, a list of user messages or JSON bytes, not {type(value).__name__}")


@ffi.callback("int(void *, const rws_event *)", onerror=lambda *_: lib.RWS_STOP)  # type: ignore[untyped-decorator]
def _on_event(user_data: Any, event: Any) -> int:
    # Runs on the client's I/O thread with the GIL held: build the Event, call the user's
    # function, and turn an exception into RWS_STOP (the turn ends RWS_E_ABORTED).
    return ffi.from_handle(user_data)._deliver(event)  # type: ignore[no-any-return]


class _CallbackSink:
    """The user_data of a callback-mode turn: holds the user's function and what it raised."""

    __slots__ = ("on_event", "error", "__weakref__")

    def __init__(self, on_event: Callable[[Event], Any]) -> None:
        self.on_event = on_event
        self.error: Optional[BaseException] = None

    def _deliver(self, event: Any) -> int:
        try:
            self.on_event(event_from_c(event))
        except BaseException as error:  # noqa: B902 - anything raised must not reach the C thread
            self.error = error
            return lib.RWS_STOP  # type: ignore[no-any-return]
        return lib.RWS_CONTINUE  # type: ignore[no-any-return]


class Turn:
    """One request in flight. Iterate it (``for event in turn`` or ``async for event in turn``)
    to receive its events; then :meth:`result` gives the :class:`TurnResult`.

    Iteration ends after the terminal event and raises the turn's typed exception if it
    failed. A turn started with ``on_event`` delivers to that function instead and cannot be
    iterated. Use it as a context manager, or call :meth:`close`, to free it promptly (a
    running turn is cancelled). Iterate from one thread at a time; :meth:`cancel` works from any.
    """

    def __init__(self, session: "_SessionCore", handle: Any, sink: Optional[_CallbackSink], sink_handle: Any) -> None:
        self._origin = _caller_location()  # named by the ResourceWarning of a dropped turn
        self._result: Optional[TurnResult] = None
        self._exhausted = False
        self._session = session  # keeps the client alive while the turn exists
        self._handle = handle
        self._sink = sink
        self._sink_handle = sink_handle  # the cffi handle passed as user_data; freed after the turn
        self._handle_lock = threading.Lock()  # guards _handle against free during cancel/result
        self._pull_lock = threading.Lock()  # one blocking call (pull/wait) at a time
        if HAS_BATCHED_PULL:
            self._batch = ffi.new("const rws_event *[]", _BATCH_CAPACITY)
            self._count = ffi.new("size_t *")
        self._event_out = ffi.new("const rws_event **")  # single pull: older libraries, tests
        # asyncio: the turn's notify fd once asked for, the reader registered on it while a task
        # waits (its loop, the fd and the waiting Future), and events that aresult() pulled to
        # reach the end, handed out by the next iteration.
        self._notify_fd: Optional[int] = None
        self._reader: Optional[Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"]] = None
        self._pending: List[Event] = []

    # -- events -------------------------------------------------------------------------------

    def _pull(self, timeout_ms: int) -> Optional[List[Event]]:
        """Up to one batch of events: [] on timeout, None when the turn has no more events."""
        with self._pull_lock:
            handle = self._handle
            if handle is None or self._exhausted:
                return None
            if HAS_BATCHED_PULL:
                status = lib.rws_turn_next_events(handle, timeout_ms, self._batch, _BATCH_CAPACITY, self._count)
                if status == _OK:
                    batch = self._batch
                    return [event_from_c(batch[i]) for i in range(self._count[0])]
            else:
                status = lib.rws_turn_next_event(handle, timeout_ms, self._event_out)
                if status == _OK:
                    return [event_from_c(self._event_out[0])]
            if status == _AGAIN:
                return []
            if status == _DONE:
                self._exhausted = True
                return None
            raise error_for_status(status)

    def _check_pull_mode(self) -> None:
        if self._sink is not None:
            raise TypeError("this turn delivers its events to on_event; it cannot be iterated")

    def __iter__(self) -> Iterator[Event]:
        """Yields every event, in order, on the calling thread; raises the turn's error at the end."""
        self._check_pull_mode()
        if self._pending:
            yield from self._take_pending()
        while True:
            batch = self._pull(_PULL_SLICE_MS)
            if batch is None:
                break
            yield from batch
        self._finish()

    def _take_pending(self) -> List[Event]:
        pending, self._pending = self._pending, []
        return pending

    # -- asyncio ------------------------------------------------------------------------------
    # No thread per pull: pull with timeout 0 until the queue is empty, then suspend the task
    # until the library signals the turn's notify fd (readable while events are queued or the
    # turn has ended; it is lowered by the pull that finds the queue empty).

    async def _aiter(self) -> AsyncIterator[Event]:
        try:
            if self._pending:
                for event in self._take_pending():
                    yield event
            while True:
                batch = self._pull(0)
                if batch is None:
                    break
                if not batch:
                    await self._readable()
                    continue
                for event in batch:
                    yield event
        except asyncio.CancelledError:
            self.cancel()  # the awaiting task was cancelled: so is the turn
            raise
        self._finish()

    def _fd(self) -> int:
        fd = self._notify_fd
        if fd is None:
            with self._handle_lock:
                if self._handle is None:
                    raise ClosedError(lib.RWS_E_INVALID_STATE, "the turn is closed")
                fd = lib.rws_turn_notify_fd(self._handle)
            if fd < 0:
                raise error_for_status(fd)
            self._notify_fd = fd
        return fd

    async def _readable(self) -> None:
        """Suspends the task until the notify fd is readable (or the turn is closed)."""
        loop = asyncio.get_running_loop()
        fd = self._fd()
        if self._reader is not None:
            raise RuntimeError("another task is already waiting for this turn; consume a turn from one task at a time")
        waiter: "asyncio.Future[None]" = loop.create_future()
        loop.add_reader(fd, _wake, waiter)
        self._reader = (loop, fd, waiter)
        try:
            await waiter
        finally:
            # Level-triggered: a reader left registered would be called on every loop pass
            # while events wait to be pulled. Removed before each pull, and before the free.
            self._remove_reader()

    def _remove_reader(self) -> None:
        """Unregisters the notify fd from its event loop and wakes the task that waited on it.

        Must run before rws_turn_free closes the fd. From another thread than the loop's (a
        sync close() of a client used by asyncio tasks), the removal is handed to the loop and
        waited for, since a selector is not thread-safe."""
        reader = self._reader
        if reader is None:
            return
        loop, fd, waiter = reader
        if _running_loop() is loop or not loop.is_running():
            self._reader = None
            loop.remove_reader(fd)
            _wake(waiter)
            return
        removed = threading.Event()

        def remove_on_loop() -> None:
            self._remove_reader()
            removed.set()

        try:
            loop.call_soon_threadsafe(remove_on_loop)
        except RuntimeError:  # the loop closed meanwhile: its selector is gone with it
            self._reader = None
            return
        removed.wait()

    def __aiter__(self) -> AsyncIterator[Event]:
        """Yields every event without blocking the event loop (woken by the turn's notify fd, no
        thread); raises the turn's error at the end. Cancelling the iterating task cancels the turn."""
        self._check_pull_mode()
        return self._aiter()

    def _finish(self) -> None:
        self._raise_for(self.wait())

    def _raise_for(self, result: TurnResult) -> TurnResult:
        """Raises the failed turn's exception, chained to what on_event raised, if anything."""
        error = result.exception()
        if error is not None:
            raise error from self.callback_error
        return result

    def text(self) -> str:
        """Iterates the turn and returns its ``output_text`` deltas concatenated; raises on failure."""
        return "".join([e.delta for e in self if e.type_id == _TEXT_DELTA and e.delta is not None])

    async def atext(self) -> str:
        """:meth:`text` for asyncio."""
        return "".join([e.delta async for e in self if e.type_id == _TEXT_DELTA and e.delta is not None])

    # -- outcome ------------------------------------------------------------------------------

    def wait(self, timeout: Optional[float] = None) -> TurnResult:
        """Waits for the turn to end and returns its :class:`TurnResult` without raising for a
        failed turn (see :meth:`result`). In pull mode unread events stay readable.

        Raises :class:`~responses_ws.WouldBlockError` if ``timeout`` (seconds) passes first.
        """
        if self._result is not None:
            return self._result
        remaining_ms = None if timeout is None else max(0, int(timeout * 1000))
        while True:
            step = _PULL_SLICE_MS if remaining_ms is None else min(_PULL_SLICE_MS, remaining_ms)
            with self._pull_lock:
                if self._result is not None:
                    return self._result
                handle = self._handle
                if handle is None:
                    raise ClosedError(lib.RWS_E_INVALID_STATE, "the turn was closed before it ended")
                status = lib.rws_turn_wait(handle, step)
                if status != _AGAIN:
                    return self._snapshot()
            if remaining_ms is not None:
                remaining_ms -= step
                if remaining_ms <= 0:
                    raise error_for_status(_AGAIN, f"the turn did not end within {timeout} s")

    def result(self, timeout: Optional[float] = None) -> TurnResult:
        """Waits for the turn to end and returns its :class:`TurnResult`; raises its typed
        exception (a :class:`~responses_ws.ResponsesWSError` subclass) if it failed."""
        return self._raise_for(self.wait(timeout))

    async def aresult(self) -> TurnResult:
        """:meth:`result` for asyncio: waits without blocking the event loop; cancelling the
        awaiting task cancels the turn. Unread events stay readable by iteration."""
        return self._raise_for(await self._await_end())

    async def _await_end(self) -> TurnResult:
        """:meth:`wait` for asyncio, without a timeout (``asyncio.wait_for`` cancels the turn)."""
        if self._result is not None:
            return self._result
        try:
            if self._sink is not None:
                # A callback-mode turn has no notify fd (the library's rule): wait in a worker
                # thread, once per turn. Its events went to on_event; nothing is to be pulled.
                return await asyncio.get_running_loop().run_in_executor(None, self.wait)
            # The fd stays readable while events are queued, so reaching the end means pulling
            # them; they are kept for a later iteration, as wait() leaves them in the library.
            while True:
                batch = self._pull(0)
                if batch is None:
                    break
                if batch:
                    self._pending.extend(batch)
                else:
                    await self._readable()
        except asyncio.CancelledError:
            self.cancel()  # also ends the worker's wait promptly
            raise
        return self.wait()  # the turn has ended (or was closed): returns at once

    def _snapshot(self) -> TurnResult:
        """Copies the ended turn's result (caller holds _pull_lock and the turn has ended)."""
        raw = ffi.new("rws_turn_result *")
        with self._handle_lock:
            if self._handle is None:
                raise ClosedError(lib.RWS_E_INVALID_STATE, "the turn was closed before it ended")
            status = lib.rws_turn_get_result(self._handle, raw, ffi.sizeof("rws_turn_result"))
        if status < 0:
            raise error_for_status(status)
        result = TurnResult._from_c(raw)
        sink_error = self._sink.error if self._sink is not None else None
        if sink_error is not None and result.status == lib.RWS_E_ABORTED:
            result = _with_message(result, f"on_event raised {type(sink_error).__name__}: {sink_error}")
        self._result = result
        return result

    @property
    def done(self) -> bool:
        """True once the turn has ended (its result is available)."""
        if self._result is not None:
            return True
        with self._handle_lock:
            if self._handle is None:
                return True
            return bool(lib.rws_turn_wait(self._handle, 0) != _AGAIN)

    @property
    def callback_error(self) -> Optional[BaseException]:
        """What ``on_event`` raised, if it did (the turn then ended with TurnAbortedError)."""
        return self._sink.error if self._sink is not None else None

    # -- control ------------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Cancels the turn from any thread (the connection is closed; the session reconnects).

        Returns True if it was cancelled, False if it had already ended or was closed.
        No event is delivered after it returns.
        """
        with self._handle_lock:
            if self._handle is None:
                return False
            status = lib.rws_turn_cancel(self._handle)
        if status < 0:
            raise error_for_status(status)
        return bool(status == _OK)

    def steer(self, input: SteerInput) -> Steer:
        """Adds user input to the turn's running response (``response.steer``; models that
        steer, e.g. the GPT-6 family), from any thread, without blocking.

        ``input``: a str (the text of one user message), a non-empty list of user messages
        (``{"role": "user", "content": ...}``), or that as JSON bytes. It is sent once the
        response has been created. When the server accepts it, the running response ends and
        a successor that sees the input goes on as this turn: its events follow and the turn's
        result is the successor's. Watch the :class:`Steer` returned (or the
        ``STEER_*`` events) for the outcome; a steer is never sent twice.

        Raises :class:`~responses_ws.InvalidArgumentError` for input that is not user messages
        (nothing is sent) and :class:`~responses_ws.InvalidStateError` once the turn has ended
        (send the input as a new turn then).
        """
        encoded = _encode_steer_input(input)
        index = ffi.new("uint32_t *")
        with self._handle_lock:
            if self._handle is None:
                raise ClosedError(lib.RWS_E_INVALID_STATE, "the turn is closed")
            check(lib.rws_turn_steer(self._handle, encoded, len(encoded), index))
        return Steer(self, int(index[0]))

    def steer_info(self, index: int) -> SteerInfo:
        """The state of steer ``index`` (0, 1, ... in :meth:`steer` call order) of this turn."""
        raw = ffi.new("rws_steer_info *")
        with self._handle_lock:
            if self._handle is None:
                raise ClosedError(lib.RWS_E_INVALID_STATE, "the turn is closed")
            check(lib.rws_turn_steer_info(self._handle, index, raw, ffi.sizeof("rws_steer_info")))
            return SteerInfo._from_c(index, raw)

    def close(self) -> None:
        """Frees the turn, cancelling it if it is still running. Idempotent. The result stays
        available if the turn had ended (or been waited for) before."""
        if self._handle is None:
            return
        if self._result is None and not self._exhausted:
            # Makes a pull or wait on another thread return promptly. Skipped for a turn known
            # to have ended: nothing can be blocked on it, and the call is a round trip to the
            # I/O thread (about as costly as the rest of a minimal turn's Python work).
            self.cancel()
        self._remove_reader()  # the fd is closed by rws_turn_free; a waiting task wakes and ends
        with self._pull_lock:
            if self._result is None and self._handle is not None:
                try:
                    self._snapshot()
                except ResponsesWSError:
                    pass
            with self._handle_lock:
                handle, self._handle = self._handle, None
            if handle is not None:
                lib.rws_turn_free(handle)
        self._sink_handle = None

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is None:
            return
        self._handle = None
        try:
            # Dropped while still holding its handle: freeing it cancels a running turn, and
            # unread events or an unread failure are lost. Say so (as an unclosed file does),
            # unless the caller closed the session or client, which cancels on purpose.
            if self._result is None and not self._exhausted and not self._session.closed:
                warnings.warn(
                    f"turn started at {self._origin} was garbage-collected before it was consumed or "
                    "waited for; it is cancelled and its events are lost (iterate it, call .result() or "
                    ".close(), or use it in a `with` block)",
                    ResourceWarning,
                    source=self,
                )
        finally:
            lib.rws_turn_free(handle)

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else ("ended" if self._result is not None else "open")
        return f"<Turn {state}>"


def _with_message(result: TurnResult, message: str) -> TurnResult:
    """The same result with another error_message (results are frozen)."""
    return dataclasses.replace(result, error_message=message)
