"""responses_ws.agents: openai-agents' Runner over the library, against `rws sim`.

The same agent runs through the agents SDK's own Responses WebSocket transport
(`OpenAIProvider(use_responses_websocket=True)`) and through `ResponsesWSProvider`; both must
give the same outputs, items and stream events. Tracing is off (RunConfig), so nothing but the
simulator is contacted."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest

agents = pytest.importorskip("agents")


def needs_sdk_websocket_transport() -> None:
    """The comparisons run the agents SDK's own WebSocket transport (it needs websockets)."""
    pytest.importorskip("websockets")

from agents import Agent, ModelProvider, OpenAIProvider, RunConfig, Runner, function_tool
from openai import AsyncOpenAI
from openai.types.responses import ResponseCompletedEvent

import responses_ws as rws
from conftest import API_KEY
from responses_ws.agents import ResponsesWSModel, ResponsesWSProvider

MODEL = "gpt-5.6"


@function_tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"sunny in {city}"


def weather_agent() -> Agent[Any]:
    return Agent(name="weather", instructions="Answer briefly.", model=MODEL, tools=[get_weather])


def run_config(provider: ModelProvider) -> RunConfig:
    return RunConfig(model_provider=provider, tracing_disabled=True)


async def _tool_loop(provider: ModelProvider) -> Dict[str, Any]:
    """A two-call tool loop with Runner.run, then a chained run and a streamed run."""
    agent = weather_agent()
    first = await Runner.run(agent, "weather in Paris?", run_config=run_config(provider))
    chained = Runner.run_streamed(agent, "and in Rome?", run_config=run_config(provider),
                                  previous_response_id=first.last_response_id)
    stream_types: List[str] = []
    previous_ids: List[Any] = []
    async for event in chained.stream_events():
        if event.type == "raw_response_event":
            stream_types.append(f"{type(event.data).__name__}:{event.data.type}")
            if isinstance(event.data, ResponseCompletedEvent):
                previous_ids.append(event.data.response.previous_response_id)
        else:
            stream_types.append(event.type)
    return {
        "final": first.final_output,
        "items": [type(item).__name__ for item in first.new_items],
        "calls": len(first.raw_responses),
        "chained_final": chained.final_output,
        "chained_from_first": previous_ids[:1] == [first.last_response_id],
        "stream_types": stream_types,
    }


def test_runner_gives_what_the_agents_sdk_websocket_transport_gives(sim: Any) -> None:
    needs_sdk_websocket_transport()
    async def both() -> Tuple[Dict[str, Any], Dict[str, Any], rws.Stats]:
        sdk_provider = OpenAIProvider(
            openai_client=AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY), use_responses_websocket=True,
        )
        through_sdk = await _tool_loop(sdk_provider)
        await sdk_provider.aclose()
        provider = ResponsesWSProvider(base_url=sim.base_url, api_key=API_KEY)
        through_rws = await _tool_loop(provider)
        stats = provider.client.stats()
        await provider.aclose()
        return through_sdk, through_rws, stats

    through_sdk, through_rws, stats = asyncio.run(both())
    assert through_rws == through_sdk
    assert "sunny in" in through_rws["final"]
    assert through_rws["items"] == ["ToolCallItem", "ToolCallOutputItem", "MessageOutputItem"]
    assert through_rws["calls"] == 2 and through_rws["chained_from_first"] is True
    assert "ResponseTextDeltaEvent:response.output_text.delta" in through_rws["stream_types"]
    assert "ResponseFunctionCallArgumentsDeltaEvent:response.function_call_arguments.delta" in through_rws["stream_types"]
    # One socket for all four calls; the runner resent the whole conversation for the tool
    # result, and the session sent only the new items.
    assert stats.connects == 1 and stats.turns_ok == 4 and stats.incremental_sends >= 1


async def _conversation(provider: ModelProvider, turns: int) -> List[Any]:
    """A conversation kept by the caller: each run gets the previous run's to_input_list() plus
    a new message (the runner resends the whole history, no previous_response_id)."""
    history: List[Any] = []
    finals = []
    for i in range(turns):
        result = await Runner.run(weather_agent(), history + [{"role": "user", "content": f"weather in town {i}?"}],
                                  run_config=run_config(provider))
        finals.append(result.final_output)
        history = result.to_input_list()
    return finals + [len(history)]


def test_a_multi_turn_tool_conversation_matches_the_agents_sdk_transport(sim: Any) -> None:
    needs_sdk_websocket_transport()
    async def both() -> Tuple[List[Any], List[Any], rws.Stats]:
        sdk_provider = OpenAIProvider(
            openai_client=AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY), use_responses_websocket=True,
        )
        through_sdk = await _conversation(sdk_provider, 4)
        await sdk_provider.aclose()
        provider = ResponsesWSProvider(base_url=sim.base_url, api_key=API_KEY)
        through_rws = await _conversation(provider, 4)
        stats = provider.client.stats()
        await provider.aclose()
        return through_sdk, through_rws, stats

    through_sdk, through_rws, stats = asyncio.run(both())
    assert through_rws == through_sdk
    assert all("sunny in" in text for text in through_rws[:-1])
    # 8 model calls; all but the first went out as previous_response_id + new items.
    assert stats.turns_ok == 8 and stats.incremental_sends == 7 and stats.full_resends == 0


