"""Fixtures: `rws sim` subprocesses (from $RWS_BIN) and clients pointed at them."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[3]
RWS_BIN = os.environ.get("RWS_BIN", str(REPO / ".build" / "release" / "rws"))
API_KEY = "sk-local-simulator"
TOOLS = [
    {
        "type": "function",
        "name": "read_file",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    }
]


class Sim:
    """`rws sim --port 0 --tokens-per-second 0 ...` with stdout/stderr in files (never blocks)."""

    def __init__(self, *args: str) -> None:
        if not os.access(RWS_BIN, os.X_OK):
            pytest.fail(f"simulator not found: set RWS_BIN (tried {RWS_BIN})")
        self._out = tempfile.NamedTemporaryFile(prefix="rws-sim-", suffix=".out")
        self._err = tempfile.NamedTemporaryFile(prefix="rws-sim-", suffix=".err")
        self.proc = subprocess.Popen(
            [RWS_BIN, "sim", "--port", "0", "--tokens-per-second", "0", *args],
            stdout=self._out, stderr=self._err,
        )
        self.port = self._read_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _read_port(self) -> int:
        with open(self._out.name) as out:
            for _ in range(1000):
                line = out.readline()
                if line.endswith("\n"):
                    prefix = "listening ws://127.0.0.1:"
                    assert line.startswith(prefix) and line.rstrip().endswith("/v1"), line
                    return int(line[len(prefix):].split("/")[0])
                if self.proc.poll() is not None:
                    break
                out.seek(out.tell())
                import time
                time.sleep(0.01)
        self.proc.kill()
        raise RuntimeError(f"rws sim did not start: {Path(self._err.name).read_text()}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            assert self.proc.wait(timeout=10) == 0, Path(self._err.name).read_text()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._out.close()
            self._err.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """A plain simulator shared by a test module."""
    server = Sim()
    yield server
    server.stop()


@pytest.fixture()
def make_sim() -> Iterator:
    """Starts simulators with extra flags (faults, --api-key); stops them after the test."""
    started: List[Sim] = []

    def start(*args: str) -> Sim:
        server = Sim(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture()
def client(sim: Sim):
    """A client of the shared simulator, closed after the test."""
    from responses_ws import Client

    with Client(base_url=sim.base_url, api_key=API_KEY) as c:
        yield c
