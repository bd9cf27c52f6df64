"""An ``openai-agents`` model provider that runs every model call over ``libresponsesws``.

::

    from agents import Agent, RunConfig, Runner
    from responses_ws.agents import ResponsesWSProvider

    provider = ResponsesWSProvider()          # $OPENAI_API_KEY / $OPENAI_BASE_URL, or pass them
    result = await Runner.run(agent, "Hi", run_config=RunConfig(model_provider=provider))
    await provider.aclose()

:class:`ResponsesWSModel` is the agents SDK's own Responses model with only its transport
replaced: the request is built by the SDK (``OpenAIResponsesModel``'s request builder, the same
as for its HTTP and WebSocket transports), and each event becomes the ``ResponseStreamEvent``
object the SDK's WebSocket model would build (:mod:`responses_ws._sdk_events`), so ``get_response``,
``stream_response``, tools, handoffs, usage and error handling behave as with
``OpenAIProvider(use_responses_websocket=True)``. The call goes through a
:class:`~responses_ws.Session` instead of the SDK's socket.

Chaining: with ``previous_response_id`` (``Runner.run(..., previous_response_id=...)`` or
``auto_previous_response_id=True``) the request is sent as the runner built it. Without, the
runner resends the whole conversation on every turn; the session runs in ``full_history`` mode, so
the library sends only the new items when the request extends the previous one (and the full
request on a fresh chain when it does not).

Each model name gets one model; concurrent runs each get a session (a connection) of their own,
up to ``max_sessions``, and each call goes to the session that holds its conversation's chain
(see :mod:`responses_ws._session_pool`). This module imports ``agents`` (``pip install
responses-ws[agents]``); ``import responses_ws`` does not. It relies on a few internals of
openai-agents (the WebSocket model's event iterator and ``_fetch_response``, the request builder,
two encoding helpers), checked by the test suite against the installed release.
"""

from __future__ import annotations

import contextvars
import json
import os
import threading
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional

from agents.models.default_models import get_default_model
from agents.models.interface import Model, ModelProvider
from agents.models.openai_responses import (
    OpenAIResponsesWSModel,
    ResponsesWebSocketError,
    _is_openai_omitted_value,
    _json_dumps_default,
)
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
from openai import AsyncOpenAI
from openai.types.responses import ResponseStreamEvent

from ._ffi import lib
from ._openai_options import client_arguments
from ._sdk_events import parser_for
from ._session_pool import SessionPool
from .client import Client, Session
from .errors import APIConnectionError, ClosedError, OutcomeUnknownError, RateLimitError

# The SDK's ResponseStreamEvent objects, as its WebSocket model builds them from each event.
_stream_event = parser_for(ResponseStreamEvent)

__all__ = ["ResponsesWSProvider", "ResponsesWSModel"]

# Keys of the SDK's create kwargs that are transport settings, not request fields.
_TRANSPORT_KEYS = ("extra_headers", "extra_query", "timeout", "stream")
_TERMINAL_TYPES = frozenset({"response.completed", "response.failed", "response.incomplete"})
# Set while get_response() runs: it reads only the terminal event, so the others are not built
# into SDK objects (building them is most of a turn's client CPU).
_terminal_only: contextvars.ContextVar[bool] = contextvars.ContextVar("responses_ws_terminal_only", default=False)


def request_json(create_kwargs: Mapping[str, Any]) -> bytes:
    """The ``response.create`` body for the agents SDK's create kwargs, encoded as its own
    WebSocket transport encodes them (omitted values dropped, ``extra_body`` merged in)."""
    body: Dict[str, Any] = {}
    for key, value in create_kwargs.items():
        if key in _TRANSPORT_KEYS or key == "extra_body" or _is_openai_omitted_value(value):
            continue
        body[key] = value
    extra = create_kwargs.get("extra_body")
    if isinstance(extra, Mapping):
        body.update({str(k): v for k, v in extra.items() if not _is_openai_omitted_value(v)})
    return json.dumps(body, default=_json_dumps_default, separators=(",", ":")).encode("utf-8")


