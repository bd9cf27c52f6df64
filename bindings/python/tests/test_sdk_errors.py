"""Exceptions carry status_code / code / request_id / rws_status and use the openai SDK's class names."""

from __future__ import annotations

import socket

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_wrong_key_is_authentication_error_401(make_sim, transport: str) -> None:
    sim = make_sim("--api-key", "right-key")
    with rws.Client(base_url=sim.base_url, api_key="wrong-key", transport=transport, fallback="never") as client:
        with client.session(defaults=MODEL) as session, pytest.raises(rws.AuthenticationError) as caught:
            session.create(input="hello").result()
    error = caught.value
    assert isinstance(error, rws.APIStatusError) and not isinstance(error, rws.PermissionDeniedError)
    assert error.status_code == 401 and error.rws_status == error.status == -15
    assert error.request_id and error.request_id.startswith("req_")   # the refusal's x-request-id
    assert "HTTP 401" in str(error)


def test_rate_limit_is_rate_limit_error_429(make_sim) -> None:
    sim = make_sim("--fault", "limit@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY, transport="http", max_reconnects=0) as client:
        with client.session(defaults=MODEL) as session, pytest.raises(rws.RateLimitError) as caught:
            session.create(input="too fast").result()
    error = caught.value
    assert isinstance(error, rws.RateLimitedError)  # the older name still catches it
    assert error.status_code == 429 and error.rws_status == -35


def test_server_rejections_are_bad_request_errors_400(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        bogus = [{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]
        with pytest.raises(rws.BadRequestError) as caught:
            session.create(input=bogus).result()
        assert isinstance(caught.value, rws.InvalidRequestError) and caught.value.status_code == 400
        with pytest.raises(rws.BadRequestError) as caught:
            session.create(input="hi", previous_response_id="resp_unknown").result()
        assert isinstance(caught.value, rws.PreviousResponseNotFoundError)
        assert caught.value.code == "previous_response_not_found" and caught.value.status_code == 400
        assert caught.value.error_code == caught.value.code and caught.value.error_status == 400


def test_failed_response_carries_the_server_code(make_sim) -> None:
    sim = make_sim("--fault", "close-1011@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY, transport="http", fallback="never") as client:
        with client.session(defaults=MODEL) as session, pytest.raises(rws.ResponseFailedError) as caught:
            session.create(input="fails").result()
    assert caught.value.code == "server_error" and caught.value.status_code is None
    assert isinstance(caught.value, rws.ServerError) and not isinstance(caught.value, rws.APIStatusError)


def test_refused_connection_is_api_connection_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with rws.Client(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_reconnects=0,
                    fallback="never") as client, client.session(defaults=MODEL) as session:
        with pytest.raises(rws.APIConnectionError) as caught:
            session.create(input="hello").result()
    assert isinstance(caught.value, rws.ConnectError) and isinstance(caught.value, rws.TransportError)
    assert caught.value.status_code is None


def test_first_event_timeout_is_api_timeout_error(make_sim) -> None:
    sim = make_sim("--fault", "slow:60000@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY, first_event_timeout_ms=200, max_reconnects=0,
                    fallback="never") as client, client.session(defaults=MODEL) as session:
        with pytest.raises(rws.APITimeoutError) as caught:
            session.create(input="slow").result()
    error = caught.value
    assert isinstance(error, rws.RequestTimeoutError) and isinstance(error, TimeoutError)
    assert isinstance(error, rws.APIConnectionError) and error.rws_status == -17


def test_outcome_unknown_is_not_an_api_connection_error(make_sim) -> None:
    sim = make_sim("--fault", "drop-mid-stream@1")
    with rws.Client(base_url=sim.base_url, api_key=API_KEY) as client, client.session(defaults=MODEL) as session:
        with pytest.raises(rws.OutcomeUnknownError) as caught:
            session.create(input="cut").result()
    # A retry loop written for the SDK (except APIConnectionError: retry) must not resend it.
    assert not isinstance(caught.value, rws.APIConnectionError)
    assert isinstance(caught.value, rws.TransportError) and isinstance(caught.value, ConnectionError)


@pytest.mark.parametrize(
    "status, http, expected",
    [
        (-30, 500, rws.InternalServerError),
        (-30, 503, rws.InternalServerError),
        (-30, 404, rws.NotFoundError),
        (-30, 409, rws.ConflictError),
        (-30, 422, rws.UnprocessableEntityError),
        (-15, 403, rws.PermissionDeniedError),
        (-16, 404, rws.NotFoundError),
        (-37, 422, rws.UnprocessableEntityError),
    ],
)
def test_http_status_picks_the_class_first_and_the_c_status_still_matches(status: int, http: int,
                                                                        expected: type) -> None:
    error = rws.error_for_status(status, "m", error_status=http)
    by_c_status = rws.error_for_status(status, "m")
    assert isinstance(error, expected) and isinstance(error, type(by_c_status))
    assert type(error).__name__ == expected.__name__
    assert error.status_code == http and error.rws_status == status
    assert type(rws.error_for_status(status, "again", error_status=http)) is type(error)  # made once


def test_http_status_classes_without_a_c_status() -> None:
    assert type(rws.error_for_status(-30, "m")) is rws.ServerError
    assert rws.error_for_status(-30, "m").status_code is None
    assert issubclass(rws.PermissionDeniedError, rws.AuthenticationError)
    assert rws.APIError is rws.ResponsesWSError
