"""Native asyncio: AsyncClient, many concurrent turns on one loop, cancellation, errors, no leaked fds."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from typing import Awaitable, Callable, List, Tuple

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


def open_fds() -> "Counter[str]":
    """This process's open descriptors by kind ("socket", "anon_inode:[eventfd]", ...)."""
    kinds: "Counter[str]" = Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the descriptor listdir itself used
            continue
        kinds[target.split(":[")[0] if target.startswith("socket:") else target] += 1
    return kinds


def assert_no_leaked_fds(before: "Counter[str]") -> None:
    new = open_fds() - before
    # The Swift runtime (libdispatch) opens its process-wide event manager lazily, once: an
    # epoll with an eventfd and a timerfd. A turn's notify fd is an eventfd without an epoll.
    assert new["socket"] == 0, f"sockets left open: {new}"
    assert new["anon_inode:[eventfd]"] <= new["anon_inode:[eventpoll]"], f"eventfds left open: {new}"


async def suspended_on_the_fd(turn: rws.Turn, wait: Callable[[], Awaitable[object]]) -> "asyncio.Task[object]":
    """A task running wait(), returned once it is suspended on the turn's notify fd."""
    running = asyncio.Event()

    async def run() -> object:
        running.set()  # the task goes on into the turn's first pull and waits on the fd
        return await wait()

    task = asyncio.ensure_future(run())
    await running.wait()
    assert turn._reader is not None, "the task is not waiting on the notify fd"
    return task


def reader_registered(turn: rws.Turn) -> bool:
    """Whether the turn's notify fd is still watched by the running loop (removing it tells)."""
    fd = turn._notify_fd
    return fd is not None and asyncio.get_running_loop().remove_reader(fd)


@pytest.mark.parametrize("sessions,turns_per_session", [(50, 20), (1000, 1)])
def test_a_thousand_concurrent_turns_on_one_event_loop(sim, sessions: int, turns_per_session: int) -> None:
    # 50 sessions x 20 turns: each session queues its turns and runs them one after another on
    # its connection. 1000 sessions x 1: a connection each, all streaming at once.
    fds_before = open_fds()

    async def main() -> Tuple[List[Tuple[str, str]], int, int]:
        threads_before = threading.active_count()
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY) as client:
            started = []
            for s in range(sessions):
                session = client.session(defaults=MODEL)
                for t in range(turns_per_session):
                    prompt = f"session {s} turn {t}"
                    started.append((prompt, session.create(input=prompt)))
            texts = await asyncio.gather(*(turn.atext() for _, turn in started))
            # No worker thread was started for the pulls: the loop's default executor is
            # created lazily, by the first run_in_executor.
            threads_during = threading.active_count()
            results = [await turn.aresult() for _, turn in started]
            assert all(result.ok for result in results)
            assert client.stats().turns_ok == sessions * turns_per_session
        return [(prompt, text) for (prompt, _), text in zip(started, texts)], threads_before, threads_during

    pairs, threads_before, threads_during = asyncio.run(main())
    assert len(pairs) == 1000
    for prompt, text in pairs:
        assert text.startswith(f'You said: "{prompt}".'), (prompt, text)
    assert threads_during == threads_before
    assert_no_leaked_fds(fds_before)


def test_async_client_mirrors_the_sync_api(sim) -> None:
    async def main() -> None:
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY, connect_timeout_ms=5000) as client:
            async with client.session(defaults=MODEL, stream_id="lane-a") as session:
                deltas = [e.delta async for e in session.create(input="first", store=False)
                          if e.type == "response.output_text.delta"]
                assert "".join(deltas).startswith('You said: "first".')
                assert (await session.text({"input": "second"})).startswith('You said: "second".')
                assert session.last_response_id is not None and session.stats().incremental_sends == 1
                assert (await session.prewarm().aresult()).ok
            assert session.closed and client.stats().turns_ok == 2  # a connection-only prewarm is no turn
        assert client.closed and repr(client) == "<AsyncClient closed>"
        with pytest.raises(rws.ClosedError):
            client.session()

    asyncio.run(main())


def test_aresult_keeps_the_events_for_a_later_iteration(client: rws.Client) -> None:
    async def main() -> None:
        with client.session(defaults=MODEL) as session, session.create(input="keep them") as turn:
            result = await turn.aresult()
            events = [e async for e in turn]
            assert events[-1].terminal and events[-1].type == "response.completed"
            text = "".join(e.delta for e in events if e.type == "response.output_text.delta" and e.delta)
            assert text == result.output_text

    asyncio.run(main())