class ResponsesWSModel(OpenAIResponsesWSModel):
    """The agents SDK's Responses WebSocket model over sessions of a :class:`~responses_ws.Client`.

    ``openai_client`` is only read (the request builder asks it whether the endpoint is
    OpenAI's); nothing is sent through it.
    """

    def __init__(
        self,
        model: str,
        openai_client: AsyncOpenAI,
        client: Client,
        *,
        model_is_explicit: bool = True,
        input_mode: str = "full_history",
        max_sessions: int = 16,
    ) -> None:
        super().__init__(model=model, openai_client=openai_client, model_is_explicit=model_is_explicit)
        self._pool = SessionPool(client, input_mode, max_sessions)

    @property
    def sessions(self) -> List[Session]:
        """The model's sessions (one per concurrent run at most; created as calls need them)."""
        return self._pool.sessions

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> Optional[ModelRetryAdvice]:
        """The library's own errors say whether a retry is safe: ``OutcomeUnknownError`` (the
        server may have run it) never is; the other connection errors (nothing was run) are;
        a rate limit is, after a while. Anything else: as the SDK's WebSocket model decides."""
        error = request.error
        if isinstance(error, OutcomeUnknownError):
            return ModelRetryAdvice(suggested=False, replay_safety="unsafe", reason=str(error))
        if isinstance(error, APIConnectionError):
            return ModelRetryAdvice(suggested=True, replay_safety="safe", reason=str(error))
        if isinstance(error, RateLimitError):
            return ModelRetryAdvice(suggested=True, reason=str(error))
        return super().get_retry_advice(request)

    async def _fetch_response(self, *args: Any, **kwargs: Any) -> Any:
        """The SDK's request path; for get_response (``stream=False``) only the terminal event
        is converted, since that is all the SDK's WebSocket model reads of the events."""
        if kwargs.get("stream"):
            return await super()._fetch_response(*args, **kwargs)
        token = _terminal_only.set(True)
        try:
            return await super()._fetch_response(*args, **kwargs)
        finally:
            _terminal_only.reset(token)

    async def _iter_websocket_response_events(  # the SDK's transport hook: one request's events
        self, create_kwargs: dict[str, Any]
    ) -> AsyncIterator[ResponseStreamEvent]:
        terminal_only = _terminal_only.get()
        previous = create_kwargs.get("previous_response_id")
        slot = self._pool.acquire(_opening(create_kwargs.get("input")), previous if isinstance(previous, str) else None)
        response_id: Optional[str] = None
        try:
            with slot.session.turn(request_json(create_kwargs)) as turn:
                async for event in turn:
                    kind = event.type
                    if kind in ("error", "response.error"):
                        # The SDK's own exception for a WebSocket error event, so the runner's
                        # error handling and retry advice see what its transport would raise.
                        raise ResponsesWebSocketError(event.data)
                    terminal = kind in _TERMINAL_TYPES
                    if terminal:
                        response_id = event.response_id
                    if terminal or not terminal_only:
                        yield _stream_event(event.data)
                    if terminal:
                        return
        finally:
            self._pool.release(slot, response_id)

    async def close(self) -> None:
        """Closes the model's sessions (the provider's client stays open)."""
        self._pool.close()


def _opening(model_input: Any) -> Optional[str]:
    """What identifies a conversation across the runner's calls: its first input item."""
    if isinstance(model_input, str):
        return model_input
    if isinstance(model_input, list) and model_input:
        return json.dumps(model_input[0], default=_json_dumps_default, sort_keys=True)
    return None


class ResponsesWSProvider(ModelProvider):
    """A ``ModelProvider`` whose models run over ``libresponsesws``.

    Args:
        openai_client: an ``AsyncOpenAI`` whose base URL, WebSocket base URL, key,
            organization, project, default headers and timeouts the library uses.
        api_key, base_url, websocket_base_url, organization, project: instead of
            ``openai_client``, as ``agents.OpenAIProvider`` takes them (defaults:
            ``$OPENAI_API_KEY``, ``$OPENAI_BASE_URL``, ``$OPENAI_WEBSOCKET_BASE_URL``).
        client: an open :class:`~responses_ws.Client` to use (not closed by :meth:`aclose`).
        client_options: more :class:`~responses_ws.Client` keyword options for the client
            the provider opens.
        input_mode: the sessions' input mode, ``"full_history"`` (what the runner sends without
            ``previous_response_id``) or ``"incremental"``.
        max_sessions: sessions per model, so at most that many calls of concurrent runs are in
            flight at once (the others queue); each session holds one connection.
    """

    def __init__(
        self,
        *,
        openai_client: Optional[AsyncOpenAI] = None,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        websocket_base_url: Optional[str] = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        client: Optional[Client] = None,
        client_options: Optional[Mapping[str, Any]] = None,
        input_mode: str = "full_history",
        max_sessions: int = 16,
    ) -> None:
        if openai_client is None:
            openai_client = AsyncOpenAI(
                # Never used to send anything; it only has to exist for the request builder.
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "unused",
                base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
                websocket_base_url=websocket_base_url or os.environ.get("OPENAI_WEBSOCKET_BASE_URL"),
                organization=organization,
                project=project,
            )
            self._explicit_key = api_key or os.environ.get("OPENAI_API_KEY")
            self._owns_openai_client = True
        else:
            self._owns_openai_client = False
            self._explicit_key = openai_client.api_key
        self._openai_client = openai_client
        self._client = client
        self._owns_client = client is None
        self._client_options = dict(client_options or {})
        self._input_mode = input_mode
        self._max_sessions = max_sessions
        self._models: Dict[str, ResponsesWSModel] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        """The responses_ws Client the models use (opened at the first call)."""
        with self._lock:
            if self._client is None:
                base_url, _, options = client_arguments(self._openai_client, overrides=self._client_options)
                self._client = Client(base_url, self._explicit_key, **options)
            elif self._client.closed:
                raise ClosedError(lib.RWS_E_INVALID_STATE, "the provider's client is closed")
            return self._client

    def get_model(self, model_name: Optional[str]) -> Model:
        """The model for ``model_name`` (the agents SDK's default model when None), one per name."""
        name = model_name or get_default_model()
        client = self.client
        with self._lock:
            model = self._models.get(name)
            if model is None:
                model = ResponsesWSModel(
                    name, self._openai_client, client,
                    model_is_explicit=model_name is not None, input_mode=self._input_mode,
                    max_sessions=self._max_sessions,
                )
                self._models[name] = model
            return model

    async def aclose(self) -> None:
        """Closes the models' sessions and the client the provider opened."""
        with self._lock:
            models, self._models = list(self._models.values()), {}
            client = self._client if self._owns_client else None
        for model in models:
            await model.close()
        if client is not None:
            client.close()
        if self._owns_openai_client:
            await self._openai_client.close()  # its (unused) HTTP client, on this event loop
