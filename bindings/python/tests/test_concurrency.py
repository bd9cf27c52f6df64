"""Cancellation from another thread, sessions on several threads, and asyncio without blocking the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


def test_cancel_from_another_thread_mid_turn(make_sim) -> None:
    sim = make_sim("--fault", "slow:2000@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "slow answer"})
        pulling = threading.Event()
        outcome: list = []

        def consume() -> None:
            pulling.set()
            try:
                outcome.append(list(turn))
            except rws.ResponsesWSError as error:
                outcome.append(error)

        consumer = threading.Thread(target=consume)
        consumer.start()
        pulling.wait()
        assert turn.cancel() is True
        consumer.join(timeout=30)
        assert not consumer.is_alive()
        assert isinstance(outcome[0], rws.TurnCancelledError)
        assert turn.wait().status == rws.TurnCancelledError.rws_status and turn.done
        assert turn.cancel() is False  # already ended
        assert "usable" in session.text({"input": "usable after cancel"})


def test_sessions_on_several_threads_share_one_client(client: rws.Client) -> None:
    results: dict = {}
    errors: list = []

    def converse(n: int) -> None:
        try:
            with client.session(defaults=MODEL) as session:
                texts = [session.text({"input": f"thread {n} turn {i}"}) for i in range(3)]
                results[n] = (texts, session.stats())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=converse, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(results) == list(range(6))
    for n, (texts, stats) in results.items():
        assert all(f"thread {n} turn {i}" in text for i, text in enumerate(texts))
        assert stats.turns_ok == 3 and stats.incremental_sends == 2
    assert client.stats().turns_ok >= 18


def test_async_iteration_leaves_the_event_loop_free(make_sim) -> None:
    # The first event waits 600 ms in the simulator: an iteration that blocked the loop would
    # deliver it before any other task could run.
    sim = make_sim("--fault", "slow:600@1")

    async def main() -> tuple:
        other_ran = False
        other_ran_before_first_event = None

        async def other() -> None:
            nonlocal other_ran
            other_ran = True

        with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
            turn = session.turn({"input": "async"})
            waiting = asyncio.create_task(other())   # runs at the iteration's first wait
            deltas = []
            async for e in turn:
                if other_ran_before_first_event is None:
                    other_ran_before_first_event = other_ran
                if e.type_id == rws.EventType.OUTPUT_TEXT_DELTA:
                    deltas.append(e.delta)
            result = await turn.aresult()
            second = await session.atext({"input": "again"})
            await waiting
        return other_ran_before_first_event, "".join(deltas), result, second

    ran_first, text, result, second = asyncio.run(main())
    assert ran_first is True, "another task could not run while the first event was awaited"
    assert text == result.output_text and "again" in second


def test_async_iteration_raises_the_turn_error(make_sim) -> None:
    sim = make_sim("--fault", "drop-mid-stream@1")

    async def main() -> None:
        with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
            async for _ in session.turn({"input": "cut"}):
                pass

    with pytest.raises(rws.OutcomeUnknownError):
        asyncio.run(main())


def test_wait_with_a_timeout_raises_would_block_while_the_turn_runs(make_sim) -> None:
    sim = make_sim("--fault", "slow:1500@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "slow"})
        with pytest.raises(rws.WouldBlockError):
            turn.wait(timeout=0.05)
        assert not turn.done
        assert turn.result().ok and turn.done
        assert list(turn)[-1].terminal  # pull mode: the events stay readable after wait()


def test_cancelling_the_async_consumer_cancels_the_turn(make_sim) -> None:
    sim = make_sim("--fault", "slow:600000@1")   # never answers within the test

    async def main() -> rws.TurnResult:
        with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
            turn = session.turn({"input": "abandoned"})
            started = asyncio.Event()

            async def consume() -> None:
                started.set()   # runs on into the first pull, which suspends the task
                async for _ in turn:
                    pass

            task = asyncio.create_task(consume())
            await started.wait()   # the consumer now waits inside the iteration
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return turn.wait(timeout=10)

    assert asyncio.run(main()).status == rws.TurnCancelledError.rws_status
