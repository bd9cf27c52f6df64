"""Proxies, against real proxy servers (tinyproxy, microsocks, mitmproxy) started per test.

Each test checks from the proxy's own output that the turn went through it (or, for no_proxy
hosts, that it did not), and that a failing proxy is a ProxyError that names the proxy
without its credentials and is never followed by a direct connection."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from responses_ws import Client, ProxyError, TLSVerifyError

from proxies import Microsocks, Mitmdump, Tinyproxy, free_port

DEFAULTS = {"model": "gpt-5.6", "store": False}


def one_turn(client: Client, text: str = "hi") -> str:
    with client.session(defaults=DEFAULTS) as session:
        return session.turn({"input": text}).text()


@pytest.fixture()
def tinyproxy() -> Iterator[Tinyproxy]:
    proxy = Tinyproxy()
    yield proxy
    proxy.stop()


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_connect_tunnel_through_tinyproxy(sim, tinyproxy, transport):
    with Client(base_url=sim.base_url, api_key="sk-test", proxy=tinyproxy.url, transport=transport) as client:
        assert one_turn(client)
        assert one_turn(client)
    tunnels = tinyproxy.connects_to(sim.port)
    # WebSocket mode: one warm connection for both turns; HTTP/SSE: one tunnel per request.
    assert len(tunnels) == (1 if transport == "websocket" else 2), tinyproxy.lines


def test_environment_and_no_proxy(sim, tinyproxy, clean_env):
    clean_env.setenv("http_proxy", tinyproxy.url)   # ws:// and http:// use http_proxy
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        assert one_turn(client)
    assert len(tinyproxy.connects_to(sim.port)) == 1

    for bypass in ("127.0.0.1", "127.0.0.0/8", f"127.0.0.1:{sim.port}", "*"):
        clean_env.setenv("NO_PROXY", bypass)
        with Client(base_url=sim.base_url, api_key="sk-test") as client:
            assert one_turn(client)
        assert len(tinyproxy.connects_to(sim.port)) == 1, f"NO_PROXY={bypass} still went through the proxy"
    clean_env.delenv("NO_PROXY")
    # The no_proxy option wins over the environment, and so does proxy="" (no proxy at all).
    with Client(base_url=sim.base_url, api_key="sk-test", no_proxy="localhost,127.0.0.1") as client:
        assert one_turn(client)
    with Client(base_url=sim.base_url, api_key="sk-test", proxy="") as client:
        assert one_turn(client)
    assert len(tinyproxy.connects_to(sim.port)) == 1


def test_upper_case_http_proxy_is_ignored(sim, tinyproxy, clean_env):
    # As in curl: HTTP_PROXY can be set by a CGI server from a request's "Proxy:" header.
    clean_env.setenv("HTTP_PROXY", tinyproxy.url)
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        assert one_turn(client)
    assert tinyproxy.connects_to(sim.port) == []
    clean_env.setenv("ALL_PROXY", tinyproxy.url)
    with Client(base_url=sim.base_url, api_key="sk-test") as client:
        assert one_turn(client)
    assert len(tinyproxy.connects_to(sim.port)) == 1


def test_basic_auth_through_tinyproxy(sim):
    proxy = Tinyproxy(basic_auth=("agent", "s3cret-pass"))
    try:
        authed = f"http://agent:s3cret-pass@127.0.0.1:{proxy.port}"
        with Client(base_url=sim.base_url, api_key="sk-test", proxy=authed) as client:
            assert one_turn(client)
        assert len(proxy.connects_to(sim.port)) == 1
        # tinyproxy 1.11 answers wrong credentials with 401 and none with 407.
        for url, status in ((f"http://agent:wrong-pass@127.0.0.1:{proxy.port}", 401), (proxy.url, 407)):
            with Client(base_url=sim.base_url, api_key="sk-test", proxy=url, fallback="never") as client:
                with client.session(defaults=DEFAULTS) as session:
                    result = session.turn({"input": "hi"}).wait()
            error = result.exception()
            assert isinstance(error, ProxyError), error
            assert error.status_code == status
            assert "the proxy wants credentials" in str(error)
            assert f"http://127.0.0.1:{proxy.port}" in str(error)
            assert "wrong-pass" not in str(error) and "s3cret" not in str(error)
    finally:
        proxy.stop()


def test_refused_connect_is_a_proxy_error(sim):
    proxy = Tinyproxy(connect_ports=[443])   # CONNECT only to 443: the simulator's port is refused
    try:
        with Client(base_url=sim.base_url, api_key="sk-test", proxy=proxy.url) as client:
            with client.session(defaults=DEFAULTS) as session:
                result = session.turn({"input": "hi"}).wait()
        error = result.exception()
        assert isinstance(error, ProxyError)
        assert error.status_code == 403
        assert "does not allow this destination" in str(error)
        assert proxy.after_barrier(f"Refused CONNECT method on port {sim.port}")
    finally:
        proxy.stop()


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_unreachable_proxy_fails_closed(sim, transport):
    port = free_port()   # nothing listens there
    with Client(base_url=sim.base_url, api_key="sk-test", proxy=f"http://user:hunter2@127.0.0.1:{port}",
                transport=transport, max_reconnects=0) as client:
        with client.session(defaults=DEFAULTS) as session:
            result = session.turn({"input": "hi"}).wait()
        stats = client.stats()
    error = result.exception()
    assert isinstance(error, ProxyError), error   # never a direct connection, which would succeed
    assert f"cannot reach the proxy http://127.0.0.1:{port}" in str(error)
    assert "hunter2" not in str(error) and "user" not in str(error)
    assert stats.connects == 0


def test_bad_proxy_urls_are_refused_at_creation(sim):
    from responses_ws import InvalidArgumentError

    for url, needle in (("https://127.0.0.1:1", "https:// proxy"), ("socks5://u:p@127.0.0.1:1", "authentication is not supported"),
                        ("socks4://127.0.0.1:1", "socks4"), ("http://127.0.0.1:0", "bad proxy port")):
        with pytest.raises(InvalidArgumentError, match=needle):
            Client(base_url=sim.base_url, api_key="sk-test", proxy=url)


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_socks5_and_socks5h_through_microsocks(sim, transport):
    proxy = Microsocks()
    try:
        localhost_url = f"http://localhost:{sim.port}/v1"
        # socks5: the name is resolved here and the proxy gets an address ...
        with Client(base_url=localhost_url, api_key="sk-test", proxy=f"socks5://127.0.0.1:{proxy.port}", transport=transport) as client:
            assert one_turn(client)
        proxy.wait_for(lambda line: f"connected to 127.0.0.1:{sim.port}" in line, "the socks5 tunnel")
        # ... socks5h: the proxy gets the name.
        with Client(base_url=localhost_url, api_key="sk-test", proxy=f"socks5h://127.0.0.1:{proxy.port}", transport=transport) as client:
            assert one_turn(client)
        proxy.wait_for(lambda line: f"connected to localhost:{sim.port}" in line, "the socks5h tunnel")
        before = len(proxy.tunnels_to(f"localhost:{sim.port}"))
        with Client(base_url=localhost_url, api_key="sk-test", proxy=f"socks5h://127.0.0.1:{proxy.port}",
                    no_proxy="localhost") as client:
            assert one_turn(client)
        assert len(proxy.tunnels_to(f"localhost:{sim.port}")) == before
    finally:
        proxy.stop()


def test_unreachable_socks_proxy_fails_closed(sim):
    port = free_port()
    with Client(base_url=sim.base_url, api_key="sk-test", proxy=f"socks5h://127.0.0.1:{port}", max_reconnects=0) as client:
        with client.session(defaults=DEFAULTS) as session:
            error = session.turn({"input": "hi"}).wait().exception()
    assert isinstance(error, ProxyError)
    assert f"socks5h://127.0.0.1:{port}" in str(error)


# --- TLS through a tunnel -------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files() -> Iterator[Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made by the openssl tool."""
    with tempfile.TemporaryDirectory(prefix="rws-proxy-tls-") as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", f"{d}/key.pem", "-out", f"{d}/cert.pem"], check=True, capture_output=True)
        yield Path(d)


