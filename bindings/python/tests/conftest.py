"""Fixtures: `rws sim` subprocesses (from $RWS_BIN) and clients pointed at them."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import threading
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
    """`rws sim --port 0 --tokens-per-second 0 ...`; stdout is drained by a thread, stderr goes to a file."""

    def __init__(self, *args: str) -> None:
        if not os.access(RWS_BIN, os.X_OK):
            pytest.fail(f"simulator not found: set RWS_BIN (tried {RWS_BIN})")
        self._err = tempfile.NamedTemporaryFile(prefix="rws-sim-", suffix=".err")
        self.proc = subprocess.Popen(
            [RWS_BIN, "sim", "--port", "0", "--tokens-per-second", "0", *args],
            stdout=subprocess.PIPE, stderr=self._err, text=True,
        )
        self.tls = False
        self.port = self._read_port()
        self.base_url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"
        # Whatever it prints later is read (and dropped) so that it never blocks on a full pipe.
        self._drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self._drain.start()

    def _read_port(self) -> int:
        """Blocks until the first line ("listening ws://...") or the end of stdout."""
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)   # only a hang guard
        line = self.proc.stdout.readline() if ready else ""
        self.tls = line.startswith("listening wss://")   # --tls-cert
        prefix = "listening wss://127.0.0.1:" if self.tls else "listening ws://127.0.0.1:"
        if line.startswith(prefix) and line.rstrip().endswith("/v1"):
            return int(line[len(prefix):].split("/")[0])
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError(f"rws sim did not start ({line!r}): {Path(self._err.name).read_text()}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            assert self.proc.wait(timeout=60) == 0, Path(self._err.name).read_text()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._drain.join(timeout=60)
            self.proc.stdout.close()
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
