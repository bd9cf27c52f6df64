"""The official `openai` Python SDK against `rws sim`, over HTTP (JSON and SSE) and WebSocket mode.

Needs: pip install 'openai[realtime]' pytest. The simulator binary comes from $RWS_BIN
(default .build/debug/rws, relative to the repository root).
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
RWS_BIN = os.environ.get("RWS_BIN", str(ROOT / ".build" / "debug" / "rws"))

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


class Sim:
    """`rws sim` as a subprocess: reads the port from its first stdout line, stops it with SIGINT."""

    def __init__(self, *args):
        binary = Path(RWS_BIN)
        if not binary.is_absolute():
            binary = ROOT / binary
        self.proc = subprocess.Popen(
            [str(binary), "sim", "--port", "0", "--tokens-per-second", "0", "--stats", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self.proc.stdout.readline().strip()
        if not (first.startswith("listening ws://127.0.0.1:") and first.endswith("/v1")):
            self.proc.kill()
            raise AssertionError(f"unexpected first line {first!r}: {self.proc.stderr.read()}")
        self.port = int(first.rsplit(":", 1)[1].split("/")[0])

    def stop(self):
        """SIGINT: clean shutdown, exit 0, and the --stats JSON line."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sim():
    server = Sim()
    yield server.port
    stats = server.stop()
    assert stats["stats"] == "rws_sim"
    assert stats["websocket_upgrades"] >= 1
    assert stats["http_posts"] >= 1


@pytest.fixture()
def client(sim):
    return openai.OpenAI(base_url=f"http://127.0.0.1:{sim}/v1", api_key="test", max_retries=0)


def test_http_non_stream(client):
    response = client.responses.create(model="gpt-sim", input="Say hello to the simulator")
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert "Say hello to the simulator" in response.output_text
    assert response.usage.output_tokens > 0
    assert response.usage.input_tokens > 0
    assert response.usage.input_tokens_details.cached_tokens == 0


def test_http_stream(client):
    deltas = []
    completed = None
    with client.responses.create(model="gpt-sim", input="Stream please", stream=True) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            elif event.type == "response.completed":
                completed = event.response
    assert completed is not None
    assert "".join(deltas) == completed.output_text
    assert completed.usage.output_tokens == len(deltas)


def test_http_stream_helper_accumulates_consistently(client):
    # responses.stream() rebuilds the response from the events; it fails on inconsistent ids/indexes.
    with client.responses.stream(model="gpt-sim", input="Weather in Oslo?", tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call"
    assert json.loads(final.output[0].arguments)["city"]
    with client.responses.stream(model="gpt-sim", input="Plain text please") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == text


def test_http_continuation_loads_stored_response(client):
    first = client.responses.create(model="gpt-sim", input="Remember the number 42")
    second = client.responses.create(model="gpt-sim", input="What was it?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens


def test_401_with_wrong_key_on_both_transports():
    server = Sim("--api-key", "right-key")
    try:
        bad = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="wrong-key", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            bad.responses.create(model="gpt-sim", input="hi")
        assert info.value.status_code == 401
        assert info.value.code == "invalid_api_key"
        with pytest.raises(Exception) as ws_info:
            with bad.responses.connect() as connection:
                connection.response.create(model="gpt-sim", input="hi")
                next(iter(connection))
        assert "401" in str(ws_info.value)
        good = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="right-key", max_retries=0)
        assert good.responses.create(model="gpt-sim", input="hi").status == "completed"
    finally:
        stats = server.stop()
    assert stats["http_posts"] == 1


def collect_until_terminal(connection):
    events = []
    for event in connection:
        events.append(event)
        if event.type in ("response.completed", "response.failed", "response.incomplete", "error"):
            return events
    raise AssertionError("connection closed before a terminal event")


def test_websocket_text_and_continuation(client):
    with client.responses.connect() as connection:
        connection.response.create(model="gpt-sim", input="Hello over WebSocket", store=False)
        events = collect_until_terminal(connection)
        assert [e.sequence_number for e in events] == list(range(len(events)))
        assert events[0].type == "response.created"
        done = events[-1]
        assert done.type == "response.completed", done
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == done.response.output_text
        assert "Hello over WebSocket" in text

        # Continuation from the connection cache: only the new item is sent.
        connection.response.create(
            model="gpt-sim", input="And again", store=False, previous_response_id=done.response.id
        )
        events = collect_until_terminal(connection)
        follow = events[-1]
        assert follow.type == "response.completed", follow
        assert follow.response.previous_response_id == done.response.id
        assert follow.response.usage.input_tokens_details.cached_tokens > 0

        # An unknown parent with store=false: previous_response_not_found, socket stays usable.
        connection.response.create(model="gpt-sim", input="x", store=False, previous_response_id="resp_unknown")
        events = collect_until_terminal(connection)
        assert events[-1].type == "error"
        assert events[-1].error.code == "previous_response_not_found"
        assert events[-1].status == 400

        connection.response.create(model="gpt-sim", input="still alive?", store=False)
        assert collect_until_terminal(connection)[-1].type == "response.completed"


def test_websocket_function_call_round_trip(client):
    with client.responses.connect() as connection:
        connection.response.create(
            model="gpt-sim", input="What is the weather in Paris?", tools=[WEATHER_TOOL], store=False
        )
        events = collect_until_terminal(connection)
        done = events[-1]
        assert done.type == "response.completed", done
        call = done.response.output[0]
        assert call.type == "function_call"
        assert call.name == "get_weather"
        arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
        assert arguments == call.arguments
        assert "city" in json.loads(call.arguments)

        connection.response.create(
            model="gpt-sim",
            previous_response_id=done.response.id,
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
            tools=[WEATHER_TOOL],
            store=False,
        )
        events = collect_until_terminal(connection)
        final = events[-1]
        assert final.type == "response.completed", final
        assert "sunny, 21 C" in final.response.output_text


def test_payloads_pass_strict_pydantic_validation(client):
    """The SDK builds models without validating; check the real schemas strictly as well."""
    from pydantic import TypeAdapter
    from openai.types.responses import Response, ResponseStreamEvent
    from openai.types.responses.responses_server_event import ResponsesServerEvent

    raw = client.responses.with_raw_response.create(model="gpt-sim", input="validate me", tools=[WEATHER_TOOL])
    Response.model_validate(raw.http_response.json())

    sse = TypeAdapter(ResponseStreamEvent)
    with client.responses.with_streaming_response.create(model="gpt-sim", input="validate", stream=True) as r:
        datas = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert len(datas) > 5
    for data in datas:
        sse.validate_json(data)

    ws_events = TypeAdapter(ResponsesServerEvent)
    with client.responses.connect() as connection:
        for request in (
            {"input": "validate over ws", "stream_id": "v"},
            {"input": "call a tool", "tools": [WEATHER_TOOL]},
            {"input": "x", "previous_response_id": "resp_missing", "store": False},
            {"input": "warm", "generate": False},
        ):
            connection.send({"type": "response.create", "model": "gpt-sim", **request})
            while True:
                event = ws_events.validate_json(connection.recv_bytes())
                if event.type in ("response.completed", "error"):
                    break


def test_websocket_stream_id_lane(client):
    with client.responses.connect() as connection:
        connection.response.create(model="gpt-sim", input="on a lane", stream_id="lane-a", store=False)
        events = collect_until_terminal(connection)
        assert events[-1].type == "response.completed"
        assert all(e.stream_id == "lane-a" for e in events)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