@pytest.fixture()
def tls_sim(make_sim, tls_files):
    server = make_sim("--tls-cert", str(tls_files / "cert.pem"), "--tls-key", str(tls_files / "key.pem"))
    assert server.tls and server.base_url.startswith("https://")
    return server


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_tls_inside_a_connect_tunnel_verifies_the_server(tls_sim, tls_files, tinyproxy, transport):
    # The tunnel carries TLS with the simulator: its certificate (trusted through ca_file) is
    # what gets verified, for the name in the URL, not anything of the proxy's.
    with Client(base_url=tls_sim.base_url, api_key="sk-test", proxy=tinyproxy.url,
                ca_file=str(tls_files / "cert.pem"), transport=transport) as client:
        assert one_turn(client)
    assert tinyproxy.connects_to(tls_sim.port)
    # wss:// and https:// take https_proxy, not http_proxy.
    assert tinyproxy.url


def test_https_proxy_variable_for_tls(tls_sim, tls_files, tinyproxy, clean_env):
    clean_env.setenv("http_proxy", "http://127.0.0.1:9")   # would fail: not used for https
    clean_env.setenv("HTTPS_PROXY", tinyproxy.url)
    with Client(base_url=tls_sim.base_url, api_key="sk-test", ca_file=str(tls_files / "cert.pem")) as client:
        assert one_turn(client)
    assert len(tinyproxy.connects_to(tls_sim.port)) == 1


