"""The SDK event objects the drop-in and the agents model build equal what the SDK builds itself,
for every kind of event the simulator emits (plus unknown and malformed ones)."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("openai")
from openai._models import construct_type
from openai.types.responses import ResponsesServerEvent, ResponseStreamEvent

from responses_ws._sdk_events import parser_for
from test_typed_events import _events_of_every_kind


def _same(ours: Any, sdk: Any) -> None:
    assert type(ours) is type(sdk)
    assert ours == sdk
    assert ours.model_dump() == sdk.model_dump()
    assert ours.model_dump(exclude_unset=True) == sdk.model_dump(exclude_unset=True)  # what goes back as input


@pytest.mark.parametrize("union", [ResponsesServerEvent, ResponseStreamEvent], ids=["server", "stream"])
def test_every_simulator_event_builds_the_sdk_object(sim: Any, make_sim: Any, union: Any) -> None:
    failing = make_sim("--fault", "close-1011@1")
    events = _events_of_every_kind(sim.base_url, failing.base_url)
    parse = parser_for(union)
    for event in events:
        value = json.loads(event.raw)
        _same(parse(value), construct_type(type_=union, value=value))


@pytest.mark.parametrize("union", [ResponsesServerEvent, ResponseStreamEvent], ids=["server", "stream"])
def test_unknown_and_malformed_events_fall_back_to_the_sdk(union: Any) -> None:
    parse = parser_for(union)
    for value in (
        {"type": "response.something_new", "x": 1},
        {"type": "response.output_text.delta", "delta": 5, "sequence_number": "x"},  # wrong types
        {"type": "response.created"},  # fields missing
        {"no_type": True},
    ):
        ours, sdk = parse(value), construct_type(type_=union, value=dict(value))
        assert type(ours) is type(sdk) and ours == sdk


def test_the_agents_sdk_builds_the_same_objects(sim: Any, make_sim: Any) -> None:
    openai_responses = pytest.importorskip("agents.models.openai_responses")
    helper = getattr(openai_responses, "_construct_response_stream_event_from_payload", None)
    if helper is None:
        pytest.skip("this openai-agents has no _construct_response_stream_event_from_payload")
    events = _events_of_every_kind(sim.base_url, make_sim("--fault", "close-1011@1").base_url)
    parse = parser_for(ResponseStreamEvent)
    for event in events:
        _same(parse(json.loads(event.raw)), helper(json.loads(event.raw)))
