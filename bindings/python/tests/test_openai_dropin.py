"""responses_ws.openai.connect(client): a script written for the SDK's WebSocket mode runs with one
changed line. Each script below runs twice against `rws sim`: through the SDK's own
`client.responses.connect()` and through the drop-in; both runs must see the same event classes,
event types, output text and chaining."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Callable, Dict, List

import pytest

openai = pytest.importorskip("openai")


def needs_sdk_websocket_mode() -> None:
    """The comparisons run the SDK's own WebSocket mode, which needs openai[realtime]."""
    pytest.importorskip("websockets")

import responses_ws as rws
import responses_ws.openai
from conftest import API_KEY, TOOLS

MODEL = "gpt-5.6"


def _wait_for(connection: Any, wanted: tuple, seen: List[str]) -> Any:
    """The SDK's documented loop: iterate the connection until the event that ends the response."""
    for event in connection:
        seen.append(f"{type(event).__name__}:{event.type}")
        if event.type in wanted:
            return event
    raise AssertionError("the connection closed before the response ended")


def sdk_script(open_connection: Callable[[], Any]) -> Dict[str, Any]:
    """An agent loop written for `client.responses.connect()`: a text turn, a chained turn, a
    function-call turn answered with its output, and a request the server rejects."""
    seen: List[str] = []
    out: Dict[str, Any] = {"seen": seen}
    done = ("response.completed", "response.failed", "response.incomplete", "error")
    with open_connection() as connection:
        connection.response.create(model=MODEL, input="Hello there", store=False)
        first = _wait_for(connection, done, seen)
        out["first_text"] = first.response.output_text

        connection.response.create(model=MODEL, input="And again", store=False,
                                   previous_response_id=first.response.id)
        second = _wait_for(connection, done, seen)
        out["second_text"] = second.response.output_text
        out["chained"] = second.response.previous_response_id == first.response.id

        connection.response.create(model=MODEL, input="please read_file notes.txt", tools=TOOLS, store=False)
        call_turn = _wait_for(connection, done, seen)
        call = next(item for item in call_turn.response.output if item.type == "function_call")
        out["call"] = (call.name, call.arguments)
        # The SDK's typed output items go back as input, as SDK users write it.
        connection.response.create(
            model=MODEL, store=False, previous_response_id=call_turn.response.id, tools=TOOLS,
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "file body"}],
        )
        answer = _wait_for(connection, done, seen)
        out["tool_answer"] = answer.response.output_text

        # The whole context instead of previous_response_id: the SDK's typed output items
        # (pydantic models) go back as input, as SDK users write a stateless loop.
        question = {"role": "user", "content": "please read_file notes.txt"}
        connection.response.create(model=MODEL, input=[question], tools=TOOLS, store=False)
        stateless = _wait_for(connection, done, seen)
        stateless_call = next(item for item in stateless.response.output if item.type == "function_call")
        connection.response.create(
            model=MODEL, store=False, tools=TOOLS,
            input=[question, *stateless.response.output,
                   {"type": "function_call_output", "call_id": stateless_call.call_id, "output": "typed"}],
        )
        out["stateless_answer"] = _wait_for(connection, done, seen).response.output_text

        connection.response.create(model=MODEL, input="x", store=False, previous_response_id="resp_unknown")
        error = _wait_for(connection, done, seen)
        out["error"] = (error.type, error.error.code)

        # The connection is still usable after a request-scoped error, as with the SDK.
        connection.response.create(model=MODEL, input="after the error", store=False)
        out["after_error"] = _wait_for(connection, done, seen).response.output_text
    return out


def test_the_same_script_runs_through_the_sdk_and_the_drop_in(sim: Any) -> None:
    needs_sdk_websocket_mode()
    sdk_client = openai.OpenAI(base_url=sim.base_url, api_key=API_KEY)
    through_sdk = sdk_script(lambda: sdk_client.responses.connect())
    through_rws = sdk_script(lambda: responses_ws.openai.connect(sdk_client))  # the one changed line
    assert through_rws == through_sdk
    assert through_sdk["chained"] is True
    assert "Hello there" in through_sdk["first_text"]
    assert through_sdk["error"] == ("error", "previous_response_not_found")
    assert through_sdk["call"][0] == "read_file"
    assert "file body" in through_sdk["tool_answer"]
    assert "typed" in through_sdk["stateless_answer"]


