"""Streaming text, a tool loop, the session's chain and the event objects, against `rws sim`."""

from __future__ import annotations

import json

import pytest

from conftest import API_KEY, TOOLS
from responses_ws import Client, Event, EventType, ResponsesWSError, Transport, TurnFlags, TurnResult

MODEL = {"model": "gpt-5.6", "store": False}


def test_deltas_concatenate_to_the_final_output_text(client: Client) -> None:
    with client.session(defaults=MODEL) as session, session.turn({"input": "Hello there"}) as turn:
        events = list(turn)
        result = turn.result()
    deltas = [e.delta for e in events if e.type_id == EventType.OUTPUT_TEXT_DELTA]
    assert len(deltas) > 3
    assert "".join(deltas) == result.output_text
    assert result.output_text.startswith('You said: "Hello there"')
    assert events[-1].terminal and events[-1].type == "response.completed"
    assert [e.terminal for e in events].count(True) == 1
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert isinstance(result, TurnResult) and result.ok
    assert result.response_status == "completed" and result.transport is Transport.WEBSOCKET
    assert result.response is not None and result.response["id"] == result.response_id
    assert result.output_tokens == len(deltas) and result.input_tokens and result.input_tokens > 0
    assert result.bytes_sent > 0 and result.bytes_received > 0 and result.elapsed > 0


def test_events_carry_the_decoded_fields_and_parse_lazily(client: Client) -> None:
    with client.session(defaults=MODEL) as session, session.turn({"input": "fields"}) as turn:
        events = list(turn)
    for event in events:
        assert isinstance(event, Event)
        assert event.type == json.loads(event.raw)["type"]
        assert event.data is event.json() and event.data["type"] == event.type
        assert event.response_id is not None and event.response_id.startswith("resp_")
        assert event.stream_id is None  # default lane
    delta = next(e for e in events if e.type_id == EventType.OUTPUT_TEXT_DELTA)
    assert delta.delta == delta.data["delta"] and delta.item_id == delta.data["item_id"]
    assert delta.output_index == 0 and delta.error_code is None and delta.error_status == 0
    with pytest.raises(AttributeError):
        delta.extra = 1  # __slots__: events stay light


@pytest.mark.parametrize("batched", [True, False])
def test_every_field_matches_the_json_escapes_included(client: Client, batched: bool) -> None:
    # The answer echoes the input, so its deltas carry JSON escapes (quotes, a newline, a tab,
    # non-ASCII): the library hands those out decoded, from outside the event's JSON bytes.
    text = 'He said "hi"\nthen\tleft \u00e9\u20ac \\ done'
    with client.session(defaults=MODEL) as session, session.turn({"input": text}) as turn:
        if batched:
            events = list(turn)
        else:  # one event per C call (rws_turn_next_event), the library's other pull path
            from responses_ws import turn as turn_module

            saved = turn_module.HAS_BATCHED_PULL
            turn_module.HAS_BATCHED_PULL = False
            try:
                events = list(turn)
            finally:
                turn_module.HAS_BATCHED_PULL = saved
        result = turn.result()
    assert any("\\" in e.raw.decode() for e in events if e.type_id == EventType.OUTPUT_TEXT_DELTA)
    for event in events:
        data = json.loads(event.raw)
        assert event.type == data["type"]
        assert event.sequence_number == data.get("sequence_number")
        assert event.output_index == data.get("output_index")
        assert event.item_id == data.get("item_id")
        assert event.delta == (data["delta"] if isinstance(data.get("delta"), str) else None)
        assert event.response_id == result.response_id
        assert event.error_code is None and event.error_message is None and event.error_status == 0
    assert "".join(e.delta for e in events if e.type_id == EventType.OUTPUT_TEXT_DELTA) == result.output_text
    assert 'He said "hi"' in result.output_text and "\u00e9\u20ac \\ done" in result.output_text


def test_error_events_carry_code_message_and_status(client: Client) -> None:
    with client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "x", "previous_response_id": "resp_does_not_exist"})
        events = []
        with pytest.raises(ResponsesWSError):
            for event in turn:
                events.append(event)
    error = events[-1]
    data = json.loads(error.raw)
    assert error.type == "error" and error.terminal
    assert error.error_code == data["error"]["code"] == "previous_response_not_found"
    assert error.error_message == data["error"]["message"] and error.error_message
    assert error.error_status == data["status"] == 400