@pytest.fixture()
def mitm() -> Iterator[Mitmdump]:
    proxy = Mitmdump()
    yield proxy
    proxy.stop()


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_intercepting_proxy_with_its_ca(tls_sim, mitm, transport, clean_env):
    with Client(base_url=tls_sim.base_url, api_key="sk-test", proxy=mitm.url, ca_file=mitm.ca_file, transport=transport) as client:
        assert one_turn(client, "through mitm")
    mitm.wait_for(lambda line: f"127.0.0.1:{tls_sim.port}/v1/responses" in line, "mitmdump to show the flow")
    # The same through SSL_CERT_FILE instead of ca_file.
    clean_env.setenv("SSL_CERT_FILE", mitm.ca_file)
    with Client(base_url=tls_sim.base_url, api_key="sk-test", proxy=mitm.url, transport=transport) as client:
        assert one_turn(client)


def test_407_from_mitmproxy(sim):
    proxy = Mitmdump("--proxyauth", "agent:s3cret-pass")
    try:
        with Client(base_url=sim.base_url, api_key="sk-test", proxy=f"http://agent:s3cret-pass@127.0.0.1:{proxy.port}") as client:
            assert one_turn(client)
        with Client(base_url=sim.base_url, api_key="sk-test", proxy=f"http://agent:nope@127.0.0.1:{proxy.port}", fallback="never") as client:
            with client.session(defaults=DEFAULTS) as session:
                error = session.turn({"input": "hi"}).wait().exception()
        assert isinstance(error, ProxyError), error
        assert error.status_code == 407
        assert "407 Proxy Authentication Required: the proxy wants credentials" in str(error)
        assert "nope" not in str(error) and "s3cret" not in str(error)
    finally:
        proxy.stop()


def test_intercepting_proxy_without_its_ca_fails_verification(tls_sim, tls_files, mitm):
    # Trusting only the simulator's certificate: what arrives through the tunnel is mitmproxy's
    # forgery, so verification fails, which proves the destination is what is verified.
    with Client(base_url=tls_sim.base_url, api_key="sk-test", proxy=mitm.url, ca_file=str(tls_files / "cert.pem"),
                max_reconnects=0, fallback="never") as client:
        with client.session(defaults=DEFAULTS) as session:
            error = session.turn({"input": "hi"}).wait().exception()
    assert isinstance(error, TLSVerifyError), error