async def async_sdk_script(open_connection: Callable[[], Any]) -> Dict[str, Any]:
    """The async twin: `async with`, `await connection.response.create`, `async for`."""
    seen: List[str] = []
    out: Dict[str, Any] = {"seen": seen}

    async def wait_for(connection: Any) -> Any:
        async for event in connection:
            seen.append(f"{type(event).__name__}:{event.type}")
            if event.type in ("response.completed", "error"):
                return event
        raise AssertionError("the connection closed before the response ended")

    async with open_connection() as connection:
        await connection.response.create(model=MODEL, input="Hello async", store=False)
        first = await wait_for(connection)
        await connection.response.create(model=MODEL, input="Chained", store=False,
                                         previous_response_id=first.response.id)
        second = await wait_for(connection)
        out["texts"] = [first.response.output_text, second.response.output_text]
        out["chained"] = second.response.previous_response_id == first.response.id
        # recv() as well as iteration
        await connection.response.create(model=MODEL, input="by recv", store=False)
        while True:
            event = await connection.recv()
            seen.append(f"{type(event).__name__}:{event.type}")
            if event.type == "response.completed":
                out["recv_text"] = event.response.output_text
                break
    return out


def test_the_same_async_script_runs_through_the_sdk_and_the_drop_in(sim: Any) -> None:
    needs_sdk_websocket_mode()
    sdk_client = openai.AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY)

    async def both() -> tuple:
        through_sdk = await async_sdk_script(lambda: sdk_client.responses.connect())
        through_rws = await async_sdk_script(lambda: responses_ws.openai.connect(sdk_client))
        return through_sdk, through_rws

    through_sdk, through_rws = asyncio.run(both())
    assert through_rws == through_sdk
    assert through_sdk["chained"] is True and "Hello async" in through_sdk["texts"][0]


def test_nothing_is_chained_unless_asked_as_in_the_sdk(sim: Any) -> None:
    sdk_client = openai.OpenAI(base_url=sim.base_url, api_key=API_KEY)
    with responses_ws.openai.connect(sdk_client) as connection:
        for text in ("one", "two"):
            connection.response.create(model=MODEL, input=text, store=False)
            for event in connection:
                if event.type == "response.completed":
                    assert event.response.previous_response_id is None
                    break


def test_send_recv_bytes_handlers_and_close(sim: Any) -> None:
    sdk_client = openai.OpenAI(base_url=sim.base_url, api_key=API_KEY)
    manager = responses_ws.openai.connect(sdk_client)
    manager.send({"type": "response.create", "model": MODEL, "input": "queued before enter", "store": False})
    connection = manager.enter()
    completed: List[Any] = []
    connection.on("response.completed", lambda event: (completed.append(event), connection.close()))
    connection.dispatch_events()  # returns once the handler closed the connection
    assert len(completed) == 1 and "queued before enter" in completed[0].response.output_text
    assert type(completed[0]).__module__.startswith("openai.types.")
    with pytest.raises(rws.ClosedError):
        connection.recv_bytes()
    assert list(connection) == []  # iteration ends on a closed connection
    with pytest.raises(rws.UnsupportedError):
        with responses_ws.openai.connect(sdk_client) as other:
            other.send({"type": "response.steer", "input": "x", "previous_response_id": "resp_1"})


def test_options_come_from_the_sdk_client() -> None:
    from responses_ws._openai_options import client_arguments

    sdk_client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1/", api_key="sk-abc", organization="org-1", project="proj-1",
        default_headers={"X-Team": "blue"}, timeout=openai.Timeout(30.0, connect=2.5),
        websocket_base_url="ws://127.0.0.1:10/v1",
    )
    base_url, api_key, options = client_arguments(sdk_client, extra_headers={"X-Call": "1"}, extra_query={"a": "b"})
    assert base_url == "http://127.0.0.1:9/v1" and api_key == "sk-abc"
    assert options["organization"] == "org-1" and options["project"] == "proj-1"
    assert options["headers"]["X-Team"] == "blue" and options["headers"]["X-Call"] == "1"
    assert not {"Authorization", "Accept", "Content-Type"} & set(options["headers"])
    assert options["websocket_url"] == "ws://127.0.0.1:10/v1/responses?a=b"
    assert options["connect_timeout_ms"] == 2500 and options["idle_timeout_ms"] == 30000
    # And the library accepts them as they are.
    rws.Client(base_url, api_key, **options).close()


