"""event.response / event.item / result.response parse lazily once; to_openai() gives the SDK's objects."""

from __future__ import annotations

import sys
from typing import Dict, List

import pytest

import responses_ws as rws
from conftest import API_KEY, TOOLS

MODEL = {"model": "gpt-5.6", "store": False}


def test_response_and_item_are_parsed_once_and_none_when_absent(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        events = list(session.turn({"input": "typed events"}))
    created = next(e for e in events if e.type == "response.created")
    assert created.response is not None and created.response["id"] == created.response_id
    assert created.response is created.response  # parsed once, then cached
    assert created.item is None
    added = next(e for e in events if e.type == "response.output_item.added")
    assert added.item is not None and added.item["type"] == "message" and added.item is added.item
    assert added.response is None
    delta = next(e for e in events if e.type_id == rws.EventType.OUTPUT_TEXT_DELTA)
    assert delta.response is None and delta.item is None and delta.delta
    assert delta.data["delta"] == delta.delta  # .data stays


def test_result_response_and_output_text_are_computed_once(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        result = session.turn({"input": "result once"}).result()
    assert result.response is result.response
    assert result.output_text is result.output_text and "result once" in result.output_text
    assert result.response is not None and result.response["id"] == result.response_id


def _events_of_every_kind(base_url: str, http_base_url: str) -> List[rws.Event]:
    """Events of text, function-call, reasoning, named-lane, incomplete, failed and error turns."""
    events: List[rws.Event] = []

    def collect(session: rws.Session, request: Dict[str, object]) -> None:
        try:
            for event in session.turn(request):
                events.append(event)
        except rws.ResponsesWSError:
            pass  # the error turns are wanted for their events

    with rws.Client(base_url=base_url, api_key=API_KEY) as client:
        with client.session(defaults=MODEL) as session:
            collect(session, {"input": "plain text"})
            collect(session, {"input": "please read_file notes.txt", "tools": TOOLS})
            collect(session, {"input": "think", "reasoning": {"effort": "low", "summary": "auto"}})
            collect(session, {"input": "cut short", "max_output_tokens": 1})
            collect(session, {"input": "x", "previous_response_id": "resp_unknown"})
            collect(session, {"input": [{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]})
        with client.session(defaults=MODEL, stream_id="lane-1") as lane:
            collect(lane, {"input": "on a lane"})
    # response.failed: the simulator's close-1011 fault over HTTP/SSE.
    with rws.Client(base_url=http_base_url, api_key=API_KEY, transport="http", fallback="never") as client:
        with client.session(defaults=MODEL) as session:
            collect(session, {"input": "this one fails"})
    return events


def test_every_simulator_event_validates_as_the_sdk_type(sim, make_sim) -> None:
    pytest.importorskip("openai")
    from openai.types.responses import ResponseCompletedEvent, ResponseTextDeltaEvent

    failing = make_sim("--fault", "close-1011@1")
    events = _events_of_every_kind(sim.base_url, failing.base_url)
    kinds = {e.type for e in events}
    expected = {
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.incomplete", "response.failed", "error",
    }
    assert expected <= kinds, expected - kinds
    for event in events:
        typed = event.to_openai()
        assert typed.type == event.type
        if event.sequence_number is not None and hasattr(typed, "sequence_number"):
            assert typed.sequence_number == event.sequence_number
    delta = next(e for e in events if e.type == "response.output_text.delta")
    assert isinstance(delta.to_openai(), ResponseTextDeltaEvent) and delta.to_openai().delta == delta.delta
    completed = next(e for e in events if e.type == "response.completed")
    assert isinstance(completed.to_openai(), ResponseCompletedEvent)
    error = next(e for e in events if e.type == "error")
    assert error.to_openai().error.message  # the WebSocket error shape
    on_lane = [e for e in events if e.stream_id == "lane-1"]
    assert on_lane and all(e.to_openai().type == e.type for e in on_lane)


def test_result_to_openai_is_the_sdk_response(client: rws.Client) -> None:
    pytest.importorskip("openai")
    from openai.types.responses import Response

    with client.session(defaults=MODEL) as session:
        result = session.turn({"input": "as sdk"}).result()
    response = result.to_openai()
    assert isinstance(response, Response)
    assert response.id == result.response_id and response.output_text == result.output_text


def test_to_openai_without_the_sdk_raises_a_clear_import_error(client: rws.Client, monkeypatch) -> None:
    from responses_ws import _openai_types

    with client.session(defaults=MODEL) as session:
        event = next(iter(session.turn({"input": "no sdk"})))
    monkeypatch.setattr(_openai_types, "_event_adapters", None)
    monkeypatch.setitem(sys.modules, "openai.types.responses", None)  # as if openai were not installed
    with pytest.raises(ImportError, match="pip install openai"):
        event.to_openai()
