"""The server's x-request-id reaches TurnResult.request_id and the failure's message."""

from responses_ws import Client, OutcomeUnknownError


def test_a_turn_result_carries_the_request_id(make_sim):
    sim = make_sim("--request-id", "req_py_ok")
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        with client.session(defaults={"model": "gpt-5.6", "store": False}) as session:
            result = session.turn({"input": "hi"}).wait()
    assert result.ok
    assert result.request_id == "req_py_ok"


def test_a_failed_turn_names_its_request_id(make_sim):
    sim = make_sim("--request-id", "req_py_lost", "--fault", "drop-mid-stream@1")
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        with client.session(defaults={"model": "gpt-5.6", "store": False}) as session:
            result = session.turn({"input": "hi"}).wait()
    assert result.request_id == "req_py_lost"
    error = result.exception()
    assert isinstance(error, OutcomeUnknownError)
    assert "(request id req_py_lost)" in str(error)
    assert error.request_id == "req_py_lost"
