"""Context managers, closing, and loading the library."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


def test_closed_client_raises_a_clear_error_and_double_close_is_fine(sim) -> None:
    client = rws.Client(base_url=sim.base_url, api_key=API_KEY)
    session = client.session(defaults=MODEL)
    with client:
        assert not client.closed
    assert client.closed and session.closed
    client.close()  # idempotent
    with pytest.raises(rws.ClosedError, match="closed"):
        client.session()
    with pytest.raises(rws.ClosedError):
        client.stats()
    with pytest.raises(rws.ClosedError):
        session.turn({"input": "x"})
    session.close()
    session.close()


def test_session_and_turn_context_managers(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        with session.turn({"input": "ctx"}) as turn:
            result = turn.result()
        assert repr(turn) == "<Turn closed>"
        assert turn.result() is result  # the result outlives the handle
        assert turn.cancel() is False
        turn.close()
    assert session.closed
    with pytest.raises(rws.ClosedError):
        session.reset()


def test_closing_the_client_wakes_a_blocked_consumer(make_sim) -> None:
    sim = make_sim("--fault", "slow:5000@1")
    client = rws.Client(base_url=sim.base_url, api_key=API_KEY)
    turn = client.session(defaults=MODEL).turn({"input": "never read"})
    outcome: list = []
    started = threading.Event()

    def consume() -> None:
        started.set()
        try:
            list(turn)
        except rws.ResponsesWSError as error:
            outcome.append(error)

    consumer = threading.Thread(target=consume)
    consumer.start()
    started.wait()
    client.close()
    consumer.join(timeout=30)
    assert not consumer.is_alive()
    assert isinstance(outcome[0], rws.TurnCancelledError)


# The copy a wheel ships next to the package (packaging/build-wheel.sh); absent in a source install.
BUNDLED_LIBRARY = os.path.join(os.path.dirname(os.path.abspath(rws.__file__)), "libresponsesws.so.0")


def test_missing_library_names_every_place_tried(tmp_path) -> None:
    import ctypes.util

    if ctypes.util.find_library("responsesws"):
        pytest.skip("libresponsesws is installed system-wide, so loading cannot fail here")
    if os.path.exists(BUNDLED_LIBRARY):
        pytest.skip("this install (a wheel) ships the library next to the package, so loading cannot fail here")
    env = dict(os.environ, RESPONSES_WS_LIBRARY=str(tmp_path / "nope.so.0"), LD_LIBRARY_PATH="")
    proc = subprocess.run([sys.executable, "-c", "import responses_ws"], env=env, capture_output=True, text=True,
                          cwd=str(tmp_path))
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    for place in ("$RESPONSES_WS_LIBRARY", "next to the package", "the system library path"):
        assert place in proc.stderr


def test_a_wheel_falls_back_to_its_bundled_library(tmp_path) -> None:
    if not os.path.exists(BUNDLED_LIBRARY):
        pytest.skip("a source install has no bundled library")
    env = dict(os.environ, RESPONSES_WS_LIBRARY=str(tmp_path / "nope.so.0"), LD_LIBRARY_PATH="")
    script = "import responses_ws; print([l.split()[-1] for l in open('/proc/self/maps') if 'libresponsesws' in l][0])"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert os.path.realpath(proc.stdout.strip()) == os.path.realpath(BUNDLED_LIBRARY)


def test_loaded_library_reports_version_and_pull_support() -> None:
    assert rws.library_version().startswith("0.")
    assert rws.library_features() & 2  # RWS_FEATURE_PULL
