"""asyncio: :class:`AsyncClient` and :class:`AsyncSession`, the sync API's mirror for event loops.

Turns are the same :class:`~responses_ws.Turn` objects: ``async for event in turn``,
``await turn.aresult()``, ``await turn.atext()``. A task waiting for events is woken by the
turn's notify fd (``loop.add_reader``), so no thread is used per pull and the loop never blocks.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Union

from ._ffi import lib
from .client import Request, _ClientCore, _SessionCore

__all__ = ["AsyncClient", "AsyncSession"]


class AsyncClient(_ClientCore):
    """:class:`~responses_ws.Client` for asyncio: the same keyword options, sessions that return
    the same turns, and ``async with AsyncClient(...) as client`` / ``await client.close()``.

    Create and use it on one event loop; starting a turn never waits for the network, so only
    closing is a coroutine.
    """

    def session(
        self,
        defaults: Optional[Request] = None,
        stream_id: Optional[str] = None,
        input_mode: Union[str, int] = "incremental",
    ) -> "AsyncSession":
        """Creates a conversation chain on this client (arguments as :meth:`Client.session`)."""
        with self._lock:
            session = AsyncSession(self, self._new_session(defaults, stream_id, input_mode))
            self._add_session(session)
        return session

    async def close(self) -> None:
        """Cancels running turns (tasks awaiting them get TurnCancelledError), closes every
        connection and stops the I/O thread, without blocking the event loop. Idempotent."""
        handle = self._detach()  # sessions and turns: quick, and their fd readers leave this loop
        if handle is not None:
            # rws_client_free joins the client's I/O thread after WebSocket close handshakes, so
            # it may block for as long as the peers take to answer. It runs in a worker thread:
            # one hop per client lifetime (not per pull), on a handle nothing else can reach
            # any more, so the loop stays free and no turn can race with the free.
            await asyncio.get_running_loop().run_in_executor(None, lib.rws_client_free, handle)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncSession(_SessionCore):
    """:class:`~responses_ws.Session` for asyncio, created by :meth:`AsyncClient.session`.

    ``turn()``, ``create(**params)`` and ``prewarm()`` return a :class:`~responses_ws.Turn` at
    once (``async for event in session.create(...)``); :meth:`text` is a coroutine. Closing
    frees the session without waiting for the network (its running turn is cancelled), so it is
    plain ``close()``, and ``async with`` and ``with`` both work.
    """

    async def text(self, request: Request) -> str:
        """Runs a turn and returns its output text; raises the typed exception on failure."""
        with self.turn(request) as turn:
            return await turn.atext()

    def __enter__(self) -> "AsyncSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "AsyncSession":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