def test_full_history_requests_go_out_incrementally(sim: Any) -> None:
    async def run() -> rws.Stats:
        provider = ResponsesWSProvider(base_url=sim.base_url, api_key=API_KEY)
        await Runner.run(weather_agent(), "weather in Oslo?", run_config=run_config(provider))
        model = provider.get_model(MODEL)
        assert isinstance(model, ResponsesWSModel)
        assert len(model.sessions) == 1
        stats = model.sessions[0].stats()
        await provider.aclose()
        return stats

    stats = asyncio.run(run())
    assert stats.turns_ok == 2 and stats.incremental_sends == 1 and stats.full_resends == 0


def test_concurrent_runs_get_a_session_each_and_keep_their_chains(sim: Any) -> None:
    async def run() -> Tuple[List[Any], int, rws.Stats]:
        provider = ResponsesWSProvider(base_url=sim.base_url, api_key=API_KEY)
        results = await asyncio.gather(*[
            Runner.run(weather_agent(), f"weather in city {i}?", run_config=run_config(provider)) for i in range(4)
        ])
        # Each run continued, chained by id, on the session that holds its chain.
        chained = await asyncio.gather(*[
            Runner.run(weather_agent(), "and tomorrow?", run_config=run_config(provider),
                       previous_response_id=result.last_response_id) for result in results
        ])
        model = provider.get_model(MODEL)
        assert isinstance(model, ResponsesWSModel)
        sessions, stats = len(model.sessions), provider.client.stats()
        await provider.aclose()
        return [r.final_output for r in results + chained], sessions, stats

    finals, sessions, stats = asyncio.run(run())
    assert all(f"city {i}" in finals[i] for i in range(4))
    assert all("sunny in and tomorrow?" in text for text in finals[4:])
    assert 1 <= sessions <= 4 and stats.turns_ok == 16  # no previous_response_not_found
    assert stats.connects == 1  # the sessions share one connection, a lane each


def test_one_model_per_name_and_the_sdk_provider_options(sim: Any) -> None:
    provider = ResponsesWSProvider(openai_client=AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY))
    assert provider.get_model(MODEL) is provider.get_model(MODEL)
    assert provider.get_model(None) is not provider.get_model(MODEL)
    asyncio.run(provider.aclose())
    with pytest.raises(rws.ClosedError):
        provider.client  # noqa: B018 - the provider's own client is closed by aclose()


def test_a_server_error_is_the_agents_sdk_exception(sim: Any) -> None:
    from agents.models.openai_responses import ResponsesWebSocketError

    async def run() -> None:
        provider = ResponsesWSProvider(base_url=sim.base_url, api_key=API_KEY)
        try:
            await Runner.run(weather_agent(), "hi", run_config=run_config(provider),
                             previous_response_id="resp_unknown")
        finally:
            await provider.aclose()

    with pytest.raises(ResponsesWebSocketError) as caught:
        asyncio.run(run())
    assert caught.value.code == "previous_response_not_found"


def test_the_agents_sdk_internals_the_model_relies_on_exist() -> None:
    from agents.models import openai_responses

    for name in ("_json_dumps_default", "_is_openai_omitted_value", "ResponsesWebSocketError"):
        assert hasattr(openai_responses, name), name
    assert hasattr(openai_responses.OpenAIResponsesWSModel, "_iter_websocket_response_events")
    assert hasattr(openai_responses.OpenAIResponsesWSModel, "_fetch_response")
    assert hasattr(openai_responses.OpenAIResponsesModel, "_build_response_create_kwargs")


def test_retry_advice_follows_the_library_errors() -> None:
    from agents.retry import ModelRetryAdviceRequest
    from responses_ws._ffi import lib

    provider = ResponsesWSProvider(base_url="http://127.0.0.1:9/v1", api_key=API_KEY)
    model = provider.get_model(MODEL)

    def advice(error: Exception) -> Any:
        return model.get_retry_advice(ModelRetryAdviceRequest(error=error, attempt=1, stream=False))

    unknown = advice(rws.OutcomeUnknownError(lib.RWS_E_OUTCOME_UNKNOWN, "maybe ran"))
    assert unknown.suggested is False and unknown.replay_safety == "unsafe"
    closed = advice(rws.ConnectionClosedError(lib.RWS_E_CLOSED, "nothing sent"))
    assert closed.suggested is True and closed.replay_safety == "safe"
    asyncio.run(provider.aclose())
