"""IPv6 loopback: a base URL of http://[::1]:PORT/v1 reaches a simulator listening only on ::1,
over WebSocket mode (ws://[::1]:PORT/v1/responses) and HTTP/SSE."""

import os
import re
import socket
import subprocess

import pytest

from responses_ws import Client, Transport

RWS_BIN = os.environ.get("RWS_BIN", "rws")


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


@pytest.fixture()
def sim6():
    proc = subprocess.Popen([RWS_BIN, "sim", "--host", "::1", "--port", "0", "--tokens-per-second", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = proc.stdout.readline()   # returns when the simulator listens
        match = re.match(r"listening ws://\[::1\]:(\d+)/v1$", first.strip())
        assert match, f"rws sim --host ::1 said {first!r}"
        yield int(match.group(1))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stdout.close()


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_a_turn_over_ipv6_loopback(sim6, transport):
    with Client(base_url=f"http://[::1]:{sim6}/v1", api_key="sk-test", transport=transport) as client:
        with client.session(defaults={"model": "gpt-5.6", "store": False}) as session:
            result = session.turn({"input": "over IPv6"}).wait()
            again = session.turn({"input": "and again"}).wait()
    assert result.ok and again.ok, result.error_message
    assert result.transport == (Transport.HTTP if transport == "http" else Transport.WEBSOCKET)
    assert "You said" in result.output_text

