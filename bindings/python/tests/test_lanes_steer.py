"""0.5.0: sessions sharing a connection (lanes), Session.fork and Turn.steer, against `rws sim`."""

from __future__ import annotations

import asyncio

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}
STEERING = {"model": "gpt-6", "store": False}


def _connection_ids(client: rws.Client) -> tuple:
    """Two sessions of a client, each after one turn: client stats and both sessions'."""
    with client.session(defaults=MODEL) as a, client.session(defaults=MODEL) as b:
        assert a.text({"input": "first session"})
        assert b.text({"input": "second session"})
        return client.stats(), a.stats(), b.stats()


def test_two_sessions_of_a_client_share_one_connection(sim) -> None:
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client:
        stats, a, b = _connection_ids(client)
    assert stats.connects == 1
    assert stats.connections_open == 1
    assert stats.lanes_in_use == 2
    assert a.connection_id == b.connection_id != 0


def test_per_session_lanes_give_each_session_its_own_connection(sim) -> None:
    with rws.Client(base_url=sim.base_url, api_key=API_KEY, lanes="per_session") as client:
        stats, a, b = _connection_ids(client)
    assert stats.connects == 2
    assert stats.connections_open == 2
    assert a.connection_id != b.connection_id
    assert 0 not in (a.connection_id, b.connection_id)


def test_a_shared_session_beyond_the_default_lane_gets_a_generated_stream_id(sim) -> None:
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client:
        with client.session(defaults=MODEL) as a, client.session(defaults=MODEL) as b:
            a.text({"input": "one"})
            b.text({"input": "two"})
            assert {a.stream_id, b.stream_id} - {None}, "one of them is on a named lane"
            assert all(s is None or s.startswith("rws.") for s in (a.stream_id, b.stream_id))


def test_max_sessions_per_connection_out_of_range_is_invalid_argument(sim) -> None:
    with pytest.raises(rws.InvalidArgumentError):
        rws.Client(base_url=sim.base_url, api_key=API_KEY, max_sessions_per_connection=33)
    with pytest.raises(rws.InvalidArgumentError):
        rws.Client(base_url=sim.base_url, api_key=API_KEY, lanes="sometimes")  # type: ignore[arg-type]


def test_a_fork_continues_incrementally_from_its_parent(client) -> None:
    with client.session(defaults=MODEL) as parent:
        assert parent.text({"input": "the parent's question"})
        parent_last = parent.last_response_id
        assert parent.fork_parent_id is None
        with parent.fork(stream_id="child-1") as child:
            assert isinstance(child, rws.Session)
            assert child.fork_parent_id == parent_last
            with child.turn({"input": "the child's own question"}) as turn:
                result = turn.result()
            assert result.flags & rws.TurnFlags.INCREMENTAL
            assert child.stream_id == "child-1"
            assert child.last_response_id == result.response_id != parent_last
            # The parent goes on independently.
            assert parent.text({"input": "the parent again"})


def test_fork_with_a_bad_stream_id_raises(client) -> None:
    with client.session(defaults=MODEL) as parent:
        with pytest.raises(rws.InvalidStreamIdError):
            parent.fork(stream_id="not a lane name")


def _drain_steered(session: rws.Session, text: str):
    """Starts a turn, steers it at its first text delta, then reads it to the end."""
    turn = session.turn({"input": text})
    events = iter(turn)
    seen = []
    for event in events:
        seen.append(event)
        if event.type_id == rws.EventType.OUTPUT_TEXT_DELTA:
            break
    first_response = seen[-1].response_id
    steer = turn.steer("Keep it short")
    assert steer.index == 0
    seen.extend(events)
    return turn, steer, first_response, seen


def test_a_steer_reaches_the_running_response_and_the_turn_follows_the_successor(make_sim) -> None:
    server = make_sim("--fault", "hold-after-first-delta@1")
    with rws.Client(base_url=server.base_url, api_key=API_KEY) as client:
        with client.session(defaults=STEERING) as session:
            turn, steer, first_response, seen = _drain_steered(session, "Tell me a long story")
            with turn:
                result = turn.result()
                types = [e.type_id for e in seen]
                assert rws.EventType.STEER_ACCEPTED in types
                assert result.response_id != first_response
                assert session.last_response_id == result.response_id
                info = steer.info()
                assert info.state is rws.SteerState.COMMITTED
                assert info.steer_id is not None and info.steer_id.startswith("steer_")
                assert info.target_response_id == first_response
                assert steer.state == rws.SteerState.COMMITTED
                assert "Keep it short" in result.output_text


def test_a_model_that_does_not_steer_fails_the_steer(make_sim) -> None:
    server = make_sim("--fault", "hold-after-first-delta@1")
    with rws.Client(base_url=server.base_url, api_key=API_KEY) as client:
        with client.session(defaults=MODEL) as session:
            turn, steer, _, seen = _drain_steered(session, "Tell me a story")
            with turn:
                assert turn.result().ok
                assert rws.EventType.STEER_FAILED in [e.type_id for e in seen]
                info = steer.info()
                assert info.state is rws.SteerState.FAILED
                assert info.error_code == "steering_not_supported"
                assert info.input is not None


def test_bad_steer_input_and_steering_an_ended_turn_raise(client) -> None:
    with client.session(defaults=STEERING) as session:
        with session.turn({"input": "Hi"}) as turn:
            with pytest.raises(rws.InvalidArgumentError):
                turn.steer([{"role": "assistant", "content": "x"}])
            with pytest.raises(rws.InvalidArgumentError):
                turn.steer([])
            turn.result()
            with pytest.raises(rws.InvalidStateError):
                turn.steer("too late")
            with pytest.raises(rws.InvalidArgumentError):
                turn.steer_info(0)


def test_an_async_session_forks_into_an_async_session(sim) -> None:
    async def run() -> None:
        async with rws.AsyncClient(base_url=sim.base_url, api_key=API_KEY) as client:
            with client.session(defaults=MODEL) as parent:
                assert await parent.text({"input": "the parent's question"})
                with parent.fork() as child:
                    assert isinstance(child, rws.AsyncSession)
                    assert child.fork_parent_id == parent.last_response_id
                    result = await child.turn({"input": "the child's question"}).aresult()
                    assert result.flags & rws.TurnFlags.INCREMENTAL

    asyncio.run(run())
