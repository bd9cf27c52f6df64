"""Real proxy servers for the proxy tests, each started on 127.0.0.1 with a free port and its
own configuration: tinyproxy (HTTP CONNECT), microsocks (SOCKS5) and mitmdump (a TLS-
intercepting proxy). Their own output is the evidence that traffic went through them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(name: str) -> str:
    """A proxy binary: from PATH, or beside this interpreter (mitmdump in a venv), or
    $RWS_<NAME> (e.g. RWS_MITMDUMP). Missing is a failure: .ci/run installs them."""
    found = os.environ.get(f"RWS_{name.upper()}") or shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail(f"{name} is not installed (apt-get install tinyproxy microsocks; pip install mitmproxy, or set RWS_{name.upper()})")
    return found


class ProxyProcess:
    """A proxy subprocess whose output lines are collected by a thread; `wait_for` blocks on
    the condition that a line appeared (never on a timer)."""

    def __init__(self, argv: List[str], what: str) -> None:
        self.what = what
        self.lines: List[str] = []
        self._cond = threading.Condition()
        self._ended = False
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], what: str) -> str:
        # The timeout is only a hang guard: the wait ends as soon as the line is there.
        deadline = time.monotonic() + 60
        with self._cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self._ended:
                    raise RuntimeError(f"{self.what} exited while waiting for {what}:\n" + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"timed out waiting for {what}:\n" + "\n".join(self.lines))
                self._cond.wait(left)

    def after_barrier(self, needle: str) -> List[str]:
        """The lines with `needle`, once every line logged before now has been read: a request
        of our own goes through the proxy and its line is waited for (the output is ordered)."""
        self.barrier()
        return self.matching(needle)

    def barrier(self) -> None:
        raise NotImplementedError

    def matching(self, needle: str) -> List[str]:
        with self._cond:
            return [line for line in self.lines if needle in line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Tinyproxy(ProxyProcess):
    """tinyproxy in the foreground, logging every request to its output."""

    def __init__(self, *, basic_auth: Optional[tuple] = None, connect_ports: Optional[List[int]] = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="rws-tinyproxy-")
        self.port = free_port()
        conf = [f"Port {self.port}", "Listen 127.0.0.1", "Timeout 60", "LogLevel Info", "MaxClients 50", "Allow 127.0.0.1"]
        if basic_auth:
            conf.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
        for port in connect_ports or []:   # none listed: CONNECT to any port
            conf.append(f"ConnectPort {port}")
        path = Path(self.dir.name) / "tinyproxy.conf"
        path.write_text("\n".join(conf) + "\n")
        super().__init__([tool("tinyproxy"), "-d", "-c", str(path)], "tinyproxy")
        self.wait_for(lambda line: "Accepting connections" in line, "tinyproxy to listen")
        self.url = f"http://127.0.0.1:{self.port}"
        self._barriers = 0

    def barrier(self) -> None:
        self._barriers += 1
        tag = f"/rws-barrier-{self._barriers}"
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(f"GET http://127.0.0.1:9{tag} HTTP/1.0\r\n\r\n".encode())
            self.wait_for(lambda line: tag in line, "the barrier request")

    def connects_to(self, port: int) -> List[str]:
        return self.after_barrier(f"CONNECT 127.0.0.1:{port} ")


class Microsocks(ProxyProcess):
    """microsocks: it prints "client[N] ADDR: connected to HOST:PORT" for every tunnel, and
    nothing when it starts, so readiness is a TCP connect probe on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        super().__init__([tool("microsocks"), "-i", "127.0.0.1", "-p", str(self.port)], "microsocks")
        self._probe()

    def _probe(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"microsocks exited: {self.lines}")
            try:
                # Each refused attempt means "not listening yet"; a probe, not a timing guess.
                with socket.create_connection(("127.0.0.1", self.port), timeout=5):
                    return
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def barrier(self) -> None:
        # A SOCKS5 CONNECT (RFC 1928) of our own to a listener of our own, whose log line is
        # waited for.
        with socket.socket() as target:
            target.bind(("127.0.0.1", 0))
            target.listen(1)
            port = target.getsockname()[1]
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                s.sendall(b"\x05\x01\x00")
                assert s.recv(2) == b"\x05\x00"
                s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
                s.recv(10)
                self.wait_for(lambda line: f"connected to 127.0.0.1:{port}" in line, "the barrier tunnel")

    def tunnels_to(self, host_port: str) -> List[str]:
        return self.after_barrier(f"connected to {host_port}")


class Mitmdump(ProxyProcess):
    """mitmproxy's mitmdump: terminates TLS with its own CA and re-encrypts to the server
    (`--ssl-insecure`: it does not verify the simulator's self-signed certificate)."""

    def __init__(self, *extra: str) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="rws-mitm-")
        self.port = free_port()
        super().__init__(
            [tool("mitmdump"), "--listen-host", "127.0.0.1", "--listen-port", str(self.port),
             "--set", f"confdir={self.dir.name}", "--ssl-insecure", "--flow-detail", "1", *extra], "mitmdump")
        self.wait_for(lambda line: "proxy listening at" in line, "mitmdump to listen")
        self.url = f"http://127.0.0.1:{self.port}"
        self.ca_file = str(Path(self.dir.name) / "mitmproxy-ca-cert.pem")