def test_aresult_of_a_callback_turn(client: rws.Client) -> None:
    seen: List[rws.Event] = []

    async def main() -> rws.TurnResult:
        with client.session(defaults=MODEL) as session:
            return await session.create(input="callback", on_event=seen.append).aresult()

    assert asyncio.run(main()).ok and seen[-1].terminal


@pytest.mark.parametrize("how", ["async for", "aresult", "wait_for timeout"])
def test_cancelling_the_awaiting_task_cancels_the_turn_and_removes_the_reader(make_sim, how: str) -> None:
    sim = make_sim("--fault", "slow:600000@1")  # the first turn never answers within the test

    async def main() -> Tuple[int, bool]:
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY) as client:
            async with client.session(defaults=MODEL) as session:
                turn = session.create(input="abandoned")

                async def consume() -> None:
                    if how == "async for":
                        async for _ in turn:
                            pass
                    else:
                        await turn.aresult()

                if how == "wait_for timeout":  # the turn is never answered in time
                    with pytest.raises(asyncio.TimeoutError):
                        await asyncio.wait_for(turn.aresult(), timeout=0.05)
                else:
                    task = await suspended_on_the_fd(turn, consume)
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task
                registered = reader_registered(turn)
                # (No next turn here: if the cancel came before the create was sent, the next
                # turn would be the simulator's request 1, the slow one.)
                return (await turn._await_end()).status, registered

    status, registered = asyncio.run(main())
    assert status == rws.TurnCancelledError.rws_status
    assert not registered, "the cancelled task left its reader on the loop"


@pytest.mark.parametrize("consume", ["async for", "aresult", "atext"])
def test_a_failed_turn_raises_the_sdk_named_error_in_the_awaiting_task(make_sim, consume: str) -> None:
    sim = make_sim("--fault", "limit@1")  # HTTP: 429 rate_limit_exceeded

    async def main() -> None:
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY, transport="http", max_reconnects=0) as client:
            async with client.session(defaults=MODEL) as session:
                turn = session.create(input="too fast")
                if consume == "async for":
                    async for _ in turn:
                        pass
                elif consume == "aresult":
                    await turn.aresult()
                else:
                    await turn.atext()

    with pytest.raises(rws.RateLimitError) as caught:
        asyncio.run(main())
    assert caught.value.status_code == 429 and isinstance(caught.value, rws.APIStatusError)


def test_a_wrong_key_raises_authentication_error_among_concurrent_turns(make_sim) -> None:
    sim = make_sim("--api-key", "sk-the-right-one")

    async def main() -> List[object]:
        async with rws.AsyncClient(base_url=sim.base_url, api_key="sk-wrong") as client:
            turns = [client.session(defaults=MODEL).create(input=f"n{i}") for i in range(5)]
            return await asyncio.gather(*(t.aresult() for t in turns), return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, rws.AuthenticationError) and o.status_code == 401 for o in outcomes), outcomes


def test_closing_the_client_wakes_a_task_awaiting_a_turn(make_sim) -> None:
    sim = make_sim("--fault", "slow:600000@1")
    fds_before = open_fds()

    async def main() -> Tuple[BaseException, bool]:
        client = rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY)
        turn = client.session(defaults=MODEL).create(input="closed under it")
        task = await suspended_on_the_fd(turn, turn.aresult)
        fd = turn._notify_fd
        await client.close()
        error = await asyncio.gather(task, return_exceptions=True)
        return error[0], fd is not None and asyncio.get_running_loop().remove_reader(fd)

    error, registered = asyncio.run(main())
    assert isinstance(error, rws.TurnCancelledError) and not registered
    assert_no_leaked_fds(fds_before)


def test_a_sync_close_from_another_thread_wakes_the_awaiting_task(make_sim) -> None:
    sim = make_sim("--fault", "slow:600000@1")

    async def main() -> BaseException:
        with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
            turn = session.create(input="closed from a thread")
            task = await suspended_on_the_fd(turn, turn.aresult)
            # Turn.close() on a worker thread hands the reader's removal to this loop first.
            await asyncio.get_running_loop().run_in_executor(None, turn.close)
            assert turn._reader is None
            return (await asyncio.gather(task, return_exceptions=True))[0]

    assert isinstance(asyncio.run(main()), rws.TurnCancelledError)


def test_two_tasks_cannot_wait_on_one_turn(make_sim) -> None:
    sim = make_sim("--fault", "slow:600000@1")

    async def main() -> None:
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY) as client:
            turn = client.session(defaults=MODEL).create(input="one consumer")
            first = await suspended_on_the_fd(turn, turn.aresult)
            with pytest.raises(RuntimeError, match="one task at a time"):
                await turn.aresult()
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)

    asyncio.run(main())