def test_importing_the_package_imports_no_sdk() -> None:
    import subprocess

    code = ("import responses_ws, sys; print('openai' in sys.modules, 'agents' in sys.modules); "
            "responses_ws.openai.connect; print('responses_ws.openai' in sys.modules)")  # loaded when first used
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "False", "True"]


def test_a_lost_connection_raises_the_typed_error_and_the_next_create_works(make_sim: Any) -> None:
    sim = make_sim("--fault", "drop-mid-stream@1")
    sdk_client = openai.OpenAI(base_url=sim.base_url, api_key=API_KEY)
    with responses_ws.openai.connect(sdk_client) as connection:
        connection.response.create(model=MODEL, input="dropped", store=False)
        seen: List[str] = []
        with pytest.raises(rws.OutcomeUnknownError):  # the request was sent: never replayed
            for event in connection:
                seen.append(event.type)
        assert seen[0] == "response.created" and "response.completed" not in seen
        connection.response.create(model=MODEL, input="next one", store=False)
        assert "next one" in _wait_for(connection, ("response.completed",), []).response.output_text


def test_close_from_another_thread_ends_an_iteration_waiting_for_a_create(sim: Any) -> None:
    import threading

    sdk_client = openai.OpenAI(base_url=sim.base_url, api_key=API_KEY)
    connection = responses_ws.openai.connect(sdk_client).enter()
    closer = threading.Thread(target=connection.close)
    closer.start()
    assert list(connection) == []  # returns whether the close came before or during the wait
    closer.join()


def test_a_cancelled_async_recv_loses_no_event(sim: Any) -> None:
    async def run() -> List[Any]:
        async with responses_ws.openai.connect(openai.AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY)) as connection:
            # recv() before any create: it is suspended on the empty queue whatever the
            # machine's speed (no delayed response needed), which is the case under test.
            waiting = asyncio.ensure_future(connection.recv())
            # Yield to the loop (a zero-length pass, not a timed wait) until the task is there.
            while not connection._queue._getters:  # type: ignore[attr-defined]
                await asyncio.sleep(0)
            assert not waiting.done()
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await connection.response.create(model=MODEL, input="after the cancel", store=False)
            events = []
            while not events or events[-1].type != "response.completed":
                events.append(await connection.recv())
            return events

    events = asyncio.run(run())
    assert events[0].type == "response.created" and events[0].sequence_number == 0
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_async_lost_connection_raises_and_close_ends_iteration(make_sim: Any) -> None:
    sim = make_sim("--fault", "drop-mid-stream@1")

    async def run() -> None:
        sdk_client = openai.AsyncOpenAI(base_url=sim.base_url, api_key=API_KEY)
        async with responses_ws.openai.connect(sdk_client) as connection:
            await connection.response.create(model=MODEL, input="dropped", store=False)
            with pytest.raises(rws.OutcomeUnknownError):
                async for _ in connection:
                    pass
            await connection.response.create(model=MODEL, input="again", store=False)
            async for event in connection:
                if event.type == "response.completed":
                    break
            await connection.close()
            assert [event async for event in connection] == []
            with pytest.raises(rws.ClosedError):
                await connection.recv()

    asyncio.run(run())


def test_request_bodies_are_what_the_sdk_would_send() -> None:
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText

    from responses_ws.openai import request_body

    message = ResponseOutputMessage(id="msg_1", type="message", role="assistant", status="completed",
                                    content=[ResponseOutputText(type="output_text", text="hi", annotations=[])])
    body = request_body({
        "model": MODEL, "temperature": openai.omit, "top_p": openai.NOT_GIVEN,
        "input": [message, {"role": "user", "content": "next"}],
        "tools": (tool for tool in TOOLS),  # any iterable, as the SDK takes Iterable[ToolParam]
        "extra_body": {"custom": 1},
    })
    assert "temperature" not in body and "top_p" not in body
    assert body["input"][0] == {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                                "content": [{"type": "output_text", "text": "hi", "annotations": []}]}
    assert body["tools"] == TOOLS and body["custom"] == 1
    assert body["previous_response_id"] is None  # a new conversation, as the SDK's create is
    assert "previous_response_id" not in request_body({"model": MODEL, "conversation": "conv_1"})
