"""Each failure path raises its own typed exception with an actionable message."""

from __future__ import annotations

import socket

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


def test_bad_json_raises_invalid_json_before_sending(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        with pytest.raises(rws.InvalidJSONError) as caught:
            session.turn('{"input": ')
        assert caught.value.status == -4 and "byte" in caught.value.message
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, rws.UsageError)
        with pytest.raises(rws.InvalidJSONError):
            client.session(defaults="[1, 2]")
        assert session.stats().turns == 0


def test_unreachable_port_raises_connect_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with rws.Client(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_reconnects=0,
                    fallback="never") as client, client.session(defaults=MODEL) as session:
        with pytest.raises(rws.ConnectError) as caught:
            list(session.turn({"input": "hello"}))
        assert isinstance(caught.value, rws.TransportError) and isinstance(caught.value, ConnectionError)
        assert caught.value.message


def test_wrong_api_key_raises_authentication_error(make_sim) -> None:
    sim = make_sim("--api-key", "right-key")
    with rws.Client(base_url=sim.base_url, api_key="wrong-key", fallback="never") as client:
        with client.session(defaults=MODEL) as session:
            with pytest.raises(rws.AuthenticationError) as caught:
                session.turn({"input": "hello"}).result()
            assert "wrong-key" not in str(caught.value)  # the key is never echoed
    with rws.Client(base_url=sim.base_url, api_key="right-key") as client:
        assert client.session(defaults=MODEL).text({"input": "ok"})


def test_drop_mid_stream_raises_outcome_unknown(make_sim) -> None:
    sim = make_sim("--fault", "drop-mid-stream@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
        turn = session.turn({"input": "this will be cut"})
        received = []
        with pytest.raises(rws.OutcomeUnknownError) as caught:
            for event in turn:
                received.append(event)
        assert any(e.type_id == rws.EventType.OUTPUT_TEXT_DELTA for e in received)
        assert caught.value.status == -19 and caught.value.message
        assert turn.wait().status == -19  # wait() reports without raising
        assert client.stats().unknown_outcomes == 1
        assert session.text({"input": "next turn works"})


def test_request_over_max_request_bytes_is_not_sent(sim) -> None:
    with rws.Client(base_url=sim.base_url, api_key=API_KEY, max_request_bytes=1024) as client:
        with client.session(defaults=MODEL) as session:
            with pytest.raises(rws.RequestTooBigError) as caught:
                session.turn({"input": "x" * 4096})
            assert caught.value.status == -21 and caught.value.message
            assert client.stats().bytes_sent == 0


def test_server_errors_carry_code_and_status(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        bogus = {"input": [{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]}
        with pytest.raises(rws.InvalidRequestError) as caught:
            session.turn(bogus).result()
        assert isinstance(caught.value, rws.ServerError)
        assert caught.value.error_status == 400 and "call_nope" in caught.value.message

        with pytest.raises(rws.PreviousResponseNotFoundError) as caught:
            session.turn({"input": "hi", "previous_response_id": "resp_unknown"}).result()
        assert caught.value.error_code == "previous_response_not_found"
        assert caught.value.error_status == 400
        with pytest.raises(rws.InvalidStreamIdError):
            client.session(stream_id="bad id!")


def test_bad_base_url_raises_url_error() -> None:
    with pytest.raises(rws.URLError):
        rws.Client(base_url="ftp://127.0.0.1/v1", api_key=API_KEY)
