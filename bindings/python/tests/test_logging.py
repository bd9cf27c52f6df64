"""The library's log records reach the ``responses_ws`` logger, without the key."""

import logging

from responses_ws import Client


def test_records_reach_the_logger_at_its_level(make_sim, caplog):
    sim = make_sim("--reject-upgrade", "404")
    caplog.set_level(logging.INFO, logger="responses_ws")
    with Client(base_url=sim.base_url, api_key="sk-python-log-secret-123456", reconnect_delay_ms=10) as client:
        with client.session(defaults={"model": "gpt-5.6"}) as session:
            assert session.turn({"input": "hi"}).wait().ok
    records = [r for r in caplog.records if r.name == "responses_ws"]
    retry = next(r for r in records if r.getMessage().startswith("retrying in "))
    assert retry.levelno == logging.INFO
    assert retry.rws_fields["attempt"] == "1"
    assert any(r.levelno == logging.WARNING and r.getMessage().startswith("WebSocket mode unavailable") for r in records)
    assert all(r.levelno >= logging.INFO for r in records)
    assert not any("sk-python-log-secret" in r.getMessage() or "sk-python-log-secret" in str(r.rws_fields) for r in records)


def test_no_records_when_the_logger_is_off(make_sim, caplog):
    sim = make_sim()
    caplog.set_level(logging.CRITICAL + 10, logger="responses_ws")
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        with client.session(defaults={"model": "gpt-5.6"}) as session:
            assert session.turn({"input": "hi"}).wait().ok
    assert not [r for r in caplog.records if r.name == "responses_ws"]