def test_tool_loop_continues_incrementally(client: Client) -> None:
    with client.session(defaults={**MODEL, "tools": TOOLS}) as session:
        first = session.turn({"input": "Summarise README.md for me."})
        calls = [e.data["item"] for e in first if e.type_id == EventType.OUTPUT_ITEM_DONE]
        first_result = first.result()
        assert [c["type"] for c in calls] == ["function_call"] and calls[0]["name"] == "read_file"
        assert session.last_response_id == first_result.response_id

        output = {"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "42 lines"}
        second = session.turn({"input": [output]})
        text = second.text()
        second_result = second.result()
        assert "read_file tool returned" in text and "42 lines" in text
        assert TurnFlags.INCREMENTAL in second_result.flags
        assert TurnFlags.FULL_RESEND not in second_result.flags
        assert second_result.cached_input_tokens and second_result.cached_input_tokens > 0
        assert session.last_response_id == second_result.response_id != first_result.response_id
        stats = session.stats()
        assert stats.turns == 2 and stats.turns_ok == 2 and stats.incremental_sends >= 1


def test_reset_starts_a_new_chain_and_prewarm_prepares_one(client: Client) -> None:
    with client.session(defaults=MODEL) as session:
        assert session.last_response_id is None
        session.text({"input": "one"})
        assert session.last_response_id is not None
        session.reset()
        assert session.last_response_id is None
        assert TurnFlags.INCREMENTAL not in session.turn({"input": "two"}).result().flags

    with client.session(defaults=MODEL) as session:
        warm = session.prewarm({"instructions": "Be brief.", "input": "context"}).result()
        assert warm.ok and warm.output_tokens == 0
        assert TurnFlags.INCREMENTAL in session.turn({"input": "go"}).result().flags


def test_request_may_be_json_text_or_bytes(client: Client) -> None:
    with client.session() as session:
        assert "as text" in session.text('{"model":"gpt-5.6","input":"as text","store":false}')
        assert "as bytes" in session.text(b'{"model":"gpt-5.6","input":"as bytes","store":false}')


def test_named_lane_events_carry_the_stream_id(client: Client) -> None:
    with client.session(defaults=MODEL, stream_id="lane-1") as session:
        events = list(session.turn({"input": "lane"}))
    assert {e.stream_id for e in events} == {"lane-1"}


def test_callback_mode_delivers_every_event_on_the_library_thread(client: Client) -> None:
    import threading

    seen = []
    threads = set()

    def on_event(event: Event) -> None:
        seen.append(event)
        threads.add(threading.get_ident())

    with client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "callback"}, on_event=on_event)
        result = turn.result()
        assert "".join(e.delta for e in seen if e.type_id == EventType.OUTPUT_TEXT_DELTA) == result.output_text
        assert seen[-1].terminal and threading.get_ident() not in threads
        with pytest.raises(TypeError):
            iter(turn).__next__()


def test_callback_that_raises_aborts_the_turn_with_the_cause(client: Client) -> None:
    from responses_ws import TurnAbortedError

    def on_event(event: Event) -> None:
        if event.type_id == EventType.OUTPUT_TEXT_DELTA:
            raise KeyError("boom")

    with client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "abort"}, on_event=on_event)
        with pytest.raises(TurnAbortedError) as caught:
            turn.result()
        assert isinstance(caught.value.__cause__, KeyError)
        assert "KeyError" in caught.value.message
        assert session.text({"input": "still usable"})  # the session reconnects


def test_client_options_reach_the_library(sim) -> None:
    with Client(base_url=sim.base_url, api_key=API_KEY, headers={"X-Test": "1"}, connect_timeout_ms=5000,
                transport="http") as http_client:
        with http_client.session(defaults=MODEL) as session:
            result = session.turn({"input": "over http"}).result()
    assert result.transport is Transport.HTTP
    with Client(base_url=sim.base_url, api_key=API_KEY, permessage_deflate=True) as compressed:
        with compressed.session(defaults=MODEL) as session:
            assert session.text({"input": "compressed both ways"})
    with pytest.raises(TypeError, match="conect_timeout_ms"):
        Client(base_url=sim.base_url, api_key=API_KEY, conect_timeout_ms=1)  # type: ignore[call-arg]


def test_full_history_mode_sends_only_what_is_new(client: Client) -> None:
    with client.session(defaults=MODEL, input_mode="full_history") as session:
        history = [{"role": "user", "content": "first question"}]
        first = session.turn({"input": history}).result()
        history += first.response["output"] + [{"role": "user", "content": "second question"}]
        second = session.turn({"input": history}).result()
    assert "second question" in second.output_text
    assert TurnFlags.INCREMENTAL in second.flags
    assert second.bytes_sent < len(json.dumps(history))
